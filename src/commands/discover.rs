//! `scimops discover`: what the server says of itself, and how scimops will use it.

use std::io::Write;

use serde_json::{Value as Json, json};
use tabled::builder::Builder;
use tabled::settings::Style;

use super::Context;
use crate::cli::{DiscoverArgs, DiscoverFormat};
use crate::dialect::{self, Capabilities};
use crate::escape::term;
use crate::exit::ExitStatus;
use crate::observe;
use crate::schema::listed;
use crate::scim::wire::{ListResponse, Method};

fn field<'a>(v: &'a Json, key: &str) -> &'a str {
    v.get(key).and_then(Json::as_str).unwrap_or_default()
}

/// How a user file writes an attribute of schema `urn`, or why it cannot.
fn managed_as(urn: &str, core: bool, properties_urn: &str, attr: &Json) -> String {
    let name = field(attr, "name");
    let multi = attr
        .get("multiValued")
        .and_then(Json::as_bool)
        .unwrap_or(false);
    let mutability = field(attr, "mutability");
    if core {
        match name {
            "userName" => return "userName".into(),
            "name" => return "name.givenName, name.middleName, name.familyName".into(),
            "active" => return "active".into(),
            "emails" => return "email (the work one)".into(),
            "phoneNumbers" => return "phone".into(),
            "id" | "meta" => return "(the server's)".into(),
            _ => {}
        }
    }
    if mutability.eq_ignore_ascii_case("readOnly") {
        return "(read-only)".into();
    }
    if mutability.eq_ignore_ascii_case("writeOnly")
        || field(attr, "returned").eq_ignore_ascii_case("never")
    {
        return "(never read back)".into();
    }
    if multi || crate::model::ValueType::from_scim(field(attr, "type")).is_none() {
        return "(not managed: not a simple value)".into();
    }
    if core {
        format!("attributes.{name}")
    } else if urn.eq_ignore_ascii_case(properties_urn) {
        format!("properties.{name}")
    } else {
        format!("extensions.\"{urn}\".{name}")
    }
}

pub async fn run(ctx: &Context<'_>, args: &DiscoverArgs) -> anyhow::Result<ExitStatus> {
    let repo = super::load(ctx)?;
    let target = repo.target(ctx.target.as_deref())?;
    let session = super::connect(ctx, &target).await?;
    ctx.term
        .progress(&format!("Asking {}...", session.describe));
    let offline = dialect::for_target(&target.dialect, Capabilities::default());
    let (capabilities, config, types, schemas) =
        observe::discover(&session.client, offline.as_ref()).await?;
    let dialect = dialect::for_target(&target.dialect, capabilities);

    // The first users: how many there are, one to probe paths with, and whether the
    // server takes `count` (some refuse any listing with it).
    let client = &session.client;
    let two = [("startIndex", "1".to_string()), ("count", "2".to_string())];
    let (first, count_refused) = match client.probe("/Users", &two).await {
        Ok(body) => (body, false),
        Err(e) if matches!(e.status().map(|s| s.as_u16()), Some(400 | 500 | 501)) => (
            client.get("/Users", &[("startIndex", "1".into())]).await?,
            true,
        ),
        Err(e) => return Err(e.into()),
    };
    let first = ListResponse::from_value(first);
    let total = first.total_results.unwrap_or(0);
    let paging = paging(client, &first.resources, count_refused).await?;
    let sample = first.resources.into_iter().next();
    // Which forms of key does the server take in `/Users/{key}`? (The dialect says
    // which to try: Bizagi documents both ids and userNames, ambiguity 1.)
    let mut keys = serde_json::Map::new();
    if let Some(user) = &sample {
        for (key, path) in dialect.key_probes(field(user, "id"), field(user, "userName")) {
            let answer = session.client.send(Method::Get, &path, &[], None).await;
            keys.insert(key.into(), json!(answer.is_ok()));
        }
    }

    let user_type = listed(&types)
        .into_iter()
        .find(|t| field(t, "name") == "User" || field(t, "id") == "User");
    let core_urn = user_type
        .as_ref()
        .map(|t| field(t, "schema").to_string())
        .unwrap_or_else(|| crate::scim::wire::USER_URN.to_string());
    let mut urns = vec![core_urn.clone()];
    for ext in user_type
        .as_ref()
        .and_then(|t| t.get("schemaExtensions"))
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
    {
        urns.push(field(ext, "schema").to_string());
    }
    let schemas = listed(&schemas);
    let described: Vec<Json> = urns
        .iter()
        .map(|urn| {
            let schema = schemas.iter().find(|s| field(s, "id").eq_ignore_ascii_case(urn));
            let attributes: Vec<Json> = schema
                .and_then(|s| s.get("attributes"))
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
                .map(|a| {
                    json!({
                        "name": field(a, "name"),
                        "type": field(a, "type"),
                        "multiValued": a.get("multiValued").and_then(Json::as_bool).unwrap_or(false),
                        "mutability": field(a, "mutability"),
                        "managedAs": managed_as(urn, urn == &core_urn, dialect.properties_urn(), a),
                    })
                })
                .collect();
            json!({
                "id": urn,
                "name": schema.map(|s| field(s, "name")).unwrap_or_default(),
                "declared": schema.is_some(),
                "attributes": attributes,
            })
        })
        .collect();
    let supported = |f: &str| {
        config
            .get(f)
            .and_then(|c| c.get("supported"))
            .cloned()
            .unwrap_or(json!(false))
    };
    let report = json!({
        "target": {"name": target.name, "dialect": dialect.name(), "url": session.client.base().as_str()},
        "capabilities": {
            "patch": supported("patch"), "filter": supported("filter"), "etag": supported("etag"),
            "bulk": supported("bulk"), "sort": supported("sort"), "changePassword": supported("changePassword"),
            "filterMaxResults": config.get("filter").and_then(|f| f.get("maxResults")),
        },
        "users": total,
        "countRefused": count_refused,
        "paging": paging,
        "userKeys": keys,
        "schemas": described,
    });

    let mut out = ctx.term.out();
    match args.format {
        DiscoverFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?,
        DiscoverFormat::Table => {
            let filters = matches!(dialect.find(""), dialect::Find::Filter(_));
            table(&mut out, &report, capabilities, filters)?;
        }
    }
    Ok(ExitStatus::Success)
}

