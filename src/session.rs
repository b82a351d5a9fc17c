//! Connecting to a target: a server at a URL, or an embedded sandbox started here.

use std::path::Path;

use anyhow::Context;

use crate::config::{AuthConfig, Endpoint, TargetConfig};
use crate::sandbox::{self, SandboxConfig};
use crate::scim::client::{self, Client, Credentials};
use crate::secret::Secret;

/// A live connection. Keeps an embedded sandbox running for as long as it lives.
pub struct Session {
    pub client: Client,
    /// Where the users are read from, for messages.
    pub describe: String,
    pub sandbox: Option<sandbox::Running>,
}

/// Reads environment variables: the process environment, or a test's map.
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The settings of an embedded sandbox (`config`: resolved, inside the repository
/// `root`), named in messages by their path in the repository.
pub fn sandbox_settings(
    root: &Path,
    config: &Path,
) -> Result<SandboxConfig, crate::diag::Diagnostics> {
    let canonical = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let shown = config.strip_prefix(&canonical).unwrap_or(config);
    SandboxConfig::load(config, shown)
}

pub async fn connect(
    root: &Path,
    target: &TargetConfig,
    env: Env<'_>,
    options: client::Options,
) -> anyhow::Result<Session> {
    match &target.endpoint {
        Endpoint::Remote { url, auth } => {
            let secret = || {
                auth.secret()
                    .map(|s| s.resolve(env))
                    .transpose()
                    .map_err(anyhow::Error::msg)
                    .with_context(|| format!("reading the secret of target `{}`", target.name))
            };
            let credentials = match (auth.as_ref(), secret()?) {
                (
                    AuthConfig::ClientCredentials {
                        token_url,
                        client_id,
                        scope,
                        ..
                    },
                    Some(client_secret),
                ) => Credentials::ClientCredentials {
                    token_url: token_url.clone(),
                    client_id: client_id.clone(),
                    client_secret,
                    scope: scope.clone(),
                },
                (AuthConfig::Bearer(_), Some(token)) => Credentials::Bearer(token),
                _ => Credentials::None,
            };
            let ca = match &target.ca_file {
                Some(path) => Some(
                    crate::config::paths::read_regular(path, crate::config::MAX_FILE_BYTES)
                        .with_context(|| {
                            format!(
                                "reading the `caFile` of target `{}`",
                                crate::escape::Shown(&target.name)
                            )
                        })?,
                ),
                None => None,
            };
            let client = Client::new(url.clone(), credentials, options, ca.as_deref())
                .with_context(|| format!("target `{}`", crate::escape::Shown(&target.name)))?;
            Ok(Session {
                client,
                describe: format!("target `{}` ({url})", target.name),
                sandbox: None,
            })
        }
        Endpoint::Sandbox { config, state } => {
            let settings = sandbox_settings(root, config)?;
            let client_id = "scimops".to_string();
            let client_secret = Secret::new(sandbox::random_secret());
            let running = sandbox::start(
                sandbox::Options {
                    config: settings,
                    state: state.clone(),
                    clients: vec![(client_id.clone(), client_secret.clone())],
                },
                ([127, 0, 0, 1], 0).into(),
            )
            .await
            .context("starting the embedded sandbox")?;
            let url = crate::config::checked_url(&running.scim_url(), false)
                .map_err(anyhow::Error::msg)?;
            let token_url = url::Url::parse(&running.token_url())?;
            let client = Client::new(
                url,
                Credentials::ClientCredentials {
                    token_url,
                    client_id,
                    client_secret,
                    scope: "api".to_string(),
                },
                // In this process: no proxy between.
                client::Options {
                    proxy: false,
                    ..options
                },
                None,
            )?;
            let state_shown = state.strip_prefix(root).unwrap_or(state);
            Ok(Session {
                client,
                describe: format!(
                    "target `{}` (an embedded sandbox, state in `{}`)",
                    target.name,
                    state_shown.display()
                ),
                sandbox: Some(running),
            })
        }
    }
}
