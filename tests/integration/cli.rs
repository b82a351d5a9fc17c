//! The command line: exit codes, refusals, and errors that point at the file and line
//! and send nothing.

use std::process::Command;

use crate::support::{PROPERTIES, Repo, SECRET_VAR, TestSandbox, scimops};

#[test]
fn help_describes_the_commands() {
    let output = Command::new(env!("CARGO_BIN_EXE_scimops"))
        .arg("--help")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    insta::assert_snapshot!(String::from_utf8(output.stdout).unwrap());
}

#[test]
fn usage_errors_exit_1_not_2() {
    // 2 means "changes pending" for `plan --detailed-exitcode`; a typo must not look like it.
    let output = Command::new(env!("CARGO_BIN_EXE_scimops"))
        .arg("plna")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn a_folder_without_settings_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let run = scimops(dir.path(), &["plan"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("error: no `scimops.yaml` in"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("hint: run scimops in a scimops repository, or point at one with `-C DIR`")
    );
}

#[test]
fn apply_without_a_terminal_or_auto_approve_writes_nothing() {
    let sandbox = TestSandbox::start("");
    let repo = Repo::for_sandbox(
        &sandbox,
        "users:\n  - userName: a\n    name: {givenName: A}\n",
    );
    let run = repo.run(&["apply"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("refusing to apply without confirmation: stdin is not a terminal")
    );
    assert!(
        run.stdout.contains("+ user \"a@acme\""),
        "the plan is still shown"
    );
    assert_eq!(sandbox.requests().writes(), 0);
}

/// Every problem of every file, in one run, each where it was written.
const BROKEN: &[(&str, &str)] = &[
    (
        "users/a.yaml",
        "users:
  - userName: ann
    name: {givenName: Ann}
    emial: ann@acme.example
  - userName: averyveryverylongname
    name: {givenName: Long}
  - userName: bob
    email: not-an-address
    phone: 3001234567
    properties:
      DelegateEnabled: yes please
",
    ),
    (
        "users/b.yaml",
        "users:
  - userName: ANN@acme
    name: {givenName: Ann, middleName: null, familyName: ''}
",
    ),
];

fn broken_repo(sandbox: &TestSandbox) -> Repo {
    let repo = Repo::for_sandbox(sandbox, "users: []\n");
    for (path, text) in BROKEN {
        std::fs::write(repo.path().join(path), text).unwrap();
    }
    repo
}

#[test]
fn validate_reports_every_problem_with_its_place() {
    let sandbox = TestSandbox::start("");
    let repo = broken_repo(&sandbox);
    std::fs::remove_file(repo.path().join("users/a.yaml")).unwrap();
    std::fs::write(
        repo.path().join("users/a.yaml"),
        BROKEN[0].1.replace("    emial: ann@acme.example\n", ""),
    )
    .unwrap();
    std::fs::write(
        repo.path().join("users/c.yaml"),
        "users:\n  - userName: carl\n    emial: x\n",
    )
    .unwrap();
    let run = repo.run(&["validate"]);
    assert_eq!(run.code, 1, "{run:?}");
    insta::assert_snapshot!(run.stderr);
    assert!(sandbox.requests().requests.is_empty());
}

#[test]
fn plan_refuses_bad_files_before_any_request() {
    let sandbox = TestSandbox::start("");
    let repo = broken_repo(&sandbox);
    let run = repo.run(&["plan"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("users/a.yaml:4:5: error: unknown key `emial`"),
        "{}",
        run.stderr
    );
    assert!(
        sandbox.requests().requests.is_empty(),
        "not even a token request"
    );
}

#[test]
fn plan_checks_properties_against_the_servers_schema_before_writing() {
    let sandbox = TestSandbox::start(&format!("defaultDomain: acme\n{PROPERTIES}"));
    let repo = Repo::for_sandbox(
        &sandbox,
        "users:
  - userName: ann
    name: {givenName: Ann}
    properties:
      Levle: 3
      IsContractor: 'no'
      Salary: 100
",
    );
    let run = repo.run(&["apply", "--auto-approve"]);
    assert_eq!(run.code, 1, "{run:?}");
    insta::with_settings!({filters => vec![(r"127\.0\.0\.1:\d+", "127.0.0.1:[port]")]}, {
        insta::assert_snapshot!(run.stderr);
    });
    assert_eq!(sandbox.requests().writes(), 0);
    assert!(
        sandbox
            .requests()
            .requests
            .iter()
            .all(|r| !r.path.starts_with("/scim/v2/Users")),
        "the files are typed before any user is read"
    );
}

#[test]
fn a_missing_secret_is_named_and_nothing_is_sent() {
    let sandbox = TestSandbox::start("");
    let repo = Repo::for_sandbox(&sandbox, "users: []\n");
    let output = Command::new(env!("CARGO_BIN_EXE_scimops"))
        .arg("-C")
        .arg(repo.path())
        .arg("plan")
        .env_remove(SECRET_VAR)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains(&format!(
            "scimops.yaml:7:23: error: target `test`: environment variable `{SECRET_VAR}` is not set"
        )),
        "{stderr}"
    );
    assert!(sandbox.requests().requests.is_empty());
    let validate = Command::new(env!("CARGO_BIN_EXE_scimops"))
        .arg("-C")
        .arg(repo.path())
        .arg("validate")
        .env_remove(SECRET_VAR)
        .output()
        .unwrap();
    assert_eq!(validate.status.code(), Some(1));
}

#[test]
fn plain_http_to_a_remote_host_is_refused() {
    let repo = Repo::new("http://bizagi.example.com/scim/v2", "users: []\n");
    let run = repo.run(&["plan"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("scimops.yaml:"),
        "located: {}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("is plain http to a host that is not loopback"),
        "{}",
        run.stderr
    );
}

#[test]
fn the_committed_schemas_are_fresh() {
    for (name, text) in scimops::json_schemas() {
        let path = crate::support::repo_root().join("schemas").join(name);
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == text,
            "schemas/{name} is stale: run `cargo run -- schema --out schemas` and commit it"
        );
    }
}

/// Runs `scimops apply` on a pseudo-terminal (util-linux `script`), typing `answer`.
fn apply_on_a_terminal(repo: &Repo, answer: &str) -> (i32, String) {
    use std::io::Write;
    let command = format!(
        "'{}' -C '{}' apply",
        env!("CARGO_BIN_EXE_scimops"),
        repo.path().display()
    );
    let mut child = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env(SECRET_VAR, crate::support::SECRET)
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("util-linux `script` runs the command on a terminal");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{answer}\n").as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).replace("\r\n", "\n"),
    )
}

#[test]
fn apply_on_a_terminal_writes_only_after_yes() {
    let sandbox = TestSandbox::start("");
    let repo = Repo::for_sandbox(
        &sandbox,
        "users:\n  - userName: a\n    name: {givenName: A}\n",
    );

    let (code, output) = apply_on_a_terminal(&repo, "no");
    assert_eq!(code, 1, "{output}");
    assert!(
        output.contains("Only 'yes' will be accepted to approve."),
        "{output}"
    );
    assert!(output.contains("Apply cancelled."), "{output}");
    assert_eq!(sandbox.requests().writes(), 0);

    let (code, output) = apply_on_a_terminal(&repo, "yes");
    assert_eq!(code, 0, "{output}");
    assert!(output.contains("a@acme: created"), "{output}");
    assert_eq!(sandbox.requests().count("POST"), 1);
}

/// `scimops ARGS` on a pseudo-terminal, with `NO_COLOR` set or not.
fn on_a_terminal(repo: &Repo, args: &str, no_color: bool) -> String {
    let command = format!(
        "'{}' -C '{}' {args}",
        env!("CARGO_BIN_EXE_scimops"),
        repo.path().display()
    );
    let mut cmd = Command::new("script");
    cmd.args(["-qec", &command, "/dev/null"])
        .env(SECRET_VAR, crate::support::SECRET)
        .env("TERM", "xterm-256color")
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .stdin(std::process::Stdio::null());
    if no_color {
        cmd.env("NO_COLOR", "1");
    }
    String::from_utf8_lossy(&cmd.output().unwrap().stdout).into_owned()
}

#[test]
fn colour_on_a_terminal_only_and_never_with_no_color() {
    let sandbox = TestSandbox::start("");
    let repo = Repo::for_sandbox(
        &sandbox,
        "users:\n  - userName: a\n    name: {givenName: A}\n",
    );
    let escape = "\u{1b}[";
    assert!(
        on_a_terminal(&repo, "plan", false).contains(escape),
        "coloured on a terminal"
    );
    assert!(
        !on_a_terminal(&repo, "plan", true).contains(escape),
        "NO_COLOR"
    );
    assert!(
        !on_a_terminal(&repo, "--no-color plan", false).contains(escape),
        "--no-color"
    );
    let piped = Command::new(env!("CARGO_BIN_EXE_scimops"))
        .arg("-C")
        .arg(repo.path())
        .arg("plan")
        .env(SECRET_VAR, crate::support::SECRET)
        .env("TERM", "xterm-256color")
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .output()
        .unwrap();
    assert!(
        !String::from_utf8_lossy(&piped.stdout).contains(escape),
        "piped"
    );
}
