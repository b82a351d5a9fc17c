//! Apply under faults: answers lost after the write, dropped connections, 429 and 503
//! with Retry-After, 500, slow answers, expiring tokens. Whatever happens, no user is
//! created twice, no user is wrongly deactivated, and applying again finishes the job.

use std::collections::BTreeMap;
use std::time::Instant;

use serde_json::Value as Json;

use crate::support::{Repo, Run, TestSandbox};

const EXT: &str = "urn:ietf:params:scim:schemas:extension:bizagi:2.0:UserProperties";

fn seed_user(name: &str, given: &str) -> String {
    format!(
        "  - {{userName: {name}@acme, name: {{givenName: {given}}}, {EXT}: {{enabledForAssignation: true}}}}\n"
    )
}

/// Every user on the server by userName: (given name, active).
fn server_users(sandbox: &TestSandbox) -> BTreeMap<String, (String, bool)> {
    let token = sandbox.token();
    let mut users = BTreeMap::new();
    let mut start = 1;
    loop {
        let (status, page) = sandbox.call(
            "GET",
            &format!("/Users?startIndex={start}&count=500"),
            &token,
            None,
        );
        assert_eq!(status, 200, "{page}");
        let resources = page["Resources"].as_array().cloned().unwrap_or_default();
        for user in &resources {
            let name = user["userName"].as_str().unwrap().to_string();
            let given = user["name"]["givenName"].as_str().unwrap_or("").to_string();
            let active = user["active"] != Json::Bool(false);
            assert!(
                users.insert(name.clone(), (given, active)).is_none(),
                "{name} is listed twice"
            );
        }
        if resources.is_empty() || users.len() >= page["totalResults"].as_u64().unwrap() as usize {
            return users;
        }
        start += resources.len();
    }
}

fn statuses(sandbox: &TestSandbox, method: &str, path: &str) -> Vec<u16> {
    sandbox
        .requests()
        .requests
        .iter()
        .filter(|r| r.method == method && r.path.starts_with(path))
        .map(|r| r.status)
        .collect()
}

