//! The plan: what scimops will do, as data, and the planner that makes it from desired
//! users, observed users and the policy. The planner is pure and deterministic.
//!
//! There is one plan type, [`Plan`]: the planner makes it, every view (`render/`) shows
//! it, apply carries it out, and a saved plan (`plan --out`) is its serialisation
//! ([`saved`]), which `apply FILE` and `show FILE` read back.
//!
//! Invariants:
//! - No I/O, no clock, no environment: the same inputs give the same plan, byte for byte.
//! - Entries are listed by key, attributes in [`Attr`] order.
//! - Only declared attributes are compared; an attribute the files leave out is never
//!   part of a plan. `active` is always declared: a declared user is active unless its
//!   entry says `active: false`.
//! - The plan carries the exact requests apply will send (built by the dialect), so
//!   what a reviewer approves is what is sent; each entry says which kind of resource it
//!   changes, and each change what it means for access (grant, revoke, profile).
//! - Users on the server that no file declares are counted, never changed, unless the
//!   policy says so.

pub mod saved;

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use self::saved::{Applied, Files, Server, TargetRef};
use crate::diag::{self, Diagnostic, Diagnostics};
use crate::dialect::Dialect;
use crate::escape::Shown;
use crate::model::{
    Attr, AttrChange, DesiredUser, Effect, ObservedUser, Origin, Previous, UserKey, Value,
};
use crate::policy::{Counts, Policy, Refusal, Unmanaged};
use crate::scim::wire::{Method, Request};

/// The kind of resource an entry of the plan changes. Users today; a second kind
/// (SCIM Groups) joins as another variant, with its own entries.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub enum Kind {
    #[default]
    User,
}

/// What happens to one user.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Create,
    Update,
    /// Given its new userName (the files' `previously` names the old one), with any
    /// other change of the user in the same request.
    Rename,
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
            Action::Rename => "rename",
            Action::Deactivate => "deactivate",
            Action::Reactivate => "reactivate",
            Action::Delete => "delete",
        }
    }
}

/// Why an entry is in the plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum Reason {
    /// Declared in the files, absent from the server.
    Absent,
    /// Declared attributes differ from the server's.
    Differs,
    /// Declared under a new name; the server has one it had before (`previously`).
    Renamed,
    /// Declared `active: false`, active on the server.
    DeclaredInactive,
    /// Declared active, inactive on the server.
    DeclaredActive,
    /// In no file, and the policy deactivates such users.
    UnmanagedDeactivated,
    /// In no file, and the policy deletes such users.
    UnmanagedDeleted,
}

impl Reason {
    /// In a few words.
    pub fn describe(self) -> &'static str {
        match self {
            Reason::Absent => "declared in the files, absent from the server",
            Reason::Differs => "declared attributes differ from the server's",
            Reason::Renamed => "declared under a new name; the server has a previous one",
            Reason::DeclaredInactive => "declared `active: false`",
            Reason::DeclaredActive => "declared active, inactive on the server",
            Reason::UnmanagedDeactivated => "in no file, and the policy deactivates such users",
            Reason::UnmanagedDeleted => "in no file, and the policy deletes such users",
        }
    }
}

/// One entry of the plan: the change to one user, which attributes, and the requests
/// that make it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserChange {
    /// The kind of resource (`user`).
    #[serde(default)]
    pub kind: Kind,
    pub user_name: String,
    /// The key users are matched by (the userName, folded).
    pub key: UserKey,
    /// The server's id (absent for a user to create).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// For a rename: the userName the server has now (the entry's `userName` is the new
    /// one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renamed_from: Option<String>,
    pub action: Action,
    pub reason: Reason,
    /// Where the user is declared (for the policy's own changes: the policy).
    pub declared_at: Origin,
    /// The user as read when planning (`version:<ETag>` or `sha256:<hash>`); absent for a
    /// user that did not exist, which must still not exist when the plan is applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    pub changes: Vec<AttrChange>,
    /// Declared attributes that already have their value.
    pub unchanged_attributes: usize,
    /// Exactly what apply sends for this user, in order.
    pub requests: Vec<Request>,
}

impl UserChange {
    /// What the entry means for access: a grant (created, reactivated, a permission
    /// turned on), a revocation (deactivated, deleted, a permission turned off), or a
    /// profile change.
    pub fn effect(&self) -> Effect {
        match self.action {
            Action::Create | Action::Reactivate => Effect::Grant,
            Action::Deactivate | Action::Delete => Effect::Revoke,
            Action::Update | Action::Rename => self
                .changes
                .iter()
                .map(|c| c.effect)
                .min()
                .unwrap_or(Effect::Profile),
        }
    }
}

