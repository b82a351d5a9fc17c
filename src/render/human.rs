//! The plan for people, in Terraform's conventions: a block per user with `+`, `~`, `-`,
//! `old -> new` per attribute, and one summary line.

use std::io::{self, Write};

use similar::{ChangeTag, TextDiff};

use super::Styles;
use crate::apply::{Outcome, Report, Status};
use crate::escape::{Shown, lines, term};
use crate::model::{Attr, AttrChange, Value};
use crate::plan::{Action, Plan, UserChange};

/// What to show besides the plan itself.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// Under each user, the exact requests apply will send.
    pub show_requests: bool,
}

fn symbol(action: Action) -> &'static str {
    match action {
        Action::Create => "+",
        Action::Update | Action::Rename | Action::Reactivate => "~",
        Action::Deactivate | Action::Delete => "-",
    }
}

fn action_style(action: Action, s: &Styles) -> anstyle::Style {
    match action {
        Action::Create => s.create,
        Action::Update | Action::Rename | Action::Reactivate => s.update,
        Action::Deactivate | Action::Delete => s.remove,
    }
}

fn verb(action: Action) -> &'static str {
    match action {
        Action::Create => "created",
        Action::Update => "updated in place",
        Action::Rename => "renamed",
        Action::Deactivate => "deactivated",
        Action::Reactivate => "reactivated",
        Action::Delete => "deleted",
    }
}

pub fn plan(w: &mut dyn Write, plan: &Plan, s: &Styles, options: Options) -> io::Result<()> {
    let summary = &plan.summary;
    if plan.is_empty() {
        writeln!(
            w,
            "{}No changes.{} The server's users match the files.",
            s.bold.render(),
            s.bold.render_reset()
        )?;
        writeln!(w)?;
        writeln!(w, "{}", super::summary::users_line(summary))?;
        unsupported(w, plan)?;
        protected(w, plan)?;
        return unmanaged(w, plan, s);
    }

    writeln!(w, "Users are marked with the following symbols:")?;
    for (n, style, symbol, meaning) in [
        (summary.create, s.create, "+", "create"),
        (
            summary.update + summary.reactivate,
            s.update,
            "~",
            "update in place",
        ),
        (summary.rename, s.update, "~", "rename (a new userName)"),
        (summary.deactivate, s.remove, "-", "deactivate"),
        (
            summary.delete,
            s.remove,
            "-",
            "delete (removed from the server)",
        ),
    ] {
        if n > 0 {
            writeln!(
                w,
                "  {}{symbol}{} {meaning}",
                style.render(),
                style.render_reset()
            )?;
        }
    }
    writeln!(w)?;
    writeln!(w, "scimops will perform the following actions:")?;
    for user in &plan.users {
        writeln!(w)?;
        user_block(w, user, s, options)?;
    }
    writeln!(w)?;
    writeln!(
        w,
        "{}{}{}",
        s.bold.render(),
        super::summary::line(summary),
        s.bold.render_reset()
    )?;
    writeln!(w, "{}", super::summary::requests_line(summary))?;
    writeln!(w)?;
    writeln!(w, "{}", super::summary::users_line(summary))?;
    unsupported(w, plan)?;
    protected(w, plan)?;
    unmanaged(w, plan, s)
}

/// The users on the server that no file declares, by name: the first ones, and how
/// many more.
fn unmanaged(w: &mut dyn Write, plan: &Plan, s: &Styles) -> io::Result<()> {
    let Some(heading) = super::summary::unmanaged_heading(&plan.summary) else {
        return Ok(());
    };
    writeln!(w)?;
    writeln!(w, "{heading}:")?;
    let shown: Vec<_> = plan
        .unmanaged
        .iter()
        .take(super::summary::UNMANAGED_SHOWN)
        .collect();
    let width = shown
        .iter()
        .map(|u| Shown(&u.user_name).to_string().chars().count())
        .max()
        .unwrap_or(0);
    for u in &shown {
        let (state, protected) = super::summary::unmanaged_state(u);
        let style = if u.active { s.warning } else { s.dim };
        let name = Shown(&u.user_name).to_string();
        write!(
            w,
            "  {name:<width$}  {}{state}{}",
            style.render(),
            style.render_reset()
        )?;
        match protected {
            Some(pattern) => writeln!(w, ", protected (matches `{}`)", Shown(pattern))?,
            None => writeln!(w)?,
        }
    }
    if let Some(more) = super::summary::unmanaged_more(&plan.summary, shown.len()) {
        writeln!(w, "  {more}")?;
    }
    Ok(())
}

