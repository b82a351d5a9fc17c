//! `scimops.yaml`: where the users live, how to reach the server, and defaults.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

use super::users::Scalar;
use super::yaml::Located;
use crate::dialect::{DialectName, Keys};

/// The settings file of a scimops repository (`scimops.yaml`).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(extend("required" = ["targets"]))]
pub struct Settings {
    /// The SCIM service providers this repository can be applied to, by name (for example
    /// `development`, `test`, `production`). Commands pick one with `--target NAME`.
    #[serde(default)]
    #[schemars(extend("minProperties" = 1))]
    pub targets: BTreeMap<String, Target>,
    /// The target used when `--target` is not given. May be left out when there is only one.
    #[schemars(with = "Option<super::text::NameText>")]
    pub default_target: Option<Located<String>>,
    /// Files and folders, relative to the repository, that hold user files. Folders are
    /// read recursively for `*.yaml` and `*.yml`. Default: `[users]`.
    #[schemars(with = "Option<Vec<super::text::PathText>>")]
    pub users: Option<Vec<Located<String>>>,
    /// Values every user gets unless the user's own entry says otherwise.
    #[serde(default)]
    pub defaults: Defaults,
    /// What scimops may do beyond what the files declare, and the guards that stop a
    /// plan before it locks people out.
    #[serde(default)]
    pub policy: PolicySettings,
    /// The attributes that are private, as user files name them (`email`, `phone`,
    /// `name.familyName`, `properties.IdentificationNumber`...): `--mask-pii` masks
    /// their values in every view. Default: `[email, phone]`.
    #[schemars(with = "Option<Vec<String>>")]
    pub private: Option<Located<Vec<String>>>,
}

/// The safety policy.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PolicySettings {
    /// Users on the server that no file declares: `ignore` (the default), `deactivate`,
    /// or `delete` (servers where DELETE removes a user; apply needs `--allow-delete`).
    #[schemars(with = "Option<crate::policy::Unmanaged>")]
    pub unmanaged: Option<Located<crate::policy::Unmanaged>>,
    /// userName patterns (`*`, `?`; without regard to case) of users scimops never
    /// changes, whatever the files or the policy say. Default: on Bizagi targets,
    /// `[admon, admon@*]`, Bizagi's administrator (the account scimops' OAuth
    /// application runs as); on other servers, none.
    pub protected: Option<Vec<String>>,
    /// At most this many deactivations (and deletions) per run. Default: 100.
    pub max_deactivations: Option<u32>,
    /// At most this percentage of the managed users per run, once there are 20 or more.
    /// Default: 25.
    #[schemars(with = "Option<super::text::Percent>")]
    pub max_deactivation_percent: Option<f64>,
}

/// Defaults applied to every declared user.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Defaults {
    /// The domain added to a userName written without one: `jdoe` becomes `jdoe@DOMAIN`.
    #[schemars(with = "Option<super::text::DomainText>")]
    pub domain: Option<Located<String>>,
    /// User properties (the server's user-properties extension) every user gets; a
    /// user's own `properties` override them key by key.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, Option<Scalar>>")]
    pub properties: BTreeMap<String, Located<Option<Scalar>>>,
}

