//! `scimops apply`: plan (or read a saved plan), confirm, write, report.

use std::io::{BufRead, Write};
use std::path::Path;

use anyhow::Context as _;

use super::Context;
use super::plan::{Planned, in_repository, make, refused, target_ref, to_json};
use crate::apply::{self, Approval, Report, Work};
use crate::cli::{ApplyArgs, ApplyFormat};
use crate::config::Repository;
use crate::policy::Counts;
use std::sync::Arc;

use crate::dialect::{self, Capabilities, Dialect};
use crate::exit::ExitStatus;
use crate::plan::document::{Applied, Files, PlanDocument};
use crate::render::human;
use crate::session::connect;

pub async fn run(ctx: &Context<'_>, args: &ApplyArgs) -> anyhow::Result<ExitStatus> {
    if let Some(file) = &args.plan {
        return apply_saved(ctx, args, &in_repository(ctx, file)).await;
    }
    let term = ctx.term;
    let json = args.format == ApplyFormat::Json;
    if json && !args.auto_approve {
        anyhow::bail!(
            "`--format json` prints nothing to confirm: add `--auto-approve`, or apply a saved plan"
        );
    }
    let Planned {
        session,
        plan,
        mut document,
        dialect,
        policy,
    } = make(ctx, args.guards.overrides()).await?;
    if !json {
        human::plan(
            &mut term.out(),
            &plan,
            &term.out_styles,
            human::Options::default(),
        )?;
    }
    if let Some(status) = refused(ctx, Counts::of(&plan), &policy, args.guards.overrides()) {
        return Ok(status);
    }
    if plan.is_empty() {
        if json {
            document.applied = Some(Vec::new());
            term.out().write_all(to_json(&document).as_bytes())?;
        }
        return Ok(ExitStatus::Success);
    }
    let approval = if args.auto_approve {
        Approval::auto_approved()
    } else if term.stdin_is_terminal() {
        let mut out = term.out();
        write!(
            out,
            "\nDo you want to perform these actions on {}?\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: ",
            session.describe
        )?;
        out.flush()?;
        drop(out);
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        match Approval::from_answer(&answer) {
            Some(approval) => approval,
            None => {
                writeln!(term.out(), "\nApply cancelled.")?;
                return Ok(ExitStatus::Failure);
            }
        }
    } else {
        term.error("refusing to apply without confirmation: stdin is not a terminal");
        term.progress("hint: review the plan, then run `scimops apply --auto-approve`, or save it with `scimops plan --out FILE` and run `scimops apply FILE`");
        return Ok(ExitStatus::Failure);
    };
    let work = plan.users.iter().map(Work::from).collect();
    let report = write(ctx, &session.client, dialect, work, args, approval).await?;
    finish(ctx, args, document, report)
}

/// Sends the work, printing each user as it is done (for people).
async fn write(
    ctx: &Context<'_>,
    client: &crate::scim::client::Client,
    dialect: Arc<dyn Dialect>,
    work: Vec<Work>,
    args: &ApplyArgs,
    approval: Approval,
) -> anyhow::Result<Report> {
    let term = ctx.term;
    let human = args.format == ApplyFormat::Human;
    if human {
        writeln!(term.out())?;
    }
    Ok(apply::apply(
        client,
        dialect,
        work,
        usize::from(args.parallelism),
        approval,
        |outcome| {
            if human {
                let _ = human::outcome(&mut term.out(), outcome, &term.out_styles);
            }
        },
    )
    .await)
}

