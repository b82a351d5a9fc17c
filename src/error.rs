//! What the commands tell a user when they stop, in one place: one error type whose
//! `Display` holds the wording (located problems of the files are built where each rule
//! is checked, in `config`, `desired` and the dialects; what the server answers is in
//! `scim::client::HttpError`).
//!
//! Every value quoted here comes from a file, a server or a saved plan, so it is shown
//! neutralised.

use std::path::PathBuf;

use crate::escape::Shown;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "`--format json` prints nothing to confirm: add `--auto-approve`, or apply a saved plan"
    )]
    JsonNeedsApproval,

    #[error("refusing to apply without confirmation: stdin is not a terminal")]
    NoConfirmation,

    #[error("the plan is for target `{}`, not `{}`", Shown(plan), Shown(asked))]
    PlanForAnotherTarget { plan: String, asked: String },

    #[error("cannot read the plan `{}`: {source}", Shown(&path.to_string_lossy()))]
    UnreadablePlan {
        path: PathBuf,
        source: crate::config::paths::ReadProblem,
    },

    #[error("reading the plan `{}`: {}", Shown(&path.to_string_lossy()), Shown(reason))]
    NotAPlan { path: PathBuf, reason: String },

    #[error("cannot save the plan to `{}`: {source}", Shown(&path.to_string_lossy()))]
    CannotSave {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl Error {
    /// What to do about it, when there is something to say.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Error::NoConfirmation => Some(
                "review the plan, then run `scimops apply --auto-approve`, or save it with `scimops plan --out FILE` and run `scimops apply FILE`",
            ),
            _ => None,
        }
    }
}

/// The last line of a run that found problems in the files.
pub fn problems(count: usize, sent_nothing: bool) -> String {
    let problems = crate::words::count(count, "problem");
    if sent_nothing {
        format!("found {problems}; nothing was sent")
    } else {
        format!("found {problems}")
    }
}
