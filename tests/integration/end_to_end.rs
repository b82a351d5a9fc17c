//! Plan, apply, plan again: against the sandbox over real HTTP, counting every request.

use serde_json::json;

use crate::support::{PROPERTIES, Repo, TestSandbox};

const EXT: &str = "urn:ietf:params:scim:schemas:extension:bizagi:2.0:UserProperties";

/// A server with one user of each fate, and the admin account nobody declares.
fn seeded() -> TestSandbox {
    TestSandbox::start(&format!(
        "defaultDomain: acme
{PROPERTIES}
seed:
  - userName: admon@acme
    name: {{givenName: Admin}}
  - userName: keep@acme
    name: {{givenName: Kim, familyName: Eep}}
    emails: [{{value: keep@acme.example, type: work, primary: true}}]
    {EXT}: {{enabledForAssignation: true, Level: 1}}
  - userName: change@acme
    name: {{givenName: Chan, familyName: Ge}}
    emails: [{{value: change@acme.example, type: work, primary: true}}]
    phoneNumbers: [{{value: '+57 3000000000', type: mobile, primary: true}}]
    {EXT}: {{enabledForAssignation: true, Level: 1, IdentificationNumber: ID-1}}
  - userName: leave@acme
    name: {{givenName: Lea, familyName: Ve}}
    {EXT}: {{enabledForAssignation: true}}
  - userName: back@acme
    name: {{givenName: Bea, familyName: Ck}}
    active: false
    {EXT}: {{enabledForAssignation: true}}
"
    ))
}

const USERS: &str = "
users:
  - userName: keep
    name: {givenName: Kim, familyName: Eep}
    email: keep@acme.example
    properties: {Level: 1}
  - userName: Change@ACME            # matched without regard to case
    name: {givenName: Chan, familyName: Gee}
    email: change@acme.example
    phone: null                      # cleared
    properties: {Level: 2, IdentificationNumber: ID-1}
  - userName: leave
    active: false
  - userName: back
    name: {givenName: Bea}
  - userName: new1
    name: {givenName: New, familyName: One}
    email: new1@acme.example
    phone: '+1 5550100'
    properties: {IsContractor: true, Salary: 1234.5, HireDate: '2026-11-16T09:00:00Z'}
  - userName: acme\\new2
    name: {familyName: Two}
";

fn id_of(sandbox: &TestSandbox, token: &str, user_name: &str) -> String {
    let (status, user) = sandbox.call("GET", &format!("/Users/{user_name}"), token, None);
    assert_eq!(status, 200, "{user}");
    user["id"].as_str().unwrap().to_string()
}