/// The plan, and its saved form.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    /// `MAJOR.MINOR` of this format (currently "2.1"): a minor version only adds members.
    pub format_version: String,
    /// The scimops version that made the plan.
    pub scimops_version: String,
    pub target: TargetRef,
    /// What the server said it supports when the plan was made.
    pub server: Server,
    /// The repository's files when the plan was made.
    pub files: Files,
    pub summary: Summary,
    /// The users with something to do, ordered by key.
    pub users: Vec<UserChange>,
    /// Protected users a file or the policy would have changed: left as they are.
    #[serde(default)]
    pub protected: Vec<Protected>,
    /// Every user on the server that no file declares ("unmanaged"), ordered by key,
    /// and what this plan does to each.
    #[serde(default)]
    pub unmanaged: Vec<UnmanagedUser>,
    /// Why the safety policy refused this plan when it was made (empty: it did not).
    #[serde(default)]
    pub refusals: Vec<Refusal>,
    /// The attributes the repository calls private (`private:`), masked by
    /// `--mask-pii` in every view.
    #[serde(default)]
    pub private: Vec<Attr>,
    /// A copy with private values masked (`--mask-pii`): for reading, never applied.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub masked: bool,
    /// `sha256:` of this plan without `digest` and `applied`: two plans with the same
    /// digest do the same thing to the same users.
    pub digest: String,
    /// What happened to each user (`apply --format json` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied: Option<Vec<Applied>>,
}

impl Default for Plan {
    fn default() -> Self {
        Self {
            format_version: saved::FORMAT_VERSION.to_string(),
            scimops_version: env!("CARGO_PKG_VERSION").to_string(),
            target: TargetRef::default(),
            server: Server::default(),
            files: Files::default(),
            summary: Summary::default(),
            users: Vec::new(),
            protected: Vec::new(),
            unmanaged: Vec::new(),
            refusals: Vec::new(),
            private: Vec::new(),
            masked: false,
            digest: String::new(),
            applied: None,
        }
    }
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

/// A user on the server that no file declares.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UnmanagedUser {
    pub user_name: String,
    /// The server's id.
    pub id: String,
    /// Whether the user may sign in.
    pub active: bool,
    /// What this plan does to the user by the policy (`deactivate`, `delete`); absent:
    /// left alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<Action>,
    /// The pattern of the policy's `protected` that matches the user, if any: scimops
    /// never changes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protected: Option<String>,
}

