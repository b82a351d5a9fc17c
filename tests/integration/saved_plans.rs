//! Plans a reviewer approves: saved plans applied exactly once, refused when stale; the
//! JSON, Markdown and `--show-requests` views; PUT when the server has no PATCH.

use serde_json::{Value as Json, json};

use crate::support::{PROPERTIES, Repo, TestSandbox};

const EXT: &str = "urn:ietf:params:scim:schemas:extension:bizagi:2.0:UserProperties";

/// A sandbox with these settings, the test properties and a `Notes` property.
fn sandbox(options: &str) -> TestSandbox {
    TestSandbox::start(&format!(
        "defaultDomain: acme
{options}
{PROPERTIES}  Notes: string
seed:
  - userName: keep@acme
    name: {{givenName: Kim}}
    {EXT}: {{enabledForAssignation: true}}
  - userName: change@acme
    name: {{givenName: Chan, familyName: Ge}}
    emails: [{{value: change@acme.example, type: work, primary: true}}]
    phoneNumbers: [{{value: '+57 3000000000', type: mobile, primary: true}}]
    {EXT}: {{enabledForAssignation: true, Level: 1, IdentificationNumber: ID-1}}
  - userName: leave@acme
    name: {{givenName: Lea}}
    {EXT}: {{enabledForAssignation: true}}
  - userName: back@acme
    name: {{givenName: Bea}}
    active: false
    {EXT}: {{enabledForAssignation: false}}
"
    ))
}

/// One user of each action (grant by property too), all in one plan.
const USERS: &str = "
users:
  - userName: keep
    name: {givenName: Kim}
  - userName: change
    name: {givenName: Chan, familyName: Gee}
    email: chan.gee@acme.example
    properties: {Level: 2, Notes: null}
  - userName: leave
    active: false
  - userName: back
    properties: {enabledForAssignation: true}
  - userName: new
    name: {givenName: New, familyName: Person}
    email: new.person@acme.example
    phone: '+1 5550100'
    properties: {Salary: 1000.5, IsContractor: true}
";

/// Replace what changes from run to run: ports, GUIDs, digests.
fn filters() -> Vec<(&'static str, &'static str)> {
    vec![
        (r"127\.0\.0\.1:\d+", "127.0.0.1:[port]"),
        (
            r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
            "[guid]",
        ),
        (r"sha256:[0-9a-f]{12,64}", "sha256:[digest]"),
        (
            r#""scimopsVersion": "[^"]+""#,
            r#""scimopsVersion": "[version]""#,
        ),
        (r"scimops \d+\.\d+\.\d+", "scimops [version]"),
    ]
}

fn writes(sandbox: &TestSandbox) -> Vec<(String, String, Option<Json>)> {
    sandbox
        .requests()
        .requests
        .into_iter()
        .filter(|r| r.method != "GET" && r.path.starts_with("/scim/v2"))
        .map(|r| {
            (
                r.method,
                r.path.trim_start_matches("/scim/v2").to_string(),
                r.body,
            )
        })
        .collect()
}

fn announced(plan: &Json) -> Vec<(String, String, Option<Json>)> {
    let mut out = Vec::new();
    for user in plan["users"].as_array().unwrap() {
        for r in user["requests"].as_array().unwrap() {
            out.push((
                r["method"].as_str().unwrap().to_string(),
                r["path"].as_str().unwrap().to_string(),
                r.get("body").cloned(),
            ));
        }
    }
    out
}

fn read_plan(repo: &Repo) -> Json {
    serde_json::from_str(&std::fs::read_to_string(repo.path().join("plan.json")).unwrap()).unwrap()
}

