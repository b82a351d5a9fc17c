//! The only code that writes to the server.
//!
//! Invariants:
//! - It sends exactly the requests the plan carries, in order per user, nothing else:
//!   what the reviewer saw is what is sent.
//! - Writing needs an [`Approval`], which only `--auto-approve` or a typed `yes` makes.
//! - One user's failure does not stop the others; the report says what happened to each.
//! - Users are written concurrently, at most `parallelism` at a time.
//! - What the server answers is checked against what it was sent: an attribute it
//!   answered 2xx for and did not keep is reported (a re-read, one GET, where the answer
//!   has no body), so that a server that drops a value never leaves a plan that shows
//!   the same change forever without a word.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::dialect::Dialect;
use crate::model::{Attr, AttrChange, AttrMap, Value, ValueType};
use crate::model::{Origin, UserKey, fingerprint};
use crate::plan::Comparison;
use crate::plan::{Action, Applied, UserChange};
use crate::schema::{AttrDef, Attributes, UserSchema};
use crate::scim::client::{Client, HttpError};
use crate::scim::wire::{ListResponse, Method, Request};

/// Proof that someone approved the writes.
#[derive(Debug)]
pub struct Approval(());

impl Approval {
    /// `--auto-approve`: approved in advance (CI applying a reviewed change).
    pub fn auto_approved() -> Self {
        Self(())
    }

    /// Approval typed at the prompt: only `yes` counts.
    pub fn from_answer(answer: &str) -> Option<Self> {
        (answer.trim() == "yes").then_some(Self(()))
    }
}

/// One user's writes, exactly as planned.
#[derive(Clone, Debug)]
pub struct Work {
    /// The entry's place in the plan: outcomes are reported in the plan's order.
    pub index: usize,
    pub user_name: String,
    pub action: Action,
    pub origin: Origin,
    pub id: Option<String>,
    pub requests: Vec<Request>,
    /// What the requests change: checked against what the server answers.
    pub changes: Vec<AttrChange>,
}

impl Work {
    /// The work of a plan's entries, in the plan's order, each made as it is started
    /// (only the users in flight hold a copy of their requests).
    pub fn of(entries: &[UserChange]) -> impl ExactSizeIterator<Item = Work> + '_ {
        entries.iter().enumerate().map(|(index, u)| Work {
            index,
            user_name: u.user_name.clone(),
            action: u.action,
            origin: u.declared_at.clone(),
            id: u.id.clone(),
            requests: u.requests.clone(),
            changes: u.changes.clone(),
        })
    }
}

/// What happened to one user.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The entry's place in the plan.
    pub index: usize,
    pub user_name: String,
    pub action: Action,
    pub origin: Origin,
    /// The user's id (for a create: the one the server gave it).
    pub id: Option<String>,
    pub status: Status,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    /// Every request succeeded; `note` says how, when it was not plain (a create whose
    /// answer was lost, found by looking the user up).
    Applied { note: Option<String> },
    /// A request failed: why, naming the request. The later requests were not sent.
    Failed(String),
    /// Not started: why (interrupted, too many failures).
    Skipped(String),
    /// Every request succeeded, and the server did not keep these attributes (it
    /// answered 2xx, and answers without them, or with other values).
    Unkept(Vec<Unkept>),
}

/// An attribute the server was sent and did not keep.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unkept {
    pub attr: Attr,
    /// What it was sent.
    pub sent: Option<Value>,
    /// Where the files declare it.
    pub declared_at: Option<Origin>,
}

impl Outcome {
    /// Every request succeeded and the server kept what it was sent.
    pub fn applied(&self) -> bool {
        matches!(self.status, Status::Applied { .. })
    }

    /// Every request succeeded (the server may not have kept everything).
    pub fn written(&self) -> bool {
        matches!(self.status, Status::Applied { .. } | Status::Unkept(_))
    }
}