/// How the server reads `startIndex`, by asking for the page at `startIndex=2`: an index
/// answers the listing's second user first; a page number, another one (or none). It
/// cannot be told with fewer than two users.
async fn paging(
    client: &crate::scim::client::Client,
    first: &[Json],
    count_refused: bool,
) -> anyhow::Result<&'static str> {
    let Some(second) = first.get(1) else {
        return Ok("unknown");
    };
    let mut query = vec![("startIndex", "2".to_string())];
    if !count_refused {
        query.push(("count", "2".to_string()));
    }
    let next = ListResponse::from_value(client.get("/Users", &query).await?);
    Ok(match next.resources.first() {
        Some(user) if field(user, "id") == field(second, "id") => "index",
        _ => "page",
    })
}

/// A member of the server's answer, for a table: one line, nothing hidden.
fn cell<'a>(v: &'a Json, key: &str) -> std::borrow::Cow<'a, str> {
    term(field(v, key))
}

/// `filters`: whether the dialect looks users up by filter at all.
fn table(
    out: &mut dyn Write,
    report: &Json,
    c: Capabilities,
    filters: bool,
) -> std::io::Result<()> {
    let yes = |b: bool| if b { "yes" } else { "no" };
    let t = &report["target"];
    writeln!(
        out,
        "Target `{}` ({} dialect): {}",
        cell(t, "name"),
        cell(t, "dialect"),
        cell(t, "url")
    )?;
    writeln!(out)?;
    let caps = &report["capabilities"];
    let mut b = Builder::default();
    b.push_record(["capability", "supported", "scimops"]);
    b.push_record([
        "PATCH",
        yes(c.patch),
        if c.patch {
            "updates with PATCH"
        } else {
            "updates with PUT of the user as read"
        },
    ]);
    b.push_record([
        "filter",
        yes(c.filter),
        match (filters, c.filter) {
            (true, true) => "looks declared users up when cheaper than listing",
            (true, false) => "lists every page",
            (false, _) => "not used: the dialect lists every page",
        },
    ]);
    b.push_record([
        "ETag",
        yes(c.etag),
        if c.etag {
            "sends If-Match on writes"
        } else {
            "fingerprints users by content"
        },
    ]);
    for (name, key) in [
        ("bulk", "bulk"),
        ("sort", "sort"),
        ("change password", "changePassword"),
    ] {
        b.push_record([name, yes(caps[key] == json!(true)), "not used"]);
    }
    writeln!(out, "{}", b.build().with(Style::sharp()))?;
    writeln!(out)?;
    writeln!(out, "Users: {}", report["users"])?;
    if report["countRefused"] == json!(true) {
        writeln!(
            out,
            "Listings: the server refuses `count`; scimops reads pages of its own size"
        )?;
    }
    match report["paging"].as_str() {
        Some("index") => writeln!(out, "startIndex: an index (RFC 7644)")?,
        Some("page") => writeln!(
            out,
            "startIndex: a page number (set `paging: page` on the target: scimops then saves a call per plan)"
        )?,
        _ => writeln!(out, "startIndex: cannot tell (fewer than 2 users)")?,
    }
    if let Some(keys) = report["userKeys"].as_object().filter(|k| !k.is_empty()) {
        let took: Vec<String> = keys
            .iter()
            .map(|(k, v)| {
                format!(
                    "{} {}",
                    term(k),
                    if v == &json!(true) { "yes" } else { "no" }
                )
            })
            .collect();
        writeln!(out, "Paths /Users/{{key}} take: {}", took.join(", "))?;
    }
    for schema in report["schemas"].as_array().into_iter().flatten() {
        writeln!(out)?;
        let declared = if schema["declared"] == json!(true) {
            ""
        } else {
            " (listed, not described by /Schemas)"
        };
        writeln!(
            out,
            "Schema {} {}{declared}",
            cell(schema, "id"),
            cell(schema, "name")
        )?;
        let mut b = Builder::default();
        b.push_record(["attribute", "type", "mutability", "in user files"]);
        for a in schema["attributes"].as_array().into_iter().flatten() {
            let ty = if a["multiValued"] == json!(true) {
                format!("{}[]", cell(a, "type"))
            } else {
                cell(a, "type").into_owned()
            };
            b.push_record([
                cell(a, "name").as_ref(),
                &ty,
                cell(a, "mutability").as_ref(),
                cell(a, "managedAs").as_ref(),
            ]);
        }
        writeln!(out, "{}", b.build().with(Style::sharp()))?;
    }
    Ok(())
}
