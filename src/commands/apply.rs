//! `scimops apply`: plan (or read a saved plan), confirm, write, report.

use std::io::{BufRead, Write};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use indicatif::{ProgressBar, ProgressStyle};

use anyhow::Context as _;

use super::Context;
use super::plan::{Planned, in_repository, make, refused, target_ref};
use crate::apply::{self, Approval, Report, Work};
use crate::cli::{ApplyArgs, ApplyFormat};

use crate::dialect::{self, Capabilities, Dialect};
use crate::error::Error;
use crate::exit::ExitStatus;
use crate::plan::{Files, Plan};
use crate::render::{human, json};

pub async fn run(ctx: &Context<'_>, args: &ApplyArgs) -> anyhow::Result<ExitStatus> {
    if let Some(file) = &args.plan {
        return apply_saved(ctx, args, &in_repository(ctx, file)).await;
    }
    let term = ctx.term;
    let json = args.format == ApplyFormat::Json;
    if json && !args.auto_approve {
        return Err(Error::JsonNeedsApproval.into());
    }
    let Planned {
        session,
        mut plan,
        dialect,
        policy,
        lookup,
    } = make(ctx, args.guards.overrides()).await?;
    // Quiet, the plan is its summary; but a person asked to approve sees it whole. It
    // is printed while its digest is computed.
    let asks = !args.auto_approve && term.stdin_is_terminal();
    plan.seal_while(|plan| {
        let view = super::shown(plan, args.mask_pii);
        if json {
            Ok(())
        } else if term.quiet && !asks {
            human::summary(&mut term.out(), &view, &term.out_styles)
        } else {
            human::plan(
                &mut term.out(),
                &view,
                &term.out_styles,
                human::Options::default(),
            )
        }
    })?;
    if let Some(status) = refused(ctx, plan.counts(), &policy, args.guards.overrides()) {
        return Ok(status);
    }
    if plan.is_empty() {
        if json {
            json::applied(
                &mut term.out(),
                &super::shown(&plan, args.mask_pii),
                Vec::new(),
            )?;
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
        return Err(Error::NoConfirmation.into());
    };
    let report = write(ctx, &session.client, dialect, &plan, args, lookup, approval).await?;
    let status = finish(ctx, args, &plan, &report);
    // The process ends next: the plan and the report are left to the operating system
    // (freeing 50,000 users' entries one by one is time spent for nothing).
    std::mem::forget((plan, report));
    status
}

/// Sends the work: a progress bar on a terminal, a line per user as it is done
/// otherwise (CI logs). Ctrl-C starts no new user and lets those in flight finish.
async fn write(
    ctx: &Context<'_>,
    client: &crate::scim::client::Client,
    dialect: Arc<dyn Dialect>,
    plan: &Plan,
    args: &ApplyArgs,
    lookup: apply::Lookup,
    approval: Approval,
) -> anyhow::Result<Report> {
    let work = Work::of(&plan.users);
    let private = crate::render::mask::Private(&plan.private);
    let term = ctx.term;
    let human = args.format == ApplyFormat::Human;
    if human && !term.quiet {
        writeln!(term.out())?;
    }
    let stop = Arc::new(AtomicBool::new(false));
    let interrupts = tokio::spawn({
        let stop = stop.clone();
        let term = term.clone();
        async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                stop.store(true, Ordering::SeqCst);
                term.progress(
                    "\nInterrupted: starting no new user; waiting for those in flight (Ctrl-C again to quit now).",
                );
                if tokio::signal::ctrl_c().await.is_ok() {
                    #[allow(clippy::disallowed_methods)] // the one way out on a second Ctrl-C
                    std::process::exit(130);
                }
            }
        }
    });
    let bar = (human && !term.quiet && term.stderr_is_terminal()).then(|| {
        let bar = ProgressBar::new(work.len() as u64);
        bar.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} users{msg} [{elapsed}]")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    });
    let options = apply::Options {
        parallelism: usize::from(args.parallelism),
        max_failures: args.max_failures as usize,
        lookup,
        stop,
    };
    let mut failed = 0;
    let report = apply::apply(client, dialect, work, &options, approval, |outcome| {
        // Quiet: only what did not go as planned.
        if !human || (term.quiet && outcome.applied()) {
            return;
        }
        let print = || {
            let outcome = if args.mask_pii {
                std::borrow::Cow::Owned(private.outcome(outcome, plan.users.get(outcome.index)))
            } else {
                std::borrow::Cow::Borrowed(outcome)
            };
            human::outcome(&mut term.out(), &outcome, &term.out_styles)
        };
        match &bar {
            Some(bar) => {
                let _ = bar.suspend(print);
                if !outcome.applied() {
                    failed += 1;
                    bar.set_message(format!(" ({failed} not applied)"));
                }
                bar.inc(1);
            }
            None => {
                let _ = print();
            }
        }
    })
    .await;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    interrupts.abort();
    Ok(report)
}

