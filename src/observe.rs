//! Reading the server: what it says of itself, and its users, with GET only.
//!
//! Requests: one token, the three discovery calls (at once), then the users:
//! - by listing, `count` at the target's page size (Bizagi's largest, 500, by default),
//!   the remaining pages fetched concurrently once the first gives the total. The page
//!   size the server really serves is the number of users it returned (servers cap
//!   `count`, and some report a wrong `itemsPerPage`). Users are de-duplicated by id
//!   (a listing is not a snapshot), and a server that reads `startIndex` as a page
//!   number (as Bizagi's documentation words it) is detected when the second page by
//!   index comes back empty, and then read by pages.
//!
//! Every user is read, never only the declared ones: a plan names the users no file
//! declares, and the policy may act on them.
//!
//! Anything that does not add up (fewer users listed than the server says it has) is
//! an error: planning on a partial listing would create users that exist.

use std::collections::BTreeMap;

use anyhow::{Context, bail};
use serde_json::Value as Json;
use tokio::task::JoinSet;

use crate::dialect::{Capabilities, Dialect, Paging};
use crate::model::ObservedUser;
use crate::schema::UserSchema;
use crate::scim::client::{Client, HttpError};
use crate::scim::wire::ListResponse;

/// Requests in flight at once while reading.
const READ_PARALLELISM: usize = 4;

/// How a server's users are listed: what the first page taught (or a saved plan, or the
/// target's settings, say).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Listing {
    /// Users asked for per page; `None`: the server refused `count`, so each page is of
    /// the server's own size.
    pub count: Option<usize>,
    /// How the server reads `startIndex`; `None`: not known (found out by listing).
    pub paging: Option<Paging>,
}

impl Listing {
    /// As the target's settings say, before any listing.
    pub fn of(dialect: &dyn Dialect) -> Self {
        Self {
            count: Some(dialect.page_size()),
            paging: dialect.paging(),
        }
    }
}

/// The server as read.
#[derive(Debug)]
pub struct Observed {
    pub capabilities: Capabilities,
    /// The attributes of users: core, and each extension, with their types.
    pub schema: UserSchema,
    /// Every user of the server.
    pub users: Vec<ObservedUser>,
    /// How many users the server has.
    pub total: usize,
    /// How the users were found, for the plan's header.
    pub strategy: Strategy,
    /// How the listing went: apply lists this way again.
    pub listing: Listing,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// Every page, `startIndex` as a 1-based index (RFC 7644).
    Listing,
    /// Every page, `startIndex` as a page number.
    ListingByPage,
}

fn supported(config: &Json, feature: &str) -> bool {
    config
        .get(feature)
        .and_then(|f| f.get("supported"))
        .and_then(|s| match s {
            Json::Bool(b) => Some(*b),
            Json::String(s) => crate::model::parse_bool(s),
            _ => None,
        })
        .unwrap_or(false)
}

pub fn capabilities(config: &Json) -> Capabilities {
    Capabilities {
        patch: supported(config, "patch"),
        filter: supported(config, "filter"),
        etag: supported(config, "etag"),
    }
}

/// `GET /ResourceTypes`, at each path the dialect knows of, until one is not 404.
async fn resource_types(client: &Client, dialect: &dyn Dialect) -> Result<Json, HttpError> {
    let mut not_found = None;
    for path in dialect.resource_types_paths() {
        match client.get(path, &[]).await {
            Err(e) if e.status() == Some(reqwest::StatusCode::NOT_FOUND) => not_found = Some(e),
            other => return other,
        }
    }
    match not_found {
        Some(e) => Err(e),
        None => client.get("/ResourceTypes", &[]).await,
    }
}

