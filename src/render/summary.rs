//! The plan's summary in sentences, the same in every view.

use crate::escape::term;
use crate::plan::{Server, Summary};
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

/// Declared users, and what the server holds besides them.
pub fn users_line(s: &Summary) -> String {
    let changed = s.create + s.update + s.deactivate + s.reactivate;
    let declared = s.unchanged + changed;
    let on_server = declared - s.create + s.unmanaged;
    let unmanaged = match s.unmanaged {
        0 => "all declared".to_string(),
        1 => "1 is in no file and is left alone".to_string(),
        n => format!("{n} are in no file and are left alone"),
    };
    format!(
        "{} declared, {} already as declared. The server has {}; {unmanaged}.",
        count(declared, "user"),
        s.unchanged,
        count(on_server, "user"),
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