/// How many users each action touches, how the server's users stand, and how many
/// requests apply sends by method.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub create: usize,
    pub update: usize,
    #[serde(default)]
    pub rename: usize,
    pub deactivate: usize,
    pub reactivate: usize,
    pub delete: usize,
    /// Users the files declare.
    pub declared: usize,
    /// Declared users already as declared.
    pub unchanged: usize,
    /// Users on the server.
    pub server: usize,
    /// Users on the server that no file declares ("unmanaged"), whatever the policy
    /// does to them.
    pub unmanaged: usize,
    /// Of them, those active (who may sign in).
    pub unmanaged_active: usize,
    /// Of the active ones, those no `protected` pattern matches: what a drift check
    /// looks for (`plan --unmanaged-as-changes`).
    pub unmanaged_active_unprotected: usize,
    /// Of them, those this plan deactivates or deletes (the policy's `unmanaged`).
    pub unmanaged_deactivated: usize,
    pub unmanaged_deleted: usize,
    /// Users scimops manages on the server: declared ones, and those the policy acts
    /// on. The deactivation budget is a share of them.
    pub managed: usize,
    /// Protected users left as they are.
    pub protected: usize,
    /// The requests apply sends, by method.
    pub requests: BTreeMap<Method, usize>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    /// What the safety guards look at.
    pub fn counts(&self) -> Counts {
        Counts {
            deactivations: self.summary.deactivate,
            deletions: self.summary.delete,
            managed: self.summary.managed,
        }
    }

    /// Counts the entries into the summary (the server's side is set by the planner).
    fn count(&mut self) {
        let s = &mut self.summary;
        (
            s.create,
            s.update,
            s.rename,
            s.deactivate,
            s.reactivate,
            s.delete,
        ) = (0, 0, 0, 0, 0, 0);
        s.requests.clear();
        s.protected = self.protected.len();
        for u in &self.users {
            *match u.action {
                Action::Create => &mut s.create,
                Action::Update => &mut s.update,
                Action::Rename => &mut s.rename,
                Action::Deactivate => &mut s.deactivate,
                Action::Reactivate => &mut s.reactivate,
                Action::Delete => &mut s.delete,
            } += 1;
            for r in &u.requests {
                *s.requests.entry(r.method).or_default() += 1;
            }
        }
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
    // Both sides sorted by key, and walked side by side (a merge: each user is looked
    // at once, in memory order); a previous name, rarer, is found by binary search.
    let mut by_key: Vec<&ObservedUser> = observed.iter().collect();
    by_key.sort_by(|a, b| a.key.cmp(&b.key));
    let matching = |key: &UserKey| {
        let start = by_key.partition_point(|o| &o.key < key);
        let end = start + by_key[start..].partition_point(|o| &o.key == key);
        &by_key[start..end]
    };
    let mut desired: Vec<&DesiredUser> = desired.iter().collect();
    desired.sort_by(|a, b| a.key.cmp(&b.key));
    // The observed users of `key`, for keys asked in increasing order.
    let mut next_observed = 0;
    let mut observed_of = |key: &UserKey| {
        while by_key.get(next_observed).is_some_and(|o| &o.key < key) {
            next_observed += 1;
        }
        let start = next_observed;
        while by_key.get(next_observed).is_some_and(|o| &o.key == key) {
            next_observed += 1;
        }
        &by_key[start..next_observed]
    };

    let mut problems = Vec::new();
    let mut plan = Plan::default();
    let mut unchanged = 0;
    let mut managed = 0;
    let mut changes = Vec::new();
    // Accounts renamed to a declared user: managed, not unmanaged.
    let mut renamed: Vec<&UserKey> = Vec::new();
    for user in &desired {
        let previous: Vec<(&Previous, &[&ObservedUser])> = user
            .previously
            .iter()
            .map(|p| (p, matching(&p.key)))
            .filter(|(_, found)| !found.is_empty())
            .collect();
        match (observed_of(&user.key), previous.as_slice()) {
            ([], []) => {
                dialect.check_create(user, &mut problems);
                changes.push(create(user, dialect));
            }
            ([], [(old, [o])]) => {
                managed += 1;
                renamed.push(&o.key);
                changes.push(rename(user, old, o, dialect));
            }
            ([], found) => {
                let names: Vec<String> = found
                    .iter()
                    .flat_map(|(_, users)| users.iter())
                    .map(|o| format!("`{}` ({})", Shown(&o.user_name), Shown(&o.id)))
                    .collect();
                problems.push(
                    Diagnostic::error(
                        user.origin.clone(),
                        format!(
                            "user `{}` is not on the server, and its previous names match {} accounts: {}",
                            Shown(&user.user_name),
                            names.len(),
                            names.join(", ")
                        ),
                    )
                    .hint("one account can be renamed to it: keep in `previously` the name of that one"),
                );
            }
            ([_, ..], [(old, _), ..]) => {
                managed += 1;
                problems.push(
                    Diagnostic::error(
                        user.origin.clone(),
                        format!(
                            "the server has both `{}` and its previous name `{}` (declared at {}): renaming would make two accounts of one name",
                            Shown(&user.user_name),
                            Shown(&old.user_name),
                            old.origin
                        ),
                    )
                    .hint("if the old account is another person's now, remove its name from `previously`; else remove one of the two accounts on the server"),
                );
            }
            ([o], []) => {
                managed += 1;
                match update(user, o, dialect) {
                    Some(change) => changes.push(change),
                    None => unchanged += 1,
                }
            }
            (many, []) => {
                managed += 1;
                let ids: Vec<_> = many
                    .iter()
                    .map(|o| format!("`{}` ({})", Shown(&o.user_name), Shown(&o.id)))
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
    // Users in no file: named, and left alone unless the policy acts on them (only on
    // a name the server holds once: two accounts that match are for a person to sort).
    let mut acted_on = 0;
    renamed.sort();
    // Whether `key` is declared, for keys asked in increasing order.
    let mut next_desired = 0;
    let mut declared = |key: &UserKey| {
        while desired.get(next_desired).is_some_and(|d| &d.key < key) {
            next_desired += 1;
        }
        desired.get(next_desired).is_some_and(|d| &d.key == key)
    };
    for users in by_key.chunk_by(|a, b| a.key == b.key) {
        if declared(&users[0].key) || renamed.binary_search(&&users[0].key).is_ok() {
            continue;
        }
        for o in users {
            plan.unmanaged.push(UnmanagedUser {
                user_name: o.user_name.clone(),
                id: o.id.clone(),
                active: o.active(),
                action: None,
                protected: policy
                    .protected
                    .iter()
                    .find(|p| p.matches(&o.key))
                    .map(|p| p.as_str().to_string()),
            });
        }
        if let [o] = users
            && let Some(change) = unmanaged(o, dialect, policy, &mut problems)
        {
            acted_on += 1;
            changes.push(change);
        }
    }
    let unmanaged_total = total
        .max(observed.len())
        .saturating_sub(managed)
        .max(plan.unmanaged.len());
    let mut managed = managed + acted_on;

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
    managed = managed.saturating_sub(protected_existing);
    plan.users.sort_by(|a, b| a.key.cmp(&b.key));
    mark_unmanaged(&mut plan);
    let by_policy = |reason| plan.users.iter().filter(|u| u.reason == reason).count();
    plan.summary = Summary {
        declared: desired.len(),
        unchanged,
        server: total.max(observed.len()),
        unmanaged: unmanaged_total,
        unmanaged_active: plan.unmanaged.iter().filter(|u| u.active).count(),
        unmanaged_active_unprotected: plan
            .unmanaged
            .iter()
            .filter(|u| u.active && u.protected.is_none())
            .count(),
        unmanaged_deactivated: by_policy(Reason::UnmanagedDeactivated),
        unmanaged_deleted: by_policy(Reason::UnmanagedDeleted),
        managed,
        ..Summary::default()
    };
    plan.count();
    let warnings = diag::check(problems)?;
    Ok((plan, warnings))
}

/// Says, of each unmanaged user, what the plan does to it by the policy.
fn mark_unmanaged(plan: &mut Plan) {
    let index: BTreeMap<&str, usize> = plan
        .unmanaged
        .iter()
        .enumerate()
        .map(|(i, u)| (u.user_name.as_str(), i))
        .collect();
    let actions: Vec<(usize, Action)> = plan
        .users
        .iter()
        .filter(|c| {
            matches!(
                c.reason,
                Reason::UnmanagedDeactivated | Reason::UnmanagedDeleted
            )
        })
        .filter_map(|c| Some((*index.get(c.user_name.as_str())?, c.action)))
        .collect();
    for (i, action) in actions {
        plan.unmanaged[i].action = Some(action);
    }
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
            let changes = vec![change(
                Attr::Active,
                Some(Value::Boolean(true)),
                Some(Value::Boolean(false)),
            )];
            let requests = dialect.update_requests(o, &changes);
            (
                Action::Deactivate,
                changes,
                requests,
                Reason::UnmanagedDeactivated,
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
                .map(|(attr, value)| change(attr.clone(), Some(value.clone()), None))
                .collect();
            (
                Action::Delete,
                changes,
                vec![request],
                Reason::UnmanagedDeleted,
            )
        }
    };
    Some(UserChange {
        kind: Kind::User,
        user_name: o.user_name.clone(),
        key: o.key.clone(),
        id: Some(o.id.clone()),
        renamed_from: None,
        action,
        reason,
        changes,
        unchanged_attributes: 0,
        requests,
        declared_at: policy.origin.clone(),
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

/// How a declared value stands on the server.
pub enum Comparison {
    Same,
    /// It differs: what the server has, and the attribute it was read from when the
    /// server returned none for this one.
    Differs {
        before: Option<Value>,
        from: Option<Attr>,
    },
}

/// Whether the server already has `want` for `attr` (`wanted`: every declared value of
/// the user). The one comparison: the planner's, and apply's check that the server kept
/// what it was sent.
pub fn compare(
    dialect: &dyn Dialect,
    attr: &Attr,
    want: Option<&Value>,
    wanted: &crate::model::AttrMap<Option<Value>>,
    observed: &ObservedUser,
) -> Comparison {
    // The userName is the user's identity, not one of its attributes: it is the same
    // when it has the same key (case and composition aside).
    if *attr == Attr::UserName {
        let same = matches!(want, Some(Value::String(name)) if dialect.key(name) == observed.key);
        return if same {
            Comparison::Same
        } else {
            Comparison::Differs {
                before: Some(Value::String(observed.user_name.clone())),
                from: None,
            }
        };
    }
    let have = observed.attrs.get(attr);
    // A value the server did not return, judged by one it did (a name answered as one
    // full name): never a change that only the answer's shape causes.
    if have.is_none()
        && let Some(derived) = dialect.derived(attr, wanted, observed)
    {
        return if derived.same {
            Comparison::Same
        } else {
            Comparison::Differs {
                before: Some(derived.value),
                from: Some(derived.from),
            }
        };
    }
    let same = match (want, have) {
        (None, None) => true,
        (Some(w), Some(h)) => dialect.equivalent(attr, w, h),
        _ => false,
    };
    if same {
        Comparison::Same
    } else {
        Comparison::Differs {
            before: have.cloned(),
            from: None,
        }
    }
}

/// A change of `attr`, with what it means for access.
fn change(attr: Attr, before: Option<Value>, after: Option<Value>) -> AttrChange {
    let effect = Effect::of(&attr, before.as_ref(), after.as_ref());
    AttrChange {
        attr,
        before,
        after,
        effect,
        before_from: None,
        declared_at: None,
    }
}

fn create(user: &DesiredUser, dialect: &dyn Dialect) -> UserChange {
    let mut changes: Vec<AttrChange> = wanted(user)
        .filter_map(|(attr, after)| {
            after.map(|after| AttrChange {
                declared_at: Some(user.origin_of(attr).clone()),
                ..change(attr.clone(), None, Some(after.clone()))
            })
        })
        .collect();
    changes.sort_by(|a, b| a.attr.cmp(&b.attr));
    // A plan of 100,000 creates holds these: at their size, not at the size they grew to.
    changes.shrink_to_fit();
    UserChange {
        kind: Kind::User,
        user_name: user.user_name.clone(),
        key: user.key.clone(),
        id: None,
        renamed_from: None,
        action: Action::Create,
        reason: Reason::Absent,
        changes,
        unchanged_attributes: 0,
        requests: vec![dialect.create_request(user)],
        declared_at: user.origin.clone(),
        fingerprint: None,
    }
}

/// A declared user under a new name, whose account the server has under `old`: one
/// update of its userName, with whatever else differs.
fn rename(
    user: &DesiredUser,
    old: &Previous,
    observed: &ObservedUser,
    dialect: &dyn Dialect,
) -> UserChange {
    let new_name = AttrChange {
        declared_at: Some(user.origin.clone()),
        ..change(
            Attr::UserName,
            Some(Value::String(observed.user_name.clone())),
            Some(Value::String(user.user_name.clone())),
        )
    };
    let (mut changes, unchanged) = differences(user, observed, dialect);
    changes.insert(0, new_name);
    let action = match (observed.active(), user.active()) {
        (true, false) => Action::Deactivate,
        (false, true) => Action::Reactivate,
        _ => Action::Rename,
    };
    UserChange {
        kind: Kind::User,
        user_name: user.user_name.clone(),
        key: user.key.clone(),
        id: Some(observed.id.clone()),
        renamed_from: Some(observed.user_name.clone()),
        action,
        reason: Reason::Renamed,
        requests: dialect.update_requests(observed, &changes),
        changes,
        unchanged_attributes: unchanged,
        declared_at: old.origin.clone(),
        fingerprint: Some(observed.fingerprint.clone()),
    }
}

/// What differs between the declared user and the server's, in [`Attr`] order, and how
/// many declared attributes already have their value.
fn differences(
    user: &DesiredUser,
    observed: &ObservedUser,
    dialect: &dyn Dialect,
) -> (Vec<AttrChange>, usize) {
    let mut changes = Vec::new();
    let mut unchanged = 0;
    for (attr, want) in wanted(user) {
        match compare(dialect, attr, want, &user.attrs, observed) {
            Comparison::Same => unchanged += 1,
            Comparison::Differs { before, from } => changes.push(AttrChange {
                before_from: from,
                declared_at: Some(user.origin_of(attr).clone()),
                ..change(attr.clone(), before, want.cloned())
            }),
        }
    }
    changes.sort_by(|a, b| a.attr.cmp(&b.attr));
    changes.shrink_to_fit();
    (changes, unchanged)
}

fn update(
    user: &DesiredUser,
    observed: &ObservedUser,
    dialect: &dyn Dialect,
) -> Option<UserChange> {
    let (changes, unchanged) = differences(user, observed, dialect);
    if changes.is_empty() {
        return None;
    }
    let (action, reason) = match (observed.active(), user.active()) {
        (true, false) => (Action::Deactivate, Reason::DeclaredInactive),
        (false, true) => (Action::Reactivate, Reason::DeclaredActive),
        _ => (Action::Update, Reason::Differs),
    };
    Some(UserChange {
        kind: Kind::User,
        user_name: user.user_name.clone(),
        key: user.key.clone(),
        id: Some(observed.id.clone()),
        renamed_from: None,
        action,
        reason,
        requests: dialect.update_requests(observed, &changes),
        changes,
        unchanged_attributes: unchanged,
        declared_at: user.origin.clone(),
        fingerprint: Some(observed.fingerprint.clone()),
    })
}

#[cfg(test)]
mod tests;
