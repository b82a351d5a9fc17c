//! Exit codes: an API that CI jobs depend on (documented in the README, tested).

use std::process::ExitCode;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// Success; with `plan --detailed-exitcode`: nothing to change.
    Success,
    /// An error: bad input, a server error, failed writes, a refused confirmation.
    Failure,
    /// `plan --detailed-exitcode`: changes are pending.
    Changes,
    /// `apply FILE`: the saved plan is stale (the files or the server changed since).
    Stale,
    /// Refused by a safety guard (deactivation budget, deleting without `--allow-delete`).
    Refused,
}

impl ExitStatus {
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Failure => 1,
            ExitStatus::Changes => 2,
            ExitStatus::Stale => 3,
            ExitStatus::Refused => 4,
        }
    }
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> Self {
        ExitCode::from(status.code())
    }
}
