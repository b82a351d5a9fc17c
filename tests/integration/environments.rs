//! Environments that differ: a target adds its own users folders and overrides the
//! defaults, while sharing the common files; the plan says which files it reads.

use crate::support::{CLIENT_ID, PROPERTIES, SECRET_VAR, TestSandbox, scimops};

fn target(name: &str, sandbox: &TestSandbox, extra: &str) -> String {
    format!(
        "  {name}:\n    url: {}\n    auth:\n      clientCredentials:\n        clientId: {CLIENT_ID}\n        clientSecret: ${{{SECRET_VAR}}}\n{extra}",
        sandbox.running.scim_url()
    )
}

#[test]
fn each_target_reads_the_common_files_and_its_own_with_its_defaults() {
    let dev = TestSandbox::start(&format!("defaultDomain: dev.acme\n{PROPERTIES}"));
    let test = TestSandbox::start(&format!("defaultDomain: acme\n{PROPERTIES}"));
    let dir = tempfile::tempdir().unwrap();
    let write = |path: &str, text: &str| {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(
        "scimops.yaml",
        &format!(
            "defaultTarget: test\ntargets:\n{}{}users: [users]\ndefaults:\n  domain: acme\n  properties:\n    enabledForAssignation: true\n",
            target(
                "dev",
                &dev,
                "    users: [env/dev]\n    defaults:\n      domain: dev.acme\n      properties: {Level: 1}\n"
            ),
            target("test", &test, "    users: [env/test]\n"),
        ),
    );
    write(
        "users/common.yaml",
        "users:\n  - userName: ann\n    name: {givenName: Ann}\n",
    );
    write(
        "env/dev/bots.yaml",
        "users:\n  - userName: devbot\n    name: {givenName: Bot}\n",
    );
    write(
        "env/test/testers.yaml",
        "users:\n  - userName: tester\n    name: {givenName: Tess}\n    properties: {Level: 2}\n",
    );

    let plan = |target: &str| {
        let run = scimops(
            dir.path(),
            &["--target", target, "plan", "--format", "json"],
        );
        assert_eq!(run.code, 0, "{run:?}");
        assert!(
            run.stderr.contains(&format!(
                "Comparing the users of `users`, `env/{target}` with target `{target}`"
            )),
            "{}",
            run.stderr
        );
        serde_json::from_str::<serde_json::Value>(&run.stdout).unwrap()
    };
    let created = |saved: &serde_json::Value| -> Vec<(String, serde_json::Value)> {
        saved["users"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| {
                let body = &u["requests"][0]["body"];
                let props =
                    &body["urn:ietf:params:scim:schemas:extension:bizagi:2.0:UserProperties"];
                (u["userName"].as_str().unwrap().to_string(), props.clone())
            })
            .collect()
    };

    let on_dev = plan("dev");
    assert_eq!(
        on_dev["files"]["read"],
        serde_json::json!(["users", "env/dev"])
    );
    assert!(on_dev["files"]["files"].get("env/dev/bots.yaml").is_some());
    assert!(
        on_dev["files"]["files"]
            .get("env/test/testers.yaml")
            .is_none()
    );
    assert_eq!(
        created(&on_dev),
        [
            (
                "ann@dev.acme".to_string(),
                serde_json::json!({"Level": 1, "enabledForAssignation": true})
            ),
            (
                "devbot@dev.acme".to_string(),
                serde_json::json!({"Level": 1, "enabledForAssignation": true})
            ),
        ]
    );

    let on_test = plan("test");
    assert_eq!(
        on_test["files"]["read"],
        serde_json::json!(["users", "env/test"])
    );
    assert_eq!(
        created(&on_test),
        [
            (
                "ann@acme".to_string(),
                serde_json::json!({"enabledForAssignation": true})
            ),
            (
                "tester@acme".to_string(),
                serde_json::json!({"Level": 2, "enabledForAssignation": true})
            ),
        ]
    );

    let markdown = scimops(dir.path(), &["plan", "--format", "markdown"]);
    assert!(
        markdown
            .stdout
            .contains("### scimops plan for `test`\n\nUsers declared in `users`, `env/test`.\n"),
        "{}",
        markdown.stdout
    );

    // Each target is applied with its own files; the other is left as it was.
    assert_eq!(
        scimops(dir.path(), &["--target", "dev", "apply", "--auto-approve"]).code,
        0
    );
    assert_eq!(dev.requests().count("POST"), 2);
    assert_eq!(test.requests().writes(), 0);
    assert_eq!(
        scimops(
            dir.path(),
            &["--target", "dev", "plan", "--detailed-exitcode"]
        )
        .code,
        0
    );
    assert_eq!(
        scimops(dir.path(), &["plan", "--detailed-exitcode"]).code,
        2
    );
}

#[test]
fn a_target_folder_outside_the_repository_is_refused_at_its_line() {
    let sandbox = TestSandbox::start("defaultDomain: acme\n");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("scimops.yaml"),
        format!(
            "targets:\n{}",
            target("t", &sandbox, "    users: [../elsewhere]\n")
        ),
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("users")).unwrap();
    let run = scimops(dir.path(), &["validate"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("scimops.yaml:8:13: error: an item of `users` must be a path inside the repository: relative to it, without `..`, not \"../elsewhere\""),
        "{}",
        run.stderr
    );
    assert_eq!(
        run.stderr.matches("error:").count(),
        2,
        "one problem, said once: {}",
        run.stderr
    );
    assert_eq!(sandbox.requests().requests.len(), 0);
}