/// The plan in its summary lines alone (`--quiet`): `No changes.`, or what it does and
/// the requests it sends.
pub fn summary(w: &mut dyn Write, plan: &Plan, s: &Styles) -> io::Result<()> {
    if plan.is_empty() {
        return writeln!(
            w,
            "{}No changes.{} The server's users match the files.",
            s.bold.render(),
            s.bold.render_reset()
        );
    }
    writeln!(
        w,
        "{}{}{}",
        s.bold.render(),
        super::summary::line(&plan.summary),
        s.bold.render_reset()
    )?;
    writeln!(w, "{}", super::summary::requests_line(&plan.summary))
}

/// What the target says its server does not keep: left out of every comparison.
fn unsupported(w: &mut dyn Write, plan: &Plan) -> io::Result<()> {
    if let Some(line) = super::summary::unsupported_line(&plan.server) {
        writeln!(w, "{line}")?;
    }
    Ok(())
}

/// Protected users a file or the policy would have changed.
fn protected(w: &mut dyn Write, plan: &Plan) -> io::Result<()> {
    if plan.protected.is_empty() {
        return Ok(());
    }
    writeln!(w)?;
    writeln!(w, "Protected by the policy, and left as they are:")?;
    for p in &plan.protected {
        writeln!(
            w,
            "  {} (would be {}; matches `{}`)",
            Shown(&p.user_name),
            verb(p.action),
            Shown(&p.pattern)
        )?;
    }
    Ok(())
}

/// Terraform's note for a plan that was not saved.
pub fn not_saved_note(w: &mut dyn Write, s: &Styles) -> io::Result<()> {
    writeln!(w)?;
    writeln!(
        w,
        "{}Note:{} You didn't use the --out option to save this plan, so scimops can't\n\
         guarantee to take exactly these actions if you run \"scimops apply\" now.",
        s.bold.render(),
        s.bold.render_reset()
    )
}

fn user_block(
    w: &mut dyn Write,
    user: &UserChange,
    s: &Styles,
    options: Options,
) -> io::Result<()> {
    let style = action_style(user.action, s);
    let quoted =
        |name: &str| Shown(&serde_json::Value::String(name.to_string()).to_string()).to_string();
    let (comment, subject) = match (&user.renamed_from, user.action) {
        (Some(from), action) => (
            match action {
                Action::Rename => format!(
                    "{} will be renamed to {}",
                    Shown(from),
                    Shown(&user.user_name)
                ),
                other => format!(
                    "{} will be renamed to {} and {}",
                    Shown(from),
                    Shown(&user.user_name),
                    verb(other)
                ),
            },
            format!("rename {} -> {}", quoted(from), quoted(&user.user_name)),
        ),
        (None, action) => (
            format!("{} will be {}", Shown(&user.user_name), verb(action)),
            format!("user {}", quoted(&user.user_name)),
        ),
    };
    writeln!(
        w,
        "  {}# {comment}{}",
        s.bold.render(),
        s.bold.render_reset()
    )?;
    writeln!(
        w,
        "  {}{}{} {subject} {{",
        style.render(),
        symbol(user.action),
        style.render_reset(),
    )?;
    // A rename's new userName is in the line above.
    let changes = user.changes.iter().filter(|c| c.attr != Attr::UserName);
    let width = changes
        .clone()
        .map(|c| term(&c.attr.to_string()).chars().count())
        .max()
        .unwrap_or(0);
    for change in changes {
        attribute_lines(w, change, width, s)?;
    }
    if user.unchanged_attributes > 0 {
        writeln!(
            w,
            "        {}# ({} hidden){}",
            s.dim.render(),
            crate::words::count(user.unchanged_attributes, "unchanged attribute"),
            s.dim.render_reset()
        )?;
    }
    writeln!(w, "    }}")?;
    if options.show_requests {
        for request in &user.requests {
            writeln!(
                w,
                "    {}{} {}{}",
                s.dim.render(),
                request.method,
                Shown(&request.path),
                s.dim.render_reset()
            )?;
            if let Some(body) = &request.body {
                let text = serde_json::to_string_pretty(body).unwrap_or_default();
                for line in text.lines() {
                    let line = term(line);
                    writeln!(w, "      {}{line}{}", s.dim.render(), s.dim.render_reset())?;
                }
            }
        }
    }
    Ok(())
}

/// A value as a plan line shows it: JSON-quoted, nothing hidden.
fn shown(value: &Value) -> String {
    term(&value.to_string()).into_owned()
}

fn multi_line(value: Option<&Value>) -> Option<&str> {
    match value {
        Some(Value::String(s)) if s.contains('\n') => Some(s),
        _ => None,
    }
}

