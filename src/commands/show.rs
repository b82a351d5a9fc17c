//! `scimops show FILE`: a saved plan, offline, in any view.

use std::io::Write;

use super::Context;
use super::plan::in_repository;
use crate::cli::{Format, ShowArgs};
use crate::exit::ExitStatus;
use crate::render::{human, json, markdown};

pub fn run(ctx: &Context<'_>, args: &ShowArgs) -> anyhow::Result<ExitStatus> {
    let plan = super::read_saved(&in_repository(ctx, &args.plan))?;
    let term = ctx.term;
    let mut w = term.out();
    let plan = super::shown(&plan, args.view.mask_pii);
    match args.view.format {
        Format::Human => {
            writeln!(
                w,
                "Saved plan {} for target `{}` ({}), made by scimops {} from {}.\n",
                plan.short_digest(),
                crate::escape::Shown(&plan.target.name),
                crate::escape::Shown(&plan.target.endpoint),
                crate::escape::Shown(&plan.scimops_version),
                crate::render::summary::files_read(&plan.files.read),
            )?;
            let options = human::Options {
                show_requests: args.view.show_requests,
            };
            human::plan(&mut w, &plan, &term.out_styles, options)?;
            if !plan.is_empty() {
                writeln!(
                    w,
                    "\nTo perform exactly these actions, run:\n    {} apply {}",
                    ctx.scimops(),
                    super::shell_word(&args.plan.to_string_lossy())
                )?;
            }
        }
        Format::Json => json::plan(&mut w, &plan)?,
        Format::Markdown => {
            let options = markdown::Options {
                limit: args.view.markdown_limit as usize,
                elsewhere: Some(format!(
                    "the saved plan (`{} show {}`)",
                    ctx.scimops(),
                    super::shell_word(&args.plan.to_string_lossy())
                )),
            };
            markdown::write(&mut w, &plan, options)?;
        }
    }
    Ok(ExitStatus::Success)
}
