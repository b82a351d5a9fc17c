//! The saved plan: [`Plan`] as JSON (`plan --out`, `plan --format json`), read back by
//! `apply FILE` and `show FILE`. Its schema is `schemas/plan.schema.json`.
//!
//! `formatVersion` is `MAJOR.MINOR`: a minor version only adds members (for the programs
//! that read `--format json`). A plan carries a digest of itself, so a plan edited by
//! hand is refused; scimops reads back only plans of its own format version (as Terraform
//! applies only plans of its own version), and refuses others with a message that says
//! which scimops made them.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Action, Plan};
use crate::model::sha256_hex;

/// A saved plan is read only by a scimops of its own format version, as Terraform applies
/// only plans of its own version: the digest covers the plan as this version reads it.
pub const FORMAT_VERSION: &str = "2.1";

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
        self.unsign();
        self.digest = self.unsigned_digest();
    }

    /// Clears what the digest does not cover: the digest itself and apply's report.
    fn unsign(&mut self) {
        self.digest.clear();
        self.applied = None;
    }

    /// The digest of an unsigned plan ([`Plan::unsign`]): SHA-256 of its JSON as it
    /// serialises (compact, fields in order), streamed into the hash: a plan of 100,000
    /// creates is neither copied nor held as a JSON tree. A saved plan is checked the same
    /// way, on what this scimops read of it ([`Plan::from_json`]): the digest covers
    /// exactly what is shown and applied, whatever the file's layout.
    fn unsigned_digest(&self) -> String {
        let mut out = crate::model::Hasher::new();
        // Serialising a plan cannot fail: its maps have string keys.
        serde_json::to_writer(&mut out, self).expect("a plan serialises to JSON");
        out.finish()
    }

    /// Seals the plan while `work` reads it, the digest computed on another core: a plan
    /// of 50,000 creates takes about as long to hash as to print, and the terminal's view
    /// does not show the digest.
    pub fn seal_while<T>(&mut self, work: impl FnOnce(&Self) -> T) -> T {
        self.unsign();
        let this: &Self = self;
        let (result, digest) = std::thread::scope(|scope| {
            let digest = scope.spawn(|| this.unsigned_digest());
            let result = work(this);
            let digest = digest
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (result, digest)
        });
        self.digest = digest;
        result
    }

    /// The plan as JSON, as `--out` saves it.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }

    /// Reads a saved plan, checking its format version and its digest.
    pub fn from_json(text: &str) -> Result<Self, String> {
        // What says whether the rest can be read, read first and alone (a plan of 100,000
        // users is read once, into its types, never as a JSON tree).
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Header {
            format_version: Option<serde_json::Value>,
            scimops_version: Option<serde_json::Value>,
            masked: Option<serde_json::Value>,
            digest: Option<serde_json::Value>,
        }
        let raw: Header =
            serde_json::from_str(text).map_err(|e| format!("not a scimops plan: {e}"))?;
        let version = raw
            .format_version
            .as_ref()
            .and_then(|v| v.as_str())
            .ok_or("not a scimops plan: it has no `formatVersion`")?
            .to_string();
        if version != FORMAT_VERSION {
            let made_by = raw
                .scimops_version
                .as_ref()
                .and_then(|v| v.as_str())
                .map_or_else(String::new, |v| {
                    format!(" by scimops {}", crate::escape::Shown(v))
                });
            let number = |v: &str| -> Vec<u64> {
                v.split('.')
                    .map(|n| n.parse().unwrap_or(u64::MAX))
                    .collect()
            };
            let older = number(&version) < number(FORMAT_VERSION);
            return Err(format!(
                "the plan is in format {} and was made{made_by}, {} this scimops ({}), which applies plans of its own format ({FORMAT_VERSION}) only: make the plan again with this scimops",
                crate::escape::Shown(&version),
                if older { "older than" } else { "newer than" },
                env!("CARGO_PKG_VERSION")
            ));
        }
        if raw.masked == Some(serde_json::Value::Bool(true)) {
            return Err(
                "the plan was printed with --mask-pii: it is for reading, not for applying; apply the plan saved with `plan --out`".to_string(),
            );
        }
        let claimed = raw
            .digest
            .as_ref()
            .and_then(|d| d.as_str())
            .unwrap_or_default()
            .to_string();
        let mut plan: Self =
            serde_json::from_str(text).map_err(|e| format!("not a scimops plan: {e}"))?;
        plan.unsign();
        if plan.unsigned_digest() != claimed {
            return Err("the plan's content does not match its digest: it was edited".to_string());
        }
        plan.digest = claimed;
        Ok(plan)
    }

    /// The short form shown to reviewers: `sha256:` and 12 hex digits.
    pub fn short_digest(&self) -> &str {
        let end = "sha256:".len() + 12;
        self.digest.get(..end).unwrap_or(&self.digest)
    }
}
