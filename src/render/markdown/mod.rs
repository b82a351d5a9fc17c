//! The plan as a pull-request comment (GitHub-flavoured Markdown).
//!
//! Written for access review: counts first; a warning when anyone loses access;
//! users grouped as grants (created, reactivated, a boolean property turned on),
//! revocations (deactivated, a boolean property turned off) and profile changes;
//! each user's changes folded in `<details>`; the plan's digest last, so the reviewer
//! can tell which plan they approved. It never exceeds GitHub's comment limit: users
//! that do not fit are left out, with a note saying how many and where to find them.

use std::fmt::Write as _;

use super::summary;
use crate::escape;
use crate::model::{Effect, Value};
use crate::plan::{Action, Plan, UserChange};

/// GitHub's limit on a comment, in characters.
pub const GITHUB_COMMENT_LIMIT: usize = 65_535;

#[derive(Clone, Debug)]
pub struct Options {
    /// The longest comment to produce, in bytes (so also in characters).
    pub limit: usize,
    /// Where every user of the plan can be read when the comment cannot name them all
    /// (said as it is: "the saved plan `plan.json` (`scimops show plan.json`)").
    pub elsewhere: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            limit: GITHUB_COMMENT_LIMIT,
            elsewhere: None,
        }
    }
}

/// The sections of the comment, in the order they come: by what the entries mean for
/// access (the plan says it; see [`UserChange::effect`]).
fn title(effect: Effect) -> &'static str {
    match effect {
        Effect::Grant => "Grants",
        Effect::Revoke => "Revocations",
        Effect::Profile => "Profile changes",
    }
}

fn describe(effect: Effect) -> &'static str {
    match effect {
        Effect::Grant => {
            "users created or reactivated, or given a permission (a property turned on)"
        }
        Effect::Revoke => "users deactivated, or losing a permission (a property turned off)",
        Effect::Profile => "names, contact details and other properties",
    }
}

fn verb(action: Action) -> &'static str {
    match action {
        Action::Create => "will be created",
        Action::Update => "will be updated",
        Action::Rename => "will be renamed",
        Action::Deactivate => "will be deactivated",
        Action::Reactivate => "will be reactivated",
        Action::Delete => "will be deleted",
    }
}

/// A value in Markdown prose or a table: a code span it cannot close.
fn code(text: &str) -> String {
    escape::code(text)
}

fn value(v: Option<&Value>) -> String {
    v.map_or_else(|| "null".to_string(), Value::to_string)
}

fn details(user: &UserChange) -> String {
    let mut out = String::new();
    let what = match (&user.renamed_from, user.action) {
        (Some(from), Action::Rename) => format!(
            "{} will be renamed to {}",
            escape::html_code(from),
            escape::html_code(&user.user_name)
        ),
        (Some(from), action) => format!(
            "{} will be renamed to {} and {}",
            escape::html_code(from),
            escape::html_code(&user.user_name),
            verb(action).trim_start_matches("will be ")
        ),
        (None, action) => format!("{} {}", escape::html_code(&user.user_name), verb(action)),
    };
    let _ = writeln!(out, "<details><summary>{what}</summary>\n");
    out.push_str("```diff\n");
    for c in &user.changes {
        // What the server had, and, when it returned another attribute instead, which.
        let before = |v: &Value| match &c.before_from {
            Some(from) => format!("{} ({from})", value(Some(v))),
            None => value(Some(v)),
        };
        let (sign, text) = match (&c.before, &c.after) {
            (None, Some(after)) => ("+", value(Some(after))),
            (Some(b), None) => ("-", format!("{} -> null", before(b))),
            (b, after) => (
                "!",
                format!(
                    "{} -> {}",
                    b.as_ref().map_or_else(|| value(None), before),
                    value(after.as_ref())
                ),
            ),
        };
        let _ = writeln!(
            out,
            "{sign} {} = {}",
            escape::fenced(&c.attr.to_string()),
            escape::fenced(&text)
        );
    }
    if user.unchanged_attributes > 0 {
        let _ = writeln!(
            out,
            "# ({} hidden)",
            crate::words::count(user.unchanged_attributes, "unchanged attribute")
        );
    }
    out.push_str("```\n\n");
    let methods: Vec<String> = user
        .requests
        .iter()
        .map(|r| format!("`{}`", r.method))
        .collect();
    let _ = writeln!(
        out,
        "Declared at {} · apply sends {}\n",
        code(&user.declared_at.to_string()),
        methods.join(", ")
    );
    out.push_str("</details>\n\n");
    out
}

