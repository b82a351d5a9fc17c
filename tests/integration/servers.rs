//! The scenarios against SCIM servers written by others: scim2-server (strict, ETags,
//! PATCH answered 204) with and without PATCH and filters, and scimmy (lenient,
//! case-sensitive filters, dateTimes rewritten).

use crate::external::External;
use crate::scenarios::{Kind, Scenario, Target, counts};

/// scim2-server answers a PATCH with 204 and no body, a PUT with the user.
pub fn scim2(server: &External, patch: bool) -> Target {
    Target {
        yaml: format!(
            "    url: {}\n    dialect: rfc7644\n    auth: none\n    pageSize: 100\n",
            server.base
        ),
        env: vec![],
        kind: Kind::Rfc,
        rich: true,
        patch,
        reads: 4,
        updates_answered: !patch,
    }
}

pub fn scimmy(server: &External) -> Target {
    Target {
        yaml: format!(
            "    url: {}\n    dialect: rfc7644\n    auth:\n      bearer:\n        token: ${{SCIMMY_TOKEN}}\n    pageSize: 100\n",
            server.base
        ),
        env: vec![("SCIMMY_TOKEN".into(), server.token.clone().unwrap())],
        kind: Kind::Rfc,
        rich: true,
        patch: true,
        reads: 4,
        updates_answered: true,
    }
}

#[test]
fn scim2_server_lifecycle() {
    let server = External::scim2("");
    Scenario::new(scim2(&server, true)).lifecycle();
}

#[test]
fn scim2_server_without_patch_and_filter_lifecycle() {
    let server = External::scim2("patch filter");
    Scenario::new(scim2(&server, false)).lifecycle();
}

#[test]
fn scimmy_lifecycle() {
    let server = External::scimmy();
    Scenario::new(scimmy(&server)).lifecycle();
}

#[test]
fn scim2_server_300_users_two_declared_are_read_in_every_page() {
    let server = External::scim2("");
    let scenario = Scenario::new(scim2(&server, true));
    scenario.many(300, 100);

    // Two declared users among 300, in pages of 20: every page is read (the plan names
    // the 298 others), never one lookup per user.
    let mut target = scim2(&server, true);
    target.yaml = target.yaml.replace("pageSize: 100", "pageSize: 20");
    let scenario = Scenario::new(target);
    scenario.users("users:\n  - userName: U001\n    name: {givenName: U1}\n  - userName: u299\n    name: {givenName: U299}\n");
    let plan = scenario.run(&["-vv", "plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{plan:?}");
    assert!(
        plan.stderr.contains("users found by listing every page"),
        "{}",
        plan.stderr
    );
    assert_eq!(counts(&plan.stderr).get, 3 + 300 / 20, "{}", plan.stderr);
    assert!(
        plan.stdout
            .contains("The server has 300 users; 298 are unmanaged (in no file)"),
        "{}",
        plan.stdout
    );
}

#[test]
fn scimmy_300_users_and_case_sensitive_filters_are_not_trusted() {
    let server = External::scimmy();
    let scenario = Scenario::new(scimmy(&server));
    scenario.many(300, 100);
    scenario.users("users:\n  - userName: U001\n    name: {givenName: U1}\n");
    let plan = scenario.run(&["-vv", "plan", "--detailed-exitcode"]);
    assert_eq!(
        plan.code, 0,
        "U001 is u001@acme, found whatever its case:\n{plan:?}"
    );
    assert!(
        plan.stderr.contains("users found by listing every page"),
        "{}",
        plan.stderr
    );
}

#[test]
fn scim2_server_without_patch_and_filter_300_users() {
    let server = External::scim2("patch filter");
    Scenario::new(scim2(&server, false)).many(300, 100);
}

#[test]
fn scim2_server_rename_is_one_patch() {
    let server = External::scim2("");
    let scenario = Scenario::new(scim2(&server, true));
    scenario.users("users:\n  - userName: ada\n    name: {givenName: Ada}\n");
    assert_eq!(scenario.apply("create").post, 1);
    scenario.users(
        "users:\n  - userName: ada.king\n    previously: [ada]\n    name: {givenName: Ada}\n",
    );
    let sent = scenario.apply("rename");
    assert_eq!((sent.post, sent.patch, sent.delete), (0, 1, 0), "{sent:?}");
    let plan = scenario.converged("rename");
    assert!(
        plan.stdout.contains("The server has 1 user; all declared."),
        "{}",
        plan.stdout
    );
}
