//! The planner: desired users + observed users -> a plan. Pure and deterministic.
//!
//! Invariants:
//! - No I/O, no clock, no environment: the same inputs give the same plan, byte for byte.
//! - Users are listed by key, attributes in [`Attr`] order.
//! - Only declared attributes are compared; an attribute the files leave out is never
//!   part of a plan. `active` is always declared: a declared user is active unless its
//!   entry says `active: false`.
//! - The plan carries the exact requests apply will send (built by the dialect), so
//!   what a reviewer approves is what is sent.
//! - Users on the server that no file declares are counted, never changed.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::diag::{self, Diagnostic, Diagnostics};
use crate::dialect::Dialect;
use crate::model::{Attr, AttrChange, DesiredUser, ObservedUser, Origin, UserKey, Value};
use crate::policy::{Policy, Unmanaged};
use crate::scim::wire::{Method, Request};

/// What happens to one user.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Create,
    Update,
    Deactivate,
    Reactivate,
    /// Removed from the server (RFC servers, `unmanaged: delete` only).
    Delete,
}

impl Action {
    /// As saved plans write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Deactivate => "deactivate",
            Action::Reactivate => "reactivate",
            Action::Delete => "delete",
        }
    }
}

/// The change to one user: which attributes, and the requests that make it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UserChange {
    pub user_name: String,
    pub key: UserKey,
    /// The server's id, for users that exist.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub action: Action,
    /// Why, in a few words.
    pub reason: &'static str,
    pub changes: Vec<AttrChange>,
    /// Declared attributes that already have their value.
    pub unchanged_attributes: usize,
    pub requests: Vec<Request>,
    /// Where the user is declared.
    pub origin: Origin,
    /// What the plan was made on: the fingerprint of the user as read, or `None` for
    /// a user that did not exist. A saved plan is stale once this no longer holds.
    pub fingerprint: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Plan {
    /// Users with something to do, ordered by key.
    pub users: Vec<UserChange>,
    /// Declared users that are already as declared.
    pub unchanged: usize,
    /// Users on the server that no file declares, and the policy leaves alone.
    pub unmanaged: usize,
    /// Users on the server that scimops manages: declared ones, and those the policy
    /// acts on. The deactivation budget is a share of them.
    pub managed: usize,
    /// Protected users a file or the policy would have changed: left as they are.
    pub protected: Vec<Protected>,
}

/// A change the policy did not let through.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Protected {
    pub user_name: String,
    pub action: Action,
    /// The pattern that protects the user.
    pub pattern: String,
}

/// How many users each action touches, and how many requests apply sends by method.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub create: usize,
    pub update: usize,
    pub deactivate: usize,
    pub reactivate: usize,
    #[serde(default)]
    pub delete: usize,
    /// Declared users already as declared.
    pub unchanged: usize,
    /// Users on the server that no file declares (left alone).
    pub unmanaged: usize,
    /// Users scimops manages on the server (the deactivation budget is a share of them).
    #[serde(default)]
    pub managed: usize,
    /// Protected users left as they are.
    #[serde(default)]
    pub protected: usize,
    /// The requests apply sends, by method.
    pub requests: BTreeMap<Method, usize>,
}

impl Summary {
    /// `Plan: 1 to create, 2 to update, 0 to deactivate.`
    pub fn line(&self) -> String {
        let mut line = format!(
            "Plan: {} to create, {} to update, {} to deactivate",
            self.create, self.update, self.deactivate
        );
        if self.reactivate > 0 {
            line.push_str(&format!(", {} to reactivate", self.reactivate));
        }
        if self.delete > 0 {
            line.push_str(&format!(", {} to delete", self.delete));
        }
        line.push('.');
        line
    }

    /// `Apply will send 3 requests: 2 POST, 1 PATCH.`
    pub fn requests_line(&self) -> String {
        let total: usize = self.requests.values().sum();
        let each: Vec<String> = self
            .requests
            .iter()
            .map(|(m, n)| format!("{n} {m}"))
            .collect();
        if total == 0 {
            return "Apply will send no request.".to_string();
        }
        format!(
            "Apply will send {}: {}.",
            crate::render::count(total, "request"),
            each.join(", ")
        )
    }

