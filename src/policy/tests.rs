use super::*;

fn key(s: &str) -> UserKey {
    UserKey::from_canonical(s.to_string())
}

#[test]
fn patterns_match_whole_user_names_without_regard_to_case() {
    let p = Pattern::new("ADMON@*");
    assert!(p.matches(&key("admon@acme")));
    assert!(!p.matches(&key("admon")));
    assert!(!p.matches(&key("xadmon@acme")));
    assert!(Pattern::new("svc-?@*").matches(&key("svc-1@acme")));
    assert!(!Pattern::new("svc-?@*").matches(&key("svc-12@acme")));
    assert!(Pattern::new("*").matches(&key("")));
    assert!(Pattern::new("a*b*c").matches(&key("axxbyyc")));
    assert!(!Pattern::new("a*b*c").matches(&key("axxbyy")));
    assert!(
        !Policy::default().is_protected(&key("admon")),
        "dialects say"
    );
    let bizagi = crate::dialect::Bizagi::default();
    let protected: Vec<Pattern> = crate::dialect::Dialect::protected_by_default(&bizagi)
        .iter()
        .map(|p| Pattern::new(p))
        .collect();
    assert!(protected.iter().any(|p| p.matches(&key("admon"))));
    assert!(protected.iter().any(|p| p.matches(&key("admon@acme"))));
}

fn counts(deactivations: usize, deletions: usize, managed: usize) -> Counts {
    Counts {
        deactivations,
        deletions,
        managed,
    }
}

#[test]
fn the_budget_is_a_count_and_a_share() {
    let policy = Policy {
        max_deactivations: 10,
        max_deactivation_percent: 25.0,
        ..Policy::default()
    };
    let none = Overrides::default();
    assert!(refusals(counts(10, 0, 1000), &policy, none).is_empty());
    let over = refusals(counts(11, 0, 1000), &policy, none);
    assert_eq!(over.len(), 1);
    assert!(
        over[0]
            .to_string()
            .contains("deactivates 11 users; the policy allows at most 10"),
        "{over:?}"
    );
    assert!(
        over[0].to_string().contains("--allow-deactivations 11"),
        "{over:?}"
    );
    // 25% of 20 managed users is 5.
    assert!(refusals(counts(5, 0, 20), &policy, none).is_empty());
    assert!(!refusals(counts(6, 0, 20), &policy, none).is_empty());
    // Below 20 managed users, only the count applies.
    assert!(refusals(counts(9, 0, 19), &policy, none).is_empty());
}

#[test]
fn an_override_allows_exactly_the_number_it_names() {
    let policy = Policy {
        max_deactivations: 2,
        ..Policy::default()
    };
    let allow = |n| Overrides {
        deactivations: Some(n),
        delete: false,
    };
    assert!(refusals(counts(3, 0, 100), &policy, allow(3)).is_empty());
    assert!(!refusals(counts(4, 0, 100), &policy, allow(3)).is_empty());
    assert!(!refusals(counts(3, 0, 100), &policy, allow(4)).is_empty());
}

#[test]
fn deactivating_every_managed_user_is_always_refused() {
    let found = refusals(
        counts(3, 0, 3),
        &Policy::default(),
        Overrides {
            deactivations: Some(3),
            delete: true,
        },
    );
    assert_eq!(found.len(), 1);
    assert!(
        found[0]
            .to_string()
            .contains("deactivates every managed user (3 of 3)"),
        "{found:?}"
    );
    assert!(refusals(counts(0, 0, 0), &Policy::default(), Overrides::default()).is_empty());
}

#[test]
fn deleting_needs_the_command_line() {
    let found = refusals(counts(0, 1, 10), &Policy::default(), Overrides::default());
    assert!(
        found[0]
            .to_string()
            .contains("deleting needs `--allow-delete`"),
        "{found:?}"
    );
    let allowed = Overrides {
        deactivations: None,
        delete: true,
    };
    assert!(refusals(counts(0, 1, 10), &Policy::default(), allowed).is_empty());
}
