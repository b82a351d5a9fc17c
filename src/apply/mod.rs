//! The only code that writes to the server.
//!
//! Invariants:
//! - It sends exactly the requests the plan carries, in order per user, nothing else:
//!   what the reviewer saw is what is sent.
//! - Writing needs an [`Approval`], which only `--auto-approve` or a typed `yes` makes.
//! - One user's failure does not stop the others; the report says what happened to each.
//! - Users are written concurrently, at most `parallelism` at a time.

use std::sync::Arc;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::dialect::Dialect;
use crate::model::{Origin, UserKey, fingerprint};
use crate::plan::document::UserPlan;
use crate::plan::{Action, UserChange};
use crate::scim::client::Client;
use crate::scim::wire::{Method, Request};

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
    pub user_name: String,
    pub action: Action,
    pub origin: Origin,
    pub id: Option<String>,
    pub requests: Vec<Request>,
}

impl From<&UserChange> for Work {
    fn from(u: &UserChange) -> Self {
        Self {
            user_name: u.user_name.clone(),
            action: u.action,
            origin: u.origin.clone(),
            id: u.id.clone(),
            requests: u.requests.clone(),
        }
    }
}

impl From<&UserPlan> for Work {
    fn from(u: &UserPlan) -> Self {
        Self {
            user_name: u.user_name.clone(),
            action: u.action,
            origin: u.declared_at.clone(),
            id: u.id.clone(),
            requests: u.requests.clone(),
        }
    }
}

/// What happened to one user.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub user_name: String,
    pub action: Action,
    pub origin: Origin,
    /// The user's id (for a create: the one the server gave it).
    pub id: Option<String>,
    /// Why it failed, naming the request.
    pub error: Option<String>,
}

#[derive(Debug, Default)]
pub struct Report {
    /// In the order users finished.
    pub outcomes: Vec<Outcome>,
}

impl Report {
    pub fn failed(&self) -> usize {
        self.outcomes.iter().filter(|o| o.error.is_some()).count()
    }
}

/// Sends `work`, calling `on_outcome` as each user is done.
pub async fn apply(
    client: &Client,
    dialect: Arc<dyn Dialect>,
    work: Vec<Work>,
    parallelism: usize,
    _approval: Approval,
    mut on_outcome: impl FnMut(&Outcome),
) -> Report {
    let mut report = Report::default();
    if parallelism <= 1 {
        for user in &work {
            let outcome = apply_user(client, dialect.as_ref(), user).await;
            on_outcome(&outcome);
            report.outcomes.push(outcome);
        }
        return report;
    }
    let permits = Arc::new(Semaphore::new(parallelism));
    let mut tasks = JoinSet::new();
    for user in work {
        let (client, dialect, permits) = (client.clone(), dialect.clone(), permits.clone());
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await;
            apply_user(&client, dialect.as_ref(), &user).await
        });
    }
    while let Some(done) = tasks.join_next().await {
        let outcome = match done {
            Ok(outcome) => outcome,
            Err(e) => panic!("an apply task panicked: {e}"),
        };
        on_outcome(&outcome);
        report.outcomes.push(outcome);
    }
    report
}

async fn apply_user(client: &Client, dialect: &dyn Dialect, user: &Work) -> Outcome {
    let mut outcome = Outcome {
        user_name: user.user_name.clone(),
        action: user.action,
        origin: user.origin.clone(),
        id: user.id.clone(),
        error: None,
    };
    for request in &user.requests {
        match client.send_request(request).await {
            Ok(response) => {
                if let Some(id) = response
                    .body
                    .as_ref()
                    .and_then(|b| b.get("id"))
                    .and_then(|i| i.as_str())
                {
                    outcome.id = Some(id.to_string());
                }
            }
            Err(e) => {
                let status = e.status().map(|s| s.as_u16());
                let mut error = e.to_string();
                if status == Some(412) {
                    // Changed under us: say what it is now, never overwrite it.
                    error = match client.send(Method::Get, &request.path, &[], None).await {
                        Ok(now) => format!(
                            "{} {}: the user changed on the server since it was read (412 Precondition Failed; it is now {}); nothing was overwritten: plan again",
                            request.method,
                            request.path,
                            now.body
                                .as_ref()
                                .map_or_else(|| "unreadable".to_string(), fingerprint)
                        ),
                        Err(_) => format!(
                            "{error}; the user changed on the server since it was read: plan again"
                        ),
                    };
                }
                if let Some(hint) = status.and_then(|s| dialect.failure_hint(request, s)) {
                    error.push_str(&format!("\n  hint: {hint}"));
                }
                outcome.error = Some(error);
                break;
            }
        }
    }
    outcome
}

/// Why a saved plan no longer holds on the server: for each user it touches, whether
/// the user is still as it was read (same fingerprint) or still absent (for a create).
/// Sends GET only, at most `parallelism` at a time: the user's own path for existing
/// users; for users to create, a lookup by userName (by filter where the dialect looks
/// users up that way and the server filters), else one listing of every user.
pub async fn stale_users(
    client: &Client,
    dialect: &dyn Dialect,
    users: &[UserPlan],
    parallelism: usize,
    filter: bool,
    page_size: usize,
) -> anyhow::Result<Vec<String>> {
    let by_filter = !dialect.lookup_query("").is_empty();
    let listed: Option<Vec<UserKey>> =
        if by_filter && !filter && users.iter().any(|u| u.fingerprint.is_none()) {
            let all = crate::observe::list_all(client, page_size).await?;
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
            _ if listed.is_some() => continue,
            _ => (
                dialect.lookup_path(&user.user_name),
                dialect.lookup_query(&user.user_name),
            ),
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
            // A ListResponse (a filter) holds the user or not; a resource is the user.
            Ok(response) => match response.body {
                Some(body)
                    if body.get("Resources").is_some() || body.get("totalResults").is_some() =>
                {
                    body.get("Resources")
                        .and_then(|r| r.as_array())
                        .into_iter()
                        .flatten()
                        .find(|r| {
                            r.get("userName")
                                .and_then(|n| n.as_str())
                                .is_some_and(|n| dialect.key(n) == users[i].key)
                        })
                        .map(fingerprint)
                }
                Some(body) => Some(fingerprint(&body)),
                None => Some(String::new()),
            },
            Err(e) if e.status() == Some(reqwest::StatusCode::NOT_FOUND) => None,
            Err(e) => return Err(e.into()),
        };
        exists(i, now);
    }
    found.sort();
    Ok(found.into_iter().map(|(_, p)| p).collect())
}
