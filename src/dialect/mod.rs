//! How a kind of server behaves: the mapping between scimops' model and its wire
//! format, its limits, and the requests that change a user.
//!
//! Invariants every dialect keeps, because the planner relies on them:
//! - `read_user(resource)` of what `create_request(user)` stored compares equal
//!   (through `equivalent`) to `user` on every declared attribute: a plan made right
//!   after an apply is empty. Server-side rewriting (case, whitespace, stored forms)
//!   is undone here, in one place per rule.
//! - `update_requests` touch only the attributes in `changes`.
//! - Everything here is pure: no I/O, no clock.

mod bizagi;
pub mod common;
mod rfc7644;

pub use bizagi::{Bizagi, Keys, PROPERTIES_URN};
pub use common::user_name_filter;
pub use rfc7644::Rfc7644;

use std::sync::Arc;

use url::Url;

use crate::diag::Diagnostic;
use crate::model::{Attr, AttrChange, AttrMap, DesiredUser, ObservedUser, UserKey, Value};
use crate::schema::UserSchema;
use crate::scim::wire::{Request, user_path};
use common::{Contacts, Mapping};

/// The kinds of server scimops speaks to, as the settings name them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum DialectName {
    /// Bizagi's SCIM API (`/oauth2/server/token`, userName or guidUser keys, DELETE
    /// deactivates, one work e-mail, one phone, the UserProperties extension).
    #[default]
    Bizagi,
    /// Any SCIM 2.0 service provider (RFC 7643/7644), as its discovery endpoints describe it.
    #[serde(rename = "rfc7644")]
    Rfc7644,
}

impl DialectName {
    pub fn as_str(self) -> &'static str {
        match self {
            DialectName::Bizagi => "bizagi",
            DialectName::Rfc7644 => "rfc7644",
        }
    }
}

/// How a server reads `startIndex` (RFC 7644: an index; Bizagi's documentation words it
/// as a page number, ambiguity 4).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub enum Paging {
    /// A 1-based index of the first user of the page (RFC 7644).
    Index,
    /// A page number.
    Page,
}

/// A target's dialect and its options, from the settings.
#[derive(Clone, Debug, Default)]
pub struct DialectConfig {
    pub name: DialectName,
    pub properties_schema: Option<String>,
    pub phone_type: Option<String>,
    pub user_keys: Keys,
    /// Users asked for per listing call (`pageSize`).
    pub page_size: Option<usize>,
    /// How the server reads `startIndex` (`paging`); `None`: found out by listing.
    pub paging: Option<Paging>,
    /// Attributes the server does not keep (`unsupported`).
    pub unsupported: Vec<Attr>,
}

/// Bizagi's largest page (facts §5.2), and the default page size of every dialect.
pub const PAGE_SIZE: usize = 500;

/// A kind of server: every rule that differs between servers has its seat here, and
/// each dialect fills the seats its server needs. What all SCIM servers share is in
/// [`common::Mapping`].
pub trait Dialect: Send + Sync {
    /// The dialect's name, as the settings write it.
    fn name(&self) -> &'static str;

    /// How this server's users map to SCIM resources and back.
    fn mapping(&self) -> &Mapping;

    /// What the server says it supports (before discovery: what it documents).
    fn capabilities(&self) -> Capabilities;

    /// The URN of the extension schema that `properties` in user files stands for.
    fn properties_urn(&self) -> &str {
        &self.mapping().properties_urn
    }

    // ---- names --------------------------------------------------------------------

    /// The userName a declared name stands for, with `default_domain` added where the
    /// dialect needs a domain and the name has none.
    fn qualify(&self, user_name: &str, default_domain: Option<&str>) -> String;

    /// The key users are matched by: equal keys are the same user.
    fn key(&self, user_name: &str) -> UserKey;

    // ---- limits -------------------------------------------------------------------

    /// The properties known without asking the server (for `validate`).
    fn offline_schema(&self) -> UserSchema;

    /// The integers the server keeps exactly: by default what a JSON number carries
    /// exactly (±(2^53 − 1)), as most servers parse JSON into doubles.
    fn integer_range(&self) -> std::ops::RangeInclusive<i64> {
        const EXACT: i64 = (1 << 53) - 1;
        -EXACT..=EXACT
    }

    /// The server's documented limits, checked on a declared user before any request.
    fn check_user(&self, user: &DesiredUser, out: &mut Vec<Diagnostic>);

    /// What creating `user` needs beyond [`Dialect::check_user`].
    fn check_create(&self, _user: &DesiredUser, _out: &mut Vec<Diagnostic>) {}

