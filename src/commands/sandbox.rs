//! `scimops sandbox`: a Bizagi-compatible server until Ctrl-C.

use std::io::Write;

use anyhow::Context as _;

use super::Context;
use crate::cli::SandboxArgs;
use crate::exit::ExitStatus;
use crate::sandbox::{self, SandboxConfig};
use crate::secret::{Secret, SecretRef};

pub async fn run(ctx: &Context<'_>, args: SandboxArgs) -> anyhow::Result<ExitStatus> {
    let mut config = match &args.config {
        Some(path) => SandboxConfig::load(path, path)?,
        None => SandboxConfig::default(),
    };
    if let Some(lifetime) = args.token_lifetime {
        config.token_lifetime_seconds = lifetime;
    }
    if let Some(rate) = args.faults {
        anyhow::ensure!(
            (0.0..=1.0).contains(&rate),
            "--faults takes a share from 0 to 1, not {rate}"
        );
        config.faults.rate = rate;
    }
    if !args.fault_kinds.is_empty() {
        config.faults.kinds = args
            .fault_kinds
            .iter()
            .map(|k| {
                sandbox::FaultKind::parse(k.trim()).ok_or_else(|| {
                    anyhow::anyhow!(
                        "unknown fault kind `{k}`: use 500, 503, 429, reset, slow or lost"
                    )
                })
            })
            .collect::<anyhow::Result<_>>()?;
    }
    let mut clients = Vec::new();
    if let Some(secret) = args.client_secret {
        clients.push((args.client_id.clone(), Secret::new(secret)));
    }
    for client in &config.clients {
        let secret = SecretRef::parse(&client.client_secret)
            .and_then(|r| r.resolve(ctx.env))
            .map_err(anyhow::Error::msg)
            .with_context(|| format!("the secret of sandbox client `{}`", client.client_id))?;
        clients.push((client.client_id.clone(), secret));
    }
    if clients.is_empty() {
        anyhow::bail!(
            "the sandbox needs a client: set SCIMOPS_SANDBOX_CLIENT_SECRET (client id `{}`), or list `clients` in its settings",
            args.client_id
        );
    }
    let running = sandbox::start(
        sandbox::Options {
            config,
            state: args.state.clone(),
            clients,
        },
        args.listen,
    )
    .await?;
    // One write, best effort: a server keeps serving when nobody reads its stdout.
    let banner = format!(
        "scimops sandbox listening on http://{addr}\n  SCIM base URL:  {scim}\n  token endpoint: {token}\n  state:          {state}\n  request log:    http://{addr}/_sandbox/requests\n",
        addr = running.addr,
        scim = running.scim_url(),
        token = running.token_url(),
        state = args.state.display(),
    );
    let mut out = ctx.term.out();
    let _ = out.write_all(banner.as_bytes()).and_then(|()| out.flush());
    drop(out);
    shutdown_signal().await;
    running.stop().await?;
    Ok(ExitStatus::Success)
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).expect("a SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}