/// What the server says of itself: capabilities and the users' schema.
pub async fn discover(
    client: &Client,
    dialect: &dyn Dialect,
) -> anyhow::Result<(Capabilities, Json, Json, Json)> {
    let (config, types, schemas) = tokio::join!(
        client.get("/ServiceProviderConfig", &[]),
        resource_types(client, dialect),
        client.get("/Schemas", &[]),
    );
    let config = config.context("reading what the server supports")?;
    let types = types.context("reading the server's resource types")?;
    let schemas = schemas.context("reading the server's schemas")?;
    Ok((capabilities(&config), config, types, schemas))
}

/// What the server says of itself, as a plan needs it.
#[derive(Debug)]
pub struct Server {
    pub capabilities: Capabilities,
    pub schema: UserSchema,
}

/// Reads the server's capabilities and users' schema (the three discovery calls): the
/// files are typed against it before any user is read.
pub async fn server(client: &Client, dialect: &dyn Dialect) -> anyhow::Result<Server> {
    let (capabilities, _, types, schemas) = discover(client, dialect).await?;
    Ok(Server {
        capabilities,
        schema: UserSchema::from_discovery(&types, &schemas),
    })
}

/// Reads the server: discovery, then its users.
pub async fn observe(client: &Client, dialect: &dyn Dialect) -> anyhow::Result<Observed> {
    let server = server(client, dialect).await?;
    users(client, server, dialect, Kept::All).await
}

/// Which attributes of each user are kept once read: a plan compares only what the
/// files declare (and `active`, and the full name a name is judged by), and 100,000
/// users' other attributes would be memory for nothing.
#[derive(Clone, Copy, Debug)]
pub enum Kept<'a> {
    All,
    Only(&'a std::collections::BTreeSet<crate::model::Attr>),
}

/// Reads every user of a server already discovered, page by page: a plan needs them
/// all (to name the unmanaged ones, and for the policy to act on them), so no user is
/// looked up alone.
pub async fn users(
    client: &Client,
    server: Server,
    dialect: &dyn Dialect,
    kept: Kept<'_>,
) -> anyhow::Result<Observed> {
    let Server {
        capabilities,
        schema,
    } = server;
    let mut listing = Listing::of(dialect);
    let first = first_page(client, &mut listing).await?;
    let (users, strategy) = list_rest(client, first, &mut listing, |r| {
        let mut user = dialect.read_user(r, &schema)?;
        if let Kept::Only(attrs) = kept {
            user.attrs.retain(|a| attrs.contains(a));
            user.attrs.shrink();
        }
        Ok(user)
    })
    .await?;
    Ok(Observed {
        capabilities,
        schema,
        total: users.len(),
        users,
        strategy,
        listing,
    })
}

/// Every user resource, by listing as `listing` says.
pub async fn list_all(client: &Client, listing: Listing) -> anyhow::Result<Vec<Json>> {
    let mut listing = listing;
    let first = first_page(client, &mut listing).await?;
    Ok(list_rest(client, first, &mut listing, Ok).await?.0)
}

/// The first page. A server may refuse any listing that carries `count` (400, 500,
/// 501) and serve it without: it is then asked once more without `count`, and read in
/// pages of its own size from then on (said on stderr, and recorded in the plan). A
/// listing that fails without `count` too stops: asking again would fail the same way.
async fn first_page(client: &Client, listing: &mut Listing) -> anyhow::Result<Page> {
    let Some(count) = listing.count else {
        return page(client, 1, None).await;
    };
    match probe_page(client, count).await? {
        Ok(page) => Ok(page),
        Err(refusal) => {
            tracing::info!(
                "the server refused a listing with `count` ({refusal}): reading it in pages of its own size"
            );
            listing.count = None;
            page(client, 1, None)
                .await
                .context("listing again without `count`, which the server refused")
        }
    }
}

/// The first page with `count`, not retried when refused: the page, or the refusal to
/// fall back on (`Ok(Err(..))`); any other failure is an error.
async fn probe_page(client: &Client, count: usize) -> anyhow::Result<Result<Page, HttpError>> {
    let query = [
        ("startIndex", "1".to_string()),
        ("count", count.to_string()),
    ];
    match client.probe("/Users", &query).await {
        Ok(body) => page_of(1, body).map(Ok),
        Err(e) if matches!(e.status().map(|s| s.as_u16()), Some(400 | 500 | 501)) => Ok(Err(e)),
        Err(e) => Err(anyhow::Error::new(e).context("listing the server's users")),
    }
}

