//! `scimops apply`: plan, confirm, write, report.

use std::io::{BufRead, Write};

use super::Context;
use super::plan::{Planned, make};
use crate::apply::{self, Approval};
use crate::cli::ApplyArgs;
use crate::exit::ExitStatus;
use crate::render::human;

pub async fn run(ctx: &Context<'_>, args: &ApplyArgs) -> anyhow::Result<ExitStatus> {
    let Planned { session, plan } = make(ctx).await?;
    let term = ctx.term;
    human::plan(&mut term.out(), &plan, &term.out_styles)?;
    if plan.is_empty() {
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
        term.progress("hint: review the plan, then run `scimops apply --auto-approve`");
        return Ok(ExitStatus::Failure);
    };
    writeln!(term.out())?;
    let report = apply::apply(
        &session.client,
        &plan,
        usize::from(args.parallelism),
        approval,
        |outcome| {
            let _ = human::outcome(&mut term.out(), outcome, &term.out_styles);
        },
    )
    .await;
    writeln!(term.out())?;
    human::report(&mut term.out(), &report, &term.out_styles)?;
    Ok(if report.failed() == 0 {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}