impl From<&Outcome> for Applied {
    fn from(o: &Outcome) -> Self {
        let (status, error, note) = match &o.status {
            Status::Applied { note } => ("applied", None, note.clone()),
            Status::Failed(error) => ("failed", Some(error.clone()), None),
            Status::Skipped(why) => ("skipped", None, Some(why.clone())),
            Status::Unkept(unkept) => (
                "unkept",
                Some(format!(
                    "the server did not keep {}",
                    unkept
                        .iter()
                        .map(|u| u.attr.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
                None,
            ),
        };
        Applied {
            user_name: o.user_name.clone(),
            action: o.action,
            status: status.to_string(),
            id: o.id.clone(),
            error,
            note,
        }
    }
}

#[derive(Debug, Default)]
pub struct Report {
    /// In the plan's order.
    pub outcomes: Vec<Outcome>,
    /// Whether Ctrl-C stopped the run before every user was started.
    pub interrupted: bool,
    /// How many requests were sent again after a transient failure.
    pub retries: usize,
}

impl Report {
    pub fn failed(&self) -> usize {
        self.outcomes
            .iter()
            .filter(|o| matches!(o.status, Status::Failed(_)))
            .count()
    }

    pub fn skipped(&self) -> usize {
        self.outcomes
            .iter()
            .filter(|o| matches!(o.status, Status::Skipped(_)))
            .count()
    }

    /// Users whose server did not keep every attribute.
    pub fn unkept(&self) -> usize {
        self.outcomes
            .iter()
            .filter(|o| matches!(o.status, Status::Unkept(_)))
            .count()
    }

    /// Whether everything was applied, and kept.
    pub fn complete(&self) -> bool {
        self.outcomes.iter().all(Outcome::applied)
    }
}

/// How to apply.
#[derive(Clone, Debug)]
pub struct Options {
    /// At most this many users are written at once.
    pub parallelism: usize,
    /// Once this many users failed, no new user is started: a wide failure (a wrong
    /// setting, a server down) is not repeated for every user.
    pub max_failures: usize,
    /// How a user is looked up by userName (after a create whose answer was lost).
    pub lookup: Lookup,
    /// Set (by Ctrl-C) to start no new user; users in flight finish.
    pub stop: Arc<AtomicBool>,
}

/// How users are found by userName on this server.
#[derive(Clone, Copy, Debug)]
pub struct Lookup {
    /// How the server's users are listed.
    pub listing: crate::observe::Listing,
}

/// Sends `work`, calling `on_outcome` as each user is done.
pub async fn apply(
    client: &Client,
    dialect: Arc<dyn Dialect>,
    work: impl ExactSizeIterator<Item = Work>,
    options: &Options,
    _approval: Approval,
    mut on_outcome: impl FnMut(&Outcome),
) -> Report {
    let mut report = Report::default();
    let mut slots = InPlanOrder::new(work.len());
    let mut place = |outcome: Outcome| slots.place(outcome);
    let mut failed = 0;
    let mut queue = work;
    let mut tasks = JoinSet::new();
    // Users start in the plan's order, at most `parallelism` at a time.
    loop {
        while tasks.len() < options.parallelism.max(1) {
            let Some(user) = queue.next() else { break };
            let skip = if options.stop.load(Ordering::SeqCst) {
                Some("interrupted before it started".to_string())
            } else if failed >= options.max_failures {
                Some(format!(
                    "not started after {failed} failures (--max-failures {})",
                    options.max_failures
                ))
            } else {
                None
            };
            if let Some(reason) = skip {
                let outcome = Outcome {
                    index: user.index,
                    user_name: user.user_name,
                    action: user.action,
                    origin: user.origin,
                    id: user.id,
                    status: Status::Skipped(reason),
                };
                on_outcome(&outcome);
                place(outcome);
                continue;
            }
            let (client, dialect, lookup) = (client.clone(), dialect.clone(), options.lookup);
            tasks.spawn(async move { apply_user(&client, dialect.as_ref(), &lookup, &user).await });
        }
        let Some(done) = tasks.join_next().await else {
            break;
        };
        let outcome = match done {
            Ok(outcome) => outcome,
            Err(e) => panic!("an apply task panicked: {e}"),
        };
        if matches!(outcome.status, Status::Failed(_)) {
            failed += 1;
        }
        on_outcome(&outcome);
        place(outcome);
    }
    report.outcomes = slots.finish();
    report.interrupted = options.stop.load(Ordering::SeqCst);
    report.retries = client.retries();
    report
}

/// Outcomes in the plan's order, whatever order users finish in: each goes to the slot
/// of its entry's index. Placing is O(1) and finishing O(n): nothing here can search
/// or sort (a report of 50,000 users once cost minutes that way).
struct InPlanOrder(Vec<Option<Outcome>>);

impl InPlanOrder {
    fn new(entries: usize) -> Self {
        let mut slots = Vec::new();
        slots.resize_with(entries, || None);
        Self(slots)
    }

    fn place(&mut self, outcome: Outcome) {
        let index = outcome.index;
        if let Some(slot) = self.0.get_mut(index) {
            *slot = Some(outcome);
        }
    }

    fn finish(self) -> Vec<Outcome> {
        self.0.into_iter().flatten().collect()
    }
}

/// How many times a create whose answer was lost is looked up and sent again.
const LOST_CREATES: usize = 3;

async fn apply_user(
    client: &Client,
    dialect: &dyn Dialect,
    lookup: &Lookup,
    user: &Work,
) -> Outcome {
    let mut outcome = Outcome {
        index: user.index,
        user_name: user.user_name.clone(),
        action: user.action,
        origin: user.origin.clone(),
        id: user.id.clone(),
        status: Status::Applied { note: None },
    };
    // The user as the last write left it, when the server answered with it.
    let mut answered = None;
    let mut check = true;
    for request in &user.requests {
        let sent = if request.method == Method::Post {
            create(client, dialect, lookup, user, request)
                .await
                .map(|created| {
                    check &= created.ours;
                    (created.resource, created.note)
                })
        } else {
            match client.send_request(request).await {
                Ok(response) => Ok((response.body, None)),
                Err(e) => Err(explain(client, dialect, request, e).await),
            }
        };
        match sent {
            Ok((resource, note)) => {
                if let Some(id) = resource
                    .as_ref()
                    .and_then(|b| b.get("id"))
                    .and_then(|i| i.as_str())
                {
                    outcome.id = Some(id.to_string());
                }
                if note.is_some() {
                    outcome.status = Status::Applied { note };
                }
                answered = resource.filter(|r| r.get("userName").is_some());
            }
            Err(message) => {
                outcome.status = Status::Failed(message);
                return outcome;
            }
        }
    }
    if check {
        let unkept = check_kept(client, dialect, lookup, user, answered).await;
        if !unkept.is_empty() {
            outcome.status = Status::Unkept(unkept);
        }
    }
    outcome
}

/// What the server did not keep of what `user`'s writes sent, judged by its answer to
/// the last write, or, where the answer had no body, by reading the user again. A
/// deactivation by DELETE sends no attribute: there is nothing to check.
async fn check_kept(
    client: &Client,
    dialect: &dyn Dialect,
    lookup: &Lookup,
    user: &Work,
    answered: Option<serde_json::Value>,
) -> Vec<Unkept> {
    let writes = user.requests.iter().rfind(|r| r.body.is_some());
    let Some(last) = writes.filter(|_| !user.changes.is_empty()) else {
        return Vec::new();
    };
    let resource = match answered {
        Some(resource) => Some(resource),
        None if last.method == Method::Post => find_user(client, dialect, &user.user_name, lookup)
            .await
            .ok()
            .flatten(),
        None => client
            .send(Method::Get, &last.path, &[], None)
            .await
            .ok()
            .and_then(|r| r.body),
    };
    let Some(resource) = resource else {
        tracing::debug!(
            "user `{}`: the server's copy could not be read; what it kept is not checked",
            crate::escape::Shown(&user.user_name)
        );
        return Vec::new();
    };
    // The values as sent, typed as they were planned (a saved plan's dateTimes come
    // back as text: one that names an instant is a dateTime).
    let typed = |v: &Value| match v {
        Value::String(s) if crate::model::instant(s).is_some() => Value::DateTime(s.clone()),
        other => other.clone(),
    };
    let sent: AttrMap<Option<Value>> = user
        .changes
        .iter()
        .map(|c| (c.attr.clone(), c.after.as_ref().map(typed)))
        .collect();
    let schema = schema_of(dialect, &sent);
    let observed = match dialect.read_user(resource, &schema) {
        Ok(observed) => observed,
        Err(e) => {
            tracing::debug!("the server's copy cannot be read ({e}); what it kept is not checked");
            return Vec::new();
        }
    };
    user.changes
        .iter()
        .filter_map(|c| {
            let want = sent.get(&c.attr).cloned().flatten();
            match crate::plan::compare(dialect, &c.attr, want.as_ref(), &sent, &observed) {
                Comparison::Same => None,
                Comparison::Differs { .. } => Some(Unkept {
                    attr: c.attr.clone(),
                    sent: want,
                    declared_at: c.declared_at.clone(),
                }),
            }
        })
        .collect()
}

/// The types of the attributes `sent` holds, as a schema to read the server's answer
/// with (a saved plan carries values, not the server's `/Schemas`).
fn schema_of(dialect: &dyn Dialect, sent: &AttrMap<Option<Value>>) -> UserSchema {
    let mut schema = UserSchema::new(true);
    let mut extensions: std::collections::BTreeMap<String, Attributes> = Default::default();
    for (attr, value) in sent {
        let ty = match value {
            Some(Value::Boolean(_)) => ValueType::Boolean,
            Some(Value::Integer(_)) => ValueType::Integer,
            Some(Value::Decimal(_)) => ValueType::Decimal,
            Some(Value::DateTime(_)) => ValueType::DateTime,
            _ => ValueType::String,
        };
        let def = |name: &str| AttrDef {
            name: name.into(),
            ty,
            read_only: false,
        };
        match attr {
            Attr::Core(name) => schema.core.insert(def(name)),
            Attr::Property(name) => extensions
                .entry(dialect.properties_urn().to_string())
                .or_default()
                .insert(def(name)),
            Attr::Extension(member) => {
                let (urn, name) = &**member;
                extensions.entry(urn.clone()).or_default().insert(def(name))
            }
            _ => {}
        }
    }
    for (urn, attributes) in extensions {
        schema.add_extension(&urn, attributes);
    }
    schema
}

/// A create that succeeded: the user as the server answered (or as it was found),
/// a note when it was not plain, and whether the user is the one this create made (an
/// account that existed already and was adopted is not checked against the create).
struct Created {
    resource: Option<serde_json::Value>,
    note: Option<String>,
    ours: bool,
}

/// Sends a create. When its answer is lost (the server may have created the user), the
/// user is looked up before anything is sent again: found, it is the one just created;
/// absent, the create is sent again (at most [`LOST_CREATES`] times). A 409 means the
/// user exists (a lost attempt created it, or it was there): it is found and adopted,
/// never created twice.
async fn create(
    client: &Client,
    dialect: &dyn Dialect,
    lookup: &Lookup,
    user: &Work,
    request: &Request,
) -> Result<Created, String> {
    let limit = LOST_CREATES.min(client.max_retries());
    let mut lost = 0;
    loop {
        let error = match client.send_request(request).await {
            Ok(response) => {
                let note = (lost > 0).then(|| {
                    "an earlier answer was lost and the user was not there: sent again".to_string()
                });
                return Ok(Created {
                    resource: response.body,
                    note,
                    ours: true,
                });
            }
            Err(e) => e,
        };
        let conflict = error.status().map(|s| s.as_u16()) == Some(409);
        if !(error.maybe_done() || conflict) {
            return Err(explain(client, dialect, request, error).await);
        }
        tracing::info!(
            "user `{}`: {error}; looking the user up before anything is sent again",
            crate::escape::Shown(&user.user_name)
        );
        match find_user(client, dialect, &user.user_name, lookup).await {
            Ok(Some(resource)) if conflict && lost == 0 => {
                let note = "it already existed (409 Conflict): adopted as it is; the next plan compares it with the files".to_string();
                return Ok(Created {
                    resource: Some(resource),
                    note: Some(note),
                    ours: false,
                });
            }
            Ok(Some(resource)) => {
                let note = "the answer was lost; the user was found on the server".to_string();
                return Ok(Created {
                    resource: Some(resource),
                    note: Some(note),
                    ours: true,
                });
            }
            Ok(None) if conflict || lost == limit => {
                let mut message = explain(client, dialect, request, error).await;
                message.push_str(&match lost {
                    0 if conflict => "\n  (the server says the user exists; looked up by its userName, it is not found)".to_string(),
                    0 => "\n  (looked up afterwards, the user is not on the server)".to_string(),
                    n => format!(
                        "\n  (sent {} times; looked up after each failure, the user was not there)",
                        n + 1
                    ),
                });
                return Err(message);
            }
            Ok(None) => {
                lost += 1;
                client.count_retry();
            }
            Err(e) => {
                let message = format!(
                    "{error}; looking the user up then failed ({e:#}), so whether it was created is unknown: plan again"
                );
                return Err(message);
            }
        }
    }
}

/// A failed request's message, with what the dialect knows of the status; a 412 re-reads
/// the user to say what it is now (nothing is overwritten).
async fn explain(
    client: &Client,
    dialect: &dyn Dialect,
    request: &Request,
    error: HttpError,
) -> String {
    let status = error.status().map(|s| s.as_u16());
    let mut message = error.to_string();
    if status == Some(412) && !message.contains("plan again") {
        // Changed under us: say what it is now, never overwrite it.
        message = match client.send(Method::Get, &request.path, &[], None).await {
            Ok(now) => format!(
                "{} {}: the user changed on the server since it was read (412 Precondition Failed; it is now {}); nothing was overwritten: plan again",
                request.method,
                crate::escape::Shown(&request.path),
                crate::escape::Shown(
                    &now.body
                        .as_ref()
                        .map_or_else(|| "unreadable".to_string(), fingerprint)
                )
            ),
            Err(_) => {
                format!("{message}; the user changed on the server since it was read: plan again")
            }
        };
    }
    if let Some(hint) = status.and_then(|s| dialect.failure_hint(request, s)) {
        message.push_str(&format!("\n  hint: {hint}"));
    }
    message
}

/// The user named `user_name` on the server, if it exists: by the dialect's lookup, or
/// from the whole listing where the dialect filters and the server does not.
pub async fn find_user(
    client: &Client,
    dialect: &dyn Dialect,
    user_name: &str,
    lookup: &Lookup,
) -> anyhow::Result<Option<serde_json::Value>> {
    let key = dialect.key(user_name);
    let find = dialect.find(user_name);
    let Some((path, query)) = find.request() else {
        let all = crate::observe::list_all(client, lookup.listing).await?;
        return Ok(all.into_iter().find(|r| is_user(r, dialect, &key)));
    };
    match client.send(Method::Get, path, query, None).await {
        Ok(response) => Ok(found_in(response.body, dialect, &key)),
        Err(e) if e.status() == Some(reqwest::StatusCode::NOT_FOUND) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

fn is_user(resource: &serde_json::Value, dialect: &dyn Dialect, key: &UserKey) -> bool {
    resource
        .get("userName")
        .and_then(|n| n.as_str())
        .is_some_and(|n| dialect.key(n) == *key)
}

/// The user in a lookup's answer: a ListResponse holds it or not; a resource is it.
fn found_in(
    body: Option<serde_json::Value>,
    dialect: &dyn Dialect,
    key: &UserKey,
) -> Option<serde_json::Value> {
    let body = body?;
    if ListResponse::is_list(&body) {
        return ListResponse::from_value(body)
            .resources
            .into_iter()
            .find(|r| is_user(r, dialect, key));
    }
    Some(body)
}

/// Why a saved plan no longer holds on the server: for each user it touches, whether
/// the user is still as it was read (same fingerprint) or still absent (for a create).
/// Sends GET only, at most `parallelism` at a time: the user's own path for existing
/// users; for users to create, a lookup by userName (by filter where the dialect looks
/// users up that way and the server filters), else one listing of every user.
pub async fn stale_users(
    client: &Client,
    dialect: &dyn Dialect,
    users: &[UserChange],
    parallelism: usize,
    lookup: &Lookup,
) -> anyhow::Result<Vec<String>> {
    // Users to create must still be absent: found one by one where the server finds
    // a user by its name, else by one listing of every user.
    let by_listing = dialect.find("").request().is_none();
    let listed: Option<std::collections::BTreeSet<UserKey>> =
        if by_listing && users.iter().any(|u| u.fingerprint.is_none()) {
            let all = crate::observe::list_all(client, lookup.listing).await?;
            Some(
                all.iter()
                    .filter_map(|r| r.get("userName").and_then(|n| n.as_str()))
                    .map(|n| dialect.key(n))
                    .collect(),
            )
        } else {
            None
        };
    let permits = Arc::new(Semaphore::new(parallelism.max(1)));
    let mut checks = JoinSet::new();
    for (i, user) in users.iter().enumerate() {
        let (path, query) = match (&user.fingerprint, user.requests.first()) {
            (Some(_), Some(request)) => (request.path.clone(), Vec::new()),
            _ => match dialect.find(&user.user_name).request() {
                Some((path, query)) => (path.to_string(), query.to_vec()),
                None => continue,
            },
        };
        let (client, permits) = (client.clone(), permits.clone());
        checks.spawn(async move {
            let _permit = permits.acquire_owned().await;
            let query: Vec<(&str, String)> = query.iter().map(|(k, v)| (*k, v.clone())).collect();
            (i, client.send(Method::Get, &path, &query, None).await)
        });
    }
    let mut found = Vec::new();
    let mut exists = |i: usize, now: Option<String>| {
        let user = &users[i];
        let problem = match (&user.fingerprint, now) {
            (None, Some(_)) => Some(format!(
                "user `{}` now exists on the server",
                user.user_name
            )),
            (Some(_), None) => Some(format!(
                "user `{}` no longer exists on the server",
                user.user_name
            )),
            (Some(then), Some(now)) if *then != now => Some(format!(
                "user `{}` changed on the server since the plan was made",
                user.user_name
            )),
            _ => None,
        };
        found.extend(problem.map(|p| (i, p)));
    };
    if let Some(listed) = &listed {
        for (i, user) in users
            .iter()
            .enumerate()
            .filter(|(_, u)| u.fingerprint.is_none())
        {
            exists(i, listed.contains(&user.key).then(String::new));
        }
    }
    while let Some(done) = checks.join_next().await {
        let (i, answer) = done?;
        let now = match answer {
            Ok(response) if response.body.is_none() => Some(String::new()),
            Ok(response) => {
                found_in(response.body, dialect, &users[i].key).map(|r| fingerprint(&r))
            }
            Err(e) if e.status() == Some(reqwest::StatusCode::NOT_FOUND) => None,
            Err(e) => return Err(e.into()),
        };
        exists(i, now);
    }
    found.sort();
    Ok(found.into_iter().map(|(_, p)| p).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(index: usize) -> Outcome {
        Outcome {
            index,
            user_name: format!("u{index}"),
            action: Action::Create,
            origin: Origin {
                file: std::path::Path::new("users/a.yaml").into(),
                line: 1,
                column: 1,
            },
            id: None,
            status: Status::Applied { note: None },
        }
    }

    #[test]
    fn outcomes_finish_in_the_plans_order_whatever_order_they_come_in() {
        // The slots are indexed: 100,000 outcomes in reverse come out in order, each
        // placed once, with no comparison between them.
        let n = 100_000;
        let mut slots = InPlanOrder::new(n);
        for i in (0..n).rev() {
            slots.place(outcome(i));
        }
        let done = slots.finish();
        assert_eq!(done.len(), n);
        assert!(done.iter().enumerate().all(|(i, o)| o.index == i));
    }
}