    /// userName patterns of accounts never to change unless the policy names others
    /// (the account scimops itself runs as, where the server has one).
    fn protected_by_default(&self) -> &'static [&'static str] {
        &[]
    }

    // ---- tokens and discovery -----------------------------------------------------

    /// The OAuth 2.0 token endpoint of a server at `base`, when the settings give none;
    /// else what is wrong, and what would be right.
    fn token_url(&self, _base: &Url) -> Result<Url, (String, String)> {
        Err((
            format!(
                "client credentials need a token URL for an `{}` target",
                self.name()
            ),
            "set `tokenUrl` to the server's OAuth 2.0 token endpoint".to_string(),
        ))
    }

    /// Where `ResourceTypes` may be, in the order to try them (a 404 tries the next).
    fn resource_types_paths(&self) -> &'static [&'static str] {
        &["/ResourceTypes"]
    }

    /// Paths that read a listed user (its id and userName) by each form of key the
    /// server may take, for `discover` to say which it takes: (form, path).
    fn key_probes(&self, _id: &str, _user_name: &str) -> Vec<(&'static str, String)> {
        Vec::new()
    }

    // ---- reading ------------------------------------------------------------------

    /// How many users to ask for per listing call.
    fn page_size(&self) -> usize;

    /// How the server reads `startIndex`, when the target says; `None`: found out.
    fn paging(&self) -> Option<Paging>;

    /// Reads a User resource from the server.
    fn read_user(
        &self,
        resource: serde_json::Value,
        schema: &UserSchema,
    ) -> Result<ObservedUser, String> {
        self.mapping()
            .read_user(resource, schema, |name| self.key(name))
    }

    /// For a declared attribute the server returned no value for: what it returned
    /// instead, and whether the declared value already holds by it (Bizagi may answer a
    /// name as one `name.formatted`, without its parts). `None`: it has no value.
    fn derived(
        &self,
        _attr: &Attr,
        _wanted: &AttrMap<Option<Value>>,
        _observed: &ObservedUser,
    ) -> Option<Derived> {
        None
    }

    /// Whether the server's `have` already is the files' `want`.
    fn equivalent(&self, attr: &Attr, want: &Value, have: &Value) -> bool {
        match attr {
            Attr::Email => common::same_email(want, have),
            _ => want == have,
        }
    }

    /// How a user is found by its userName, before its id is known: never by a form
    /// of key the server does not take. By a filter where the server filters, else by
    /// listing every user.
    fn find(&self, user_name: &str) -> Find {
        if self.capabilities().filter {
            Find::Filter(vec![("filter", common::user_name_filter(user_name))])
        } else {
            Find::List
        }
    }

    // ---- writing ------------------------------------------------------------------

    /// The path of a user that exists.
    fn user_path(&self, observed: &ObservedUser) -> String {
        user_path(&observed.id)
    }

    /// The one request that creates `user`.
    fn create_request(&self, user: &DesiredUser) -> Request {
        self.mapping().create_request(user)
    }

    /// The requests that turn `observed` into the desired user, given what differs.
    fn update_requests(&self, observed: &ObservedUser, changes: &[AttrChange]) -> Vec<Request> {
        if changes.is_empty() {
            return Vec::new();
        }
        vec![self.mapping().update_request(
            observed,
            changes,
            self.user_path(observed),
            self.capabilities(),
        )]
    }

    /// The request that removes `observed` from the server, where DELETE removes users
    /// (not on Bizagi, where DELETE deactivates).
    fn delete_request(&self, _observed: &ObservedUser) -> Option<Request> {
        None
    }

    /// What to tell a user whose request failed with `status`, when the dialect knows
    /// a likely cause.
    fn failure_hint(&self, _request: &Request, _status: u16) -> Option<&'static str> {
        None
    }
}

/// How one user is found by its userName (see [`Dialect::find`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Find {
    /// A GET of this path answers the user, or 404.
    Path(String),
    /// A GET of `/Users` with this query answers a ListResponse that holds the user,
    /// or not (a server that ignores the filter answers others: they are passed over).
    Filter(Vec<(&'static str, String)>),
    /// Only a listing of every user finds it.
    List,
}

impl Find {
    /// The GET that finds the user (path and query); `None`: a listing.
    pub fn request(&self) -> Option<(&str, &[(&'static str, String)])> {
        match self {
            Find::Path(path) => Some((path, &[])),
            Find::Filter(query) => Some(("/Users", query)),
            Find::List => None,
        }
    }
}

/// A declared attribute judged by another one the server returned (see
/// [`Dialect::derived`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Derived {
    /// Whether the declared value already holds.
    pub same: bool,
    /// The attribute it was judged by, and its value.
    pub from: Attr,
    pub value: Value,
}

/// What a server says it can do (`GET /ServiceProviderConfig`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capabilities {
    pub patch: bool,
    pub filter: bool,
    pub etag: bool,
}

impl Default for Capabilities {
    /// Before discovery: PATCH, no filter, no ETag (what Bizagi documents).
    fn default() -> Self {
        Self {
            patch: true,
            filter: false,
            etag: false,
        }
    }
}

/// The dialect a target's settings describe, for a server with `capabilities`.
pub fn for_target(config: &DialectConfig, capabilities: Capabilities) -> Arc<dyn Dialect> {
    let properties_urn = config
        .properties_schema
        .clone()
        .unwrap_or_else(|| PROPERTIES_URN.to_string());
    let phone_type = config
        .phone_type
        .clone()
        .unwrap_or_else(|| "mobile".to_string());
    let page_size = config.page_size.unwrap_or(PAGE_SIZE).max(1);
    match config.name {
        DialectName::Bizagi => Arc::new(Bizagi {
            mapping: Mapping {
                properties_urn,
                phone_type,
                contacts: Contacts::Single,
                unsupported: config.unsupported.clone(),
                keep_raw: !capabilities.patch,
            },
            capabilities,
            keys: config.user_keys,
            page_size,
            paging: config.paging,
        }),
        DialectName::Rfc7644 => Arc::new(Rfc7644 {
            mapping: Mapping {
                properties_urn,
                phone_type,
                contacts: Contacts::Merge,
                unsupported: config.unsupported.clone(),
                keep_raw: true,
            },
            capabilities,
            page_size,
            paging: config.paging,
        }),
    }
}
