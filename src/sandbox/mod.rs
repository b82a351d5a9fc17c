//! A local server that behaves as Bizagi's SCIM API is documented to: an OAuth2 token
//! endpoint, discovery, Users with Bizagi's rules and limits, state kept in SQLite.
//!
//! It runs as `scimops sandbox` (its own process) or in-process for a repository
//! target with `sandbox:` (the README's example). It records every request it serves,
//! so tests and benchmarks check that scimops sends the minimum.

mod config;
mod http;
mod store;
mod user;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use self::config::{
    Client, FaultKind, Faults, NameReading, Paging, PhoneFormat, PropertyType, ResourceTypesPath,
    SandboxConfig, UserKeys,
};
use self::http::AppState;
pub use self::http::{RequestLog, Served};
use self::store::Store;
use self::user::{BUILT_IN, Rules, UserRecord};
use crate::random;
use crate::secret::Secret;

/// What a sandbox runs with.
pub struct Options {
    pub config: SandboxConfig,
    /// The SQLite state file; created (and seeded) when missing.
    pub state: PathBuf,
    /// OAuth2 clients, in addition to none: the caller resolves the config's secrets.
    pub clients: Vec<(String, Secret)>,
}

/// A sandbox serving on `addr` until [`Running::stop`] or drop.
pub struct Running {
    pub addr: SocketAddr,
    state: Arc<AppState>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl Running {
    /// `http://127.0.0.1:PORT/scim/v2`
    pub fn scim_url(&self) -> String {
        format!("http://{}/scim/v2", self.addr)
    }

    /// `http://127.0.0.1:PORT/oauth2/server/token`
    pub fn token_url(&self) -> String {
        format!("http://{}/oauth2/server/token", self.addr)
    }

    /// Every request served so far.
    pub fn requests(&self) -> RequestLog {
        self.state.request_log()
    }

    /// Writes a copy of the state to `path` (a new file), to start another sandbox from.
    pub fn snapshot(&self, path: &Path) -> anyhow::Result<()> {
        self.state
            .store
            .snapshot(path)
            .with_context(|| format!("copying the state to `{}`", path.display()))
    }

    pub fn clear_requests(&self) {
        self.state.clear_request_log();
    }

    /// Changes the random faults (tests: faults while applying, none while checking).
    pub fn set_faults(&self, faults: Faults) {
        *self
            .state
            .faults
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = faults;
    }

    /// Every access token this sandbox issued.
    pub fn issued_tokens(&self) -> Vec<String> {
        self.state.issued_tokens()
    }

    /// Forgets every issued token (tests of the client's renewal after a 401).
    pub fn revoke_tokens(&self) {
        self.state.revoke_tokens();
    }

    /// Stops accepting, finishes the requests in flight.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.context("the sandbox task failed")??;
        }
        Ok(())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// A fresh random client secret, for an embedded sandbox and the client that uses it.
pub fn random_secret() -> String {
    random::hex(40)
}

/// The current time, as SCIM writes it (RFC 3339, UTC, seconds).
pub(crate) fn now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    rfc3339(secs)
}

/// Seconds since 1970 as `YYYY-MM-DDTHH:MM:SSZ` (Howard Hinnant's civil-from-days).
fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

fn rules(config: &SandboxConfig) -> anyhow::Result<Rules> {
    let mut properties = BTreeMap::new();
    for (name, ty) in BUILT_IN {
        properties.insert(name.to_lowercase(), (name.to_string(), ty));
    }
    for (name, ty) in &config.properties {
        if properties
            .insert(name.to_lowercase(), (name.clone(), *ty))
            .is_some()
        {
            bail!(
                "property `{name}` is declared twice (names are compared without regard to case, and Bizagi's built-in properties are always there)"
            );
        }
    }
    Ok(Rules {
        properties,
        default_domain: config.default_domain.clone(),
        phone_format: config.phone_format,
        patch: config.patch,
        etag: config.etag,
        string_booleans: config.string_booleans,
        name: config.name,
        drops: config.drops.iter().map(|d| d.to_lowercase()).collect(),
    })
}

fn seed(rules: &Rules, config: &SandboxConfig) -> anyhow::Result<Vec<UserRecord>> {
    let now = now();
    let mut seen = BTreeMap::new();
    let mut records = Vec::with_capacity(config.seed.len());
    for (i, body) in config.seed.iter().enumerate() {
        let blank = UserRecord::new(random::guid(), now.clone());
        let record = rules
            .record_from_scim(body, blank)
            .map_err(|r| anyhow::anyhow!("seed user {}: {}", i + 1, r.detail))?;
        if let Some(first) = seen.insert(record.name_key(), i + 1) {
            bail!(
                "seed users {first} and {} have the same userName `{}`",
                i + 1,
                record.qualified_name()
            );
        }
        records.push(record);
    }
    Ok(records)
}

/// Opens the state and starts serving on `listen` (port 0: any free port).
pub async fn start(options: Options, listen: SocketAddr) -> anyhow::Result<Running> {
    let Options {
        config,
        state,
        clients,
    } = options;
    if clients.is_empty() {
        bail!("the sandbox has no OAuth2 client: nobody could get a token");
    }
    let rules = rules(&config)?;
    let seed = seed(&rules, &config)?;
    if let Some(dir) = state.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create `{}`", dir.display()))?;
    }
    let store = open_store(&state, &seed)?;
    let lifetime = (config.token_lifetime_seconds > 0)
        .then(|| Duration::from_secs(config.token_lifetime_seconds));
    let listing = http::Listing {
        paging: config.paging,
        default_page_size: config.default_page_size.max(1),
        max_page_size: config.max_page_size.max(1),
        filter: config.filter,
        user_keys: config.user_keys,
        resource_types: config.resource_types,
        count_refused: config.count_refused,
    };
    let mut app = AppState::new(store, rules, listing, clients, lifetime);
    app.failures = config.failures.clone();
    app.failure_hits = std::sync::Mutex::new(vec![0; config.failures.len()]);
    app.faults = std::sync::Mutex::new(config.faults.clone());
    let app = Arc::new(app);
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr()?;
    let (tx, rx) = oneshot::channel::<()>();
    let router = http::router(app.clone());
    let task = tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await
    });
    Ok(Running {
        addr,
        state: app,
        shutdown: Some(tx),
        task: Some(task),
    })
}

fn open_store(path: &Path, seed: &[UserRecord]) -> anyhow::Result<Store> {
    Store::open(path, seed)
        .with_context(|| format!("cannot open the sandbox state `{}`", path.display()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn timestamps_are_rfc3339() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(super::rfc3339(1_795_397_092), "2026-11-23T01:24:52Z");
    }
}
