//! The sandbox's settings file: credentials, custom properties, seed users.

use std::collections::BTreeMap;
use std::path::Path;

use schemars::JsonSchema;
use serde::Deserialize;

use crate::config::yaml;
use crate::diag::{Diagnostic, Diagnostics};

/// Settings of a Bizagi-compatible sandbox (`scimops sandbox --config FILE`, or a
/// target's `sandbox.config`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SandboxConfig {
    /// Lifetime of the access tokens it issues, in seconds; 0: tokens never expire.
    /// Default: 1200, as in Bizagi's example.
    #[serde(default = "default_lifetime")]
    pub token_lifetime_seconds: u64,
    /// OAuth2 clients allowed to ask for tokens. The secret is a reference to an
    /// environment variable (`${NAME}`). An embedded sandbox adds its own client.
    #[serde(default)]
    pub clients: Vec<Client>,
    /// The domain of a userName written without one. Default: `domain`.
    #[serde(default = "default_domain")]
    pub default_domain: String,
    /// Custom user properties, by name, with their type (besides Bizagi's built-in
    /// DelegateEnabled, enabledForAssignation, createdCasesSkipAssigRules, offlineForms,
    /// normalCost and overtimeCost).
    #[serde(default)]
    pub properties: BTreeMap<String, PropertyType>,
    /// `strict`: phone numbers must be `+CountryCode Number`, at most 20 characters
    /// (Bizagi's newest documentation); `loose`: any text (older editions). Default: strict.
    #[serde(default)]
    pub phone_format: PhoneFormat,
    /// Whether PATCH is offered. `false`: the ServiceProviderConfig says so and PATCH
    /// answers 501, as on servers that only take PUT. Default: true (Bizagi documents PATCH).
    #[serde(default = "yes")]
    pub patch: bool,
    /// Whether users carry a version (`meta.version`, the ETag header) and writes honour
    /// `If-Match` (412 when it no longer matches). Default: false (Bizagi documents none).
    #[serde(default)]
    pub etag: bool,
    /// How `startIndex` is read: `index`, a 1-based item index as RFC 7644 says (the
    /// default), or `page`, a page number as Bizagi's documentation words it.
    #[serde(default)]
    pub paging: Paging,
    /// The page size when a listing gives no `count`. Default: 100 (Bizagi).
    #[serde(default = "default_page")]
    pub default_page_size: u64,
    /// The largest `count` served; larger ones are capped. Default: 500 (Bizagi).
    #[serde(default = "max_page")]
    pub max_page_size: u64,
    /// Booleans answered as strings (`"active": "True"`), as Bizagi's template writes
    /// them, and accepted as strings. Default: false.
    #[serde(default)]
    pub string_booleans: bool,
    /// How a user's name is answered: `both` (`name.formatted` and the parts, the
    /// default), `parts` only, or `formatted` only (Bizagi keeps one full name,
    /// ambiguity 11).
    #[serde(default)]
    pub name: NameReading,
    /// Attributes accepted but not stored (as user files name them: `name.middleName`,
    /// `phone`, `email`, `properties.Level`...): a server that drops what it does not
    /// keep, and answers 2xx. Default: none.
    #[serde(default)]
    pub drops: Vec<String>,
    /// A listing that carries `count` is answered with this status (400 or 500), as
    /// some servers do; without `count` it is served. Default: `count` is honoured.
    pub count_refused: Option<u16>,
    /// Where `ResourceTypes` is served: `both` (the default), `documented`
    /// (`/scim/v2/ResourceTypes`) or `misprinted` (`/scim/v2/scim/v2/ResourceTypes`, as
    /// Bizagi's documentation prints it).
    #[serde(default)]
    pub resource_types: ResourceTypesPath,
    /// What `/Users/{key}` takes: `both` (the default), `id` (guidUser) or `userName`.
    #[serde(default)]
    pub user_keys: UserKeys,
    /// Whether `filter=userName eq "..."` is supported (Bizagi does not document it).
    /// Default: true.
    #[serde(default = "yes")]
    pub filter: bool,
    /// Faults injected at random: a share of requests answered with a failure.
    #[serde(default)]
    pub faults: Faults,
    /// Requests to answer with a failure instead of serving them (tests of how errors
    /// are shown): the first failure whose method and path prefix match applies.
    #[serde(default)]
    pub failures: Vec<Failure>,
    /// Users the state starts with, as SCIM User resources (the body of a POST).
    #[serde(default)]
    #[schemars(with = "Vec<serde_json::Map<String, serde_json::Value>>")]
    pub seed: Vec<serde_json::Value>,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            token_lifetime_seconds: default_lifetime(),
            clients: Vec::new(),
            default_domain: default_domain(),
            properties: BTreeMap::new(),
            phone_format: PhoneFormat::default(),
            patch: true,
            etag: false,
            paging: Paging::default(),
            default_page_size: default_page(),
            max_page_size: max_page(),
            string_booleans: false,
            name: NameReading::default(),
            drops: Vec::new(),
            count_refused: None,
            resource_types: ResourceTypesPath::default(),
            user_keys: UserKeys::default(),
            filter: true,
            failures: Vec::new(),
            faults: Faults::default(),
            seed: Vec::new(),
        }
    }
}

