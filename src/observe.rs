//! Reading the server: what it says of itself, and every user, with GET only.
//!
//! Requests: one token, three discovery calls (at once), then one listing call per
//! page of 500 users (Bizagi's largest page); once the first page gives the total, the
//! remaining pages are fetched concurrently. Never one GET per user.

use std::collections::BTreeMap;

use anyhow::{Context, bail};
use tokio::task::JoinSet;

use crate::dialect::{Capabilities, Dialect};
use crate::model::ObservedUser;
use crate::schema::UserSchema;
use crate::scim::client::{Client, HttpError};

/// The largest page Bizagi serves (facts §5.2).
pub const PAGE_SIZE: usize = 500;
/// Pages fetched at once.
const PAGE_PARALLELISM: usize = 4;

/// The server as read.
#[derive(Debug)]
pub struct Observed {
    pub capabilities: Capabilities,
    /// The user-properties extension's attributes, with their types.
    pub schema: UserSchema,
    pub users: Vec<ObservedUser>,
}

fn supported(config: &serde_json::Value, feature: &str) -> bool {
    config
        .get(feature)
        .and_then(|f| f.get("supported"))
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(false)
}

/// `GET /ResourceTypes`; Bizagi's documentation prints `/scim/v2/scim/v2/ResourceTypes`,
/// so that path is tried when the normal one answers 404 (facts ambiguity 17).
async fn resource_types(client: &Client) -> Result<serde_json::Value, HttpError> {
    match client.get("/ResourceTypes", &[]).await {
        Err(e) if e.status() == Some(reqwest::StatusCode::NOT_FOUND) => {
            client.get("/scim/v2/ResourceTypes", &[]).await
        }
        other => other,
    }
}

/// Whether the User resource type lists `urn` among its extensions.
fn user_has_extension(types: &serde_json::Value, urn: &str) -> bool {
    let list = types
        .get("Resources")
        .or_else(|| types.get("resources"))
        .unwrap_or(types);
    list.as_array().into_iter().flatten().any(|t| {
        t.get("name").and_then(|n| n.as_str()) == Some("User")
            && t.get("schemaExtensions")
                .and_then(|e| e.as_array())
                .into_iter()
                .flatten()
                .any(|e| {
                    e.get("schema")
                        .and_then(|s| s.as_str())
                        .is_some_and(|s| s.eq_ignore_ascii_case(urn))
                })
    })
}

pub async fn observe(client: &Client, dialect: &dyn Dialect) -> anyhow::Result<Observed> {
    let (config, types, schemas) = tokio::join!(
        client.get("/ServiceProviderConfig", &[]),
        resource_types(client),
        client.get("/Schemas", &[]),
    );
    let config = config.context("reading what the server supports")?;
    let types = types.context("reading the server's resource types")?;
    let schemas = schemas.context("reading the server's schemas")?;
    let capabilities = Capabilities {
        patch: supported(&config, "patch"),
        filter: supported(&config, "filter"),
        etag: supported(&config, "etag"),
    };
    let urn = dialect.properties_urn();
    let schema = if user_has_extension(&types, urn) {
        UserSchema::from_schemas_response(&schemas, urn).unwrap_or_else(|| UserSchema::new(true))
    } else {
        UserSchema::new(true)
    };

    let resources = list_users(client).await?;
    let mut users = Vec::with_capacity(resources.len());
    let mut unreadable = Vec::new();
    for resource in &resources {
        match dialect.read_user(resource, &schema) {
            Ok(user) => users.push(user),
            Err(e) => unreadable.push(e),
        }
    }
    if !unreadable.is_empty() {
        bail!(
            "the server returned {} users scimops cannot read: {}",
            unreadable.len(),
            unreadable.join("; ")
        );
    }
    Ok(Observed {
        capabilities,
        schema,
        users,
    })
}

/// Every user, de-duplicated by id (listings are not snapshots: a user may move
/// between pages while they are read).
async fn list_users(client: &Client) -> anyhow::Result<Vec<serde_json::Value>> {
    let first = page(client, 1).await?;
    let total = first.total;
    let page_size = first.resources.len();
    let mut by_id = BTreeMap::new();
    let mut add = |resources: Vec<serde_json::Value>| {
        for r in resources {
            let id = r
                .get("id")
                .and_then(|i| i.as_str())
                .unwrap_or_default()
                .to_string();
            by_id.insert(id, r);
        }
    };
    add(first.resources);
    if page_size > 0 && total > page_size {
        // The server may cap `count` below what was asked: step by what it served.
        let starts: Vec<usize> = (1 + page_size..=total).step_by(page_size).collect();
        let mut pages = JoinSet::new();
        let mut starts = starts.into_iter();
        for start in starts.by_ref().take(PAGE_PARALLELISM) {
            let client = client.clone();
            pages.spawn(async move { page(&client, start).await });
        }
        while let Some(done) = pages.join_next().await {
            add(done.context("a listing task failed")??.resources);
            if let Some(start) = starts.next() {
                let client = client.clone();
                pages.spawn(async move { page(&client, start).await });
            }
        }
    }
    if by_id.len() < total {
        bail!(
            "the server said it has {total} users but listed {} (GET /Users with startIndex \
             and count); planning on a partial listing would create users that exist",
            by_id.len()
        );
    }
    Ok(by_id.into_values().collect())
}

struct Page {
    total: usize,
    resources: Vec<serde_json::Value>,
}

async fn page(client: &Client, start: usize) -> anyhow::Result<Page> {
    let query = [
        ("startIndex", start.to_string()),
        ("count", PAGE_SIZE.to_string()),
    ];
    let body = client
        .get("/Users", &query)
        .await
        .context("listing the server's users")?;
    let resources = body
        .get("Resources")
        .or_else(|| body.get("resources"))
        .and_then(|r| r.as_array())
        .cloned()
        .unwrap_or_default();
    let total = body
        .get("totalResults")
        .and_then(serde_json::Value::as_u64)
        .map_or(resources.len(), |t| t as usize);
    Ok(Page { total, resources })
}
