//! `scimops.yaml`: where the users live, how to reach the server, and defaults.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

use super::users::Scalar;
use super::yaml::Located;

/// The settings file of a scimops repository (`scimops.yaml`).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Settings {
    /// The SCIM service providers this repository can be applied to, by name (for example
    /// `development`, `test`, `production`). Commands pick one with `--target NAME`.
    #[serde(default)]
    pub targets: BTreeMap<String, Target>,
    /// The target used when `--target` is not given. May be left out when there is only one.
    #[schemars(with = "Option<String>")]
    pub default_target: Option<Located<String>>,
    /// Files and folders, relative to the repository, that hold user files. Folders are
    /// read recursively for `*.yaml` and `*.yml`. Default: `[users]`.
    #[schemars(with = "Option<Vec<String>>")]
    pub users: Option<Located<Vec<String>>>,
    /// Values every user gets unless the user's own entry says otherwise.
    #[serde(default)]
    pub defaults: Defaults,
}

/// Defaults applied to every declared user.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Defaults {
    /// The domain added to a userName written without one: `jdoe` becomes `jdoe@DOMAIN`.
    #[schemars(with = "Option<String>")]
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
pub struct Target {
    /// The SCIM base URL, for Bizagi `https://<project>.bizagi.com/scim/v2`. Plain
    /// `http://` is accepted only for loopback addresses.
    #[schemars(with = "Option<String>")]
    pub url: Option<Located<String>>,
    /// How the server behaves: `bizagi` (Bizagi's SCIM API). Default: `bizagi`.
    #[serde(default)]
    pub dialect: DialectName,
    /// How scimops authenticates.
    pub auth: Option<Auth>,
    /// Instead of `url` and `auth`: run a local Bizagi-compatible sandbox in-process, on
    /// loopback, for trying scimops without a Bizagi project.
    pub sandbox: Option<EmbeddedSandbox>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum DialectName {
    /// Bizagi's SCIM API (`/oauth2/server/token`, userName or guidUser keys, DELETE
    /// deactivates, one work e-mail, one phone, the UserProperties extension).
    #[default]
    Bizagi,
}

impl DialectName {
    pub fn as_str(self) -> &'static str {
        match self {
            DialectName::Bizagi => "bizagi",
        }
    }
}

/// Authentication to the server. Secrets are references to environment variables.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub enum Auth {
    /// OAuth 2.0 client credentials (Bizagi: an OAuth2 application with grant type
    /// "Client credentials" and the API and USER SYNC scopes).
    ClientCredentials(ClientCredentials),
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClientCredentials {
    /// The OAuth application's client id.
    #[schemars(with = "String")]
    pub client_id: Located<String>,
    /// The client secret, as a reference to an environment variable: `${BIZAGI_CLIENT_SECRET}`.
    #[schemars(with = "String")]
    pub client_secret: Located<String>,
    /// The scope requested. Default: `api`.
    pub scope: Option<String>,
    /// The token endpoint. Default for Bizagi: the project URL (the SCIM URL without its
    /// `/scim/v2`) followed by `/oauth2/server/token`.
    #[schemars(with = "Option<String>")]
    pub token_url: Option<Located<String>>,
}

/// A sandbox that scimops starts in-process for this target.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EmbeddedSandbox {
    /// The sandbox's settings file (custom properties, seed users), relative to the repository.
    #[schemars(with = "String")]
    pub config: Located<String>,
    /// The sandbox's state (an SQLite database), relative to the repository. Created and
    /// seeded when missing: deleting it restores the seed.
    #[schemars(with = "String")]
    pub state: Located<String>,
}
