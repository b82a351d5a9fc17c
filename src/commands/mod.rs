//! One file per subcommand: thin orchestration of the library's parts.

mod apply;
mod discover;
mod plan;
mod sandbox;
mod schema;
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
}

pub async fn run(cli: Cli, term: &Term, env: Env<'_>) -> anyhow::Result<ExitStatus> {
    let ctx = Context {
        dir: cli.dir,
        target: cli.target,
        term,
        env,
    };
    match cli.command {
        Command::Validate(args) => validate::run(&ctx, &args),
        Command::Plan(args) => plan::run(&ctx, &args).await,
        Command::Apply(args) => apply::run(&ctx, &args).await,
        Command::Discover(args) => discover::run(&ctx, &args).await,
        Command::Sandbox(args) => sandbox::run(&ctx, args).await,
        Command::Schema(args) => schema::run(&ctx, &args),
    }
}