#[test]
fn plan_apply_plan_converges_with_the_minimal_requests() {
    let sandbox = seeded();
    let repo = Repo::for_sandbox(&sandbox, USERS);
    let token = sandbox.token();
    let change_id = id_of(&sandbox, &token, "change@acme");
    let back_id = id_of(&sandbox, &token, "back@acme");
    let leave_id = id_of(&sandbox, &token, "leave@acme");
    sandbox.clear();

    // plan reads, and only reads: one token, three discovery calls, one page.
    let plan = repo.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{plan:?}");
    let log = sandbox.requests();
    assert_eq!(log.token, 1);
    assert_eq!(log.count("GET"), 4, "{:#?}", log.requests);
    assert_eq!(log.writes(), 0);
    assert!(
        plan.stdout
            .contains("Plan: 2 to create, 1 to update, 1 to deactivate, 1 to reactivate."),
        "{}",
        plan.stdout
    );
    sandbox.clear();

    // apply: one POST per new user, one PATCH per changed user, one DELETE per
    // deactivation, nothing for the others.
    let apply = repo.run(&["apply", "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    let log = sandbox.requests();
    let writes: Vec<_> = log
        .requests
        .iter()
        .filter(|r| r.method != "GET" && r.path.starts_with("/scim"))
        .collect();
    assert_eq!(log.count("POST"), 2);
    assert_eq!(log.count("PATCH"), 2);
    assert_eq!(log.count("DELETE"), 1);
    assert_eq!(writes.len(), 5, "{writes:#?}");
    assert!(writes.iter().all(|w| w.status < 300), "{writes:#?}");
    let patch_of = |id: &str| {
        writes
            .iter()
            .find(|w| w.method == "PATCH" && w.path == format!("/scim/v2/Users/{id}"))
            .and_then(|w| w.body.clone())
            .unwrap_or_else(|| panic!("no PATCH of {id}: {writes:#?}"))
    };
    assert_eq!(
        patch_of(&change_id)["Operations"],
        json!([
            {"op": "replace", "path": "name.familyName", "value": "Gee"},
            {"op": "remove", "path": "phoneNumbers"},
            {"op": "replace", "path": format!("{EXT}:Level"), "value": 2},
        ]),
        "only the changed attributes"
    );
    assert_eq!(
        patch_of(&back_id)["Operations"],
        json!([{"op": "replace", "path": "active", "value": true}])
    );
    assert!(
        writes
            .iter()
            .any(|w| w.method == "DELETE" && w.path == format!("/scim/v2/Users/{leave_id}"))
    );
    assert!(
        writes
            .iter()
            .all(|w| !w.path.contains(&id_of(&sandbox, &token, "keep@acme"))),
        "nothing is sent for an unchanged user"
    );

    // The server now holds what the files declare.
    let (_, leave) = sandbox.call("GET", "/Users/leave@acme", &token, None);
    assert_eq!(
        leave["active"], false,
        "DELETE deactivates; the user remains"
    );
    let (_, new1) = sandbox.call("GET", "/Users/new1@acme", &token, None);
    assert_eq!(new1["name"]["formatted"], "New One");
    assert_eq!(new1[EXT]["Salary"], 1234.5);
    assert_eq!(
        new1[EXT]["enabledForAssignation"], true,
        "from the defaults"
    );
    let (status, _) = sandbox.call("GET", "/Users/new2@acme", &token, None);
    assert_eq!(status, 200, "acme\\new2 was created as new2@acme");
    sandbox.clear();

    // The next plan is empty, and says so with exit code 0.
    let again = repo.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{again:?}");
    assert!(again.stdout.starts_with("No changes."), "{}", again.stdout);
    sandbox.clear();

    // A second apply sends no write at all.
    let second = repo.run(&["apply", "--auto-approve"]);
    assert_eq!(second.code, 0, "{second:?}");
    assert_eq!(
        sandbox.requests().writes(),
        0,
        "{:#?}",
        sandbox.requests().requests
    );
}

#[test]
fn the_plan_reads_as_terraform_does() {
    let sandbox = seeded();
    let repo = Repo::for_sandbox(&sandbox, USERS);
    let plan = repo.run(&["plan"]);
    assert_eq!(plan.code, 0, "without --detailed-exitcode, changes exit 0");
    insta::assert_snapshot!(plan.stdout);
}

#[test]
fn apply_reports_each_user_and_a_summary() {
    let sandbox = seeded();
    let repo = Repo::for_sandbox(&sandbox, USERS);
    let apply = repo.run(&["apply", "--auto-approve", "--parallelism", "1"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    insta::with_settings!({filters => vec![(r"id=[0-9a-f-]{36}", "id=[guid]")]}, {
        insta::assert_snapshot!(apply.stdout);
    });
}

#[test]
fn a_failed_write_names_the_user_the_call_and_the_place_and_spares_the_others() {
    // The server refuses the first create (users are written in plan order: `bad` first).
    let sandbox = TestSandbox::start(&format!(
        r#"defaultDomain: acme
failures:
  - method: POST
    path: /Users
    times: 1
    status: 400
    body: '{{"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "400", "scimType": "invalidValue", "detail": "phone number must be written +CountryCode Number"}}'
{PROPERTIES}"#
    ));
    let users = "users:
  - userName: good
    name: {givenName: Good}
  - userName: bad
    name: {givenName: Bad}
    phone: '+57 3001234567'
";
    let repo = Repo::for_sandbox(&sandbox, users);
    let apply = repo.run(&["apply", "--auto-approve", "--parallelism", "1"]);
    assert_eq!(apply.code, 1, "{apply:?}");
    insta::with_settings!({filters => vec![(r"id=[0-9a-f-]{36}", "id=[guid]")]}, {
        insta::assert_snapshot!(apply.stdout);
    });
    let log = sandbox.requests();
    assert_eq!(log.count("POST"), 2, "the good user was still created");
    sandbox.clear();
    // Applying again, once the cause is gone, finishes the job.
    let again = repo.run(&["apply", "--auto-approve"]);
    assert_eq!(again.code, 0, "{again:?}");
    assert_eq!(sandbox.requests().count("POST"), 1);
}

#[test]
fn reading_many_users_costs_one_call_per_page_of_500() {
    let seed: String = (0..1200)
        .map(|i| format!("  - {{userName: u{i:04}@acme, name: {{givenName: U{i}}}, {EXT}: {{enabledForAssignation: true}}}}\n"))
        .collect();
    let sandbox = TestSandbox::start(&format!("seed:\n{seed}"));
    let declared: String = (0..1200)
        .step_by(3)
        .map(|i| format!("  - userName: u{i:04}\n    name: {{givenName: U{i}}}\n"))
        .collect();
    let repo = Repo::for_sandbox(&sandbox, &format!("users:\n{declared}"));
    let plan = repo.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{plan:?}");
    assert!(plan.stdout.contains("400 users declared, 400 already as declared. The server has 1200 users; 800 are unmanaged (in no file)"), "{}", plan.stdout);
    let log = sandbox.requests();
    let pages: Vec<_> = log
        .requests
        .iter()
        .filter(|r| r.path.starts_with("/scim/v2/Users"))
        .map(|r| r.path.as_str())
        .collect();
    let mut sorted = pages.clone();
    sorted.sort_unstable();
    assert_eq!(
        sorted,
        [
            "/scim/v2/Users?startIndex=1&count=500",
            "/scim/v2/Users?startIndex=1001&count=500",
            "/scim/v2/Users?startIndex=501&count=500",
        ]
    );
    assert_eq!(log.count("GET"), 6, "3 discovery calls and 3 pages");
}

#[test]
fn server_errors_that_are_not_scim_errors_are_explained() {
    let sandbox = TestSandbox::start(&format!(
        "defaultDomain: acme
{PROPERTIES}
failures:
  - {{method: POST, path: /Users, status: 502, body: '<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1><p>The upstream server is unavailable.</p></body></html>'}}
  - {{method: PATCH, status: 500}}
  - {{method: DELETE, status: 503, body: '{{\"message\": \"down for maintenance\"}}', contentType: application/json}}
seed:
  - userName: change@acme
    name: {{givenName: Chan}}
    {EXT}: {{enabledForAssignation: true}}
  - userName: leave@acme
    name: {{givenName: Lea}}
    {EXT}: {{enabledForAssignation: true}}
"
    ));
    let repo = Repo::for_sandbox(
        &sandbox,
        "users:
  - userName: new
    name: {givenName: New}
  - userName: change
    name: {givenName: Chang}
  - userName: leave
    active: false
",
    );
    // Without retries: this is about how errors read (retries are tested in `faults`).
    let apply = repo.run(&[
        "apply",
        "--auto-approve",
        "--parallelism",
        "1",
        "--retries",
        "0",
    ]);
    assert_eq!(apply.code, 1, "{apply:?}");
    let results = apply.stdout.split("Apply will send").nth(1).unwrap();
    insta::with_settings!({filters => vec![(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "[guid]")]}, {
        insta::assert_snapshot!(results);
    });
}

#[test]
fn a_server_error_while_reading_names_the_call() {
    let sandbox = TestSandbox::start(
        "failures:\n  - {method: GET, path: /Users, status: 502, body: '<html><body><h1>502 Bad Gateway</h1></body></html>'}\n",
    );
    let repo = Repo::for_sandbox(&sandbox, "users: []\n");
    let plan = repo.run(&["plan", "--retries", "0"]);
    assert_eq!(plan.code, 1);
    insta::with_settings!({filters => vec![(r"127\.0\.0\.1:\d+", "127.0.0.1:[port]")]}, {
        insta::assert_snapshot!(plan.stderr);
    });
    assert_eq!(sandbox.requests().writes(), 0);
}
