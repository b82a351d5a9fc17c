//! The safety policy's guards: the deactivation budget and its exact override, the
//! refusal to deactivate every managed user, protected users, users in no file.

use crate::external::External;
use crate::scenarios::counts;
use crate::support::{Repo, TestSandbox};

const EXT: &str = "urn:ietf:params:scim:schemas:extension:bizagi:2.0:UserProperties";

/// A sandbox with `n` users `u00@acme`..., and the admin account.
fn sandbox(n: usize) -> TestSandbox {
    let seed: String = (0..n)
        .map(|i| format!("  - {{userName: u{i:02}@acme, name: {{givenName: U{i}}}, {EXT}: {{enabledForAssignation: true}}}}\n"))
        .collect();
    TestSandbox::start(&format!(
        "defaultDomain: acme\nseed:\n{seed}  - {{userName: admon@acme, name: {{givenName: Admin}}, {EXT}: {{enabledForAssignation: true}}}}\n"
    ))
}

/// Declares `u00`..`u{n-1}`, the first `inactive` of them `active: false`.
fn users(n: usize, inactive: usize) -> String {
    let mut out = "users:\n".to_string();
    for i in 0..n {
        out.push_str(&format!(
            "  - userName: u{i:02}\n    name: {{givenName: U{i}}}\n"
        ));
        if i < inactive {
            out.push_str("    active: false\n");
        }
    }
    out
}

fn repo(sandbox: &TestSandbox, policy: &str, users: &str) -> Repo {
    let repo = Repo::for_sandbox(sandbox, users);
    let settings = std::fs::read_to_string(repo.path().join("scimops.yaml")).unwrap();
    std::fs::write(
        repo.path().join("scimops.yaml"),
        format!("{settings}policy:\n{policy}"),
    )
    .unwrap();
    repo
}

#[test]
fn the_deactivation_budget_refuses_and_an_override_must_name_the_exact_number() {
    let sandbox = sandbox(30);
    let repo = repo(&sandbox, "  maxDeactivations: 3\n", &users(30, 4));
    let plan = repo.run(&["plan"]);
    assert_eq!(plan.code, 4, "{plan:?}");
    assert!(
        plan.stderr.contains("error: refused by the safety policy: this plan deactivates 4 users; the policy allows at most 3 (`maxDeactivations: 3` and `maxDeactivationPercent: 25` of 30 managed users (7)). If that is intended, run again with `--allow-deactivations 4`"),
        "{}",
        plan.stderr
    );
    assert!(
        plan.stdout
            .contains("Plan: 0 to create, 0 to update, 4 to deactivate."),
        "the plan is still shown"
    );
    sandbox.clear();
    assert_eq!(repo.run(&["apply", "--auto-approve"]).code, 4);
    assert_eq!(
        repo.run(&["apply", "--auto-approve", "--allow-deactivations", "5"])
            .code,
        4,
        "not the exact number"
    );
    assert_eq!(sandbox.requests().writes(), 0);
    let allowed = repo.run(&["apply", "--auto-approve", "--allow-deactivations", "4"]);
    assert_eq!(allowed.code, 0, "{allowed:?}");
    assert_eq!(sandbox.requests().count("DELETE"), 4);
}

#[test]
fn the_budget_is_also_a_share_of_managed_users() {
    // 30 managed users, 25%: at most 7.
    let sandbox = sandbox(30);
    let repo = repo(&sandbox, "  maxDeactivationPercent: 25\n", &users(30, 8));
    let plan = repo.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 4, "{plan:?}");
    assert!(
        plan.stderr
            .contains("deactivates 8 users; the policy allows at most 7"),
        "{}",
        plan.stderr
    );
    let repo = self::repo(&sandbox, "  maxDeactivationPercent: 25\n", &users(30, 7));
    assert_eq!(repo.run(&["plan", "--detailed-exitcode"]).code, 2);
}

