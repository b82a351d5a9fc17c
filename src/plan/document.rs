//! The plan as a document: what `plan --format json` prints and `plan --out` saves, and
//! what `apply FILE` applies. Its JSON Schema is `schemas/plan.schema.json`.
//!
//! Versioning: `formatVersion` is `MAJOR.MINOR`. A minor version only adds members
//! (readers ignore members they do not know); a new major version changes or removes
//! some, and `apply` refuses a plan of another major version.
//!
//! A saved plan binds what was reviewed to what is applied: it records the files'
//! digests, the target, and for every user it touches the fingerprint of the user as
//! read. `apply FILE` checks all of them before the first write.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Action, Plan, Summary};
use crate::model::{Origin, UserKey, sha256_hex};
use crate::scim::wire::Request;

pub const FORMAT_VERSION: &str = "1.0";
const FORMAT_MAJOR: &str = "1";

/// A plan, for machines and for `apply FILE`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlanDocument {
    /// `MAJOR.MINOR` of this format (currently "1.0").
    pub format_version: String,
    /// The scimops version that made the plan.
    pub scimops_version: String,
    pub target: TargetRef,
    /// What the server said it supports when the plan was made.
    pub server: Server,
    /// The repository's files when the plan was made.
    pub files: Files,
    pub summary: Summary,
    /// The users with something to do, ordered by key (lower-case userName).
    pub users: Vec<UserPlan>,
    /// Protected users a file or the policy would have changed: left as they are.
    #[serde(default)]
    pub protected: Vec<super::Protected>,
    /// Why the safety policy refused this plan when it was made (empty: it did not).
    #[serde(default)]
    pub refusals: Vec<String>,
    /// `sha256:` of this document without `digest` and `applied`: two plans with the
    /// same digest do the same thing to the same users.
    pub digest: String,
    /// What happened to each user (`apply --format json` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied: Option<Vec<Applied>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TargetRef {
    /// The target's name in `scimops.yaml`.
    pub name: String,
    pub dialect: String,
    /// The SCIM base URL, or `sandbox:<state file>` for an embedded sandbox.
    pub endpoint: String,
}

/// The server's capabilities (`ServiceProviderConfig`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Server {
    pub patch: bool,
    pub filter: bool,
    pub etag: bool,
}

impl From<crate::dialect::Capabilities> for Server {
    fn from(c: crate::dialect::Capabilities) -> Self {
        Self {
            patch: c.patch,
            filter: c.filter,
            etag: c.etag,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Files {
    /// `sha256:` over every file below.
    pub digest: String,
    /// Each file (settings and users), by path relative to the repository, with the
    /// SHA-256 of its bytes (`sha256:...`).
    pub files: BTreeMap<String, String>,
}

impl Files {
    pub fn new(files: BTreeMap<String, String>) -> Self {
        let listing: String = files
            .iter()
            .map(|(path, hash)| format!("{path}\0{hash}\n"))
            .collect();
        Self {
            digest: format!("sha256:{}", sha256_hex(listing.as_bytes())),
            files,
        }
    }

    /// What differs from `now`: files changed, added and removed, by path.
    pub fn differences(&self, now: &Files) -> Vec<String> {
        let mut out = Vec::new();
        for (path, hash) in &self.files {
            match now.files.get(path) {
                None => out.push(format!("`{path}` was removed")),
                Some(h) if h != hash => out.push(format!("`{path}` changed")),
                Some(_) => {}
            }
        }
        for path in now.files.keys().filter(|p| !self.files.contains_key(*p)) {
            out.push(format!("`{path}` was added"));
        }
        out
    }
}

/// One user's part of the plan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserPlan {
    pub user_name: String,
    pub key: UserKey,
    /// The server's id (absent for a user to create).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub action: Action,
    pub reason: String,
    pub declared_at: Origin,
    /// The user as read when planning (`version:<ETag>` or `sha256:<hash>`); absent for a
    /// user that did not exist, which must still not exist when the plan is applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    pub changes: Vec<Change>,
    pub unchanged_attributes: usize,
    /// Exactly what apply sends for this user, in order.
    pub requests: Vec<Request>,
}

/// One attribute: the server's value and the files' (`null`: none, or cleared).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    /// As the user files name it: `name.givenName`, `email`, `properties.Level`...
    pub attribute: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

/// What apply did to one user.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Applied {
    pub user_name: String,
    pub action: Action,
    /// `applied`, `failed` (a request failed: `error` says which and why) or `skipped`
    /// (not started: `note` says why).
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// How it was applied when not plainly (a create whose answer was lost), or why it
    /// was skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl PlanDocument {
    pub fn new(plan: &Plan, target: TargetRef, server: Server, files: Files) -> Self {
        let users = plan
            .users
            .iter()
            .map(|u| UserPlan {
                user_name: u.user_name.clone(),
                key: u.key.clone(),
                id: u.id.clone(),
                action: u.action,
                reason: u.reason.to_string(),
                declared_at: u.origin.clone(),
                fingerprint: u.fingerprint.clone(),
                changes: u
                    .changes
                    .iter()
                    .map(|c| Change {
                        attribute: c.attr.to_string(),
                        before: c.before.as_ref().map(|v| v.to_json()),
                        after: c.after.as_ref().map(|v| v.to_json()),
                    })
                    .collect(),
                unchanged_attributes: u.unchanged_attributes,
                requests: u.requests.clone(),
            })
            .collect();
        let mut doc = Self {
            format_version: FORMAT_VERSION.to_string(),
            scimops_version: env!("CARGO_PKG_VERSION").to_string(),
            target,
            server,
            files,
            summary: plan.summary(),
            users,
            protected: plan.protected.clone(),
            refusals: Vec::new(),
            digest: String::new(),
            applied: None,
        };
        doc.digest = doc.compute_digest();
        doc
    }

    /// Recomputes the digest after the document was changed.
    pub fn seal(&mut self) {
        self.digest = self.compute_digest();
    }

    fn compute_digest(&self) -> String {
        let unsigned = Self {
            digest: String::new(),
            applied: None,
            ..self.clone()
        };
        let text = serde_json::to_value(&unsigned)
            .map(|v| v.to_string())
            .unwrap_or_default();
        format!("sha256:{}", sha256_hex(text.as_bytes()))
    }

    /// Reads a saved plan, checking its format version and its digest.
    pub fn from_json(text: &str) -> Result<Self, String> {
        let doc: Self =
            serde_json::from_str(text).map_err(|e| format!("not a scimops plan: {e}"))?;
        let major = doc.format_version.split('.').next().unwrap_or_default();
        if major != FORMAT_MAJOR {
            return Err(format!(
                "the plan is in format {}, and this scimops ({}) reads format {FORMAT_MAJOR}.x",
                doc.format_version,
                env!("CARGO_PKG_VERSION")
            ));
        }
        if doc.compute_digest() != doc.digest {
            return Err("the plan's content does not match its digest: it was edited".to_string());
        }
        Ok(doc)
    }

    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    /// The short form shown to reviewers: `sha256:` and 12 hex digits.
    pub fn short_digest(&self) -> &str {
        let end = "sha256:".len() + 12;
        self.digest.get(..end).unwrap_or(&self.digest)
    }
}