fn attribute_lines(w: &mut dyn Write, c: &AttrChange, width: usize, s: &Styles) -> io::Result<()> {
    let attribute = c.attr.to_string();
    let name = term(&attribute);
    // A multi-line text changes line by line, as a diff.
    if let (Some(before), Some(after)) =
        (multi_line(c.before.as_ref()), multi_line(c.after.as_ref()))
    {
        writeln!(
            w,
            "      {}~{} {name:<width$} = <<-EOT",
            s.update.render(),
            s.update.render_reset()
        )?;
        for change in TextDiff::from_lines(before, after).iter_all_changes() {
            let (style, sign) = match change.tag() {
                ChangeTag::Delete => (s.remove, "-"),
                ChangeTag::Insert => (s.create, "+"),
                ChangeTag::Equal => (anstyle::Style::new(), " "),
            };
            let line = change.value();
            writeln!(
                w,
                "          {}{sign} {}{}",
                style.render(),
                term(line.strip_suffix('\n').unwrap_or(line)),
                style.render_reset()
            )?;
        }
        return writeln!(w, "        EOT");
    }
    // What the server had, and, when it returned another attribute instead, which.
    let before = |v: &Value| match &c.before_from {
        Some(from) => format!("{} ({})", shown(v), term(&from.to_string())),
        None => shown(v),
    };
    let (style, symbol, value) = match (&c.before, &c.after) {
        (None, Some(after)) => (s.create, "+", shown(after)),
        (Some(b), None) => (s.remove, "-", format!("{} -> null", before(b))),
        (Some(b), Some(after)) => (s.update, "~", format!("{} -> {}", before(b), shown(after))),
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
fn done_verb(action: Action) -> &'static str {
    match action {
        Action::Update => "updated",
        other => verb(other),
    }
}

/// One user's outcome, as it finishes.
pub fn outcome(w: &mut dyn Write, outcome: &Outcome, s: &Styles) -> io::Result<()> {
    match &outcome.status {
        Status::Applied { note } => {
            let style = action_style(outcome.action, s);
            write!(
                w,
                "{}{}{}: {}",
                style.render(),
                Shown(&outcome.user_name),
                style.render_reset(),
                done_verb(outcome.action)
            )?;
            if let (Some(id), Action::Create) = (&outcome.id, outcome.action) {
                write!(w, " [id={}]", Shown(id))?;
            }
            match note {
                Some(note) => writeln!(w, " ({})", Shown(note)),
                None => writeln!(w),
            }
        }
        Status::Failed(error) => {
            writeln!(
                w,
                "{}{}: failed{}: {}",
                s.error.render(),
                Shown(&outcome.user_name),
                s.error.render_reset(),
                lines(error)
            )?;
            writeln!(w, "  declared at {}", outcome.origin)
        }
        Status::Skipped(why) => writeln!(
            w,
            "{}{}: skipped{}: {}",
            s.warning.render(),
            Shown(&outcome.user_name),
            s.warning.render_reset(),
            Shown(why)
        ),
        Status::Unkept(unkept) => {
            writeln!(
                w,
                "{}{}: {}, but the server did not keep {}{}:",
                s.error.render(),
                Shown(&outcome.user_name),
                done_verb(outcome.action),
                crate::words::count(unkept.len(), "attribute"),
                s.error.render_reset(),
            )?;
            for u in unkept {
                let sent = u.sent.as_ref().map_or_else(
                    || "null (cleared)".to_string(),
                    |v| term(&v.to_string()).into_owned(),
                );
                match &u.declared_at {
                    Some(at) => writeln!(
                        w,
                        "  {} = {sent}, declared at {at}",
                        term(&u.attr.to_string())
                    )?,
                    None => writeln!(w, "  {} = {sent}", term(&u.attr.to_string()))?,
                }
            }
            let names: Vec<String> = unkept
                .iter()
                .map(|u| term(&u.attr.to_string()).into_owned())
                .collect();
            writeln!(
                w,
                "  hint: the server answered 2xx and does not have them; if it does not store them, add `unsupported: [{}]` to the target in scimops.yaml: scimops then neither compares nor sends them",
                names.join(", ")
            )
        }
    }
}

/// The end of an apply: when something was not applied, a table of every user (those
/// not applied first), then one line of counts.
pub fn report(w: &mut dyn Write, report: &Report, s: &Styles) -> io::Result<()> {
    let done = |action| {
        report
            .outcomes
            .iter()
            .filter(|o| o.action == action && o.written())
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
    if report.outcomes.iter().any(|o| o.action == Action::Rename) {
        parts.push(format!("{} renamed", done(Action::Rename)));
    }
    if report.outcomes.iter().any(|o| o.action == Action::Delete) {
        parts.push(format!("{} deleted", done(Action::Delete)));
    }
    let (failed, skipped, unkept) = (report.failed(), report.skipped(), report.unkept());
    if report.retries > 0 {
        writeln!(
            w,
            "{}Requests sent again in this run: {} (after 429, 5xx, dropped connections, timeouts).{}",
            s.dim.render(),
            report.retries,
            s.dim.render_reset()
        )?;
    }
    if report.complete() {
        return writeln!(
            w,
            "{}Apply complete!{} Users: {}.",
            s.create.render(),
            s.create.render_reset(),
            parts.join(", ")
        );
    }
    outcome_table(w, report)?;
    writeln!(w)?;
    if failed > 0 {
        parts.push(format!("{failed} failed"));
    }
    if skipped > 0 {
        parts.push(format!("{skipped} skipped"));
    }
    if unkept > 0 {
        parts.push(format!(
            "{} with attributes the server did not keep",
            crate::words::count(unkept, "user")
        ));
    }
    let (title, next) = if report.interrupted {
        ("Apply interrupted.", "Run `scimops apply` again to finish.")
    } else if failed + skipped == 0 {
        (
            "Apply incomplete.",
            "Tell the target what its server does not keep (`unsupported`), or fix the server, then plan again.",
        )
    } else {
        (
            "Apply failed.",
            "Run `scimops apply` again to finish once the cause is fixed.",
        )
    };
    writeln!(
        w,
        "{}{title}{} Users: {}. {next}",
        s.error.render(),
        s.error.render_reset(),
        parts.join(", ")
    )
}

/// The first line of `text`, cut to fit a table (the whole is printed above it).
fn brief(text: &str) -> String {
    const WIDTH: usize = 100;
    let line = term(text.lines().next().unwrap_or_default());
    if line.chars().count() <= WIDTH {
        line.to_string()
    } else {
        line.chars().take(WIDTH - 1).collect::<String>() + "…"
    }
}

fn outcome_table(w: &mut dyn Write, report: &Report) -> io::Result<()> {
    let mut rows: Vec<&Outcome> = report.outcomes.iter().collect();
    rows.sort_by_key(|o| match o.status {
        Status::Failed(_) => 0,
        Status::Unkept(_) => 1,
        Status::Skipped(_) => 2,
        Status::Applied { .. } => 3,
    });
    let mut table = tabled::builder::Builder::default();
    table.push_record(["user", "action", "outcome", "details"]);
    for o in rows {
        let (outcome, details) = match &o.status {
            Status::Applied { note } => (done_verb(o.action), note.clone().unwrap_or_default()),
            Status::Failed(error) => ("failed", error.clone()),
            Status::Skipped(why) => ("skipped", why.clone()),
            Status::Unkept(unkept) => (
                "not kept",
                unkept
                    .iter()
                    .map(|u| u.attr.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
        };
        table.push_record([
            term(&o.user_name).as_ref(),
            o.action.as_str(),
            outcome,
            brief(&details).as_str(),
        ]);
    }
    let mut table = table.build();
    table.with(tabled::settings::Style::psql());
    for line in table.to_string().lines() {
        writeln!(w, "{}", line.trim_end())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Attr, Origin, UserKey};

    fn render(user: UserChange, options: Options) -> String {
        let plan = Plan {
            users: vec![user],
            ..Plan::default()
        };
        let mut out = Vec::new();
        super::plan(&mut out, &plan, &Styles::plain(), options).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn user(changes: Vec<AttrChange>) -> UserChange {
        UserChange {
            kind: crate::plan::Kind::User,
            user_name: "ann@x".into(),
            key: UserKey::from_canonical("ann@x".into()),
            id: Some("1".into()),
            renamed_from: None,
            action: Action::Update,
            reason: crate::plan::Reason::Differs,
            changes,
            unchanged_attributes: 0,
            requests: vec![],
            declared_at: Origin {
                file: std::path::Path::new("u.yaml").into(),
                line: 1,
                column: 1,
            },
            fingerprint: Some("sha256:x".into()),
        }
    }

    fn change(attr: Attr, before: Option<Value>, after: Option<Value>) -> AttrChange {
        AttrChange {
            attr,
            before,
            after,
            effect: crate::model::Effect::Profile,
            before_from: None,
            declared_at: None,
        }
    }

    #[test]
    fn multi_line_values_are_diffed_line_by_line() {
        let text = |s: &str| Some(Value::String(s.to_string()));
        let out = render(
            user(vec![change(
                Attr::Property("Notes".into()),
                text("one\ntwo\nthree\n"),
                text("one\n2\nthree\n"),
            )]),
            Options::default(),
        );
        assert!(
            out.contains(
                "      ~ properties.Notes = <<-EOT\n            one\n          - two\n          + 2\n            three\n        EOT\n"
            ),
            "{out}"
        );
    }
}
