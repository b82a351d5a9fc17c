//! The plan's summary in sentences, the same in every view.

use crate::escape::term;
use crate::plan::{Action, Server, Summary, UnmanagedUser};
use crate::words::count;

/// `Plan: 1 to create, 2 to update, 0 to deactivate.`
pub fn line(s: &Summary) -> String {
    let mut line = format!(
        "Plan: {} to create, {} to update, {} to deactivate",
        s.create, s.update, s.deactivate
    );
    if s.reactivate > 0 {
        line.push_str(&format!(", {} to reactivate", s.reactivate));
    }
    if s.rename > 0 {
        line.push_str(&format!(", {} to rename", s.rename));
    }
    if s.delete > 0 {
        line.push_str(&format!(", {} to delete", s.delete));
    }
    line.push('.');
    line
}

/// `Apply will send 3 requests: 2 POST, 1 PATCH.`
pub fn requests_line(s: &Summary) -> String {
    let total: usize = s.requests.values().sum();
    let each: Vec<String> = s.requests.iter().map(|(m, n)| format!("{n} {m}")).collect();
    if total == 0 {
        return "Apply will send no request.".to_string();
    }
    format!(
        "Apply will send {}: {}.",
        count(total, "request"),
        each.join(", ")
    )
}

/// Declared users, and what the server holds besides them: its unmanaged users (in no
/// file), and what the plan does to them.
pub fn users_line(s: &Summary) -> String {
    let is = |n: usize| if n == 1 { "is" } else { "are" };
    let changed = s.unmanaged_deactivated + s.unmanaged_deleted;
    let left = s.unmanaged.saturating_sub(changed);
    let mut by_policy = Vec::new();
    if s.unmanaged_deactivated > 0 {
        by_policy.push(format!("{} to deactivate", s.unmanaged_deactivated));
    }
    if s.unmanaged_deleted > 0 {
        by_policy.push(format!("{} to delete", s.unmanaged_deleted));
    }
    let unmanaged = match (s.unmanaged, changed) {
        (0, _) => "all declared".to_string(),
        (n, 0) => format!("{n} {} unmanaged (in no file) and left alone", is(n)),
        (n, _) => {
            let left = if left > 0 {
                format!(", {left} left alone")
            } else {
                String::new()
            };
            format!(
                "{n} {} unmanaged (in no file): {} by the policy{left}",
                is(n),
                by_policy.join(", ")
            )
        }
    };
    format!(
        "{} declared, {} already as declared. The server has {}; {unmanaged}.",
        count(s.declared, "user"),
        s.unchanged,
        count(s.server, "user"),
    )
}

/// `Not compared and not sent on this target (unsupported): name.middleName, phone.`
pub fn unsupported_line(server: &Server) -> Option<String> {
    if server.unsupported.is_empty() {
        return None;
    }
    let names: Vec<String> = server
        .unsupported
        .iter()
        .map(|a| term(&a.to_string()).into_owned())
        .collect();
    Some(format!(
        "Not compared and not sent on this target (its `unsupported`): {}.",
        names.join(", ")
    ))
}

/// How many unmanaged users the human and Markdown views name (JSON names them all).
pub const UNMANAGED_SHOWN: usize = 20;

/// `Unmanaged users (on the server, in no file): 2 active, 1 inactive`, when there are any.
pub fn unmanaged_heading(s: &Summary) -> Option<String> {
    (s.unmanaged > 0).then(|| {
        format!(
            "Unmanaged users (on the server, in no file): {} active, {} inactive",
            s.unmanaged_active,
            s.unmanaged.saturating_sub(s.unmanaged_active)
        )
    })
}

/// What an unmanaged user is, and what the plan does to it: `active, to deactivate by
/// the policy`. Patterns come from the settings: shown as the caller escapes them.
pub fn unmanaged_state(u: &UnmanagedUser) -> (String, Option<&str>) {
    let mut state = if u.active { "active" } else { "inactive" }.to_string();
    match u.action {
        Some(Action::Deactivate) => state.push_str(", to deactivate by the policy"),
        Some(Action::Delete) => state.push_str(", to delete by the policy"),
        _ => {}
    }
    (state, u.protected.as_deref())
}

/// `and 17 more (every one is in the JSON plan)`, when some are not named.
pub fn unmanaged_more(s: &Summary, shown: usize) -> Option<String> {
    let more = s.unmanaged.saturating_sub(shown);
    (more > 0).then(|| format!("and {more} more (every one is in the JSON plan)"))
}

/// `users/, env/test/`: the files and folders of users a target reads, as the settings
/// name them (neutralised: they come from a file).
pub fn files_read(read: &[String]) -> String {
    let names: Vec<String> = read.iter().map(|p| format!("`{}`", term(p))).collect();
    names.join(", ")
}
