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

/// A file of more than a megabyte is read entry by entry (never as one tree): its
/// problems are said as in a small file, at their places, and its users are planned.
#[test]
fn a_large_file_is_read_like_a_small_one() {
    let sandbox = TestSandbox::start("defaultDomain: acme\n");
    let n = 15_000;
    let mut users = String::from("# all of them\nusers:\n");
    for i in 0..n {
        users.push_str(&format!(
            "  - userName: u{i:05}\n    name: {{givenName: Given{i}, familyName: Large}}\n"
        ));
    }
    assert!(users.len() > 1024 * 1024, "{} bytes", users.len());
    let broken = users.replace(
        "  - userName: u14000\n",
        "  - userName: u14000\n    emial: x@acme.example\n",
    );
    let repo = Repo::for_sandbox(&sandbox, &broken);
    let run = repo.run(&["validate"]);
    assert_eq!(run.code, 1, "{run:?}");
    // Entry 14,000 starts at line 3 + 2 * 14,000; its second key is on the next line.
    assert!(
        run.stderr
            .contains("users/users.yaml:28004:5: error: unknown key `emial`"),
        "{}",
        run.stderr
    );
    std::fs::write(repo.path().join("users/users.yaml"), &users).unwrap();
    let plan = repo.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{plan:?}");
    assert!(
        plan.stdout
            .contains(&format!("Plan: {n} to create, 0 to update")),
        "{}",
        plan.stdout
    );
}

/// Files after the first of a round are read on other threads: a file nested as deep
/// as the parser allows is refused there too, not a crash.
#[test]
fn a_deeply_nested_file_read_on_another_thread_is_refused_clearly() {
    let sandbox = TestSandbox::start("");
    let repo = Repo::for_sandbox(&sandbox, "users:\n  - userName: ann\n");
    let deep = format!(
        "users:\n  - userName: ada\n    properties:\n      X: {}{}\n",
        "[".repeat(200),
        "]".repeat(200)
    );
    std::fs::write(repo.path().join("users/zz-deep.yaml"), deep).unwrap();
    let run = repo.run(&["validate"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("users/zz-deep.yaml:4:70: error: the document nests deeper than 64 levels"),
        "{}",
        run.stderr
    );
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
        .current_dir(repo.path())
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
        .current_dir(repo.path())
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
        .current_dir(repo.path())
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

#[test]
fn the_version_names_the_commit() {
    let out = Command::new(env!("CARGO_BIN_EXE_scimops"))
        .arg("--version")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let commit = text
        .trim_end()
        .strip_suffix(')')
        .and_then(|t| t.rsplit_once("(commit "))
        .map(|(_, c)| c.to_string())
        .unwrap();
    assert!(
        commit == "unknown"
            || (commit.len() == 12 && commit.chars().all(|c| c.is_ascii_hexdigit())),
        "{text}"
    );
    insta::assert_snapshot!(text.replace(&commit, "[commit]"), @"scimops 0.1.0 (commit [commit])");
}

#[test]
fn completions_and_the_man_page_cover_every_command() {
    let names = [
        "plan",
        "apply",
        "validate",
        "show",
        "import",
        "init",
        "discover",
        "completions",
    ];
    let mut found = String::new();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = Command::new(env!("CARGO_BIN_EXE_scimops"))
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(out.status.success(), "{shell}");
        let text = String::from_utf8_lossy(&out.stdout);
        let present: Vec<&str> = names.iter().copied().filter(|n| text.contains(n)).collect();
        found.push_str(&format!("{shell}: {}\n", present.join(" ")));
    }
    let man = Command::new(env!("CARGO_BIN_EXE_scimops"))
        .arg("man")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&man.stdout);
    assert!(
        text.starts_with(".ie \\n(.g .ds Aq"),
        "roff: {}",
        &text[..40]
    );
    assert!(
        text.contains(".SH NAME\nscimops \\- Keep the users of a SCIM 2.0 service provider"),
        "the page's name line says what scimops is: {}",
        &text[..400]
    );
    let present: Vec<&str> = names.iter().copied().filter(|n| text.contains(n)).collect();
    found.push_str(&format!("man: {}\n", present.join(" ")));
    insta::assert_snapshot!(found);
}

#[test]
fn quiet_prints_the_summary_lines_and_errors_only() {
    let repo = crate::support::copy_dir(&crate::support::repo_root().join("examples/bizagi"));
    let plan = scimops(repo.path(), &["-q", "plan"]);
    assert_eq!(plan.stderr, "", "no progress");
    let apply = scimops(repo.path(), &["-q", "apply", "--auto-approve"]);
    assert_eq!(apply.stderr, "");
    let again = scimops(repo.path(), &["-q", "plan"]);
    insta::assert_snapshot!(format!(
        "$ scimops -q plan\n{}$ scimops -q apply --auto-approve\n{}$ scimops -q plan\n{}",
        plan.stdout, apply.stdout, again.stdout
    ));
}