#[test]
fn a_create_whose_answer_was_lost_is_looked_up_not_sent_twice() {
    let sandbox = TestSandbox::start(
        "defaultDomain: acme\nfailures:\n  - {method: POST, path: /Users, fault: lost, times: 1}\n",
    );
    let repo = Repo::for_sandbox(
        &sandbox,
        "users:\n  - userName: ann\n    name: {givenName: Ann}\n",
    );
    let apply = repo.run(&["apply", "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    assert!(
        apply.stdout.contains(
            "ann@acme: created [id=" // the id comes from the lookup
        ) && apply
            .stdout
            .contains("(the answer was lost; the user was found on the server)"),
        "{}",
        apply.stdout
    );
    assert_eq!(
        statuses(&sandbox, "POST", "/scim/v2/Users"),
        [200],
        "one create, its answer lost"
    );
    assert_eq!(repo.run(&["plan", "--detailed-exitcode"]).code, 0);
}

#[test]
fn a_create_dropped_before_the_server_saw_it_is_sent_again_after_a_lookup() {
    let sandbox = TestSandbox::start(
        "defaultDomain: acme\nfailures:\n  - {method: POST, path: /Users, fault: reset, times: 1}\n",
    );
    let repo = Repo::for_sandbox(
        &sandbox,
        "users:\n  - userName: ann\n    name: {givenName: Ann}\n",
    );
    let apply = repo.run(&["apply", "--auto-approve", "-v"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    assert!(
        apply
            .stdout
            .contains("(an earlier answer was lost and the user was not there: sent again)"),
        "{}",
        apply.stdout
    );
    // The lookup (by filter: not found) came between the two creates.
    let log: Vec<(String, u16)> = sandbox
        .requests()
        .requests
        .iter()
        .filter(|r| r.path.contains("/Users"))
        .map(|r| (r.method.clone(), r.status))
        .collect();
    let writes: Vec<_> = log.iter().skip_while(|(m, _)| m != "POST").collect();
    assert_eq!(
        writes
            .iter()
            .map(|(m, s)| format!("{m} {s}"))
            .collect::<Vec<_>>(),
        ["POST 200", "GET 200", "POST 201"],
        "the dropped create (logged 200, never answered), the lookup, the create"
    );
    assert_eq!(server_users(&sandbox).len(), 1);
}

#[test]
fn the_failure_budget_skips_the_rest_and_the_table_says_so() {
    let sandbox = TestSandbox::start(
        "defaultDomain: acme\nfailures:\n  - {method: POST, path: /Users, status: 400, body: '{\"status\": \"400\", \"detail\": \"refused by a test\"}'}\n",
    );
    let users: String = (0..5)
        .map(|i| format!("  - userName: u{i}\n    name: {{givenName: U{i}}}\n"))
        .collect();
    let repo = Repo::for_sandbox(&sandbox, &format!("users:\n{users}"));
    let apply = repo.run(&[
        "apply",
        "--auto-approve",
        "--parallelism",
        "1",
        "--max-failures",
        "2",
    ]);
    assert_eq!(apply.code, 1, "{apply:?}");
    let results = apply.stdout.split("all declared.").nth(1).unwrap();
    insta::assert_snapshot!(results);
    assert_eq!(statuses(&sandbox, "POST", "/scim/v2/Users").len(), 2);
}

/// 500 changes (200 creates, 200 updates, 100 deactivations) among 700 users, with a
/// share of requests meeting faults of every kind; apply is run until it succeeds, at
/// most twice. Prints its figures (requests, faults, retries, time) for the record.
#[allow(clippy::print_stderr)]
fn apply_under_faults(token_lifetime: Option<u64>) {
    let mut seed = String::new();
    for i in 0..500 {
        seed.push_str(&seed_user(&format!("u{i:03}"), &format!("U{i}")));
    }
    // Users in no file: the policy ignores them; nothing may touch them.
    for i in 0..20 {
        seed.push_str(&seed_user(&format!("x{i:02}"), &format!("X{i}")));
    }
    let lifetime = token_lifetime.map_or(String::new(), |s| format!("tokenLifetimeSeconds: {s}\n"));
    let sandbox = TestSandbox::start(&format!(
        "defaultDomain: acme\n{lifetime}faults: {{rate: 0.2, slowMillis: 300}}\nseed:\n{seed}"
    ));
    let mut users = "users:\n".to_string();
    for i in 0..700 {
        let given = match i {
            0..200 => format!("U{i}"),         // unchanged
            200..400 => format!("Changed{i}"), // updated
            _ => format!("U{i}"),              // 400..500 deactivated, 500..700 created
        };
        users.push_str(&format!(
            "  - userName: u{i:03}\n    name: {{givenName: {given}}}\n"
        ));
        if (400..500).contains(&i) {
            users.push_str("    active: false\n");
        }
    }
    let repo = Repo::for_sandbox(&sandbox, &users);

    let started = Instant::now();
    let mut runs: Vec<Run> = Vec::new();
    for _ in 0..2 {
        let run = repo.run(&["apply", "--auto-approve"]);
        let done = run.code == 0;
        runs.push(run);
        if done {
            break;
        }
    }
    let elapsed = started.elapsed();
    let log = sandbox.requests();
    let faults = log.requests.iter().filter(|r| r.fault.is_some()).count();
    let refused = log.requests.iter().filter(|r| r.status == 401).count();
    eprintln!(
        "apply under faults (token lifetime {token_lifetime:?}): {} runs, {} requests ({} with a fault, {} tokens, {refused} answered 401), {:.1}s",
        runs.len(),
        log.requests.len(),
        faults,
        log.token,
        elapsed.as_secs_f64()
    );
    for run in &runs {
        let last = run.stdout.lines().rev().take(3).collect::<Vec<_>>();
        eprintln!("  exit {}: {last:?}", run.code);
    }
    let last = runs.last().unwrap();
    assert_eq!(last.code, 0, "apply did not finish in two runs: {last:?}");
    assert!(faults > 50, "faults were injected: {faults}");
    if token_lifetime.is_some() {
        assert!(log.token > 3, "tokens were renewed: {}", log.token);
    }
    assert!(
        log.requests.iter().all(|r| r.status != 409),
        "no create met an existing user: none was sent twice"
    );

    sandbox
        .running
        .set_faults(scimops::sandbox::Faults::default());
    let now = server_users(&sandbox);
    assert_eq!(now.len(), 720, "every user once");
    for i in 0..700 {
        let (given, active) = &now[&format!("u{i:03}@acme")];
        let (want, want_active) = match i {
            200..400 => (format!("Changed{i}"), true),
            400..500 => (format!("U{i}"), false),
            _ => (format!("U{i}"), true),
        };
        assert_eq!((given, *active), (&want, want_active), "u{i:03}");
    }
    for i in 0..20 {
        assert_eq!(
            now[&format!("x{i:02}@acme")],
            (format!("X{i}"), true),
            "x{i:02}"
        );
    }
    let plan = repo.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "the next plan is empty: {}", plan.stdout);
}

#[test]
fn five_hundred_changes_under_faults_of_every_kind() {
    apply_under_faults(None);
}

#[test]
fn five_hundred_changes_under_faults_with_tokens_expiring_every_two_seconds() {
    apply_under_faults(Some(2));
}

#[test]
fn ctrl_c_starts_no_new_user_and_lets_those_in_flight_finish() {
    // Every create takes half a second, so the run is caught in the middle.
    let sandbox = TestSandbox::start(
        "defaultDomain: acme\nfaults: {slowMillis: 500}\nfailures:\n  - {method: POST, path: /Users, fault: slow}\n",
    );
    let users: String = (0..40)
        .map(|i| format!("  - userName: u{i:02}\n    name: {{givenName: U{i}}}\n"))
        .collect();
    let repo = Repo::for_sandbox(&sandbox, &format!("users:\n{users}"));
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_scimops"))
        .current_dir(repo.path())
        .args(["apply", "--auto-approve", "--parallelism", "2"])
        .env(crate::support::SECRET_VAR, crate::support::SECRET)
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for the first creates to be done, then interrupt.
    let waited = Instant::now();
    while statuses(&sandbox, "POST", "/scim/v2/Users").len() < 2 {
        assert!(waited.elapsed().as_secs() < 60, "the creates never started");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let interrupt = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupt.success());
    let output = child.wait_with_output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    );
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stderr.contains(
            "Interrupted: starting no new user; waiting for those in flight (Ctrl-C again to quit now)."
        ),
        "{stderr}"
    );
    let created = statuses(&sandbox, "POST", "/scim/v2/Users");
    assert!(created.iter().all(|s| *s == 201), "{created:?}");
    // Those in flight finished: every create sent was answered and reported.
    let reported = stdout.matches(": created [id=").count();
    assert_eq!(reported, created.len(), "{stdout}");
    assert!(created.len() < 40, "the interrupt stopped the run early");
    let skipped = stdout
        .matches(": skipped: interrupted before it started")
        .count();
    assert_eq!(reported + skipped, 40, "{stdout}");
    assert!(stdout.contains("Apply interrupted."), "{stdout}");
    assert_eq!(server_users(&sandbox).len(), created.len());

    // Applying again finishes the job.
    let again = repo.run(&["apply", "--auto-approve"]);
    assert_eq!(again.code, 0, "{again:?}");
    assert_eq!(server_users(&sandbox).len(), 40);
}

