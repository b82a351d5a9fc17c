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
use crate::plan::{Action, Plan};

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
            protected: vec![Pattern::new("admon"), Pattern::new("admon@*")],
            max_deactivations: 100,
            max_deactivation_percent: 25.0,
            origin: Origin {
                file: "scimops.yaml".into(),
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

impl Counts {
    pub fn of(plan: &Plan) -> Self {
        let count = |action| plan.users.iter().filter(|u| u.action == action).count();
        Self {
            deactivations: count(Action::Deactivate),
            deletions: count(Action::Delete),
            managed: plan.managed,
        }
    }
}

/// Why a plan is refused (exit code 4), one reason each; empty: allowed.
pub fn refusals(counts: Counts, policy: &Policy, overrides: Overrides) -> Vec<String> {
    let Counts {
        deactivations,
        deletions,
        managed,
    } = counts;
    let removals = deactivations + deletions;
    let mut out = Vec::new();
    if deletions > 0 && !overrides.delete {
        out.push(format!(
            "this plan deletes {} (policy `unmanaged: delete`); deleting needs `--allow-delete`",
            crate::render::count(deletions, "user")
        ));
    }
    if removals == 0 {
        return out;
    }
    if removals >= managed {
        out.push(format!(
            "this plan deactivates every managed user ({removals} of {managed}); scimops never does \
             that: check that the user files are all there and that the target is the right one"
        ));
        return out;
    }
    let percent_limit = (managed >= PERCENT_FROM)
        .then(|| (policy.max_deactivation_percent / 100.0 * managed as f64).floor() as usize);
    let limit = percent_limit.map_or(policy.max_deactivations, |p| {
        p.min(policy.max_deactivations)
    });
    if removals > limit && overrides.deactivations != Some(removals) {
        let mut why = format!("`maxDeactivations: {}`", policy.max_deactivations);
        if let Some(p) = percent_limit {
            why.push_str(&format!(
                " and `maxDeactivationPercent: {}` of {managed} managed users ({p})",
                policy.max_deactivation_percent
            ));
        }
        out.push(format!(
            "this plan deactivates {removals} users; the policy allows at most {limit} ({why}). \
             If that is intended, run again with `--allow-deactivations {removals}`"
        ));
    }
    out
}

#[cfg(test)]
mod tests;
