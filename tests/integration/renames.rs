//! Renames: a user entry's `previously` names the account the server has; the plan
//! renames it (one PATCH of its userName, with any other change) instead of creating a
//! second account and leaving the first one behind.

use crate::scenarios::counts;
use crate::support::{PROPERTIES, Repo, SECRET_VAR, TestSandbox};

const EXT: &str = "urn:ietf:params:scim:schemas:extension:bizagi:2.0:UserProperties";

/// A sandbox with `ada@acme` (Level 3) and `bob@acme`.
fn sandbox() -> TestSandbox {
    TestSandbox::start(&format!(
        "defaultDomain: acme\n{PROPERTIES}seed:\n  - {{userName: ada@acme, name: {{givenName: Ada}}, {EXT}: {{enabledForAssignation: true, Level: 3}}}}\n  - {{userName: bob@acme, name: {{givenName: Bob}}, {EXT}: {{enabledForAssignation: true}}}}\n"
    ))
}

const BOB: &str = "  - userName: bob\n    name: {givenName: Bob}\n";

/// A repository on `sandbox` whose policy deactivates users in no file: a rename that
/// left the old account behind would deactivate it.
fn repo(sandbox: &TestSandbox, dialect: &str, users: &str) -> Repo {
    let repo = Repo::for_sandbox(sandbox, users);
    let settings = std::fs::read_to_string(repo.path().join("scimops.yaml")).unwrap();
    let settings = if dialect == "rfc7644" {
        settings
            .replace(
                "    auth:\n",
                &format!("    dialect: rfc7644\n    propertiesSchema: {EXT}\n    auth:\n"),
            )
            .replace(
                &format!("        clientSecret: ${{{SECRET_VAR}}}\n"),
                &format!(
                    "        clientSecret: ${{{SECRET_VAR}}}\n        tokenUrl: {}\n",
                    sandbox.running.token_url()
                ),
            )
    } else {
        settings
    };
    std::fs::write(
        repo.path().join("scimops.yaml"),
        format!("{settings}policy:\n  unmanaged: deactivate\n"),
    )
    .unwrap();
    repo
}