fn finish(
    ctx: &Context<'_>,
    args: &ApplyArgs,
    plan: &Plan,
    report: &Report,
) -> anyhow::Result<ExitStatus> {
    let term = ctx.term;
    let private = crate::render::mask::Private(&plan.private);
    match args.format {
        ApplyFormat::Human => {
            if !term.quiet {
                writeln!(term.out())?;
            }
            let masked;
            let report = if args.mask_pii {
                masked = Report {
                    outcomes: report
                        .outcomes
                        .iter()
                        .map(|o| private.outcome(o, plan.users.get(o.index)))
                        .collect(),
                    ..*report
                };
                &masked
            } else {
                report
            };
            human::report(&mut term.out(), report, &term.out_styles)?;
        }
        ApplyFormat::Json => {
            let applied = report
                .outcomes
                .iter()
                .map(|o| {
                    if args.mask_pii {
                        (&private.outcome(o, plan.users.get(o.index))).into()
                    } else {
                        o.into()
                    }
                })
                .collect();
            json::applied(&mut term.out(), &super::shown(plan, args.mask_pii), applied)?;
        }
    }
    Ok(if report.complete() {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}

fn refuse_stale(ctx: &Context<'_>, reasons: &[String]) -> ExitStatus {
    let term = ctx.term;
    term.error("the saved plan is stale, so nothing was applied:");
    for reason in reasons {
        let _ = writeln!(term.err(), "  - {}", crate::escape::Shown(reason));
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
    let document = super::read_saved(file)?;
    let repo = super::load(ctx)?;
    if let Some(name) = ctx.target.as_deref().filter(|n| *n != document.target.name) {
        return Err(Error::PlanForAnotherTarget {
            plan: document.target.name.clone(),
            asked: name.to_string(),
        }
        .into());
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
    if let Some(status) = refused(
        ctx,
        document.counts(),
        &repo.policy(dialect::for_target(&target.dialect, Capabilities::default()).as_ref()),
        args.guards.overrides(),
    ) {
        return Ok(status);
    }

    let session = super::connect(ctx, &target).await?;
    if document.is_empty() {
        writeln!(
            ctx.term.out(),
            "No changes. The saved plan has nothing to apply."
        )?;
        return Ok(ExitStatus::Success);
    }
    ctx.term.progress(&format!(
        "Checking that the {} of plan {} are as they were...",
        crate::words::count(document.users.len(), "user"),
        document.short_digest()
    ));
    let server = &document.server;
    let capabilities = Capabilities {
        patch: server.patch,
        filter: server.filter,
        etag: server.etag,
    };
    let dialect = dialect::for_target(&target.dialect, capabilities);
    let lookup = apply::Lookup {
        listing: crate::observe::Listing {
            count: (!server.count_refused).then(|| dialect.page_size()),
            paging: server.paging.or(dialect.paging()),
        },
    };
    let stale = apply::stale_users(
        &session.client,
        dialect.as_ref(),
        &document.users,
        usize::from(args.parallelism),
        &lookup,
    )
    .await
    .context("re-reading the users of the saved plan")?;
    if !stale.is_empty() {
        return Ok(refuse_stale(ctx, &stale));
    }
    // Saving the plan was the approval; a reviewer approved this file.
    let report = write(
        ctx,
        &session.client,
        dialect,
        &document,
        args,
        lookup,
        Approval::auto_approved(),
    )
    .await?;
    finish(ctx, args, &document, &report)
}
