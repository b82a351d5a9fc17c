//! Test harness: a sandbox on its own runtime, repositories in temporary folders, and
//! the real `scimops` binary run against them.

use std::path::{Path, PathBuf};
use std::process::Command;

use scimops::sandbox::{self, RequestLog, SandboxConfig};
use scimops::secret::Secret;
use tempfile::TempDir;

pub const CLIENT_ID: &str = "scimops";
pub const SECRET: &str = "s3cr3t-for-tests-only";
pub const SECRET_VAR: &str = "SCIMOPS_TEST_SECRET";

/// Custom properties of the test sandbox, one of each type.
pub const PROPERTIES: &str = "
properties:
  IdentificationNumber: string
  Level: integer
  IsContractor: boolean
  Salary: decimal
  HireDate: dateTime
";

/// A sandbox serving in the background of the test, with its state in a temp folder.
pub struct TestSandbox {
    pub running: sandbox::Running,
    pub runtime: tokio::runtime::Runtime,
    /// Holds the state file; removed when the sandbox is dropped.
    _dir: TempDir,
}

impl TestSandbox {
    /// Starts a sandbox with this settings YAML (custom properties, seed, ...).
    pub fn start(config_yaml: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let config_path = dir.path().join("sandbox.yaml");
        std::fs::write(&config_path, config_yaml).unwrap();
        let config =
            SandboxConfig::load(&config_path, &config_path).expect("a valid sandbox config");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let running = runtime
            .block_on(sandbox::start(
                sandbox::Options {
                    config,
                    state: dir.path().join("state.db"),
                    clients: vec![(CLIENT_ID.to_string(), Secret::new(SECRET.to_string()))],
                },
                ([127, 0, 0, 1], 0).into(),
            ))
            .expect("the sandbox starts");
        Self {
            running,
            runtime,
            _dir: dir,
        }
    }

    pub fn requests(&self) -> RequestLog {
        self.running.requests()
    }

    pub fn clear(&self) {
        self.running.clear_requests();
    }

    /// A token from the sandbox's token endpoint.
    pub fn token(&self) -> String {
        let (status, body) = self.runtime.block_on(async {
            let response = http()
                .post(self.running.token_url())
                .basic_auth(CLIENT_ID, Some(SECRET))
                .form(&[("grant_type", "client_credentials"), ("scope", "api")])
                .send()
                .await
                .unwrap();
            (
                response.status(),
                response.json::<serde_json::Value>().await.unwrap(),
            )
        });
        assert_eq!(status, 200, "{body}");
        body["access_token"].as_str().unwrap().to_string()
    }

    /// One SCIM request with a bearer token: status and JSON body (Null when empty).
    pub fn call(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let url = format!("{}{path}", self.running.scim_url());
        self.runtime.block_on(async {
            let mut request = http()
                .request(method.parse().unwrap(), url)
                .bearer_auth(token);
            if let Some(body) = body {
                request = request
                    .header("content-type", "application/scim+json")
                    .body(body.to_string());
            }
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let text = response.text().await.unwrap();
            let json = if text.is_empty() {
                serde_json::Value::Null
            } else {
                serde_json::from_str(&text).unwrap()
            };
            (status, json)
        })
    }
}

pub fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// The output of one run of the binary.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs the `scimops` binary in `dir` with the test secret in the environment.
pub fn scimops(dir: &Path, args: &[&str]) -> Run {
    scimops_with(dir, args, &[])
}

/// Runs the `scimops` binary with the test secret and `env` in the environment (and
/// neither `RUST_LOG` nor the machine's proxy settings, unless `env` gives them).
pub fn scimops_with(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    run(&mut command(dir, args, env))
}

/// Runs a [`command`] (once changed as a test needs), and says what it did.
pub fn run(command: &mut Command) -> Run {
    let output = command.output().expect("the binary runs");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

/// The command [`scimops_with`] runs, to run it otherwise. `SCIMOPS_TEST_BINARY` runs
/// another build instead (to see how an earlier version behaved).
pub fn command(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let binary = std::env::var_os("SCIMOPS_TEST_BINARY")
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_scimops").into());
    let mut command = Command::new(binary);
    // Run from inside the repository, as its users do (`-C` has its own tests).
    command
        .current_dir(dir)
        .args(args)
        .env(SECRET_VAR, SECRET)
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG");
    for proxy in [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        command.env_remove(proxy);
    }
    command.envs(env.iter().copied());
    command
}

/// A repository in a temp folder whose target is `scim_url`.
pub struct Repo {
    /// Holds the state file; removed when the sandbox is dropped.
    pub dir: TempDir,
}

impl Repo {
    pub fn new(scim_url: &str, users_yaml: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("scimops.yaml"),
            format!(
                "targets:
  test:
    url: {scim_url}
    auth:
      clientCredentials:
        clientId: {CLIENT_ID}
        clientSecret: ${{{SECRET_VAR}}}
defaults:
  domain: acme
  properties:
    enabledForAssignation: true
"
            ),
        )
        .unwrap();
        let repo = Self { dir };
        repo.write_users(users_yaml);
        repo
    }

    pub fn for_sandbox(sandbox: &TestSandbox, users_yaml: &str) -> Self {
        Self::new(&sandbox.running.scim_url(), users_yaml)
    }

    pub fn write_users(&self, yaml: &str) {
        let users = self.dir.path().join("users");
        std::fs::create_dir_all(&users).unwrap();
        std::fs::write(users.join("users.yaml"), yaml).unwrap();
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn run(&self, args: &[&str]) -> Run {
        scimops(self.dir.path(), args)
    }
}

/// Copies a folder (an example repository) into a new temp folder.
pub fn copy_dir(from: &Path) -> TempDir {
    let to = tempfile::tempdir().unwrap();
    copy_into(from, to.path());
    to
}

fn copy_into(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target: PathBuf = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            if entry.file_name() == ".sandbox" {
                continue;
            }
            std::fs::create_dir_all(&target).unwrap();
            copy_into(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}
