use serde_json::json;

use super::*;
use crate::model::{Attr, AttrChange, Origin, UserKey};
use crate::plan::{Kind, Reason, Summary, TargetRef};
use crate::scim::wire::{Method, Request};

fn user(name: &str, action: Action, changes: Vec<AttrChange>) -> UserChange {
    UserChange {
        kind: Kind::User,
        user_name: name.to_string(),
        key: UserKey::from_canonical(name.to_lowercase()),
        id: None,
        renamed_from: None,
        action,
        reason: Reason::Differs,
        declared_at: Origin {
            file: std::path::Path::new("users/a.yaml").into(),
            line: 3,
            column: 15,
        },
        fingerprint: None,
        changes,
        unchanged_attributes: 2,
        requests: vec![Request {
            method: Method::Patch,
            path: "/Users/1".into(),
            if_match: None,
            body: None,
        }],
    }
}

fn change(attribute: &str, before: serde_json::Value, after: serde_json::Value) -> AttrChange {
    let value = |v: serde_json::Value| -> Option<Value> {
        (!v.is_null()).then(|| serde_json::from_value(v).unwrap())
    };
    let (attr, before, after) = (attribute.parse().unwrap(), value(before), value(after));
    AttrChange {
        effect: Effect::of(&attr, before.as_ref(), after.as_ref()),
        attr,
        before,
        after,
        before_from: None,
        declared_at: None,
    }
}

fn doc(users: Vec<UserChange>) -> Plan {
    Plan {
        scimops_version: "0.0.0".into(),
        target: TargetRef {
            name: "prod".into(),
            dialect: "bizagi".into(),
            endpoint: "https://x/scim/v2/".into(),
        },
        summary: Summary {
            update: users.len(),
            ..Summary::default()
        },
        users,
        digest: "sha256:0123456789abcdef".into(),
        ..Plan::default()
    }
}

#[test]
fn users_are_grouped_for_access_review() {
    let d = doc(vec![
        user("a@x", Action::Create, vec![]),
        user(
            "b@x",
            Action::Update,
            vec![change(
                "properties.DelegateEnabled",
                json!(false),
                json!(true),
            )],
        ),
        user(
            "c@x",
            Action::Update,
            vec![change(
                "properties.enabledForAssignation",
                json!(true),
                json!(false),
            )],
        ),
        user(
            "d@x",
            Action::Update,
            vec![change("name.familyName", json!("Lee"), json!("Li"))],
        ),
        user(
            "e@x",
            Action::Deactivate,
            vec![change("active", json!(true), json!(false))],
        ),
        user("f@x", Action::Reactivate, vec![]),
    ]);
    let md = render(&d, Options::default());
    let grants = md.find("#### Grants (3)").unwrap();
    let revocations = md.find("#### Revocations (2)").unwrap();
    let profile = md.find("#### Profile changes (1)").unwrap();
    assert!(grants < revocations && revocations < profile, "{md}");
    for (name, section) in [
        ("a@x", grants),
        ("b@x", grants),
        ("f@x", grants),
        ("c@x", revocations),
        ("e@x", revocations),
        ("d@x", profile),
    ] {
        let at = md.find(&format!("<code>{name}</code>")).unwrap();
        assert!(at > section, "{name} in the wrong group:\n{md}");
    }
    assert!(
        md.contains("> [!WARNING]\n> This plan **deactivates or deletes 1 user**: `e@x`."),
        "{md}"
    );
    assert!(md.contains("! name.familyName = \"Lee\" -> \"Li\""), "{md}");
    assert!(md.contains("Plan digest `sha256:0123456789ab`"), "{md}");
}

#[test]
fn no_warning_without_deactivations() {
    let md = render(
        &doc(vec![user("a@x", Action::Create, vec![])]),
        Options::default(),
    );
    assert!(!md.contains("[!WARNING]"), "{md}");
}