fn finish(
    ctx: &Context<'_>,
    args: &ApplyArgs,
    mut document: PlanDocument,
    report: Report,
) -> anyhow::Result<ExitStatus> {
    let term = ctx.term;
    match args.format {
        ApplyFormat::Human => {
            writeln!(term.out())?;
            human::report(&mut term.out(), &report, &term.out_styles)?;
        }
        ApplyFormat::Json => {
            // In the plan's order, not the order users finished in.
            let mut applied: Vec<Applied> = report
                .outcomes
                .iter()
                .map(|o| Applied {
                    user_name: o.user_name.clone(),
                    action: o.action,
                    status: if o.error.is_none() {
                        "applied"
                    } else {
                        "failed"
                    }
                    .to_string(),
                    id: o.id.clone(),
                    error: o.error.clone(),
                })
                .collect();
            let rank = |name: &str| document.users.iter().position(|u| u.user_name == name);
            applied.sort_by_key(|a| rank(&a.user_name));
            document.applied = Some(applied);
            term.out().write_all(to_json(&document).as_bytes())?;
        }
    }
    Ok(if report.failed() == 0 {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}

fn refuse_stale(ctx: &Context<'_>, reasons: &[String]) -> ExitStatus {
    let term = ctx.term;
    term.error("the saved plan is stale, so nothing was applied:");
    for reason in reasons {
        let _ = writeln!(term.err(), "  - {reason}");
    }
    term.progress(
        "hint: make a new plan (`scimops plan --out FILE`), review it, and apply that one",
    );
    ExitStatus::Stale
}

/// `apply FILE`: exactly the saved plan, if the files and the users it touches are
/// still as they were when it was made.
async fn apply_saved(
    ctx: &Context<'_>,
    args: &ApplyArgs,
    file: &Path,
) -> anyhow::Result<ExitStatus> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("cannot read the plan `{}`", file.display()))?;
    let document = PlanDocument::from_json(&text)
        .map_err(anyhow::Error::msg)
        .with_context(|| format!("reading the plan `{}`", file.display()))?;
    let repo = Repository::load(&ctx.dir)?;
    if let Some(name) = ctx.target.as_deref().filter(|n| *n != document.target.name) {
        anyhow::bail!(
            "the plan is for target `{}`, not `{name}`",
            document.target.name
        );
    }
    let target = repo.target(Some(&document.target.name))?;

    // Offline first: the files, and the target.
    let mut stale = document.files.differences(&Files::new(repo.files.clone()));
    let now = target_ref(&ctx.dir, &target);
    if now != document.target {
        stale.push(format!(
            "target `{}` is now {} ({}), and the plan was made on {} ({})",
            now.name, now.endpoint, now.dialect, document.target.endpoint, document.target.dialect
        ));
    }
    if !stale.is_empty() {
        return Ok(refuse_stale(ctx, &stale));
    }
    let counts = Counts {
        deactivations: document.summary.deactivate,
        deletions: document.summary.delete,
        managed: document.summary.managed,
    };
    if let Some(status) = refused(ctx, counts, &repo.policy(), args.guards.overrides()) {
        return Ok(status);
    }

    let session = connect(&ctx.dir, &target, ctx.env).await?;
    if document.is_empty() {
        writeln!(
            ctx.term.out(),
            "No changes. The saved plan has nothing to apply."
        )?;
        return Ok(ExitStatus::Success);
    }
    ctx.term.progress(&format!(
        "Checking that the {} of plan {} are as they were...",
        crate::render::count(document.users.len(), "user"),
        document.short_digest()
    ));
    let server = document.server;
    let capabilities = Capabilities {
        patch: server.patch,
        filter: server.filter,
        etag: server.etag,
    };
    let dialect = dialect::for_target(&target.dialect, capabilities);
    let stale = apply::stale_users(
        &session.client,
        dialect.as_ref(),
        &document.users,
        usize::from(args.parallelism),
        server.filter,
        target.page_size,
    )
    .await
    .context("re-reading the users of the saved plan")?;
    if !stale.is_empty() {
        return Ok(refuse_stale(ctx, &stale));
    }
    // Saving the plan was the approval; a reviewer approved this file.
    let work = document.users.iter().map(Work::from).collect();
    let report = write(
        ctx,
        &session.client,
        dialect,
        work,
        args,
        Approval::auto_approved(),
    )
    .await?;
    finish(ctx, args, document, report)
}
