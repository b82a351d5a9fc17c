//! `scimops init` writes a repository that works as written: with a sandbox to try,
//! or for a server, chained into `import`; never over an existing one.

use crate::scenarios::counts;
use crate::support::{
    CLIENT_ID, PROPERTIES, SECRET, SECRET_VAR, TestSandbox, scimops, scimops_with,
};

const EXT: &str = "urn:ietf:params:scim:schemas:extension:bizagi:2.0:UserProperties";

#[test]
fn init_with_a_sandbox_then_import_then_plan_says_no_changes() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("access");
    // From the folder above, as a user would: `-C access`.
    let init = std::process::Command::new(env!("CARGO_BIN_EXE_scimops"))
        .current_dir(dir.path())
        .args(["-C", "access", "init", "--sandbox"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&init.stdout);
    assert!(init.status.success(), "{init:?}");
    assert!(
        stdout.contains("  scimops -C access import\n"),
        "runnable as printed: {stdout}"
    );
    for file in [
        "scimops.yaml",
        "users/users.yaml",
        "sandbox.yaml",
        "schemas/users.schema.json",
        "schemas/scimops.schema.json",
    ] {
        assert!(repo.join(file).is_file(), "{file}");
    }
    assert_eq!(scimops(&repo, &["validate"]).code, 0);
    let import = scimops(&repo, &["import"]);
    assert_eq!(import.code, 0, "{import:?}");
    assert!(
        import
            .stdout
            .contains("Wrote users/imported.yaml (2 users)."),
        "{}",
        import.stdout
    );
    let plan = scimops(&repo, &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{plan:?}");
    assert!(plan.stdout.starts_with("No changes."), "{}", plan.stdout);
}

#[test]
fn init_for_a_server_chains_into_import() {
    let sandbox = TestSandbox::start(&format!(
        "defaultDomain: acme\n{PROPERTIES}seed:\n  - {{userName: ann@acme, name: {{givenName: Ann}}, {EXT}: {{enabledForAssignation: true, Level: 2}}}}\n"
    ));
    let dir = tempfile::tempdir().unwrap();
    let url = sandbox.running.scim_url();
    let init = scimops_with(
        dir.path(),
        &[
            "-vv",
            "init",
            "--url",
            &url,
            "--client-id",
            CLIENT_ID,
            "--secret-env",
            SECRET_VAR,
            "--domain",
            "acme",
            "--import",
        ],
        &[(SECRET_VAR, SECRET)],
    );
    assert_eq!(init.code, 0, "{init:?}");
    assert!(
        init.stdout.contains("Wrote users/imported.yaml (1 user)."),
        "{}",
        init.stdout
    );
    let settings = std::fs::read_to_string(dir.path().join("scimops.yaml")).unwrap();
    assert!(
        settings.contains(&format!("        clientSecret: ${{{SECRET_VAR}}}\n")),
        "{settings}"
    );
    assert!(!settings.contains(SECRET), "never the secret itself");
    assert_eq!(counts(&init.stderr).get, 4, "import reads as plan does");
    let users = std::fs::read_to_string(dir.path().join("users/imported.yaml")).unwrap();
    assert!(users.contains("  - userName: ann\n"), "{users}");
    let plan = scimops_with(
        dir.path(),
        &["plan", "--detailed-exitcode"],
        &[(SECRET_VAR, SECRET)],
    );
    assert_eq!(plan.code, 0, "{plan:?}");
}

#[test]
fn init_never_writes_over_a_repository_and_refuses_what_would_not_work() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(scimops(dir.path(), &["init", "--sandbox"]).code, 0);
    let settings = std::fs::read_to_string(dir.path().join("scimops.yaml")).unwrap();
    let again = scimops(
        dir.path(),
        &["init", "--url", "https://x.bizagi.com/scim/v2"],
    );
    assert_eq!(again.code, 1);
    assert!(
        again
            .stderr
            .contains("is a scimops repository already; nothing was written"),
        "{}",
        again.stderr
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("scimops.yaml")).unwrap(),
        settings
    );

    let other = tempfile::tempdir().unwrap();
    let plain = scimops(
        other.path(),
        &["init", "--url", "http://x.bizagi.com/scim/v2"],
    );
    assert_eq!(plain.code, 1);
    assert!(
        plain
            .stderr
            .contains("is plain http to a host that is not loopback"),
        "{}",
        plain.stderr
    );
    let rfc = scimops(
        other.path(),
        &[
            "init",
            "--url",
            "https://x.example/scim/v2",
            "--dialect",
            "rfc7644",
        ],
    );
    assert!(
        rfc.stderr
            .contains("add --token-url URL, or choose `--auth bearer`"),
        "{}",
        rfc.stderr
    );
    let bad = scimops(
        other.path(),
        &[
            "init",
            "--url",
            "https://x.example/scim/v2",
            "--secret-env",
            "a b",
        ],
    );
    assert!(
        bad.stderr.contains("is not an environment variable's name"),
        "{}",
        bad.stderr
    );
    assert!(
        !other.path().join("scimops.yaml").exists(),
        "nothing written on an error"
    );
}
