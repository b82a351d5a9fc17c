//! Third-party SCIM servers (scim2-server, scimmy), started with the scripts in
//! `tests/servers/`: one process per test, stopped when the test ends.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;

use crate::support::repo_root;

/// Servers start one at a time: the first start of each kind installs it, and two
/// installs at once would trip over each other.
static STARTING: Mutex<()> = Mutex::new(());

pub struct External {
    pid: u32,
    /// The SCIM base URL.
    pub base: String,
    /// The bearer token it requires, if any.
    pub token: Option<String>,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn lab_dir() -> PathBuf {
    std::env::var_os("LAB_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("scimops-scim-servers"))
}

impl External {
    fn start(script: &str, env: &[(&str, &str)], token: Option<&str>) -> Self {
        let _one_at_a_time = STARTING
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let port = free_port();
        let mut command = Command::new("bash");
        command
            .arg(repo_root().join("tests/servers").join(script))
            .arg(port.to_string())
            .env("LAB_DIR", lab_dir());
        for (k, v) in env {
            command.env(k, v);
        }
        if let Some(token) = token {
            command.env("SCIM_TOKEN", token);
        }
        let output = command.output().expect("bash runs the server script");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{script} failed (it needs python3, node and npm; `.ci/run` installs them):\n{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let value = |key: &str| {
            stdout
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .unwrap_or_else(|| panic!("{script} printed no {key}:\n{stdout}"))
                .trim()
                .to_string()
        };
        Self {
            pid: value("PID=").parse().unwrap(),
            base: value("SCIM_BASE="),
            token: token.map(str::to_string),
        }
    }

    /// scim2-server, with the features in `disable` ("patch filter ...") announced as
    /// unsupported.
    pub fn scim2(disable: &str) -> Self {
        Self::start("start-scim2-server.sh", &[("DISABLE", disable)], None)
    }

    pub fn scimmy() -> Self {
        Self::start("start-scimmy.sh", &[], Some("scimmy-test-token"))
    }
}

impl Drop for External {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg(self.pid.to_string()).status();
    }
}