/// Writes the comment for `plan`.
pub fn write(w: &mut dyn std::io::Write, plan: &Plan, options: Options) -> std::io::Result<()> {
    w.write_all(render(plan, options).as_bytes())
}

/// The comment for `doc`.
pub fn render(doc: &Plan, options: Options) -> String {
    let s = &doc.summary;
    let mut head = String::new();
    let _ = writeln!(head, "### scimops plan for {}\n", code(&doc.target.name));
    if !doc.files.read.is_empty() {
        let read: Vec<String> = doc.files.read.iter().map(|p| code(p)).collect();
        let _ = writeln!(head, "Users declared in {}.\n", read.join(", "));
    }
    if doc.is_empty() {
        let _ = writeln!(
            head,
            "**No changes.** The server's users match the files.\n"
        );
        return head + &unmanaged(doc) + &footer(doc);
    }
    let _ = writeln!(
        head,
        "**{}** {}\n",
        summary::line(s),
        summary::requests_line(s)
    );
    for reason in &doc.refusals {
        let _ = writeln!(
            head,
            "> [!CAUTION]\n> **Refused by the safety policy:** {}\n",
            escape::text(&reason.to_string())
        );
    }
    if !doc.protected.is_empty() {
        let names: Vec<String> = doc
            .protected
            .iter()
            .map(|p| {
                format!(
                    "{} (would be {})",
                    code(&p.user_name),
                    verb(p.action).trim_start_matches("will be ")
                )
            })
            .collect();
        let _ = writeln!(
            head,
            "> [!NOTE]\n> Protected by the policy, and left as they are: {}.\n",
            names.join(", ")
        );
    }

    let revoked: Vec<&UserChange> = doc
        .users
        .iter()
        .filter(|u| matches!(u.action, Action::Deactivate | Action::Delete))
        .collect();
    if !revoked.is_empty() {
        let names: Vec<String> = revoked
            .iter()
            .take(20)
            .map(|u| code(&u.user_name))
            .collect();
        let more = revoked.len().saturating_sub(20);
        let _ = writeln!(
            head,
            "> [!WARNING]\n> This plan **deactivates or deletes {}**: {}{}. They will no longer be able to sign in.\n",
            crate::words::count(revoked.len(), "user"),
            names.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        );
    }

    let mut groups: Vec<(Effect, Vec<&UserChange>)> = Vec::new();
    for user in &doc.users {
        let g = user.effect();
        match groups.iter_mut().find(|(k, _)| *k == g) {
            Some((_, list)) => list.push(user),
            None => groups.push((g, vec![user])),
        }
    }
    groups.sort_by_key(|(g, _)| *g);
    head.push_str("| | users | |\n|---|---:|---|\n");
    for (g, users) in &groups {
        let _ = writeln!(
            head,
            "| **{}** | {} | {} |",
            title(*g),
            users.len(),
            describe(*g)
        );
    }
    head.push('\n');

    let foot = unmanaged(doc) + &footer(doc);
    let room = options
        .limit
        .saturating_sub(head.len() + foot.len() + NOTE_ROOM);
    let elsewhere = options
        .elsewhere
        .as_deref()
        .unwrap_or("the output of `scimops plan`");
    // Every changed user is named, in the fullest form that fits: each user's changes
    // with their values; else a table of users and the attributes that change; else
    // the names by action; else counts (above), and where the names are.
    let body = [
        full_form(&groups),
        table_form(doc),
        names_form(doc),
    ]
    .into_iter()
    .enumerate()
    .find(|(_, body)| body.len() <= room)
    .map(|(level, body)| match level {
        0 => body,
        1 => format!(
            "{body}\n> [!NOTE]\n> Each user is named with the attributes that change; their values are left out to stay under the comment's limit of {} characters. {} has them.\n\n",
            options.limit,
            first_upper(elsewhere)
        ),
        _ => format!(
            "{body}\n> [!NOTE]\n> Each user is named by what happens to it; the attributes are left out to stay under the comment's limit of {} characters. {} has them.\n\n",
            options.limit,
            first_upper(elsewhere)
        ),
    })
    .unwrap_or_else(|| {
        format!(
            "> [!IMPORTANT]\n> This plan changes {}: too many to name under the comment's limit of {} characters (the counts are above). {} names every one, with its changes.\n\n",
            crate::words::count(doc.users.len(), "user"),
            options.limit,
            first_upper(elsewhere)
        )
    });
    head + &body + &foot
}

