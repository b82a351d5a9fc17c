//! `scimops sandbox` as its own process: the same minimal-call checks over its HTTP
//! request log, and durability when it is killed.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use scimops::sandbox::RequestLog;

use crate::support::{PROPERTIES, Repo, SECRET, http};

const EXT: &str = "urn:ietf:params:scim:schemas:extension:bizagi:2.0:UserProperties";

struct SandboxProcess {
    child: Child,
    /// Kept open, so the sandbox's stdout stays readable while it runs.
    stdout: Option<BufReader<std::process::ChildStdout>>,
    /// `http://127.0.0.1:PORT`
    origin: String,
}

impl SandboxProcess {
    fn spawn(dir: &Path) -> Self {
        let log = std::fs::File::create(dir.join("sandbox.log")).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_scimops"))
            .args(["sandbox", "--listen", "127.0.0.1:0", "--state"])
            .arg(dir.join("state.db"))
            .arg("--config")
            .arg(dir.join("sandbox.yaml"))
            .env("SCIMOPS_SANDBOX_CLIENT_SECRET", SECRET)
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("the sandbox starts");
        let mut banner = String::new();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        stdout.read_line(&mut banner).unwrap();
        let origin = banner
            .trim()
            .strip_prefix("scimops sandbox listening on ")
            .unwrap_or_else(|| panic!("unexpected banner {banner:?}"))
            .to_string();
        Self {
            child,
            stdout: Some(stdout),
            origin,
        }
    }

    fn scim_url(&self) -> String {
        format!("{}/scim/v2", self.origin)
    }

    fn requests(&self) -> RequestLog {
        let url = format!("{}/_sandbox/requests", self.origin);
        block_on(async { http().get(url).send().await.unwrap().json().await.unwrap() })
    }

    fn clear(&self) {
        let url = format!("{}/_sandbox/requests", self.origin);
        block_on(async { http().delete(url).send().await.unwrap() });
    }

    /// SIGKILL: no chance to flush or clean up.
    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for SandboxProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

fn sandbox_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("sandbox.yaml"),
        format!(
            "defaultDomain: acme
{PROPERTIES}
seed:
  - userName: old@acme
    name: {{givenName: Old, familyName: Timer}}
    {EXT}: {{enabledForAssignation: true}}
  - userName: stay@acme
    name: {{givenName: Stay}}
    {EXT}: {{enabledForAssignation: true}}
"
        ),
    )
    .unwrap();
    dir
}

const USERS: &str = "
users:
  - userName: old
    name: {givenName: Old, familyName: Timer}
    active: false
  - userName: stay
    name: {givenName: Stay, familyName: Put}
  - userName: fresh
    name: {givenName: Fresh}
    properties: {Level: 7}
";

#[test]
fn the_minimal_calls_hold_against_a_separate_sandbox_process() {
    let dir = sandbox_dir();
    let sandbox = SandboxProcess::spawn(dir.path());
    let repo = Repo::new(&sandbox.scim_url(), USERS);

    let apply = repo.run(&["apply", "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    let log = sandbox.requests();
    assert_eq!(log.token, 1);
    assert_eq!(log.count("GET"), 4);
    assert_eq!(log.count("POST"), 1, "one POST for the new user");
    assert_eq!(log.count("PATCH"), 1, "one PATCH for the changed user");
    assert_eq!(log.count("DELETE"), 1, "one DELETE for the deactivation");
    let patch = log.requests.iter().find(|r| r.method == "PATCH").unwrap();
    assert_eq!(
        patch.body.as_ref().unwrap()["Operations"],
        serde_json::json!([{"op": "replace", "path": "name.familyName", "value": "Put"}])
    );
    sandbox.clear();

    let plan = repo.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{plan:?}");
    let again = repo.run(&["apply", "--auto-approve"]);
    assert_eq!(again.code, 0, "{again:?}");
    assert_eq!(sandbox.requests().writes(), 0);
}

#[test]
fn no_acknowledged_write_is_lost_when_the_sandbox_is_killed() {
    let dir = sandbox_dir();
    let sandbox = SandboxProcess::spawn(dir.path());
    let repo = Repo::new(&sandbox.scim_url(), USERS);
    assert_eq!(repo.run(&["apply", "--auto-approve"]).code, 0);
    sandbox.kill();

    // A new process on the same state: everything acknowledged is there.
    let sandbox = SandboxProcess::spawn(dir.path());
    let repo = Repo::new(&sandbox.scim_url(), USERS);
    let plan = repo.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{plan:?}");
    assert!(plan.stdout.starts_with("No changes."), "{}", plan.stdout);
}

#[test]
fn the_sandbox_keeps_serving_when_nobody_reads_its_output() {
    let dir = sandbox_dir();
    let mut sandbox = SandboxProcess::spawn(dir.path());
    sandbox.stdout = None;
    std::thread::sleep(std::time::Duration::from_millis(100));
    let repo = Repo::new(&sandbox.scim_url(), USERS);
    assert_eq!(repo.run(&["plan"]).code, 0);
}