    /// Declared users, and what the server holds besides them.
    pub fn users_line(&self) -> String {
        let changed = self.create + self.update + self.deactivate + self.reactivate;
        let declared = self.unchanged + changed;
        let on_server = declared - self.create + self.unmanaged;
        let unmanaged = match self.unmanaged {
            0 => "all declared".to_string(),
            1 => "1 is in no file and is left alone".to_string(),
            n => format!("{n} are in no file and are left alone"),
        };
        format!(
            "{} declared, {} already as declared. The server has {}; {unmanaged}.",
            crate::render::count(declared, "user"),
            self.unchanged,
            crate::render::count(on_server, "user"),
        )
    }
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    pub fn summary(&self) -> Summary {
        let mut s = Summary {
            unchanged: self.unchanged,
            unmanaged: self.unmanaged,
            managed: self.managed,
            protected: self.protected.len(),
            ..Summary::default()
        };
        for u in &self.users {
            *match u.action {
                Action::Create => &mut s.create,
                Action::Update => &mut s.update,
                Action::Deactivate => &mut s.deactivate,
                Action::Reactivate => &mut s.reactivate,
                Action::Delete => &mut s.delete,
            } += 1;
            for r in &u.requests {
                *s.requests.entry(r.method).or_default() += 1;
            }
        }
        s
    }
}

/// Plans the changes that make `observed` what `desired` declares. `total` is how many
/// users the server has (`observed` may hold only the declared ones).
///
/// Fails when the plan cannot be carried out as declared (a user the dialect cannot
/// create, a user the server holds twice); warnings come back with the plan.
pub fn plan(
    desired: &[DesiredUser],
    observed: &[ObservedUser],
    total: usize,
    dialect: &dyn Dialect,
    policy: &Policy,
) -> Result<(Plan, Vec<Diagnostic>), Diagnostics> {
    // Both sides sorted by key: a user's matches are found by binary search, without
    // a map of all users.
    let mut by_key: Vec<&ObservedUser> = observed.iter().collect();
    by_key.sort_by(|a, b| a.key.cmp(&b.key));
    let matching = |key: &UserKey| {
        let start = by_key.partition_point(|o| &o.key < key);
        let end = start + by_key[start..].partition_point(|o| &o.key == key);
        &by_key[start..end]
    };
    let mut desired: Vec<&DesiredUser> = desired.iter().collect();
    desired.sort_by(|a, b| a.key.cmp(&b.key));
    let declared = |key: &UserKey| desired.binary_search_by(|d| d.key.cmp(key)).is_ok();

    let mut problems = Vec::new();
    let mut plan = Plan::default();
    let mut managed = 0;
    let mut changes = Vec::new();
    for user in &desired {
        match matching(&user.key) {
            [] => {
                dialect.check_create(user, &mut problems);
                changes.push(create(user, dialect));
            }
            [o] => {
                managed += 1;
                match update(user, o, dialect) {
                    Some(change) => changes.push(change),
                    None => plan.unchanged += 1,
                }
            }
            many => {
                managed += 1;
                let ids: Vec<_> = many
                    .iter()
                    .map(|o| format!("`{}` ({})", o.user_name, o.id))
                    .collect();
                problems.push(
                    Diagnostic::error(
                        user.origin.clone(),
                        format!(
                            "the server has {} users that match `{}`: {}",
                            many.len(),
                            user.user_name,
                            ids.join(", ")
                        ),
                    )
                    .hint("userNames are compared without regard to case; remove the duplicates on the server"),
                );
            }
        }
    }
    // Users in no file: left alone, unless the policy acts on them.
    let mut acted_on = 0;
    if policy.unmanaged != Unmanaged::Ignore {
        for users in by_key.chunk_by(|a, b| a.key == b.key) {
            let [o] = users else { continue };
            if declared(&o.key) {
                continue;
            }
            if let Some(change) = unmanaged(o, dialect, policy, &mut problems) {
                acted_on += 1;
                changes.push(change);
            }
        }
    }
    let unmanaged_total = total.max(observed.len()).saturating_sub(managed);
    plan.unmanaged = unmanaged_total - acted_on;
    plan.managed = managed + acted_on;

    // Protected users are never changed: what would have happened is reported. They
    // are not managed either: the budget is a share of the users scimops may change.
    for change in changes {
        match policy.protected.iter().find(|p| p.matches(&change.key)) {
            Some(pattern) => plan.protected.push(Protected {
                user_name: change.user_name,
                action: change.action,
                pattern: pattern.as_str().to_string(),
            }),
            None => plan.users.push(change),
        }
    }
    let protected_existing = plan
        .protected
        .iter()
        .filter(|p| p.action != Action::Create)
        .count();
    plan.managed = plan.managed.saturating_sub(protected_existing);
    plan.users.sort_by(|a, b| a.key.cmp(&b.key));
    let warnings = diag::check(problems)?;
    Ok((plan, warnings))
}