fn yes() -> bool {
    true
}

fn default_page() -> u64 {
    100
}

fn max_page() -> u64 {
    500
}

/// Random faults, as networks and servers produce them.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Faults {
    /// The share of requests (0 to 1) that meet a fault. Default: 0.
    #[serde(default)]
    pub rate: f64,
    /// The kinds, chosen at random for each fault. Default: all of them.
    #[serde(default = "FaultKind::all")]
    pub kinds: Vec<FaultKind>,
    /// How long a slow answer takes, in milliseconds. Default: 1500.
    #[serde(default = "slow")]
    pub slow_millis: u64,
}

impl Default for Faults {
    fn default() -> Self {
        Self {
            rate: 0.0,
            kinds: FaultKind::all(),
            slow_millis: slow(),
        }
    }
}

fn internal_error() -> u16 {
    500
}

fn slow() -> u64 {
    1500
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum FaultKind {
    /// 500 Internal Server Error, before the request is served.
    #[serde(rename = "500")]
    InternalError,
    /// 503 Service Unavailable with `Retry-After: 1`, before the request is served.
    #[serde(rename = "503")]
    Unavailable,
    /// 429 Too Many Requests with `Retry-After: 1`, before the request is served.
    #[serde(rename = "429")]
    TooMany,
    /// The connection drops before the request is served.
    #[serde(rename = "reset")]
    Reset,
    /// The answer comes after `slowMillis`.
    #[serde(rename = "slow")]
    Slow,
    /// The request is served (a write is done), then the connection drops: the answer
    /// is lost.
    #[serde(rename = "lost")]
    Lost,
    /// The request is served (a create is done), then answered 409 Conflict, as servers
    /// answer a create they already did. Only when asked for: not among the random faults.
    #[serde(rename = "conflict")]
    Conflict,
}

impl FaultKind {
    pub fn all() -> Vec<Self> {
        vec![
            Self::InternalError,
            Self::Unavailable,
            Self::TooMany,
            Self::Reset,
            Self::Slow,
            Self::Lost,
        ]
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::InternalError => "500",
            Self::Unavailable => "503",
            Self::TooMany => "429",
            Self::Reset => "reset",
            Self::Slow => "slow",
            Self::Lost => "lost",
            Self::Conflict => "conflict",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::all()
            .into_iter()
            .chain([Self::Conflict])
            .find(|k| k.name() == name)
    }
}

/// A request answered with a failure.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Failure {
    /// `GET`, `POST`, `PATCH`, `PUT` or `DELETE`.
    pub method: String,
    /// The start of the path under `/scim/v2` (`/Users`). Default: any.
    #[serde(default)]
    pub path: String,
    /// Only the first N matching requests fail. Default: all of them.
    pub times: Option<u32>,
    /// A fault instead of an answer with `status` (a dropped connection, an answer lost
    /// after the write, a slow answer, or a status of the fault kinds).
    pub fault: Option<FaultKind>,
    /// Default: 500.
    #[serde(default = "internal_error")]
    pub status: u16,
    /// The answer's body, as is. Default: none.
    #[serde(default)]
    pub body: String,
    /// Default: `text/html` when the body starts with `<`, else `application/scim+json`.
    pub content_type: Option<String>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum NameReading {
    #[default]
    Both,
    Parts,
    Formatted,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum Paging {
    #[default]
    Index,
    Page,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum ResourceTypesPath {
    #[default]
    Both,
    Documented,
    Misprinted,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum UserKeys {
    #[default]
    Both,
    Id,
    UserName,
}

fn default_lifetime() -> u64 {
    1200
}

fn default_domain() -> String {
    "domain".to_string()
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Client {
    pub client_id: String,
    /// `${ENV_VAR}`: the variable holding the client secret.
    pub client_secret: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum PropertyType {
    String,
    Integer,
    Boolean,
    Decimal,
    DateTime,
}

impl PropertyType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Integer => "integer",
            Self::Boolean => "boolean",
            Self::Decimal => "decimal",
            Self::DateTime => "dateTime",
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum PhoneFormat {
    #[default]
    Strict,
    Loose,
}

impl SandboxConfig {
    /// Reads a sandbox settings file; `shown` is the path used in messages.
    pub fn load(path: &Path, shown: &Path) -> Result<Self, Diagnostics> {
        let unreadable = |message: String| {
            Diagnostics(vec![Diagnostic::error(
                yaml::whole_file(shown),
                format!("cannot read the sandbox settings: {message}"),
            )])
        };
        let bytes = crate::config::paths::read_regular(path, crate::config::MAX_FILE_BYTES)
            .map_err(|e| unreadable(e.to_string()))?;
        let text = String::from_utf8(bytes).map_err(|e| unreadable(e.to_string()))?;
        yaml::parse(shown, &text).map_err(|d| Diagnostics(vec![d]))
    }
}
