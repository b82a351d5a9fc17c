//! Secrets and transport: the client secret and the tokens never appear in any output,
//! at any verbosity, in saved plans or in errors; plain http leaves loopback only when
//! a flag says so; proxy environment variables are followed.

use std::path::Path;

use crate::support::{Repo, Run, SECRET, SECRET_VAR, TestSandbox};

const EXT: &str = "urn:ietf:params:scim:schemas:extension:bizagi:2.0:UserProperties";

/// Runs the binary with extra environment variables (`RUST_LOG` included).
fn run_with(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    crate::support::scimops_with(dir, args, env)
}

#[test]
fn no_output_log_saved_plan_or_error_holds_the_secret_or_a_token() {
    // Short-lived tokens (renewals), a refused token (401), a retried failure.
    let sandbox = TestSandbox::start(&format!(
        "defaultDomain: acme\ntokenLifetimeSeconds: 1\nfailures:\n  - {{method: PATCH, status: 503, times: 1}}\nseed:\n  - {{userName: old@acme, name: {{givenName: Old}}, {EXT}: {{enabledForAssignation: true}}}}\n"
    ));
    let repo = Repo::for_sandbox(
        &sandbox,
        "users:\n  - userName: old\n    name: {givenName: Changed}\n  - userName: new\n    name: {givenName: New}\n",
    );
    let dir = repo.path();
    let trace = [("RUST_LOG", "trace")];
    let mut texts: Vec<(String, String)> = Vec::new();
    let mut record = |what: &str, run: Run| {
        texts.push((format!("{what} (stdout)"), run.stdout));
        texts.push((format!("{what} (stderr)"), run.stderr));
    };
    record("--help", run_with(dir, &["--help"], &[]));
    record("apply --help", run_with(dir, &["apply", "--help"], &[]));
    record(
        "validate",
        run_with(dir, &["validate", "--format", "json"], &[]),
    );
    record("plan -vv", run_with(dir, &["plan", "-vv"], &[]));
    record("plan RUST_LOG=trace", run_with(dir, &["plan"], &trace));
    record(
        "plan json",
        run_with(dir, &["plan", "--format", "json", "-v"], &[]),
    );
    record(
        "plan markdown",
        run_with(dir, &["plan", "--format", "markdown"], &[]),
    );
    record("discover", run_with(dir, &["discover", "-vv"], &[]));
    record(
        "plan --out",
        run_with(dir, &["plan", "--out", "plan.json", "-vv"], &trace),
    );
    sandbox.running.revoke_tokens();
    record(
        "apply FILE",
        run_with(dir, &["apply", "plan.json", "-vv"], &trace),
    );
    record(
        "apply json",
        run_with(
            dir,
            &["apply", "--auto-approve", "--format", "json", "-vv"],
            &trace,
        ),
    );
    // Errors: a wrong secret, a refused token.
    let wrong = "wr0ng-s3cret-value";
    record(
        "wrong secret",
        run_with(
            dir,
            &["plan", "-vv"],
            &[(SECRET_VAR, wrong), ("RUST_LOG", "trace")],
        ),
    );

    let saved = std::fs::read_to_string(dir.join("plan.json")).unwrap();
    texts.push(("the saved plan".to_string(), saved));
    let tokens = sandbox.running.issued_tokens();
    assert!(tokens.len() >= 5, "tokens were issued: {}", tokens.len());
    let applied = texts
        .iter()
        .any(|(what, text)| what.starts_with("apply FILE") && text.contains("old@acme: updated"));
    assert!(applied, "the run did its work: {texts:#?}");
    for (what, text) in &texts {
        for secret in [SECRET, wrong] {
            assert!(!text.contains(secret), "{what} shows the client secret");
        }
        for token in &tokens {
            assert!(!text.contains(token.as_str()), "{what} shows a token");
        }
    }
}