struct Page {
    start: usize,
    total: usize,
    resources: Vec<Json>,
}

/// The most users scimops reads from one server. What a server announces
/// (`totalResults`) is never trusted beyond this, for memory or for the number of calls.
pub const MAX_USERS: usize = 1_000_000;

/// Extra listing calls allowed beyond the announced pages, for a listing that moved
/// while it was read (users created meanwhile shift the pages).
const CATCH_UP_PAGES: usize = 5;

async fn page(client: &Client, start: usize, count: Option<usize>) -> anyhow::Result<Page> {
    let mut query = vec![("startIndex", start.to_string())];
    if let Some(count) = count {
        query.push(("count", count.to_string()));
    }
    let body = client
        .get("/Users", &query)
        .await
        .context("listing the server's users")?;
    page_of(start, body)
}

/// A listing's answer as a page; its announced total is not trusted beyond [`MAX_USERS`].
fn page_of(start: usize, body: Json) -> anyhow::Result<Page> {
    let list = ListResponse::from_value(body);
    let resources = list.resources;
    let total = list.total_results.map_or(resources.len(), |t| {
        usize::try_from(t).unwrap_or(usize::MAX)
    });
    if total > MAX_USERS {
        bail!(
            "the server says it has {total} users (`totalResults`); scimops reads at most \
             {MAX_USERS} users from one server"
        );
    }
    Ok(Page {
        start,
        total,
        resources,
    })
}

/// Fetches the pages at `starts`, `READ_PARALLELISM` at a time, handing each to `take`
/// as it arrives; stops at the first error `take` returns. `starts` is consumed lazily:
/// no list of every page is ever made.
async fn pages(
    client: &Client,
    starts: impl Iterator<Item = usize>,
    count: Option<usize>,
    mut take: impl FnMut(Page) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut tasks = JoinSet::new();
    let mut starts = starts;
    for start in starts.by_ref().take(READ_PARALLELISM) {
        let client = client.clone();
        tasks.spawn(async move { page(&client, start, count).await });
    }
    while let Some(done) = tasks.join_next().await {
        // The next page is asked for before this one is read: the server works on it
        // meanwhile (the yield lets its request leave first).
        if let Some(start) = starts.next() {
            let client = client.clone();
            tasks.spawn(async move { page(&client, start, count).await });
            tokio::task::yield_now().await;
        }
        take(done.context("a listing task failed")??)?;
    }
    Ok(())
}