#[test]
fn deactivating_every_managed_user_is_always_refused() {
    let sandbox = sandbox(3);
    let repo = repo(&sandbox, "  maxDeactivations: 10\n", &users(3, 3));
    let apply = repo.run(&["apply", "--auto-approve", "--allow-deactivations", "3"]);
    assert_eq!(apply.code, 4, "{apply:?}");
    assert!(
        apply
            .stderr
            .contains("deactivates every managed user (3 of 3)"),
        "{}",
        apply.stderr
    );
    assert_eq!(sandbox.requests().writes(), 0);
    let md = repo.run(&["plan", "--format", "markdown"]);
    assert!(md.stdout.contains("> [!CAUTION]\n> **Refused by the safety policy:** this plan deactivates every managed user"), "{}", md.stdout);
}

#[test]
fn protected_users_are_never_changed() {
    let sandbox = sandbox(2);
    let repo = repo(
        &sandbox,
        "  protected: [admon, admon@*, u01@*]\n",
        "users:\n  - userName: admon\n    name: {givenName: Root}\n  - userName: u00\n    name: {givenName: Zero}\n  - userName: u01\n    active: false\n",
    );
    let apply = repo.run(&["apply", "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    assert!(
        apply.stdout.contains("Protected by the policy, and left as they are:\n  admon@acme (would be updated in place; matches `admon@*`)\n  u01@acme (would be deactivated; matches `u01@*`)\n"),
        "{}",
        apply.stdout
    );
    let log = sandbox.requests();
    assert_eq!(log.writes(), 1, "only u00: {:#?}", log.requests);
    let token = sandbox.token();
    let (_, admon) = sandbox.call("GET", "/Users/admon@acme", &token, None);
    assert_eq!(admon["name"]["givenName"], "Admin");
}

#[test]
fn users_in_no_file_are_left_alone_unless_the_policy_deactivates_them() {
    let sandbox = sandbox(6);
    let ignore = repo(&sandbox, "  unmanaged: ignore\n", &users(4, 0));
    let plan = ignore.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{plan:?}");
    assert!(
        plan.stdout
            .contains("The server has 7 users; 3 are unmanaged (in no file) and left alone."),
        "{}",
        plan.stdout
    );

    let deactivate = repo(&sandbox, "  unmanaged: deactivate\n", &users(4, 0));
    let apply = deactivate.run(&["apply", "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    assert!(
        apply.stdout.contains("# u04@acme will be deactivated"),
        "{}",
        apply.stdout
    );
    assert!(
        apply
            .stdout
            .contains("admon@acme (would be deactivated; matches `admon@*`)"),
        "{}",
        apply.stdout
    );
    assert_eq!(
        sandbox.requests().count("DELETE"),
        2,
        "u04 and u05; admon is protected"
    );
    assert_eq!(deactivate.run(&["plan", "--detailed-exitcode"]).code, 0);
}

#[test]
fn the_summary_counts_what_is_true_when_the_policy_deactivates() {
    // 2 declared, 5 on the server (admon included): 3 unmanaged, of which the policy
    // deactivates 2 (admon is protected).
    let sandbox = sandbox(4);
    let repo = repo(&sandbox, "  unmanaged: deactivate\n", &users(2, 0));
    let plan = repo.run(&["plan", "--format", "json"]);
    assert_eq!(plan.code, 0, "{plan:?}");
    let saved: serde_json::Value = serde_json::from_str(&plan.stdout).unwrap();
    let s = &saved["summary"];
    assert_eq!(
        [
            &s["declared"],
            &s["server"],
            &s["unmanaged"],
            &s["unmanagedDeactivated"],
            &s["protected"]
        ],
        [2, 5, 3, 2, 1].map(serde_json::Value::from).each_ref()
    );
    let human = repo.run(&["plan"]);
    assert!(
        human.stdout.contains("2 users declared, 2 already as declared. The server has 5 users; 3 are unmanaged (in no file): 2 to deactivate by the policy, 1 left alone."),
        "{}",
        human.stdout
    );
    sandbox.clear();
    let apply = repo.run(&["apply", "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    assert_eq!(sandbox.requests().count("DELETE"), 2);
    assert_eq!(sandbox.requests().writes(), 2);
    let after = repo.run(&["plan"]);
    assert!(
        after.stdout.contains("2 users declared, 2 already as declared. The server has 5 users; 3 are unmanaged (in no file) and left alone."),
        "{}",
        after.stdout
    );
}

#[test]
fn deleting_users_in_no_file_needs_the_command_line_on_servers_that_delete() {
    let server = External::scim2("");
    let repo = Repo::new(
        &server.base,
        "users:\n  - userName: keep\n    name: {givenName: Keep}\n",
    );
    let settings = format!(
        "targets:\n  t:\n    url: {}\n    dialect: rfc7644\n    auth: none\ndefaults:\n  domain: acme\npolicy:\n  unmanaged: delete\n",
        server.base
    );
    std::fs::write(repo.path().join("scimops.yaml"), &settings).unwrap();
    // First create three users, then stop declaring two of them.
    repo.write_users("users:\n  - userName: keep\n    name: {givenName: Keep}\n  - userName: gone1\n    name: {givenName: G}\n  - userName: gone2\n    name: {givenName: G}\n");
    assert_eq!(repo.run(&["apply", "--auto-approve"]).code, 0);
    repo.write_users("users:\n  - userName: keep\n    name: {givenName: Keep}\n");
    let refused = repo.run(&["-vv", "apply", "--auto-approve"]);
    assert_eq!(refused.code, 4, "{refused:?}");
    assert!(refused.stderr.contains("this plan deletes 2 users (policy `unmanaged: delete`); deleting needs `--allow-delete`"), "{}", refused.stderr);
    assert_eq!(counts(&refused.stderr).delete, 0);
    let applied = repo.run(&["-vv", "apply", "--auto-approve", "--allow-delete"]);
    assert_eq!(applied.code, 0, "{applied:?}");
    assert!(
        applied.stdout.contains("# gone1@acme will be deleted"),
        "{}",
        applied.stdout
    );
    assert_eq!(counts(&applied.stderr).delete, 2);
    assert!(
        repo.run(&["plan"])
            .stdout
            .contains("The server has 1 user; all declared.")
    );
}

#[test]
fn the_policy_acts_on_every_unmanaged_user_not_only_those_of_the_first_page() {
    // 1,200 users on a server that filters, 2 declared: every page is read, so the
    // policy sees all 1,198 others (admon protected), not only the first page's.
    let sandbox = sandbox(1200);
    let repo = repo(
        &sandbox,
        "  unmanaged: deactivate\n  maxDeactivations: 5000\n  maxDeactivationPercent: 100\n",
        &users(2, 0),
    );
    let plan = repo.run(&["plan", "--format", "json"]);
    assert_eq!(plan.code, 0, "{plan:?}");
    let saved: serde_json::Value = serde_json::from_str(&plan.stdout).unwrap();
    assert_eq!(saved["summary"]["unmanaged"], 1199);
    assert_eq!(saved["summary"]["unmanagedDeactivated"], 1198);
    assert_eq!(saved["summary"]["protected"], 1);
    let log = sandbox.requests();
    assert_eq!(
        log.count("GET"),
        3 + 1201usize.div_ceil(500),
        "discovery and 3 pages"
    );
}

/// 2 declared users, 22 others active, 2 inactive, and the admin account.
fn crowded() -> TestSandbox {
    let mut seed: String = (0..26)
        .map(|i| {
            let active = if i >= 24 { ", active: false" } else { "" };
            format!("  - {{userName: u{i:02}@acme, name: {{givenName: U{i}}}{active}, {EXT}: {{enabledForAssignation: true}}}}\n")
        })
        .collect();
    seed.push_str(&format!(
        "  - {{userName: admon@acme, name: {{givenName: Admin}}, {EXT}: {{enabledForAssignation: true}}}}\n"
    ));
    TestSandbox::start(&format!("defaultDomain: acme\nseed:\n{seed}"))
}

#[test]
fn unmanaged_users_are_named_in_every_format() {
    let sandbox = crowded();
    let repo = repo(&sandbox, "  unmanaged: ignore\n", &users(2, 0));

    let human = repo.run(&["plan"]);
    assert_eq!(human.code, 0, "{human:?}");
    let expected = [
        "No changes. The server's users match the files.",
        "The server has 27 users; 25 are unmanaged (in no file) and left alone.",
        "Unmanaged users (on the server, in no file): 23 active, 2 inactive:",
        "  admon@acme  active, protected (matches `admon@*`)",
        "  u02@acme    active",
        "  u20@acme    active",
        "  and 5 more (every one is in the JSON plan)",
    ];
    for line in expected {
        assert!(
            human.stdout.contains(line),
            "{line:?} in:\n{}",
            human.stdout
        );
    }
    assert!(!human.stdout.contains("u21@acme"), "20 named at most");
    assert!(
        !human.stdout.contains("u00@acme"),
        "declared users are not unmanaged"
    );

    let markdown = repo.run(&["plan", "--format", "markdown"]);
    for line in [
        "<details><summary>Unmanaged users (on the server, in no file): 23 active, 2 inactive</summary>",
        "| `admon@acme` | active, protected (matches `admon@*`) |",
        "| `u02@acme` | active |",
        "and 5 more (every one is in the JSON plan).",
    ] {
        assert!(
            markdown.stdout.contains(line),
            "{line:?} in:\n{}",
            markdown.stdout
        );
    }

    let json = repo.run(&["plan", "--format", "json"]);
    let saved: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let unmanaged = saved["unmanaged"].as_array().unwrap();
    assert_eq!(unmanaged.len(), 25, "every one in JSON");
    assert_eq!(unmanaged[0]["userName"], "admon@acme");
    assert_eq!(unmanaged[0]["protected"], "admon@*");
    let inactive: Vec<&str> = unmanaged
        .iter()
        .filter(|u| u["active"] == false)
        .map(|u| u["userName"].as_str().unwrap())
        .collect();
    assert_eq!(inactive, ["u24@acme", "u25@acme"]);
    assert_eq!(saved["summary"]["unmanagedActiveUnprotected"], 22);
}

#[test]
fn a_drift_check_can_count_active_unmanaged_users_as_changes() {
    let sandbox = crowded();
    let repo = repo(&sandbox, "  unmanaged: ignore\n", &users(2, 0));
    assert_eq!(repo.run(&["plan", "--detailed-exitcode"]).code, 0);
    let drift = repo.run(&["plan", "--detailed-exitcode", "--unmanaged-as-changes"]);
    assert_eq!(drift.code, 2, "{drift:?}");
    assert!(
        drift.stderr.contains("The server has 22 active unmanaged users that no file declares: counted as changes (--unmanaged-as-changes)."),
        "{}",
        drift.stderr
    );
    assert_eq!(sandbox.requests().writes(), 0);

    // Declared, inactive or protected: not drift.
    let mut all = users(24, 0);
    all.push_str("  - userName: u24\n    name: {givenName: U24}\n    active: false\n");
    let repo = crate::support::Repo::for_sandbox(&sandbox, &all);
    let quiet = repo.run(&["plan", "--detailed-exitcode", "--unmanaged-as-changes"]);
    assert_eq!(quiet.code, 0, "{quiet:?}");
    assert!(
        quiet
            .stdout
            .contains("Unmanaged users (on the server, in no file): 1 active, 1 inactive:"),
        "{}",
        quiet.stdout
    );
}