fn renamed(dialect: &str) {
    let sandbox = sandbox();
    let users = format!(
        "users:\n  - userName: ada.king\n    previously: [ada]\n    name: {{givenName: Ada}}\n{BOB}"
    );
    let repo = repo(&sandbox, dialect, &users);
    let plan = repo.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{plan:?}");
    for line in [
        "  # ada@acme will be renamed to ada.king@acme",
        "  ~ rename \"ada@acme\" -> \"ada.king@acme\" {",
        "Plan: 0 to create, 0 to update, 0 to deactivate, 1 to rename.",
        "Apply will send 1 request: 1 PATCH.",
    ] {
        assert!(
            plan.stdout.contains(line),
            "{dialect}: {line:?} in:\n{}",
            plan.stdout
        );
    }
    assert!(
        !plan.stdout.contains("ada@acme will be deactivated"),
        "{}",
        plan.stdout
    );

    sandbox.clear();
    let apply = repo.run(&["-vv", "apply", "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    let sent = counts(&apply.stderr);
    assert_eq!(
        (sent.post, sent.patch, sent.put, sent.delete),
        (0, 1, 0, 0),
        "{dialect}: one PATCH, no create, no deactivation"
    );
    assert_eq!(sandbox.requests().writes(), 1);
    assert!(
        apply.stdout.contains("ada.king@acme: renamed"),
        "{}",
        apply.stdout
    );
    assert!(
        apply
            .stdout
            .contains("Apply complete! Users: 0 created, 0 updated, 0 deactivated, 1 renamed."),
        "{}",
        apply.stdout
    );

    // The account is the same one, active, under its new name; nothing is left over.
    let after = repo.run(&["plan", "--format", "json"]);
    let saved: serde_json::Value = serde_json::from_str(&after.stdout).unwrap();
    assert_eq!(saved["users"], serde_json::json!([]), "{}", after.stdout);
    assert_eq!(saved["summary"]["server"], 2);
    assert_eq!(saved["summary"]["unmanaged"], 0);
}

#[test]
fn a_rename_sends_one_patch_on_bizagi() {
    renamed("bizagi");
}

#[test]
fn a_rename_sends_one_patch_on_an_rfc_server() {
    renamed("rfc7644");
}

#[test]
fn a_rename_and_a_property_change_are_one_request_in_every_format() {
    let sandbox = sandbox();
    let users = format!(
        "users:\n  - userName: ada.king\n    previously: [ada.lovelace, ada]\n    name: {{givenName: Ada}}\n    properties: {{Level: 4}}\n{BOB}"
    );
    let repo = repo(&sandbox, "bizagi", &users);
    let human = repo.run(&["plan", "--show-requests"]);
    for line in [
        "  ~ rename \"ada@acme\" -> \"ada.king@acme\" {",
        "      ~ properties.Level = 3 -> 4",
        "\"path\": \"userName\"",
        "\"value\": \"ada.king@acme\"",
    ] {
        assert!(
            human.stdout.contains(line),
            "{line:?} in:\n{}",
            human.stdout
        );
    }
    let markdown = repo.run(&["plan", "--format", "markdown"]);
    for line in [
        "#### Profile changes (1)",
        "<details><summary><code>ada@acme</code> will be renamed to <code>ada.king@acme</code></summary>",
        "! userName = \"ada@acme\" -> \"ada.king@acme\"",
        "! properties.Level = 3 -> 4",
    ] {
        assert!(
            markdown.stdout.contains(line),
            "{line:?} in:\n{}",
            markdown.stdout
        );
    }
    let json = repo.run(&["plan", "--out", "plan.json", "--format", "json"]);
    let saved: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let entry = &saved["users"][0];
    assert_eq!(entry["action"], "rename");
    assert_eq!(entry["reason"], "renamed");
    assert_eq!(entry["userName"], "ada.king@acme");
    assert_eq!(entry["renamedFrom"], "ada@acme");
    assert_eq!(entry["changes"][0]["attribute"], "userName");
    assert_eq!(entry["requests"].as_array().unwrap().len(), 1);
    assert_eq!(
        entry["requests"][0]["body"]["Operations"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(saved["summary"]["rename"], 1);

    // The saved plan applies as reviewed.
    sandbox.clear();
    let apply = repo.run(&["-vv", "apply", "plan.json"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    assert_eq!(counts(&apply.stderr).patch, 1);
    assert_eq!(sandbox.requests().writes(), 1);
    assert_eq!(repo.run(&["plan", "--detailed-exitcode"]).code, 0);
}

#[test]
fn a_rename_whose_two_names_are_on_the_server_is_an_error_at_its_entry() {
    let sandbox = sandbox();
    let users = "users:\n  - userName: bob\n    name: {givenName: Bob}\n  - userName: ada\n    previously: [bob]\n    name: {givenName: Ada}\n";
    // `bob` is declared too: refused offline, at the previous name.
    let repo = repo(&sandbox, "bizagi", users);
    let validate = repo.run(&["validate"]);
    assert_eq!(validate.code, 1, "{validate:?}");
    assert!(
        validate.stderr.contains("users/users.yaml:5:18: error: `bob@acme` is a previous name of `ada@acme` and a user declared at users/users.yaml:2:15"),
        "{}",
        validate.stderr
    );

    // Both names on the server, the old one in no file: an error at the entry's line,
    // nothing sent.
    let users = "users:\n  - userName: ada\n    previously: [bob]\n    name: {givenName: Ada}\n";
    let repo = self::repo(&sandbox, "bizagi", users);
    sandbox.clear();
    let plan = repo.run(&["plan"]);
    assert_eq!(plan.code, 1, "{plan:?}");
    assert!(
        plan.stderr.contains("users/users.yaml:2:15: error: the server has both `ada@acme` and its previous name `bob@acme` (declared at users/users.yaml:3:18): renaming would make two accounts of one name"),
        "{}",
        plan.stderr
    );
    assert_eq!(sandbox.requests().writes(), 0);
}

#[test]
fn a_change_of_case_only_is_no_change_and_needs_no_rename() {
    let sandbox = sandbox();
    let users = format!(
        "users:\n  - userName: ADA\n    previously: [Ada@Acme]\n    name: {{givenName: Ada}}\n{BOB}"
    );
    let repo = repo(&sandbox, "bizagi", &users);
    let plan = repo.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{plan:?}");
    assert!(plan.stdout.starts_with("No changes."), "{}", plan.stdout);
    assert!(
        plan.stderr.contains("warning: `Ada@Acme` is this user's own name without regard to case: a change of case only is no rename"),
        "{}",
        plan.stderr
    );
}