#[test]
fn a_saved_plan_is_applied_exactly_and_only_once() {
    let sandbox = sandbox("");
    let repo = Repo::for_sandbox(&sandbox, USERS);
    let plan = repo.run(&["plan", "--out", "plan.json", "--detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{plan:?}");
    assert!(
        plan.stdout.contains("Saved the plan to: plan.json"),
        "{}",
        plan.stdout
    );
    assert!(plan.stdout.contains("scimops apply plan.json"));
    let saved = read_plan(&repo);
    assert_eq!(saved["formatVersion"], "2.1");
    assert_eq!(
        saved["summary"]["requests"],
        json!({"POST": 1, "PATCH": 2, "DELETE": 1})
    );
    sandbox.clear();

    // Applied without asking (stdin is no terminal here), exactly as saved.
    let apply = repo.run(&["apply", "plan.json"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    let mut sent = writes(&sandbox);
    let mut expected = announced(&saved);
    sent.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    expected.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    assert_eq!(sent, expected, "what was sent is what the plan announced");
    let log = sandbox.requests();
    assert_eq!(
        log.count("GET"),
        4,
        "one GET per touched user, no discovery, no listing: {:#?}",
        log.requests
    );
    sandbox.clear();

    // The same plan again: stale, and nothing is written twice.
    let again = repo.run(&["apply", "plan.json"]);
    assert_eq!(again.code, 3, "{again:?}");
    assert!(writes(&sandbox).is_empty());
    assert!(
        again
            .stderr
            .contains("user `new@acme` now exists on the server"),
        "{}",
        again.stderr
    );

    let replan = repo.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(replan.code, 0, "{replan:?}");
}

#[test]
fn a_user_changed_on_the_server_after_the_plan_makes_it_stale() {
    let sandbox = sandbox("");
    let repo = Repo::for_sandbox(&sandbox, USERS);
    assert_eq!(repo.run(&["plan", "--out", "plan.json"]).code, 0);

    // Someone edits a user in the Work Portal.
    let token = sandbox.token();
    let (status, _) = sandbox.call(
        "PATCH",
        "/Users/change@acme",
        &token,
        Some(
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "name.middleName", "value": "X"}]}),
        ),
    );
    assert_eq!(status, 200);
    sandbox.clear();

    let apply = repo.run(&["apply", "plan.json"]);
    assert_eq!(apply.code, 3, "{apply:?}");
    assert!(writes(&sandbox).is_empty(), "nothing is written");
    insta::with_settings!({filters => filters()}, {
        insta::assert_snapshot!(apply.stderr);
    });
}

#[test]
fn a_file_changed_after_the_plan_makes_it_stale_before_any_request() {
    let sandbox = sandbox("");
    let repo = Repo::for_sandbox(&sandbox, USERS);
    assert_eq!(repo.run(&["plan", "--out", "plan.json"]).code, 0);
    repo.write_users(&USERS.replace("Person", "Persson"));
    std::fs::write(repo.path().join("users/more.yaml"), "users: []\n").unwrap();
    sandbox.clear();
    let apply = repo.run(&["apply", "plan.json"]);
    assert_eq!(apply.code, 3, "{apply:?}");
    assert!(
        apply
            .stderr
            .contains("  - `users/users.yaml` changed\n  - `users/more.yaml` was added\n"),
        "{}",
        apply.stderr
    );
    assert!(
        sandbox.requests().requests.is_empty(),
        "not even a token request"
    );
}

#[test]
fn an_edited_plan_is_refused() {
    let sandbox = sandbox("");
    let repo = Repo::for_sandbox(&sandbox, USERS);
    assert_eq!(repo.run(&["plan", "--out", "plan.json"]).code, 0);
    let mut saved = read_plan(&repo);
    saved["users"][0]["requests"][0]["path"] = json!("/Users/someone-else");
    std::fs::write(repo.path().join("plan.json"), saved.to_string()).unwrap();
    sandbox.clear();
    let apply = repo.run(&["apply", "plan.json"]);
    assert_eq!(apply.code, 1, "{apply:?}");
    assert!(
        apply
            .stderr
            .contains("does not match its digest: it was edited"),
        "{}",
        apply.stderr
    );
    assert!(sandbox.requests().requests.is_empty());
}

#[test]
fn a_plan_made_by_an_older_scimops_is_refused_clearly() {
    let sandbox = sandbox("");
    let repo = Repo::for_sandbox(&sandbox, USERS);
    assert_eq!(repo.run(&["plan", "--out", "plan.json"]).code, 0);
    let mut saved = read_plan(&repo);
    saved["formatVersion"] = json!("1.0");
    saved["scimopsVersion"] = json!("0.1.0");
    std::fs::write(repo.path().join("plan.json"), saved.to_string()).unwrap();
    sandbox.clear();
    let apply = repo.run(&["apply", "plan.json"]);
    assert_eq!(apply.code, 1, "{apply:?}");
    assert!(
        apply.stderr.contains(
            "the plan is in format 1.0 and was made by scimops 0.1.0, older than this scimops"
        ) && apply
            .stderr
            .contains("make the plan again with this scimops"),
        "{}",
        apply.stderr
    );
    assert!(sandbox.requests().requests.is_empty());
}