/// Every user, after the first page, each read by `read` as its page arrives (a page
/// is parsed JSON only until its users are read: 50,000 users as JSON would take
/// several times their memory as read).
///
/// Nothing the server says is trusted for more than it proves: the announced total
/// bounds the pages asked for, and is itself bounded by [`MAX_USERS`]; a page that
/// brings no user not already listed means the server ignores `startIndex`, which is
/// an error, not a loop; a listing that moved is read on for at most
/// [`CATCH_UP_PAGES`] more pages.
async fn list_rest<T>(
    client: &Client,
    first: Page,
    listing: &mut Listing,
    read: impl Fn(Json) -> Result<T, String>,
) -> anyhow::Result<(Vec<T>, Strategy)> {
    let step = first.resources.len();
    let total = first.total;
    let count = listing.count;
    let mut listed = Listed {
        by_id: BTreeMap::new(),
        read_users: Vec::new(),
        unreadable: Vec::new(),
        read,
    };
    listed.add(first)?;
    if step > 0 && total > step {
        let last_page = total.div_ceil(step);
        match listing.paging {
            // The target says `startIndex` is a page number: pages 2, 3..., no probe.
            Some(Paging::Page) => {
                pages(client, 2..=last_page, count, |p| listed.add_new(p)).await?;
            }
            // Known or not, an index first.
            known => {
                let second = page(client, 1 + step, count).await?;
                if second.resources.is_empty() && known.is_none() {
                    // Index 1 + step is past the end: `startIndex` may be a page number.
                    let before = listed.by_id.len();
                    pages(client, 2..=last_page, count, |p| listed.add_new(p)).await?;
                    if listed.by_id.len() > before {
                        listing.paging = Some(Paging::Page);
                        tracing::info!("the server reads `startIndex` as a page number");
                    }
                } else {
                    listing.paging = Some(Paging::Index);
                    listed.add_new(second)?;
                    let mut next = 1 + 2 * step;
                    let starts = (next..=total).step_by(step);
                    pages(client, starts, count, |p| {
                        next = next.max(p.start + p.resources.len());
                        listed.add_new(p)
                    })
                    .await?;
                    // A listing that moved while it was read: go on, a few pages at most.
                    for _ in 0..CATCH_UP_PAGES {
                        if listed.by_id.len() >= total {
                            break;
                        }
                        let p = page(client, next, count).await?;
                        let n = p.resources.len();
                        next += n;
                        if n == 0 || listed.add(p)? == 0 {
                            break;
                        }
                    }
                }
            }
        }
    }
    let strategy = match listing.paging {
        Some(Paging::Page) => Strategy::ListingByPage,
        _ => Strategy::Listing,
    };
    if !listed.unreadable.is_empty() {
        bail!(
            "the server returned {} users scimops cannot read: {}",
            listed.unreadable.len(),
            listed.unreadable.join("; ")
        );
    }
    if listed.by_id.len() < total {
        bail!(
            "the server said it has {total} users but listed {} (GET /Users with startIndex \
             and count); planning on a partial listing would create users that exist",
            listed.by_id.len()
        );
    }
    // In the order listed (a user listed again keeps its first place).
    Ok((listed.read_users, strategy))
}

/// Users listed so far, by id (a listing is not a snapshot: a user may come twice).
struct Listed<T, R> {
    /// Where each id's user is in `read_users` (users are large: they stay put).
    by_id: BTreeMap<String, usize>,
    read_users: Vec<T>,
    unreadable: Vec<String>,
    read: R,
}

impl<T, R: Fn(Json) -> Result<T, String>> Listed<T, R> {
    /// Adds a page's users; returns how many were not listed before.
    fn add(&mut self, page: Page) -> anyhow::Result<usize> {
        let mut new = 0;
        for resource in page.resources {
            let id = resource
                .get("id")
                .and_then(Json::as_str)
                .unwrap_or_default()
                .to_string();
            match (self.read)(resource) {
                Ok(user) => match self.by_id.entry(id) {
                    std::collections::btree_map::Entry::Occupied(seen) => {
                        self.read_users[*seen.get()] = user;
                    }
                    std::collections::btree_map::Entry::Vacant(slot) => {
                        slot.insert(self.read_users.len());
                        self.read_users.push(user);
                        new += 1;
                    }
                },
                Err(e) => {
                    // Counted as new: it is reported, and must not look like a repeat.
                    self.unreadable.push(e);
                    new += 1;
                }
            }
        }
        if self.by_id.len() > MAX_USERS {
            bail!(
                "the server listed more than {MAX_USERS} users; scimops reads at most {MAX_USERS} users from one server"
            );
        }
        Ok(new)
    }

    /// Adds a page that must bring users not listed yet: a page of users already listed
    /// means the server ignores `startIndex`, and reading on would never end.
    fn add_new(&mut self, page: Page) -> anyhow::Result<()> {
        let (start, served) = (page.start, page.resources.len());
        if self.add(page)? == 0 && served > 0 {
            bail!(
                "the server answered `startIndex={start}` with {served} users it had already \
                 listed: it does not page (`startIndex` is ignored), so its users cannot be \
                 read in full; nothing was planned"
            );
        }
        Ok(())
    }
}
