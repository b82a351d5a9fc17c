//! The plan for people, in Terraform's conventions: a block per user with `+`, `~`, `-`,
//! `old -> new` per attribute, and one summary line.

use std::io::{self, Write};

use super::{Styles, count};
use crate::apply::{Outcome, Report};
use crate::model::AttrChange;
use crate::plan::{Action, Plan, UserChange};

fn symbol(action: Action) -> &'static str {
    match action {
        Action::Create => "+",
        Action::Update | Action::Reactivate => "~",
        Action::Deactivate => "-",
    }
}

fn action_style(action: Action, s: &Styles) -> anstyle::Style {
    match action {
        Action::Create => s.create,
        Action::Update | Action::Reactivate => s.update,
        Action::Deactivate => s.remove,
    }
}

fn verb(action: Action) -> &'static str {
    match action {
        Action::Create => "created",
        Action::Update => "updated in place",
        Action::Deactivate => "deactivated",
        Action::Reactivate => "reactivated",
    }
}

/// The summary line: `Plan: 1 to create, 2 to update, 0 to deactivate.`
pub fn summary_line(plan: &Plan) -> String {
    let s = plan.summary();
    let mut line = format!(
        "Plan: {} to create, {} to update, {} to deactivate",
        s.create, s.update, s.deactivate
    );
    if s.reactivate > 0 {
        line.push_str(&format!(", {} to reactivate", s.reactivate));
    }
    line.push('.');
    line
}

pub fn plan(w: &mut dyn Write, plan: &Plan, s: &Styles) -> io::Result<()> {
    let managed = plan.unchanged + plan.users.iter().filter(|u| u.id.is_some()).count();
    if plan.is_empty() {
        writeln!(
            w,
            "{}No changes.{} The server's users match the files.",
            s.bold.render(),
            s.bold.render_reset()
        )?;
        writeln!(w)?;
        return unmanaged_note(w, plan, managed);
    }

    let summary = plan.summary();
    writeln!(w, "Users are marked with the following symbols:")?;
    if summary.create > 0 {
        writeln!(
            w,
            "  {}+{} create",
            s.create.render(),
            s.create.render_reset()
        )?;
    }
    if summary.update + summary.reactivate > 0 {
        writeln!(
            w,
            "  {}~{} update in place",
            s.update.render(),
            s.update.render_reset()
        )?;
    }
    if summary.deactivate > 0 {
        writeln!(
            w,
            "  {}-{} deactivate",
            s.remove.render(),
            s.remove.render_reset()
        )?;
    }
    writeln!(w)?;
    writeln!(w, "scimops will perform the following actions:")?;
    for user in &plan.users {
        writeln!(w)?;
        user_block(w, user, s)?;
    }
    writeln!(w)?;
    writeln!(
        w,
        "{}{}{}",
        s.bold.render(),
        summary_line(plan),
        s.bold.render_reset()
    )?;
    let requests: Vec<String> = summary
        .requests
        .iter()
        .map(|(method, n)| format!("{n} {method}"))
        .collect();
    let total: usize = summary.requests.values().sum();
    writeln!(
        w,
        "Apply will send {}: {}.",
        count(total, "request"),
        requests.join(", ")
    )?;
    if plan.unchanged > 0 || plan.unmanaged > 0 {
        writeln!(w)?;
        unmanaged_note(w, plan, managed)?;
    }
    Ok(())
}

fn unmanaged_note(w: &mut dyn Write, plan: &Plan, managed: usize) -> io::Result<()> {
    let declared = plan.unchanged + plan.users.len();
    let on_server = managed + plan.unmanaged;
    let unmanaged = match plan.unmanaged {
        0 => "all declared".to_string(),
        1 => "1 is in no file and is left alone".to_string(),
        n => format!("{n} are in no file and are left alone"),
    };
    writeln!(
        w,
        "{} declared, {} already as declared. The server has {}; {unmanaged}.",
        count(declared, "user"),
        plan.unchanged,
        count(on_server, "user"),
    )
}

fn user_block(w: &mut dyn Write, user: &UserChange, s: &Styles) -> io::Result<()> {
    let style = action_style(user.action, s);
    writeln!(
        w,
        "  {}# {} will be {}{}",
        s.bold.render(),
        user.user_name,
        verb(user.action),
        s.bold.render_reset()
    )?;
    writeln!(
        w,
        "  {}{}{} user {:?} {{",
        style.render(),
        symbol(user.action),
        style.render_reset(),
        user.user_name
    )?;
    let width = user
        .changes
        .iter()
        .map(|c| c.attr.to_string().len())
        .max()
        .unwrap_or(0);
    for change in &user.changes {
        attribute_line(w, change, width, s)?;
    }
    if user.unchanged_attributes > 0 {
        writeln!(
            w,
            "        {}# ({} hidden){}",
            s.dim.render(),
            count(user.unchanged_attributes, "unchanged attribute"),
            s.dim.render_reset()
        )?;
    }
    writeln!(w, "    }}")
}

fn attribute_line(w: &mut dyn Write, c: &AttrChange, width: usize, s: &Styles) -> io::Result<()> {
    let name = c.attr.to_string();
    let (style, symbol, value) = match (&c.before, &c.after) {
        (None, Some(after)) => (s.create, "+", after.to_string()),
        (Some(before), None) => (s.remove, "-", format!("{before} -> null")),
        (Some(before), Some(after)) => (s.update, "~", format!("{before} -> {after}")),
        (None, None) => (s.dim, " ", "null".to_string()),
    };
    writeln!(
        w,
        "      {}{symbol}{} {name:<width$} = {value}",
        style.render(),
        style.render_reset()
    )
}

/// One line per user as apply finishes it.
pub fn outcome(w: &mut dyn Write, outcome: &Outcome, s: &Styles) -> io::Result<()> {
    match &outcome.error {
        None => {
            let style = action_style(outcome.action, s);
            write!(
                w,
                "{}{}{}: {}",
                style.render(),
                outcome.user_name,
                style.render_reset(),
                match outcome.action {
                    Action::Update => "updated",
                    other => verb(other),
                }
            )?;
            match &outcome.id {
                Some(id) if outcome.action == Action::Create => writeln!(w, " [id={id}]"),
                _ => writeln!(w),
            }
        }
        Some(error) => {
            writeln!(
                w,
                "{}{}: failed{}: {error}",
                s.error.render(),
                outcome.user_name,
                s.error.render_reset()
            )?;
            writeln!(w, "  declared at {}", outcome.origin)
        }
    }
}

pub fn report(w: &mut dyn Write, report: &Report, s: &Styles) -> io::Result<()> {
    let done = |action| {
        report
            .outcomes
            .iter()
            .filter(|o| o.action == action && o.error.is_none())
            .count()
    };
    let mut parts = vec![
        format!("{} created", done(Action::Create)),
        format!("{} updated", done(Action::Update)),
        format!("{} deactivated", done(Action::Deactivate)),
    ];
    if report
        .outcomes
        .iter()
        .any(|o| o.action == Action::Reactivate)
    {
        parts.push(format!("{} reactivated", done(Action::Reactivate)));
    }
    let failed = report.failed();
    if failed == 0 {
        writeln!(
            w,
            "{}Apply complete!{} Users: {}.",
            s.create.render(),
            s.create.render_reset(),
            parts.join(", ")
        )
    } else {
        parts.push(format!("{failed} failed"));
        writeln!(
            w,
            "{}Apply failed.{} Users: {}. Run `scimops apply` again to finish once the cause is fixed.",
            s.error.render(),
            s.error.render_reset(),
            parts.join(", ")
        )
    }
}
