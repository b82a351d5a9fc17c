//! The benchmark's scenario at a size a test affords: the request counts are the
//! minimum (speed itself is measured by `examples/bench.rs`, never in a test).

use crate::support::{Repo, TestSandbox};

const EXT: &str = "urn:ietf:params:scim:schemas:extension:bizagi:2.0:UserProperties";

#[test]
fn two_thousand_users_with_drift_cost_the_fewest_requests() {
    let n: usize = 2000;
    let drift = 20;
    let seed: String = (0..n)
        .map(|i| format!("  - {{userName: u{i:04}@acme, name: {{givenName: G{i}}}, {EXT}: {{enabledForAssignation: true}}}}\n"))
        .collect();
    let sandbox = TestSandbox::start(&format!("defaultDomain: acme\nseed:\n{seed}"));
    // Declared: all but the last `drift`, the first `drift` changed, `drift` new.
    let mut users = String::from("users:\n");
    for i in (0..n + drift).filter(|i| !(n - drift..n).contains(i)) {
        let given = if i < drift {
            format!("Changed{i}")
        } else {
            format!("G{i}")
        };
        users.push_str(&format!(
            "  - userName: u{i:04}\n    name: {{givenName: {given}}}\n"
        ));
    }
    let repo = Repo::for_sandbox(&sandbox, &users);
    let settings = std::fs::read_to_string(repo.path().join("scimops.yaml")).unwrap();
    std::fs::write(
        repo.path().join("scimops.yaml"),
        format!("{settings}policy:\n  unmanaged: deactivate\n"),
    )
    .unwrap();

    let plan = repo.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{plan:?}");
    let log = sandbox.requests();
    let lists = log
        .requests
        .iter()
        .filter(|r| r.method == "GET" && r.path.starts_with("/scim/v2/Users?"))
        .count();
    assert_eq!(lists, n.div_ceil(500), "one listing call per page of 500");
    assert_eq!(log.token, 1);
    assert_eq!(log.count("GET"), lists + 3, "and the three discovery calls");
    assert_eq!(log.writes(), 0);

    sandbox.clear();
    let apply = repo.run(&["apply", "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    let log = sandbox.requests();
    assert_eq!(
        (log.count("POST"), log.count("PATCH"), log.count("DELETE")),
        (drift, drift, drift),
        "one write per changed user"
    );
    assert_eq!(log.token, 1, "one token for the whole run");

    sandbox.clear();
    assert_eq!(repo.run(&["plan", "--detailed-exitcode"]).code, 0);
}