#[test]
fn versions_are_fingerprints_when_the_server_gives_them() {
    let sandbox = sandbox("etag: true");
    let repo = Repo::for_sandbox(&sandbox, USERS);
    assert_eq!(repo.run(&["plan", "--out", "plan.json"]).code, 0);
    let saved = read_plan(&repo);
    let change = saved["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["userName"] == "change@acme")
        .unwrap();
    assert_eq!(change["fingerprint"], "version:W/\"1\"");
    assert_eq!(repo.run(&["apply", "plan.json"]).code, 0);
    assert_eq!(repo.run(&["apply", "plan.json"]).code, 3);
}

#[test]
fn without_patch_an_update_is_a_put_of_the_user_as_read() {
    let sandbox = sandbox("patch: false");
    let repo = Repo::for_sandbox(&sandbox, USERS);
    let apply = repo.run(&["apply", "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    let log = sandbox.requests();
    assert_eq!(log.count("PATCH"), 0);
    assert_eq!(log.count("PUT"), 2, "change and back");
    assert_eq!(
        log.count("DELETE"),
        1,
        "a deactivation alone stays a DELETE"
    );
    let token = sandbox.token();
    let (_, change) = sandbox.call("GET", "/Users/change@acme", &token, None);
    assert_eq!(change["name"]["formatted"], "Chan Gee");
    assert_eq!(
        change["phoneNumbers"][0]["value"], "+57 3000000000",
        "undeclared: kept"
    );
    assert_eq!(
        change[EXT]["IdentificationNumber"], "ID-1",
        "undeclared: kept"
    );
    assert_eq!(change[EXT]["Level"], 2);
    let plan = repo.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{plan:?}");
}

#[test]
fn the_json_plan_is_the_saved_plan() {
    let sandbox = sandbox("");
    let repo = Repo::for_sandbox(&sandbox, USERS);
    let json = repo.run(&["plan", "--format", "json", "--out", "plan.json"]);
    assert_eq!(json.code, 0, "{json:?}");
    assert_eq!(
        serde_json::from_str::<Json>(&json.stdout).unwrap(),
        read_plan(&repo)
    );
    insta::with_settings!({filters => filters()}, {
        insta::assert_snapshot!(json.stdout);
    });
}

#[test]
fn the_markdown_plan_is_a_pull_request_comment() {
    let sandbox = sandbox("");
    let repo = Repo::for_sandbox(&sandbox, USERS);
    let md = repo.run(&["plan", "--format", "markdown", "--mask-pii"]);
    assert_eq!(md.code, 0, "{md:?}");
    assert!(!md.stdout.contains("new.person@"), "masked");
    insta::with_settings!({filters => filters()}, {
        insta::assert_snapshot!(md.stdout);
    });
}

#[test]
fn show_requests_prints_the_wire() {
    let sandbox = sandbox("");
    let repo = Repo::for_sandbox(&sandbox, USERS);
    let plan = repo.run(&["plan", "--show-requests"]);
    assert_eq!(plan.code, 0, "{plan:?}");
    insta::with_settings!({filters => filters()}, {
        insta::assert_snapshot!(plan.stdout);
    });
}

#[test]
fn apply_as_json_reports_each_user() {
    let sandbox = sandbox("");
    let repo = Repo::for_sandbox(&sandbox, USERS);
    let refused = repo.run(&["apply", "--format", "json"]);
    assert_eq!(refused.code, 1, "JSON output has nothing to confirm on");
    let apply = repo.run(&["apply", "--format", "json", "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    let doc: Json = serde_json::from_str(&apply.stdout).unwrap();
    let applied = doc["applied"].as_array().unwrap();
    assert_eq!(applied.len(), 4);
    assert!(
        applied.iter().all(|a| a["status"] == "applied"),
        "{applied:#?}"
    );
    let names: Vec<_> = applied
        .iter()
        .map(|a| a["userName"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["back@acme", "change@acme", "leave@acme", "new@acme"],
        "in the plan's order"
    );
}

#[test]
fn show_renders_a_saved_plan_offline_in_every_view() {
    let sandbox = sandbox("");
    let repo = Repo::for_sandbox(&sandbox, USERS);
    assert_eq!(
        repo.run(&["plan", "--out", "plan.json"]).code,
        0,
        "plan --out"
    );
    let human = repo.run(&["plan", "--mask-pii"]);
    let markdown = repo.run(&["plan", "--format", "markdown"]);
    let saved = std::fs::read_to_string(repo.path().join("plan.json")).unwrap();

    // Offline: a folder with the plan and nothing else, and no request to the server.
    let elsewhere = tempfile::tempdir().unwrap();
    std::fs::copy(
        repo.path().join("plan.json"),
        elsewhere.path().join("plan.json"),
    )
    .unwrap();
    sandbox.clear();
    let show = |args: &[&str]| crate::support::scimops(elsewhere.path(), args);

    let shown = show(&["show", "plan.json", "--mask-pii"]);
    assert_eq!(shown.code, 0, "{shown:?}");
    let header = shown.stdout.lines().next().unwrap();
    assert!(
        header.starts_with("Saved plan sha256:")
            && header.contains("for target `test` (http://127.0.0.1:"),
        "{header}"
    );
    let body = shown.stdout.split_once("\n\n").unwrap().1;
    let plan_body = human
        .stdout
        .split("\nNote: You didn't use the --out option")
        .next()
        .unwrap();
    assert!(
        body.starts_with(plan_body),
        "show:\n{body}\nplan:\n{plan_body}"
    );
    assert!(body.contains("n***@acme.example"), "masked: {body}");
    assert!(
        body.ends_with("To perform exactly these actions, run:\n    scimops apply plan.json\n"),
        "{body}"
    );

    let md = show(&["show", "plan.json", "--format", "markdown"]);
    assert_eq!(md.stdout, markdown.stdout);
    let json = show(&["show", "plan.json", "--format", "json"]);
    assert_eq!(json.stdout, saved, "the saved plan as it is");
    assert_eq!(sandbox.requests().requests.len(), 0, "nothing sent");

    // An edited plan is refused, as apply refuses it.
    std::fs::write(
        elsewhere.path().join("plan.json"),
        saved.replace("New", "Old"),
    )
    .unwrap();
    let edited = show(&["show", "plan.json"]);
    assert_eq!(edited.code, 1, "{edited:?}");
    assert!(
        edited
            .stderr
            .contains("the plan's content does not match its digest: it was edited"),
        "{}",
        edited.stderr
    );
}

/// A repository of `users` for `sandbox` whose settings call `private` private.
fn private_repo(sandbox: &TestSandbox, users: &str, private: &str) -> Repo {
    let repo = Repo::for_sandbox(sandbox, users);
    let settings = std::fs::read_to_string(repo.path().join("scimops.yaml")).unwrap();
    std::fs::write(
        repo.path().join("scimops.yaml"),
        format!("{settings}private: {private}\n"),
    )
    .unwrap();
    repo
}

/// Fails when the run of `args` shows any of `secrets`, on either stream.
fn assert_masked(secrets: &[&str], args: &[&str], run: &crate::support::Run) {
    for (stream, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
        let shown = leaked(secrets, text);
        assert!(
            shown.is_empty(),
            "{args:?} shows {shown:?} on {stream}:\n{text}"
        );
    }
}

/// Which of `secrets` `text` shows.
fn leaked<'a>(secrets: &[&'a str], text: &str) -> Vec<&'a str> {
    secrets
        .iter()
        .copied()
        .filter(|s| text.contains(s))
        .collect()
}

#[test]
fn private_values_are_masked_in_every_view() {
    let sandbox = sandbox("drops: [properties.IdentificationNumber]");
    let users = "users:\n  - userName: change\n    name: {givenName: Chan, familyName: Secretson}\n    email: chan.secret@acme.example\n    phone: '+57 3009998877'\n    properties: {IdentificationNumber: ID-SECRET-9}\n";
    let repo = private_repo(
        &sandbox,
        users,
        "[email, phone, name.familyName, properties.IdentificationNumber]",
    );
    let secrets = ["chan.secret", "9998877", "Secretson", "ID-SECRET-9"];
    let leaks = |text: &str| leaked(&secrets, text);

    // Unmasked, each value is there (so the checks below can fail).
    let plain = repo.run(&["plan", "--show-requests"]);
    assert_eq!(leaks(&plain.stdout), secrets, "{}", plain.stdout);

    assert_eq!(repo.run(&["plan", "--out", "plan.json"]).code, 0);
    let saved = std::fs::read_to_string(repo.path().join("plan.json")).unwrap();
    assert_eq!(
        leaks(&saved),
        secrets,
        "the saved plan keeps real values: apply needs them"
    );
    for args in [
        &["plan", "--mask-pii", "--show-requests"][..],
        &["plan", "--mask-pii", "--format", "markdown"],
        &["plan", "--mask-pii", "--format", "json"],
        &["show", "plan.json", "--mask-pii", "--show-requests"],
        &["show", "plan.json", "--mask-pii", "--format", "markdown"],
        &["show", "plan.json", "--mask-pii", "--format", "json"],
    ] {
        let run = repo.run(args);
        assert_eq!(run.code, 0, "{args:?}: {run:?}");
        assert_masked(&secrets, args, &run);
    }
    let masked = repo.run(&["plan", "--mask-pii", "--format", "json"]);
    assert!(
        masked.stdout.contains("\"S***\"") && masked.stdout.contains("c***@acme.example"),
        "{}",
        masked.stdout
    );
    std::fs::write(repo.path().join("masked.json"), &masked.stdout).unwrap();
    let refused = repo.run(&["apply", "masked.json"]);
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(
        refused
            .stderr
            .contains("printed with --mask-pii: it is for reading, not for applying"),
        "{}",
        refused.stderr
    );

    // Apply's own output: the plan, and what the server did not keep (it drops the
    // identification number here), masked; JSON too.
    let apply = repo.run(&["apply", "plan.json", "--mask-pii"]);
    assert_eq!(apply.code, 1, "the server did not keep a value: {apply:?}");
    assert!(
        apply
            .stdout
            .contains("properties.IdentificationNumber = \"I***\""),
        "{}",
        apply.stdout
    );
    assert!(leaks(&apply.stdout).is_empty(), "{}", apply.stdout);
    let again = repo.run(&["apply", "--auto-approve", "--mask-pii", "--format", "json"]);
    assert!(leaks(&again.stdout).is_empty(), "{}", again.stdout);
}

#[test]
fn a_server_error_that_quotes_private_values_is_masked_in_apply_reports() {
    // The server refuses the update with a message that repeats what it was sent (one
    // value in lower case, as servers that fold e-mails and names write it).
    let sandbox = sandbox(
        r#"failures:
  - {method: PATCH, path: /Users, status: 409, body: '{"status": "409", "detail": "chan.secret@acme.example, +57 3009998877 and secretson belong to someone else"}'}"#,
    );
    let users = "users:\n  - userName: change\n    name: {givenName: Chan, familyName: Secretson}\n    email: chan.secret@acme.example\n    phone: '+57 3009998877'\n";
    let repo = private_repo(&sandbox, users, "[email, phone, name.familyName]");
    let secrets = ["chan.secret", "9998877", "secretson", "Secretson"];

    // Unmasked, the server's message is reported as it came (so the checks below can fail).
    let plain = repo.run(&["apply", "--auto-approve", "--format", "json"]);
    assert_eq!(plain.code, 1, "{plain:?}");
    assert!(
        plain
            .stdout
            .contains("and secretson belong to someone else"),
        "{}",
        plain.stdout
    );

    for args in [
        &["apply", "--auto-approve", "--mask-pii"][..],
        &["apply", "--auto-approve", "--mask-pii", "--format", "json"],
    ] {
        let run = repo.run(args);
        assert_eq!(run.code, 1, "{args:?}: {run:?}");
        assert!(
            run.stdout
                .contains("c***@acme.example, +57 ******8877 and S*** belong to someone else"),
            "{args:?}: {}",
            run.stdout
        );
        assert_masked(&secrets, args, &run);
    }
}

#[test]
fn a_comment_of_two_thousand_creates_names_every_one_and_the_job_summary_more() {
    let sandbox = TestSandbox::start(&format!("defaultDomain: acme\n{PROPERTIES}"));
    let users: String = (0..2000)
        .map(|i| format!("  - userName: new{i:04}\n    name: {{givenName: New, familyName: Person{i}}}\n    email: new{i}@acme.example\n"))
        .collect();
    let repo = Repo::for_sandbox(&sandbox, &format!("users:\n{users}"));
    let comment = repo.run(&[
        "plan",
        "--out",
        "plan.json",
        "--format",
        "markdown",
        "--mask-pii",
    ]);
    assert_eq!(comment.code, 0, "{comment:?}");
    let md = &comment.stdout;
    assert!(md.len() <= 65_535, "{}", md.len());
    let named = |md: &str| {
        (0..2000).all(|i| {
            md.contains(&format!("`new{i:04}@acme`"))
                || md.contains(&format!("<code>new{i:04}@acme</code>"))
        })
    };
    assert!(named(md), "every user is named");
    assert!(
        md.contains("The saved plan (`scimops show plan.json`) has them."),
        "{}",
        &md[md.len() - 800..]
    );
    let summary = repo.run(&[
        "show",
        "plan.json",
        "--format",
        "markdown",
        "--mask-pii",
        "--markdown-limit",
        "1048576",
    ]);
    assert!(summary.stdout.len() <= 1_048_576);
    assert!(named(&summary.stdout));
    assert!(
        summary
            .stdout
            .contains("<details><summary><code>new0001@acme</code> will be created</summary>"),
        "the job summary has every change with its values: {}",
        &summary.stdout[..1500]
    );
    assert!(!summary.stdout.contains("new1@acme.example"), "masked");
}