/// `n` changes of every action in turn, with long values, counted in the summary.
fn big(n: usize) -> Plan {
    let actions = [
        Action::Create,
        Action::Update,
        Action::Deactivate,
        Action::Reactivate,
    ];
    let users: Vec<UserChange> = (0..n)
        .map(|i| {
            user(
                &format!("user{i:05}@acme.example"),
                actions[i % actions.len()],
                vec![
                    change(
                        "name.familyName",
                        json!("A long old family name"),
                        json!("A long new family name"),
                    ),
                    change("properties.Level", json!(3), json!(4)),
                ],
            )
        })
        .collect();
    let mut plan = doc(users);
    plan.summary = Summary {
        create: n.div_ceil(4),
        update: (n + 2) / 4,
        deactivate: (n + 1) / 4,
        reactivate: n / 4,
        ..Summary::default()
    };
    plan
}

fn names_every_user(md: &str, plan: &Plan) -> bool {
    let spans: std::collections::BTreeSet<&str> = md.split('`').skip(1).step_by(2).collect();
    plan.users
        .iter()
        .all(|u| spans.contains(u.user_name.as_str()))
}

#[test]
fn a_comment_names_every_changed_user_in_the_fullest_form_that_fits() {
    let elsewhere = Options {
        elsewhere: Some("the saved plan (`scimops show plan.json`)".into()),
        ..Options::default()
    };
    // 40 changes: every change with its values.
    let small = big(40);
    let md = render(&small, elsewhere.clone());
    assert!(
        md.contains("<details><summary><code>user00000@acme.example</code> will be created"),
        "{md}"
    );
    assert!(
        md.contains("! name.familyName = \"A long old family name\" -> \"A long new family name\"")
    );
    // 300 changes: a table of users and the attributes that change.
    let mid = big(300);
    let md = render(&mid, elsewhere.clone());
    assert!(md.len() <= GITHUB_COMMENT_LIMIT, "{}", md.len());
    assert!(names_every_user(&md, &mid));
    assert!(
        md.contains("| `user00001@acme.example` | update | name.familyName, properties.Level |"),
        "{}",
        &md[..2000]
    );
    assert!(md.contains("their values are left out to stay under the comment's limit of 65535 characters. The saved plan (`scimops show plan.json`) has them."), "{}", &md[md.len() - 1500..]);
    // 2,000 changes: the names, by action.
    let large = big(2000);
    let md = render(&large, elsewhere.clone());
    assert!(md.len() <= GITHUB_COMMENT_LIMIT, "{}", md.len());
    assert!(names_every_user(&md, &large));
    assert!(
        md.contains("**Created (500):** `user00000@acme.example`, `user00004@acme.example`"),
        "{}",
        &md[..3000]
    );
    assert!(md.ends_with("</sub>\n"), "the digest line is always there");
}

#[test]
fn a_plan_too_big_to_name_gives_exact_counts_and_where_every_user_is_named() {
    let huge = big(20_000);
    let comment = render(
        &huge,
        Options {
            elsewhere: Some("the job summary of this run, and the saved plan".into()),
            ..Options::default()
        },
    );
    assert!(comment.len() <= GITHUB_COMMENT_LIMIT, "{}", comment.len());
    assert!(
        comment.contains(
            "**Plan: 5000 to create, 5000 to update, 5000 to deactivate, 5000 to reactivate.**"
        ),
        "{}",
        &comment[..600]
    );
    assert!(
        comment.contains("This plan changes 20000 users: too many to name under the comment's limit of 65535 characters (the counts are above). The job summary of this run, and the saved plan names every one"),
        "{comment}"
    );
    // The job summary (GitHub: 1 MiB) names every one of them.
    let summary = render(
        &huge,
        Options {
            limit: 1_048_576,
            elsewhere: Some("the saved plan".into()),
        },
    );
    assert!(summary.len() <= 1_048_576, "{}", summary.len());
    assert!(names_every_user(&summary, &huge));
}

#[test]
fn personal_data_can_be_masked() {
    let mut plan = doc(vec![user(
        "a@x",
        Action::Update,
        vec![change(
            "email",
            json!("ann@x.example"),
            json!("anne@x.example"),
        )],
    )]);
    plan.private = vec![Attr::Email];
    let md = render(
        &crate::render::mask::Private(&plan.private).plan(&plan),
        Options::default(),
    );
    assert!(
        md.contains("! email = \"a***@x.example\" -> \"a***@x.example\""),
        "{md}"
    );
    assert!(!md.contains("anne"), "{md}");
}
