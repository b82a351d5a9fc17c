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

use crate::model::Origin;
use crate::plan::{Action, Plan, UserChange};
use crate::scim::client::Client;

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

/// Applies `plan`, calling `on_outcome` as each user is done.
pub async fn apply(
    client: &Client,
    plan: &Plan,
    parallelism: usize,
    _approval: Approval,
    mut on_outcome: impl FnMut(&Outcome),
) -> Report {
    let mut report = Report::default();
    if parallelism <= 1 {
        for user in &plan.users {
            let outcome = apply_user(client, user).await;
            on_outcome(&outcome);
            report.outcomes.push(outcome);
        }
        return report;
    }
    let permits = Arc::new(Semaphore::new(parallelism));
    let mut tasks = JoinSet::new();
    for user in plan.users.clone() {
        let client = client.clone();
        let permits = permits.clone();
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await;
            apply_user(&client, &user).await
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

async fn apply_user(client: &Client, user: &UserChange) -> Outcome {
    let mut outcome = Outcome {
        user_name: user.user_name.clone(),
        action: user.action,
        origin: user.origin.clone(),
        id: user.id.clone(),
        error: None,
    };
    for request in &user.requests {
        match client
            .send(request.method, &request.path, &[], request.body.as_ref())
            .await
        {
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
                outcome.error = Some(e.to_string());
                break;
            }
        }
    }
    outcome
}