/// One SCIM service provider.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(extend("dependentRequired" = {"url": ["auth"], "auth": ["url"]}))]
pub struct Target {
    /// The SCIM base URL, for Bizagi `https://<project>.bizagi.com/scim/v2`. Plain
    /// `http://` is accepted only for loopback addresses, unless the command line says
    /// `--allow-insecure-http`.
    #[schemars(with = "Option<super::text::UrlText>")]
    pub url: Option<Located<String>>,
    /// How the server behaves: `bizagi` (Bizagi's SCIM API) or `rfc7644` (any SCIM 2.0
    /// service provider). Default: `bizagi`.
    #[serde(default)]
    pub dialect: DialectName,
    /// How scimops authenticates.
    pub auth: Option<Auth>,
    /// The extension schema that `properties` in user files stands for.
    /// Default: Bizagi's `urn:ietf:params:scim:schemas:extension:bizagi:2.0:UserProperties`.
    pub properties_schema: Option<String>,
    /// The `type` of the phone scimops manages. Default: `mobile`.
    pub phone_type: Option<String>,
    /// Bizagi: how requests name a user, `id` (its guidUser, the default) or `userName`
    /// (for projects that take only userNames in paths; `scimops discover` tells).
    #[serde(default)]
    pub user_keys: Keys,
    /// How many users to ask for per listing call (the server may answer fewer).
    /// Default: 500, Bizagi's largest page.
    #[schemars(with = "Option<super::text::PageSize>")]
    pub page_size: Option<Located<u32>>,
    /// How the server reads `startIndex` in a listing: `index` (RFC 7644: the 1-based
    /// index of the first user) or `page` (a page number, as Bizagi's documentation words
    /// it). Default: found out from the listing, at the cost of one call when it is a
    /// page number (`scimops discover` tells which the server uses).
    pub paging: Option<crate::dialect::Paging>,
    /// Instead of `url` and `auth`: run a local Bizagi-compatible sandbox in-process, on
    /// loopback, for trying scimops without a Bizagi project.
    pub sandbox: Option<EmbeddedSandbox>,
    /// Attributes this server accepts but does not keep, as user files name them
    /// (`name.middleName`, `phone`, `properties.Level`...): scimops neither compares nor
    /// sends them on this target, and the plan says so. apply names the attributes a
    /// server did not keep.
    #[schemars(with = "Option<Vec<String>>")]
    pub unsupported: Option<Located<Vec<String>>>,
    /// A file of the repository holding the certificate (PEM) of a private certificate
    /// authority to trust for this target, besides the system's: for servers whose TLS
    /// certificate a company's own authority signed (common on premises).
    #[schemars(with = "Option<super::text::PathText>")]
    pub ca_file: Option<Located<String>>,
    /// Files and folders of users that this target reads besides the repository's
    /// `users:` (users that exist only in test, for example).
    #[schemars(with = "Option<Vec<super::text::PathText>>")]
    pub users: Option<Vec<Located<String>>>,
    /// This target's defaults, over the repository's `defaults`: a `domain` here
    /// replaces it, and `properties` override it key by key.
    pub defaults: Option<Defaults>,
}

/// Authentication to the server. Secrets are references to environment variables.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub enum Auth {
    /// OAuth 2.0 client credentials (Bizagi: an OAuth2 application with grant type
    /// "Client credentials" and the API and USER SYNC scopes).
    ClientCredentials(ClientCredentials),
    /// A static bearer token (Bizagi: an OAuth2 application with grant type "Bearer
    /// token", whose Client Secret is the token, as Entra ID uses it).
    Bearer(Bearer),
    /// No authentication (test servers on loopback).
    None,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Bearer {
    /// The token, as a reference to an environment variable: `${SCIM_TOKEN}`.
    #[schemars(with = "super::text::SecretText")]
    pub token: Located<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClientCredentials {
    /// The OAuth application's client id.
    #[schemars(with = "super::text::NameText")]
    pub client_id: Located<String>,
    /// The client secret, as a reference to an environment variable: `${BIZAGI_CLIENT_SECRET}`.
    #[schemars(with = "super::text::SecretText")]
    pub client_secret: Located<String>,
    /// The scope requested. Default: `api`.
    pub scope: Option<String>,
    /// The token endpoint. Default for Bizagi: the project URL (the SCIM URL without its
    /// `/scim/v2`) followed by `/oauth2/server/token`.
    #[schemars(with = "Option<super::text::UrlText>")]
    pub token_url: Option<Located<String>>,
}

/// A sandbox that scimops starts in-process for this target.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EmbeddedSandbox {
    /// The sandbox's settings file (custom properties, seed users), relative to the repository.
    #[schemars(with = "super::text::PathText")]
    pub config: Located<String>,
    /// The sandbox's state (an SQLite database), relative to the repository. Created and
    /// seeded when missing: deleting it restores the seed.
    #[schemars(with = "super::text::PathText")]
    pub state: Located<String>,
}
