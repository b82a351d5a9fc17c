//! `scimops plan`: read the server, show what would change.

use super::Context;
use crate::cli::PlanArgs;
use crate::config::Repository;
use crate::dialect::{self, Dialect};
use crate::exit::ExitStatus;
use crate::observe::observe;
use crate::plan::Plan;
use crate::render::human;
use crate::session::{Session, connect};
use crate::{desired, plan};

/// A plan, and the live session it was made on (apply writes through it).
pub struct Planned {
    pub session: Session,
    pub plan: Plan,
}

/// Reads the files and the server, and plans. Shared by `plan` and `apply`.
pub async fn make(ctx: &Context<'_>) -> anyhow::Result<Planned> {
    let repo = Repository::load(&ctx.dir)?;
    let target = repo.target(ctx.target.as_deref())?;
    let dialect: Box<dyn Dialect> = dialect::for_target(target.dialect);
    let domain = repo.default_domain();
    // Check the files offline first: a bad file must not cost a request.
    desired::resolve(
        &repo.users,
        repo.problems.clone(),
        domain,
        &dialect.offline_schema(),
        dialect.as_ref(),
    )?;

    let session = connect(&ctx.dir, &target, ctx.env).await?;
    ctx.term
        .progress(&format!("Reading users from {}...", session.describe));
    let observed = observe(&session.client, dialect.as_ref()).await?;
    let resolved = desired::resolve(
        &repo.users,
        repo.problems.clone(),
        domain,
        &observed.schema,
        dialect.as_ref(),
    )?;
    let (plan, warnings) = plan::plan(&resolved.users, &observed.users, dialect.as_ref())?;
    ctx.term.diagnostics(&resolved.warnings);
    ctx.term.diagnostics(&warnings);
    Ok(Planned { session, plan })
}

pub async fn run(ctx: &Context<'_>, args: &PlanArgs) -> anyhow::Result<ExitStatus> {
    let Planned { plan, .. } = make(ctx).await?;
    human::plan(&mut ctx.term.out(), &plan, &ctx.term.out_styles)?;
    Ok(if args.detailed_exitcode && !plan.is_empty() {
        ExitStatus::Changes
    } else {
        ExitStatus::Success
    })
}