/// Room kept for the note that says what a shorter form leaves out.
const NOTE_ROOM: usize = 600;

fn first_upper(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Every user's changes, with values, folded per user, by effect.
fn full_form(groups: &[(Effect, Vec<&UserChange>)]) -> String {
    let mut body = String::new();
    for (g, users) in groups {
        let _ = write!(body, "#### {} ({})\n\n", title(*g), users.len());
        for user in users {
            body.push_str(&details(user));
        }
    }
    body
}

/// What happens to a user, in a word.
fn action_word(user: &UserChange) -> &'static str {
    match (user.action, &user.renamed_from) {
        (Action::Create, _) => "create",
        (Action::Update, _) => "update",
        (Action::Rename, _) => "rename",
        (Action::Deactivate, Some(_)) => "rename, deactivate",
        (Action::Deactivate, None) => "deactivate",
        (Action::Reactivate, Some(_)) => "rename, reactivate",
        (Action::Reactivate, None) => "reactivate",
        (Action::Delete, _) => "delete",
    }
}

/// One row per user: its name, what happens, and the attributes that change.
fn table_form(doc: &Plan) -> String {
    let mut body =
        String::from("#### Changes\n\n| user | action | attributes that change |\n|---|---|---|\n");
    for user in &doc.users {
        let attrs: Vec<String> = user.changes.iter().map(|c| c.attr.to_string()).collect();
        let _ = writeln!(
            body,
            "| {} | {} | {} |",
            code(&user.user_name),
            action_word(user),
            escape::text(&attrs.join(", "))
        );
    }
    body
}

/// The names, by action.
fn names_form(doc: &Plan) -> String {
    let mut body = String::from("#### Users\n\n");
    for action in [
        Action::Create,
        Action::Update,
        Action::Rename,
        Action::Deactivate,
        Action::Reactivate,
        Action::Delete,
    ] {
        let names: Vec<String> = doc
            .users
            .iter()
            .filter(|u| u.action == action)
            .map(|u| code(&u.user_name))
            .collect();
        if !names.is_empty() {
            let _ = write!(
                body,
                "**{} ({}):** {}\n\n",
                first_upper(verb(action).trim_start_matches("will be ")),
                names.len(),
                names.join(", ")
            );
        }
    }
    body
}

/// The longest userName the unmanaged table shows whole, in characters: a server's
/// names must not fill the comment.
const NAME_SHOWN: usize = 100;

/// The users on the server that no file declares, folded: the first ones by name, and
/// how many more.
fn unmanaged(doc: &Plan) -> String {
    let Some(heading) = summary::unmanaged_heading(&doc.summary) else {
        return String::new();
    };
    let mut out = format!("<details><summary>{heading}</summary>\n\n| user | state |\n|---|---|\n");
    let shown: Vec<_> = doc
        .unmanaged
        .iter()
        .take(summary::UNMANAGED_SHOWN)
        .collect();
    for u in &shown {
        let name: String = if u.user_name.chars().count() > NAME_SHOWN {
            u.user_name.chars().take(NAME_SHOWN).chain(['…']).collect()
        } else {
            u.user_name.clone()
        };
        let (state, protected) = summary::unmanaged_state(u);
        let protected = protected
            .map(|p| format!(", protected (matches {})", code(p)))
            .unwrap_or_default();
        let _ = writeln!(out, "| {} | {state}{protected} |", code(&name));
    }
    if let Some(more) = summary::unmanaged_more(&doc.summary, shown.len()) {
        let _ = writeln!(out, "\n{more}.");
    }
    out.push_str("\n</details>\n\n");
    out
}

fn footer(doc: &Plan) -> String {
    let unsupported = summary::unsupported_line(&doc.server)
        .map(|line| format!("{} ", escape::text(&line)))
        .unwrap_or_default();
    format!(
        "<sub>{} {unsupported}Plan digest {} · target {} ({}) · scimops {}</sub>\n",
        summary::users_line(&doc.summary),
        code(doc.short_digest()),
        code(&doc.target.name),
        escape::text(&doc.target.dialect),
        escape::text(&doc.scimops_version)
    )
}

#[cfg(test)]
mod tests;