#[test]
fn a_create_that_keeps_failing_is_sent_again_only_after_each_lookup_and_at_most_four_times() {
    let sandbox = TestSandbox::start(
        "defaultDomain: acme\nfailures:\n  - {method: POST, path: /Users, status: 502}\n",
    );
    let repo = Repo::for_sandbox(
        &sandbox,
        "users:\n  - userName: ann\n    name: {givenName: Ann}\n",
    );
    let apply = repo.run(&["apply", "--auto-approve"]);
    assert_eq!(apply.code, 1, "{apply:?}");
    assert!(
        apply
            .stdout
            .contains("(sent 4 times; looked up after each failure, the user was not there)"),
        "{}",
        apply.stdout
    );
    let log: Vec<String> = sandbox
        .requests()
        .requests
        .iter()
        .filter(|r| r.path.contains("filter=") || r.method == "POST")
        .filter(|r| r.path.starts_with("/scim/v2"))
        .map(|r| format!("{} {}", r.method, r.status))
        .collect();
    // Each lookup is by filter (the server filters): found nothing.
    assert_eq!(
        log,
        [
            "POST 502", "GET 200", "POST 502", "GET 200", "POST 502", "GET 200", "POST 502",
            "GET 200"
        ]
    );
}

#[test]
fn short_lived_tokens_and_slow_answers_never_fail_a_write() {
    // Tokens of 2 seconds, every answer 1.2 seconds late: a request may reach the server
    // after its token expired. It is sent again with a token asked for after it, which
    // then reaches the server in time; no write fails.
    let sandbox = TestSandbox::start(
        "defaultDomain: acme\ntokenLifetimeSeconds: 2\nfaults: {rate: 1.0, kinds: [slow], slowMillis: 1200}\n",
    );
    let users: String = (0..12)
        .map(|i| format!("  - userName: u{i:02}\n    name: {{givenName: U{i}}}\n"))
        .collect();
    let repo = Repo::for_sandbox(&sandbox, &format!("users:\n{users}"));
    let apply = repo.run(&["apply", "--auto-approve", "--parallelism", "8"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    assert_eq!(server_users(&sandbox).len(), 12);
    let created = statuses(&sandbox, "POST", "/scim/v2/Users");
    let refused = created.iter().filter(|s| **s == 401).count();
    assert_eq!(
        created.iter().filter(|s| **s == 201).count(),
        12,
        "{created:?}"
    );
    assert_eq!(
        created.len(),
        12 + refused,
        "only 401s were sent again: {created:?}"
    );
    assert!(
        refused <= 12,
        "each create sent again at most once: {created:?}"
    );
    assert!(sandbox.running.issued_tokens().len() >= 2);
}
