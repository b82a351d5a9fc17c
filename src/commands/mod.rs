//! One file per subcommand: thin orchestration of the library's parts.

mod apply;
mod discover;
mod import;
mod init;
mod plan;
mod sandbox;
mod schema;
mod show;
mod validate;

use std::path::PathBuf;

use crate::cli::{Cli, Command};
use crate::exit::ExitStatus;
use crate::session::Env;
use crate::term::Term;

/// What every command gets: the repository, the chosen target, the terminal, the
/// environment (read here only, so tests can pass their own).
pub struct Context<'a> {
    pub dir: PathBuf,
    pub target: Option<String>,
    pub term: &'a Term,
    pub env: Env<'a>,
    pub network: Network,
}

/// How scimops talks to servers, from the command line.
#[derive(Clone, Copy, Debug)]
pub struct Network {
    pub client: crate::scim::client::Options,
    pub allow_insecure_http: bool,
}

impl Context<'_> {
    /// `scimops`, or `scimops -C DIR` when the repository is not the current folder:
    /// the start of a command a message tells the user to run, runnable as printed.
    pub fn scimops(&self) -> String {
        if self.dir == std::path::Path::new(".") {
            "scimops".to_string()
        } else {
            format!("scimops -C {}", shell_word(&self.dir.to_string_lossy()))
        }
    }
}

/// `text` as one word for a POSIX shell: as it is when it is plain, else single-quoted.
pub fn shell_word(text: &str) -> String {
    let plain = !text.is_empty()
        && text.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '/' | '-' | '+' | ':' | '@' | ',')
        });
    if plain {
        text.to_string()
    } else {
        format!("'{}'", crate::escape::term(text).replace('\'', "'\\''"))
    }
}

/// Loads the repository, with the command line's say on plain http.
fn load(ctx: &Context<'_>) -> Result<crate::config::Repository, crate::diag::Diagnostics> {
    let mut repo = crate::config::Repository::load(&ctx.dir, ctx.target.as_deref())?;
    // Settings with a problem are not acted on (`validate` reports them with the rest).
    if repo.settings_problems > 0 {
        return Err(crate::diag::Diagnostics::sorted(repo.problems));
    }
    repo.allow_insecure_http = ctx.network.allow_insecure_http;
    Ok(repo)
}

/// The plan as views show it: with `--mask-pii`, a copy whose private values are
/// masked (the plan itself, saved and applied, keeps them).
fn shown(plan: &crate::plan::Plan, mask: bool) -> std::borrow::Cow<'_, crate::plan::Plan> {
    if mask {
        std::borrow::Cow::Owned(crate::render::mask::Private(&plan.private).plan(plan))
    } else {
        std::borrow::Cow::Borrowed(plan)
    }
}

/// The largest saved plan read: a plan of 100,000 creates is about 100 MiB.
const MAX_PLAN_BYTES: u64 = 512 * 1024 * 1024;

/// A saved plan (`plan --out`), its format and digest checked.
fn read_saved(file: &std::path::Path) -> Result<crate::plan::Plan, crate::error::Error> {
    use crate::error::Error;
    let path = || file.to_path_buf();
    let bytes = crate::config::paths::read_regular(file, MAX_PLAN_BYTES).map_err(|source| {
        Error::UnreadablePlan {
            path: path(),
            source,
        }
    })?;
    std::str::from_utf8(&bytes)
        .map_err(|e| e.to_string())
        .and_then(crate::plan::Plan::from_json)
        .map_err(|reason| Error::NotAPlan {
            path: path(),
            reason,
        })
}

/// Connects to `target`, warning when the connection is plain http across a network.
async fn connect(
    ctx: &Context<'_>,
    target: &crate::config::TargetConfig,
) -> anyhow::Result<crate::session::Session> {
    if let Some(origin) = &target.plain_http {
        ctx.term.diagnostic(&crate::diag::Diagnostic::warning(
            origin.clone(),
            format!(
                "target `{}` is plain http (--allow-insecure-http): the secret, tokens and \
                 user data cross the network unencrypted",
                target.name
            ),
        ));
    }
    crate::session::connect(&ctx.dir, target, ctx.env, ctx.network.client).await
}

pub async fn run(cli: Cli, term: &Term, env: Env<'_>) -> anyhow::Result<ExitStatus> {
    let ctx = Context {
        dir: cli.dir,
        target: cli.target,
        term,
        env,
        network: Network {
            client: crate::scim::client::Options {
                timeout: std::time::Duration::from_secs(cli.timeout),
                retries: cli.retries,
                ..Default::default()
            },
            allow_insecure_http: cli.allow_insecure_http,
        },
    };
    match cli.command {
        Command::Validate(args) => validate::run(&ctx, &args),
        Command::Plan(args) => plan::run(&ctx, &args).await,
        Command::Apply(args) => apply::run(&ctx, &args).await,
        Command::Discover(args) => discover::run(&ctx, &args).await,
        Command::Sandbox(args) => sandbox::run(&ctx, args).await,
        Command::Schema(args) => schema::run(&ctx, &args),
        Command::Show(args) => show::run(&ctx, &args),
        Command::Import(args) => import::run(&ctx, &args).await,
        Command::Init(args) => init::run(&ctx, &args).await,
        Command::Completions(args) => {
            use clap::CommandFactory;
            let mut command = Cli::command();
            clap_complete::generate(args.shell, &mut command, "scimops", &mut ctx.term.out());
            Ok(ExitStatus::Success)
        }
        Command::Man(args) => {
            use anyhow::Context as _;
            use clap::CommandFactory;
            use std::io::Write as _;
            // Each command's page is dated by scimops' version, as its own is.
            let command = Cli::command()
                .long_about(crate::cli::DESCRIPTION)
                .mut_subcommands(|c| c.version(crate::cli::VERSION));
            match &args.out {
                None => clap_mangen::Man::new(command).render(&mut ctx.term.out())?,
                Some(dir) => {
                    let shown = || dir.display().to_string();
                    std::fs::create_dir_all(dir)
                        .with_context(|| format!("cannot create `{}`", shown()))?;
                    clap_mangen::generate_to(command, dir).with_context(|| {
                        format!("cannot write the man pages into `{}`", shown())
                    })?;
                    writeln!(ctx.term.out(), "wrote the man pages into {}", shown())?;
                }
            }
            Ok(ExitStatus::Success)
        }
    }
}