/// What the policy does to a user in no file.
fn unmanaged(
    o: &ObservedUser,
    dialect: &dyn Dialect,
    policy: &Policy,
    problems: &mut Vec<Diagnostic>,
) -> Option<UserChange> {
    let (action, changes, requests, reason) = match policy.unmanaged {
        Unmanaged::Ignore => return None,
        Unmanaged::Deactivate => {
            if !o.active() {
                return None;
            }
            let changes = vec![AttrChange {
                attr: Attr::Active,
                before: Some(Value::Boolean(true)),
                after: Some(Value::Boolean(false)),
            }];
            let requests = dialect.update_requests(o, &changes);
            (
                Action::Deactivate,
                changes,
                requests,
                "in no file, and the policy deactivates such users",
            )
        }
        Unmanaged::Delete => {
            let Some(request) = dialect.delete_request(o) else {
                problems.push(
                    Diagnostic::error(
                        policy.origin.clone(),
                        format!("the policy deletes users in no file, and {} servers cannot delete users", dialect.name()),
                    )
                    .hint("use `unmanaged: deactivate`"),
                );
                return None;
            };
            let changes = o
                .attrs
                .iter()
                .map(|(attr, value)| AttrChange {
                    attr: attr.clone(),
                    before: Some(value.clone()),
                    after: None,
                })
                .collect();
            (
                Action::Delete,
                changes,
                vec![request],
                "in no file, and the policy deletes such users",
            )
        }
    };
    Some(UserChange {
        user_name: o.user_name.clone(),
        key: o.key.clone(),
        id: Some(o.id.clone()),
        action,
        reason,
        changes,
        unchanged_attributes: 0,
        requests,
        origin: policy.origin.clone(),
        fingerprint: Some(o.fingerprint.clone()),
    })
}

/// The attributes to compare: the declared ones, with `active` always included.
/// The declared attributes, and `active: true` where the user does not say.
fn wanted(user: &DesiredUser) -> impl Iterator<Item = (&Attr, Option<&Value>)> + '_ {
    static ACTIVE: Attr = Attr::Active;
    static TRUE: Value = Value::Boolean(true);
    let active = (!user.attrs.contains_key(&Attr::Active)).then_some((&ACTIVE, Some(&TRUE)));
    user.attrs
        .iter()
        .map(|(a, v)| (a, v.as_ref()))
        .chain(active)
}

fn create(user: &DesiredUser, dialect: &dyn Dialect) -> UserChange {
    let mut changes: Vec<AttrChange> = wanted(user)
        .filter_map(|(attr, after)| {
            after.map(|after| AttrChange {
                attr: attr.clone(),
                before: None,
                after: Some(after.clone()),
            })
        })
        .collect();
    changes.sort_by(|a, b| a.attr.cmp(&b.attr));
    UserChange {
        user_name: user.user_name.clone(),
        key: user.key.clone(),
        id: None,
        action: Action::Create,
        reason: "declared in the files, absent from the server",
        changes,
        unchanged_attributes: 0,
        requests: vec![dialect.create_request(user)],
        origin: user.origin.clone(),
        fingerprint: None,
    }
}

fn update(
    user: &DesiredUser,
    observed: &ObservedUser,
    dialect: &dyn Dialect,
) -> Option<UserChange> {
    let mut changes = Vec::new();
    let mut unchanged = 0;
    for (attr, want) in wanted(user) {
        let have = observed.attrs.get(attr);
        let same = match (want, have) {
            (None, None) => true,
            (Some(w), Some(h)) => dialect.equivalent(attr, w, h),
            _ => false,
        };
        if same {
            unchanged += 1;
        } else {
            changes.push(AttrChange {
                attr: attr.clone(),
                before: have.cloned(),
                after: want.cloned(),
            });
        }
    }
    if changes.is_empty() {
        return None;
    }
    changes.sort_by(|a, b| a.attr.cmp(&b.attr));
    let (action, reason) = match (observed.active(), user.active()) {
        (true, false) => (Action::Deactivate, "declared `active: false`"),
        (false, true) => (
            Action::Reactivate,
            "declared active, inactive on the server",
        ),
        _ => (
            Action::Update,
            "declared attributes differ from the server's",
        ),
    };
    Some(UserChange {
        user_name: user.user_name.clone(),
        key: user.key.clone(),
        id: Some(observed.id.clone()),
        action,
        reason,
        requests: dialect.update_requests(observed, &changes),
        changes,
        unchanged_attributes: unchanged,
        origin: user.origin.clone(),
        fingerprint: Some(observed.fingerprint.clone()),
    })
}

pub mod document;

#[cfg(test)]
mod tests;
