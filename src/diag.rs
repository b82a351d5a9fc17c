//! Problems found in a repository, each located in a file, all reported at once.

use std::fmt;

use crate::escape::Shown;
use crate::model::Origin;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

/// One problem: where, what is wrong, and (when we know) what would be right.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub origin: Option<Origin>,
    pub message: String,
    pub hint: Option<String>,
    /// Found by a file's JSON Schema (what an editor shows): a check of meaning that
    /// finds a problem at the same place says nothing more.
    pub by_schema: bool,
}

impl Diagnostic {
    pub fn error(origin: impl Into<Option<Origin>>, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            origin: origin.into(),
            message: message.into(),
            hint: None,
            by_schema: false,
        }
    }

    pub fn warning(origin: impl Into<Option<Origin>>, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(origin, message)
        }
    }

    #[must_use]
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    /// `file:line:col: error: message`, the form editors and CI log parsers recognise,
    /// followed by an indented `hint:` line when there is one. Message and hint quote
    /// the files and the server: each is one line, with nothing hidden.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(origin) = &self.origin {
            write!(f, "{origin}: ")?;
        }
        let label = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{label}: {}", Shown(&self.message))?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {}", Shown(hint))?;
        }
        Ok(())
    }
}

/// A set of problems, at least one of them an error. Returned instead of the first
/// error so that a user fixes every problem in one round.
#[derive(Debug)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// Sorts the problems by place, so output is stable whatever order they were found in.
    /// Sorted by place. Where the schema found a problem, a check of meaning that
    /// finds one at the same line and column says nothing more: one error per mistake.
    pub fn sorted(list: Vec<Diagnostic>) -> Self {
        let by_schema: std::collections::BTreeSet<&Origin> = list
            .iter()
            .filter(|d| d.by_schema)
            .filter_map(|d| d.origin.as_ref())
            .filter(|o| o.line > 0)
            .collect();
        let by_schema: std::collections::BTreeSet<Origin> =
            by_schema.into_iter().cloned().collect();
        let mut list: Vec<Diagnostic> = list
            .into_iter()
            .filter(|d| {
                d.by_schema
                    || !d.is_error()
                    || d.origin.as_ref().is_none_or(|o| !by_schema.contains(o))
            })
            .collect();
        list.sort_by(|a, b| {
            (&a.origin, a.severity, &a.message).cmp(&(&b.origin, b.severity, &b.message))
        });
        list.dedup();
        Self(list)
    }

    pub fn error_count(&self) -> usize {
        self.0.iter().filter(|d| d.is_error()).count()
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.0 {
            writeln!(f, "{d}")?;
        }
        let errors = self.error_count();
        write!(
            f,
            "found {errors} {}",
            if errors == 1 { "error" } else { "errors" }
        )
    }
}

impl std::error::Error for Diagnostics {}

/// Splits diagnostics into an `Err` when any is an error, else the warnings.
pub fn check(list: Vec<Diagnostic>) -> Result<Vec<Diagnostic>, Diagnostics> {
    if list.iter().any(Diagnostic::is_error) {
        Err(Diagnostics::sorted(list))
    } else {
        Ok(list)
    }
}
