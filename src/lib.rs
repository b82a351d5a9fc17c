//! scimops: the users of a SCIM 2.0 service provider, kept in Git.
//!
//! Data flows one way: [`config`] reads the files, [`desired`] types them for the
//! target, [`observe`] reads the server, [`plan`] (pure) compares, [`render`] shows,
//! [`apply`] writes; [`import`] (pure) writes the server's users as files. Only `config`, `observe`, `apply`, [`session`] and [`term`] do I/O.

pub mod apply;
pub mod bounded;
pub mod cli;
mod commands;
pub mod config;
pub mod desired;
pub mod diag;
pub mod dialect;
pub mod error;
pub mod escape;
pub mod exit;
pub mod import;
pub mod model;
pub mod observe;
pub mod plan;
pub mod policy;
mod random;
pub mod render;
pub mod sandbox;
pub mod schema;
pub mod scim;
pub mod secret;
pub mod session;
pub mod term;
pub mod words;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::diag::Diagnostics;
use crate::term::Term;

/// Runs scimops with these arguments (the first is the program name). The one place
/// that reads the process environment; commands get it as a function, so tests can
/// pass their own.
#[allow(clippy::disallowed_methods)]
pub fn run(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // Usage errors exit 1, not clap's 2: 2 means "changes pending".
            return ExitCode::from(u8::from(e.exit_code() != 0));
        }
    };
    let mut term = Term::new(
        cli.no_color || std::env::var_os("NO_COLOR").is_some(),
        cli.quiet,
    );
    term.base = (cli.dir != std::path::Path::new(".")).then(|| cli.dir.clone());
    init_logging(&cli, &term);
    // A client waits on the network: one thread drives every request, and leaves the
    // other cores to the rest of the machine. A server (`sandbox`) uses them all.
    let mut builder = match cli.command {
        Command::Sandbox(_) => tokio::runtime::Builder::new_multi_thread(),
        _ => tokio::runtime::Builder::new_current_thread(),
    };
    let runtime = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            term.error(&format!("cannot start the async runtime: {e}"));
            return ExitCode::from(1);
        }
    };
    let env = |name: &str| std::env::var(name).ok();
    let talks_to_a_server = matches!(
        cli.command,
        Command::Plan(_) | Command::Apply(_) | Command::Import(_)
    );
    match runtime.block_on(commands::run(cli, &term, &env)) {
        Ok(status) => status.into(),
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            match e.downcast_ref::<Diagnostics>() {
                Some(diagnostics) => {
                    term.diagnostics(&diagnostics.0);
                    term.error(&error::problems(
                        diagnostics.error_count(),
                        talks_to_a_server,
                    ));
                }
                None => {
                    term.error(&format!("{e:#}"));
                    if let Some(hint) = e
                        .downcast_ref::<error::Error>()
                        .and_then(error::Error::hint)
                    {
                        term.progress(&format!("hint: {hint}"));
                    }
                }
            }
            ExitCode::from(exit::ExitStatus::Failure.code())
        }
    }
}

/// Output cut short by a closed pipe (`scimops plan | head`) is not an error.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Logs go to stderr, as the terminal's other messages.
#[allow(clippy::disallowed_methods)]
fn init_logging(cli: &Cli, term: &Term) {
    let level = match (cli.quiet, cli.verbose, &cli.command) {
        (true, _, _) => "error",
        (false, 0, Command::Sandbox(_)) => "info",
        (false, 0, _) => "warn",
        (false, 1, _) => "info",
        (false, 2, _) => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        // rustls-platform-verifier logs each refused certificate; scimops explains it.
        tracing_subscriber::EnvFilter::new(format!(
            "warn,rustls_platform_verifier=off,scimops={level}"
        ))
    });
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(term.err_styles.error != anstyle::Style::new())
        .with_target(false)
        .try_init();
}

/// The JSON Schemas of scimops' files, as written to `schemas/` (name, text).
pub fn json_schemas() -> Vec<(&'static str, String)> {
    let mut schemas = config::json_schemas();
    schemas.push((
        "plan.schema.json",
        serde_json::to_value(schemars::schema_for!(plan::Plan)).unwrap_or_default(),
    ));
    schemas.push((
        "sandbox.schema.json",
        serde_json::to_value(schemars::schema_for!(sandbox::SandboxConfig)).unwrap_or_default(),
    ));
    schemas
        .into_iter()
        .map(|(name, value)| {
            let text = serde_json::to_string_pretty(&value).unwrap_or_default() + "\n";
            (name, text)
        })
        .collect()
}