/// A repository whose target is `url` (plain http to a host that is not loopback).
fn remote_repo(url: &str) -> Repo {
    Repo::new(
        url,
        "users:\n  - userName: ann\n    name: {givenName: Ann}\n",
    )
}

#[test]
fn plain_http_beyond_loopback_needs_a_flag_and_proxies_are_followed() {
    let sandbox = TestSandbox::start("defaultDomain: acme\n");
    // `.invalid` never resolves (RFC 6761): only the proxy can reach it.
    let repo = remote_repo("http://scim.invalid/scim/v2");
    let proxy = format!(
        "http://{}",
        sandbox.running.scim_url().split('/').nth(2).unwrap()
    );

    let refused = run_with(repo.path(), &["plan"], &[("HTTP_PROXY", &proxy)]);
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(
        refused
            .stderr
            .contains("is plain http to a host that is not loopback; credentials and user data would cross the network unencrypted: use https (or, knowingly, pass --allow-insecure-http)"),
        "{}",
        refused.stderr
    );
    assert_eq!(sandbox.requests().requests.len(), 0, "nothing was sent");

    let plan = run_with(
        repo.path(),
        &["plan", "--allow-insecure-http"],
        &[("HTTP_PROXY", &proxy)],
    );
    assert_eq!(plan.code, 0, "{plan:?}");
    assert!(
        plan.stderr.contains(
            "scimops.yaml:3:10: warning: target `test` is plain http (--allow-insecure-http): the secret, tokens and user data cross the network unencrypted"
        ),
        "{}",
        plan.stderr
    );
    assert!(plan.stdout.contains("Plan: 1 to create"), "{}", plan.stdout);
    assert!(
        sandbox.requests().token >= 1 && sandbox.requests().count("GET") >= 1,
        "the token and the reads went through the proxy"
    );

    // Without the proxy (NO_PROXY), the name does not resolve.
    let direct = run_with(
        repo.path(),
        &["plan", "--allow-insecure-http", "--retries", "0"],
        &[("HTTP_PROXY", &proxy), ("NO_PROXY", "scim.invalid")],
    );
    assert_eq!(direct.code, 1, "{direct:?}");
    assert!(direct.stderr.contains("scim.invalid"), "{}", direct.stderr);
}

#[test]
fn the_secret_may_come_from_a_file_that_its_variable_names() {
    let sandbox = TestSandbox::start("defaultDomain: acme\n");
    let repo = Repo::for_sandbox(&sandbox, "users: []\n");
    let mounted = tempfile::tempdir().unwrap();
    let file = mounted.path().join("client-secret");
    // As secrets are mounted: the value, and a line break.
    std::fs::write(&file, format!("{SECRET}\n")).unwrap();
    let file_var = format!("{SECRET_VAR}_FILE");
    let run = |args: &[&str], with_var: bool| {
        let mut command = crate::support::command(repo.path(), args, &[]);
        command.env(&file_var, &file);
        if !with_var {
            command.env_remove(SECRET_VAR);
        }
        crate::support::run(&mut command)
    };

    let validate = run(&["validate"], false);
    assert_eq!(validate.code, 0, "{validate:?}");
    let plan = run(&["plan"], false);
    assert_eq!(plan.code, 0, "{plan:?}");
    assert!(plan.stdout.starts_with("No changes."), "{}", plan.stdout);
    assert_eq!(sandbox.requests().token, 1, "the file's secret got a token");
    assert!(!plan.stdout.contains(SECRET) && !plan.stderr.contains(SECRET));

    // Both set: which one was meant is not guessed, and nothing is sent.
    sandbox.clear();
    let both = run(&["plan"], true);
    assert_eq!(both.code, 1, "{both:?}");
    assert!(
        both.stderr
            .contains(&format!("both `{SECRET_VAR}` and `{file_var}` are set")),
        "{}",
        both.stderr
    );
    assert!(sandbox.requests().requests.is_empty());
}