#[test]
fn what_scimops_tells_you_to_run_runs_from_where_you_stand() {
    let sandbox = TestSandbox::start("defaultDomain: acme\n");
    let repo = Repo::for_sandbox(
        &sandbox,
        "users:\n  - userName: ann\n    name: {givenName: Ann}\n",
    );
    let parent = repo.path().parent().unwrap();
    let name = repo.path().file_name().unwrap().to_str().unwrap();
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_scimops"))
            .current_dir(parent)
            .args(args)
            .env(SECRET_VAR, crate::support::SECRET)
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        (
            out.status.code().unwrap(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, stdout, _) = run(&["-C", name, "plan", "--out", "plan.json"]);
    assert_eq!(code, 0, "{stdout}");
    let printed = stdout
        .lines()
        .skip_while(|l| !l.contains("To perform exactly these actions, run:"))
        .nth(1)
        .unwrap()
        .trim()
        .to_string();
    assert_eq!(printed, format!("scimops -C {name} apply plan.json"));
    let args: Vec<&str> = printed.split_whitespace().skip(1).collect();
    let (code, stdout, stderr) = run(&args);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("ann@acme: created"), "{stdout}");

    // A problem names its file as seen from here.
    std::fs::write(
        repo.path().join("users/users.yaml"),
        "users:\n  - userName: ann\n    emial: x\n",
    )
    .unwrap();
    let (code, _, stderr) = run(&["-C", name, "validate"]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains(&format!(
            "{name}/users/users.yaml:3:5: error: unknown key `emial`"
        )),
        "{stderr}"
    );
}

#[test]
fn validate_checks_every_target_and_every_kind_of_problem_in_one_run() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("scimops.yaml"),
        "defaultTarget: prod\ntargets:\n  prod:\n    url: https://p.bizagi.com/scim/v2\n    auth:\n      clientCredentials:\n        clientId: a\n        clientSecret: ${PROD_SECRET}\n  test:\n    url: https://t.bizagi.com/scim/v2\n    auth:\n      clientCredentials:\n        clientId: a\n        clientSecret: hunter2\n    users: [env/test]\ndefaults:\n  domian: acme\n",
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join("users")).unwrap();
    std::fs::create_dir_all(dir.path().join("env/test")).unwrap();
    std::fs::write(
        dir.path().join("users/a.yaml"),
        "users:\n  - userName: ann@acme\n  - userName: ANN@acme\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("env/test/b.yaml"),
        "users:\n  - userName: bob@acme\n    emial: x\n",
    )
    .unwrap();
    let out = crate::support::scimops_with(dir.path(), &["validate"], &[("PROD_SECRET", "s")]);
    assert_eq!(out.code, 1, "{out:?}");
    for expected in [
        // the settings' schema
        "scimops.yaml:17:3: error: unknown key `domian`",
        // a target that is not the default one: a literal secret
        "scimops.yaml:14:23: error:",
        // the users of every target: the common files, and the test target's own
        "users/a.yaml:3:15: error: user `ANN@acme` is declared twice",
        "env/test/b.yaml:3:5: error: unknown key `emial`",
    ] {
        assert!(
            out.stderr.contains(expected),
            "{expected:?} in:\n{}",
            out.stderr
        );
    }
    // The same problem of a file two targets read is said once.
    assert_eq!(
        out.stderr.matches("is declared twice").count(),
        1,
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("${ENV_VAR}") || out.stderr.contains("environment variable"),
        "{}",
        out.stderr
    );
}

#[test]
fn validate_reads_the_settings_of_embedded_sandboxes() {
    let repo = crate::support::copy_dir(&crate::support::repo_root().join("examples/bizagi"));
    assert_eq!(scimops(repo.path(), &["validate"]).code, 0);
    // A sandbox's settings file that does not parse, then one that is not there: both
    // found offline, at their place, as `plan` would find them before any request.
    let config = repo.path().join("sandbox.yaml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("{text}clients: 3\n")).unwrap();
    let broken = scimops(repo.path(), &["validate"]);
    assert_eq!(broken.code, 1, "{broken:?}");
    let line = text.lines().count() + 1;
    assert!(
        broken.stderr.starts_with(&format!("sandbox.yaml:{line}:")),
        "{}",
        broken.stderr
    );
    std::fs::remove_file(&config).unwrap();
    let missing = scimops(repo.path(), &["validate"]);
    assert_eq!(missing.code, 1, "{missing:?}");
    assert!(
        missing.stderr.starts_with(
            "sandbox.yaml: error: cannot read the sandbox settings: cannot read the file"
        ),
        "{}",
        missing.stderr
    );
    let plan = scimops(repo.path(), &["plan"]);
    assert!(
        plan.stderr
            .lines()
            .any(|l| l.starts_with("sandbox.yaml: error: cannot read the sandbox settings")),
        "the same message, the same path: {}",
        plan.stderr
    );
}

#[test]
fn man_writes_a_page_for_each_command() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("man");
    let run = Command::new(env!("CARGO_BIN_EXE_scimops"))
        .args(["man", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(run.status.success(), "{run:?}");
    for (page, name) in [
        ("scimops.1", "scimops \\- Keep the users"),
        ("scimops-plan.1", "scimops\\-plan \\- Read the server"),
        ("scimops-import.1", "scimops\\-import \\- Write user files"),
    ] {
        let text = std::fs::read_to_string(out.join(page)).unwrap();
        assert!(
            text.contains(&format!(".SH NAME\n{name}")),
            "{page}: {}",
            &text[..300.min(text.len())]
        );
    }
    assert!(out.join("scimops-apply.1").is_file());
    assert!(!out.join("scimops-help.1").exists(), "no page for `help`");
}
