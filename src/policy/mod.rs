//! Safety policy: what scimops may do to users beyond what the files declare, and the
//! guards that stop a plan before it locks people out. Pure.
//!
//! - Unmanaged users (on the server, in no file) are left alone unless the policy says
//!   to deactivate (or, on servers where DELETE removes, delete) them.
//! - Protected users (patterns, by default Bizagi's `admon` account) are never changed,
//!   whatever the files or the policy say; a plan reports them instead.
//! - A deactivation budget: a plan deactivating (or deleting) more users than the
//!   policy allows is refused, unless the command line names the exact number. A plan
//!   that would deactivate every managed user is always refused: that is what a
//!   missing file or a wrong target looks like.

use serde::{Deserialize, Serialize};

use crate::model::{Origin, UserKey};
use crate::words::count;

#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub enum Unmanaged {
    /// Leave them as they are (the default).
    #[default]
    Ignore,
    /// Deactivate them (Bizagi: DELETE; elsewhere `active: false`).
    Deactivate,
    /// Remove them (servers where DELETE removes a user; needs `--allow-delete`).
    Delete,
}

/// A userName pattern: `*` any run of characters, `?` one; without regard to case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pattern(String);

impl Pattern {
    pub fn new(text: &str) -> Self {
        Self(crate::model::fold(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn matches(&self, key: &UserKey) -> bool {
        glob(self.0.as_bytes(), key.as_str().as_bytes())
    }
}

fn glob(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == b'?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|c| *c == b'*')
}

#[derive(Clone, Debug)]
pub struct Policy {
    pub unmanaged: Unmanaged,
    pub protected: Vec<Pattern>,
    /// At most this many deactivations (and deletions) per run.
    pub max_deactivations: usize,
    /// At most this share (percent) of the managed users, once there are
    /// `PERCENT_FROM` managed users or more.
    pub max_deactivation_percent: f64,
    /// Where the policy is written, for what it does to users in no file.
    pub origin: Origin,
}

/// Below this many managed users, the percentage does not apply (deactivating 1 of 3
/// is 33%, and ordinary).
pub const PERCENT_FROM: usize = 20;

impl Default for Policy {
    fn default() -> Self {
        Self {
            unmanaged: Unmanaged::Ignore,
            protected: Vec::new(),
            max_deactivations: 100,
            max_deactivation_percent: 25.0,
            origin: Origin {
                file: std::path::Path::new("scimops.yaml").into(),
                line: 0,
                column: 0,
            },
        }
    }
}

impl Policy {
    pub fn is_protected(&self, key: &UserKey) -> bool {
        self.protected.iter().any(|p| p.matches(key))
    }
}

/// What the command line allows beyond the policy.
#[derive(Clone, Copy, Debug, Default)]
pub struct Overrides {
    /// `--allow-deactivations N`: this exact number of deactivations.
    pub deactivations: Option<usize>,
    /// `--allow-delete`: DELETE that removes users.
    pub delete: bool,
}

/// What the guards look at in a plan.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub deactivations: usize,
    pub deletions: usize,
    pub managed: usize,
}

/// Why the policy refuses a plan (exit code 4).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "refusal", rename_all = "camelCase")]
pub enum Refusal {
    /// The plan deletes users, and the command line did not say `--allow-delete`.
    #[serde(rename_all = "camelCase")]
    DeleteNotAllowed { deletions: usize },
    /// The plan deactivates (or deletes) every managed user.
    #[serde(rename_all = "camelCase")]
    EveryManagedUser { removals: usize, managed: usize },
    /// The plan deactivates more users than the policy allows.
    #[serde(rename_all = "camelCase")]
    OverBudget {
        removals: usize,
        limit: usize,
        max_deactivations: usize,
        /// `maxDeactivationPercent` and the number it allows, when it applies.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        percent: Option<(f64, usize)>,
        managed: usize,
    },
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::DeleteNotAllowed { deletions } => write!(
                f,
                "this plan deletes {} (policy `unmanaged: delete`); deleting needs `--allow-delete`",
                count(*deletions, "user")
            ),
            Refusal::EveryManagedUser { removals, managed } => write!(
                f,
                "this plan deactivates every managed user ({removals} of {managed}); scimops never does \
                 that: check that the user files are all there and that the target is the right one"
            ),
            Refusal::OverBudget {
                removals,
                limit,
                max_deactivations,
                percent,
                managed,
            } => {
                let mut why = format!("`maxDeactivations: {max_deactivations}`");
                if let Some((percent, allowed)) = percent {
                    why.push_str(&format!(
                        " and `maxDeactivationPercent: {percent}` of {managed} managed users ({allowed})"
                    ));
                }
                write!(
                    f,
                    "this plan deactivates {removals} users; the policy allows at most {limit} ({why}). \
                     If that is intended, run again with `--allow-deactivations {removals}`"
                )
            }
        }
    }
}

/// Why a plan is refused (exit code 4), one reason each; empty: allowed.
pub fn refusals(counts: Counts, policy: &Policy, overrides: Overrides) -> Vec<Refusal> {
    let Counts {
        deactivations,
        deletions,
        managed,
    } = counts;
    let removals = deactivations + deletions;
    let mut out = Vec::new();
    if deletions > 0 && !overrides.delete {
        out.push(Refusal::DeleteNotAllowed { deletions });
    }
    if removals == 0 {
        return out;
    }
    if removals >= managed {
        out.push(Refusal::EveryManagedUser { removals, managed });
        return out;
    }
    let percent_limit = (managed >= PERCENT_FROM)
        .then(|| (policy.max_deactivation_percent / 100.0 * managed as f64).floor() as usize);
    let limit = percent_limit.map_or(policy.max_deactivations, |p| {
        p.min(policy.max_deactivations)
    });
    if removals > limit && overrides.deactivations != Some(removals) {
        out.push(Refusal::OverBudget {
            removals,
            limit,
            max_deactivations: policy.max_deactivations,
            percent: percent_limit.map(|p| (policy.max_deactivation_percent, p)),
            managed,
        });
    }
    out
}

#[cfg(test)]
mod tests;
