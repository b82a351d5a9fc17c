//! The saved plan: [`Plan`] as JSON (`plan --out`, `plan --format json`), read back by
//! `apply FILE` and `show FILE`. Its schema is `schemas/plan.schema.json`.
//!
//! `formatVersion` is `MAJOR.MINOR`: a minor version only adds members. A plan carries a
//! digest of itself, so a plan edited by hand is refused, and a plan of another major
//! version is refused with a message that says which scimops made it.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Action, Plan};
use crate::model::sha256_hex;

pub const FORMAT_VERSION: &str = "2.1";
const FORMAT_MAJOR: &str = "2";

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TargetRef {
    /// The target's name in `scimops.yaml`.
    pub name: String,
    pub dialect: String,
    /// The SCIM base URL, or `sandbox:<state file>` for an embedded sandbox.
    pub endpoint: String,
}

/// What the plan relies on about the server: its capabilities (`ServiceProviderConfig`)
/// and what the target's settings say of it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Server {
    pub patch: bool,
    pub filter: bool,
    pub etag: bool,
    /// Attributes the target says the server does not keep (`unsupported`): neither
    /// compared nor sent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unsupported: Vec<crate::model::Attr>,
    /// The server refused a listing with `count`: it is read in pages of its own size.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub count_refused: bool,
    /// How the server reads `startIndex`, when the listing showed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paging: Option<crate::dialect::Paging>,
}

impl From<crate::dialect::Capabilities> for Server {
    fn from(c: crate::dialect::Capabilities) -> Self {
        Self {
            patch: c.patch,
            filter: c.filter,
            etag: c.etag,
            unsupported: Vec::new(),
            count_refused: false,
            paging: None,
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
    /// The files and folders of users the target reads, as the settings name them (the
    /// repository's `users:`, then the target's own).
    #[serde(default)]
    pub read: Vec<String>,
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
            read: Vec::new(),
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

impl Plan {
    /// Sets the digest, once the plan is complete.
    pub fn seal(&mut self) {
        self.digest = digest(&self.unsigned());
    }

    /// The plan as JSON, without `digest` (empty) and `applied`: what the digest covers.
    fn unsigned(&self) -> serde_json::Value {
        let unsigned = Self {
            digest: String::new(),
            applied: None,
            ..self.clone()
        };
        serde_json::to_value(&unsigned).unwrap_or_default()
    }

    /// The plan as JSON, as `--out` saves it.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }

    /// Reads a saved plan, checking its format version and its digest.
    pub fn from_json(text: &str) -> Result<Self, String> {
        let mut raw: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("not a scimops plan: {e}"))?;
        let version = raw
            .get("formatVersion")
            .and_then(|v| v.as_str())
            .ok_or("not a scimops plan: it has no `formatVersion`")?
            .to_string();
        if version.split('.').next() != Some(FORMAT_MAJOR) {
            let made_by = raw
                .get("scimopsVersion")
                .and_then(|v| v.as_str())
                .map_or_else(String::new, |v| {
                    format!(" by scimops {}", crate::escape::Shown(v))
                });
            let older = version
                .split('.')
                .next()
                .and_then(|m| m.parse::<u32>().ok())
                < FORMAT_MAJOR.parse().ok();
            return Err(format!(
                "the plan is in format {} and was made{made_by}, {} this scimops ({}), which reads format {FORMAT_MAJOR}.x: make the plan again with this scimops",
                crate::escape::Shown(&version),
                if older { "older than" } else { "newer than" },
                env!("CARGO_PKG_VERSION")
            ));
        }
        if raw.get("masked") == Some(&serde_json::Value::Bool(true)) {
            return Err(
                "the plan was printed with --mask-pii: it is for reading, not for applying; apply the plan saved with `plan --out`".to_string(),
            );
        }
        // The digest covers the plan as written, whatever this scimops would add.
        let claimed = raw
            .get("digest")
            .and_then(|d| d.as_str())
            .unwrap_or_default()
            .to_string();
        if let Some(members) = raw.as_object_mut() {
            members.remove("applied");
            members.insert("digest".into(), serde_json::Value::String(String::new()));
        }
        if digest(&raw) != claimed {
            return Err("the plan's content does not match its digest: it was edited".to_string());
        }
        let mut plan: Self =
            serde_json::from_value(raw).map_err(|e| format!("not a scimops plan: {e}"))?;
        plan.digest = claimed;
        Ok(plan)
    }

    /// The short form shown to reviewers: `sha256:` and 12 hex digits.
    pub fn short_digest(&self) -> &str {
        let end = "sha256:".len() + 12;
        self.digest.get(..end).unwrap_or(&self.digest)
    }
}

fn digest(unsigned: &serde_json::Value) -> String {
    format!("sha256:{}", sha256_hex(unsigned.to_string().as_bytes()))
}
