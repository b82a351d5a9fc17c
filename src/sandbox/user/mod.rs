//! A Bizagi user as the sandbox stores it (one `WFUser` row), and Bizagi's rules for
//! turning SCIM bodies into rows: what is stored, what is dropped, what is refused.
//!
//! This code deliberately shares nothing with the client's dialect: the sandbox is a
//! second, independent reading of Bizagi's documentation, so that a mistake in one is
//! caught by the other.

use std::collections::BTreeMap;

use serde_json::{Map, Value as Json, json};

use super::config::{PhoneFormat, PropertyType};
use crate::scim::wire::USER_URN;

pub const EXT_URN: &str = "urn:ietf:params:scim:schemas:extension:bizagi:2.0:UserProperties";
const MAX_USER_NAME: usize = 25;
const MAX_PHONE: usize = 20;

/// Bizagi's built-in user properties (facts §9.2), always present on a user.
pub const BUILT_IN: [(&str, PropertyType); 6] = [
    ("DelegateEnabled", PropertyType::Boolean),
    ("enabledForAssignation", PropertyType::Boolean),
    ("createdCasesSkipAssigRules", PropertyType::Boolean),
    ("offlineForms", PropertyType::Boolean),
    ("normalCost", PropertyType::Decimal),
    ("overtimeCost", PropertyType::Decimal),
];

/// One row of the `WFUser` table.
#[derive(Clone, Debug, PartialEq)]
pub struct UserRecord {
    pub id_user: i64,
    pub guid: String,
    pub user_name: String,
    pub domain: String,
    pub given_name: Option<String>,
    pub middle_name: Option<String>,
    pub family_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub enabled: bool,
    /// User properties by the name the schema spells, as JSON values of their type.
    pub properties: BTreeMap<String, Json>,
    pub version: i64,
    pub created: String,
    pub last_modified: String,
}

/// A request the sandbox refuses: status, SCIM `scimType`, detail.
#[derive(Debug, PartialEq)]
pub struct Refusal {
    pub status: u16,
    pub scim_type: Option<&'static str>,
    pub detail: String,
}

impl Refusal {
    pub fn invalid_value(detail: impl Into<String>) -> Self {
        Self {
            status: 400,
            scim_type: Some("invalidValue"),
            detail: detail.into(),
        }
    }

    pub fn invalid_path(detail: impl Into<String>) -> Self {
        Self {
            status: 400,
            scim_type: Some("invalidPath"),
            detail: detail.into(),
        }
    }

    pub fn invalid_syntax(detail: impl Into<String>) -> Self {
        Self {
            status: 400,
            scim_type: Some("invalidSyntax"),
            detail: detail.into(),
        }
    }
}

/// The rules of one sandbox: its properties, default domain and formats.
#[derive(Clone, Debug)]
pub struct Rules {
    /// Every property, built-in and custom, by lower-case name.
    pub properties: BTreeMap<String, (String, PropertyType)>,
    pub default_domain: String,
    pub phone_format: PhoneFormat,
    pub patch: bool,
    pub etag: bool,
    /// Booleans answered, and accepted, as strings.
    pub string_booleans: bool,
    /// How names are answered.
    pub name: super::config::NameReading,
    /// Attributes accepted and not stored, lower-case, as user files name them.
    pub drops: Vec<String>,
}

impl UserRecord {
    /// A user not stored yet: the fields a body fills are empty.
    pub fn new(guid: String, now: String) -> Self {
        Self {
            id_user: 0,
            guid,
            user_name: String::new(),
            domain: String::new(),
            given_name: None,
            middle_name: None,
            family_name: None,
            email: None,
            phone: None,
            enabled: true,
            properties: BTreeMap::new(),
            version: 1,
            created: now.clone(),
            last_modified: now,
        }
    }

    /// `user@domain`, the form the sandbox answers with.
    pub fn qualified_name(&self) -> String {
        format!("{}@{}", self.user_name, self.domain)
    }

    /// The uniqueness key: userName is unique without regard to case.
    pub fn name_key(&self) -> String {
        name_key(&self.user_name, &self.domain)
    }

    /// Bizagi's one full-name column, built from the parts.
    pub fn full_name(&self) -> String {
        [&self.given_name, &self.middle_name, &self.family_name]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The user's version, as an ETag: `W/"3"`.
    pub fn etag(&self) -> String {
        format!("W/\"{}\"", self.version)
    }

    /// The user as the rules answer it: with `meta.version` when versions are on, and
    /// with every boolean as a string when the rules say so.
    pub fn answer(&self, rules: &Rules, base: &str) -> Json {
        let mut user = self.to_scim(base, rules.etag);
        if let Some(name) = user.get_mut("name").and_then(Json::as_object_mut) {
            match rules.name {
                super::config::NameReading::Both => {}
                super::config::NameReading::Parts => {
                    name.remove("formatted");
                }
                super::config::NameReading::Formatted => {
                    name.retain(|member, _| member == "formatted");
                }
            }
        }
        if rules.string_booleans {
            stringify_booleans(&mut user);
        }
        user
    }

    /// The user as a SCIM resource. `base` is the SCIM base URL, for `meta.location`;
    /// `version`: whether `meta.version` is given.
    pub fn to_scim(&self, base: &str, version: bool) -> Json {
        let mut name = Map::new();
        name.insert("formatted".into(), self.full_name().into());
        for (member, part) in [
            ("givenName", &self.given_name),
            ("middleName", &self.middle_name),
            ("familyName", &self.family_name),
        ] {
            if let Some(part) = part {
                name.insert(member.into(), part.clone().into());
            }
        }
        let mut properties = Map::new();
        for (name, ty) in BUILT_IN {
            let default = match ty {
                PropertyType::Boolean => json!(false),
                _ => json!(0),
            };
            properties.insert(
                name.into(),
                self.properties.get(name).cloned().unwrap_or(default),
            );
        }
        for (name, value) in &self.properties {
            properties.insert(name.clone(), value.clone());
        }
        let mut user = json!({
            "schemas": [USER_URN, EXT_URN],
            "id": self.guid,
            "userName": self.qualified_name(),
            "name": name,
            "active": self.enabled,
            EXT_URN: properties,
            "meta": {
                "resourceType": "User",
                "created": self.created,
                "lastModified": self.last_modified,
                "location": format!("{base}/Users/{}", self.guid),
            },
        });
        if version {
            user["meta"]["version"] = json!(self.etag());
        }
        if let Some(email) = &self.email {
            user["emails"] = json!([{"value": email, "type": "work", "primary": true}]);
        }
        if let Some(phone) = &self.phone {
            user["phoneNumbers"] = json!([{"value": phone, "type": "mobile", "primary": true}]);
        }
        user
    }
}

/// `true` → `"True"`, everywhere in `value` (as Entra ID and Bizagi's template write them).
fn stringify_booleans(value: &mut Json) {
    match value {
        Json::Bool(b) => *value = Json::String(if *b { "True" } else { "False" }.to_string()),
        Json::Array(items) => items.iter_mut().for_each(stringify_booleans),
        Json::Object(obj) => obj.values_mut().for_each(stringify_booleans),
        _ => {}
    }
}

pub fn name_key(user: &str, domain: &str) -> String {
    format!("{user}@{domain}").to_lowercase()
}

/// `(user, domain)` from `user@domain`, `domain\user`, or a bare name (default domain).
pub fn parse_user_name(text: &str, default_domain: &str) -> Result<(String, String), Refusal> {
    let text = text.trim();
    let (user, domain) = if let Some((domain, user)) = text.split_once('\\') {
        (user, domain)
    } else if let Some((user, domain)) = text.rsplit_once('@') {
        (user, domain)
    } else {
        (text, default_domain)
    };
    if user.is_empty() || domain.is_empty() {
        return Err(Refusal::invalid_value(format!(
            "userName {text:?} needs a user and a domain"
        )));
    }
    let qualified = format!("{user}@{domain}");
    if qualified.chars().count() > MAX_USER_NAME {
        return Err(Refusal::invalid_value(format!(
            "userName {qualified:?} exceeds {MAX_USER_NAME} characters"
        )));
    }
    Ok((user.to_string(), domain.to_string()))
}

fn as_bool(value: &Json) -> Option<bool> {
    match value {
        Json::Bool(b) => Some(*b),
        Json::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Json::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

fn optional_string(value: Option<&Json>, what: &str) -> Result<Option<String>, Refusal> {
    match value {
        None | Some(Json::Null) => Ok(None),
        Some(Json::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Json::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(Refusal::invalid_value(format!(
            "{what} must be a string, not {other}"
        ))),
    }
}

/// The one entry Bizagi keeps of `emails` or `phoneNumbers`: `primary` and of an allowed
/// type (for e-mails: `work` only, facts §4). Other entries are dropped.
fn kept_entry(
    list: Option<&Json>,
    what: &str,
    allowed: &[&str],
    kept: &[&str],
) -> Result<Option<String>, Refusal> {
    let entries = match list {
        None | Some(Json::Null) => return Ok(None),
        Some(Json::Array(entries)) => entries,
        Some(_) => return Err(Refusal::invalid_value(format!("{what} must be an array"))),
    };
    let mut chosen = None;
    for entry in entries {
        let ty = entry.get("type").and_then(Json::as_str).unwrap_or_default();
        if !allowed.iter().any(|a| a.eq_ignore_ascii_case(ty)) {
            return Err(Refusal::invalid_value(format!(
                "{what}.type must be one of {}, not {ty:?}",
                allowed.join(", ")
            )));
        }
        let primary = entry.get("primary").and_then(as_bool).unwrap_or(false);
        let value = optional_string(entry.get("value"), &format!("{what}.value"))?;
        if chosen.is_none() && primary && kept.iter().any(|k| k.eq_ignore_ascii_case(ty)) {
            chosen = value;
        }
    }
    Ok(chosen)
}

fn is_strict_phone(phone: &str) -> bool {
    let Some((code, number)) = phone.strip_prefix('+').and_then(|r| r.split_once(' ')) else {
        return false;
    };
    (1..=3).contains(&code.len())
        && code.bytes().all(|b| b.is_ascii_digit())
        && !number.is_empty()
        && !number.contains(char::is_whitespace)
}

fn is_date_time(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 10
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[7] == b'-'
        && b[5..7].iter().all(u8::is_ascii_digit)
        && b[8..10].iter().all(u8::is_ascii_digit)
}

fn check_property(
    name: &str,
    ty: PropertyType,
    value: &Json,
    string_booleans: bool,
) -> Result<Json, Refusal> {
    if ty == PropertyType::Boolean
        && string_booleans
        && let Some(b) = as_bool(value)
    {
        return Ok(Json::Bool(b));
    }
    let ok = match ty {
        PropertyType::Boolean => value.is_boolean(),
        PropertyType::Integer => value.is_i64() || value.is_u64(),
        PropertyType::Decimal => value.is_number(),
        PropertyType::String => value.is_string(),
        PropertyType::DateTime => value.as_str().is_some_and(is_date_time),
    };
    if ok {
        Ok(value.clone())
    } else {
        Err(Refusal::invalid_value(format!(
            "attribute {name:?} of {EXT_URN} is of type {}, not {value}",
            ty.as_str()
        )))
    }
}

impl Rules {
    /// Builds the stored row a SCIM body describes (POST, PUT, or a PATCHed resource),
    /// keeping `id_user`, `guid`, `version` and times from `base`.
    pub fn record_from_scim(&self, body: &Json, base: UserRecord) -> Result<UserRecord, Refusal> {
        let obj = body
            .as_object()
            .ok_or_else(|| Refusal::invalid_syntax("the body must be a JSON object"))?;
        let user_name = match obj.get("userName") {
            Some(Json::String(s)) if !s.trim().is_empty() => s,
            _ => return Err(Refusal::invalid_value("userName is required")),
        };
        let (user_name, domain) = parse_user_name(user_name, &self.default_domain)?;

        let name = obj.get("name").and_then(Json::as_object);
        let part = |member: &str| {
            optional_string(name.and_then(|n| n.get(member)), &format!("name.{member}"))
        };
        let (given_name, middle_name, family_name) =
            (part("givenName")?, part("middleName")?, part("familyName")?);
        if given_name.is_none() && middle_name.is_none() && family_name.is_none() {
            return Err(Refusal::invalid_value(
                "at least one of name.givenName, name.middleName, name.familyName is required",
            ));
        }

        let enabled = match obj.get("active") {
            None | Some(Json::Null) => true,
            Some(v) => as_bool(v).ok_or_else(|| {
                Refusal::invalid_value(format!("active must be a boolean, not {v}"))
            })?,
        };

        let email = kept_entry(
            obj.get("emails"),
            "emails",
            &["work", "home", "other"],
            &["work"],
        )?;
        let phone = kept_entry(
            obj.get("phoneNumbers"),
            "phoneNumbers",
            &["work", "home", "other", "mobile"],
            &["work", "home", "other", "mobile"],
        )?;
        if let Some(phone) = &phone
            && self.phone_format == PhoneFormat::Strict
            && (!is_strict_phone(phone) || phone.chars().count() > MAX_PHONE)
        {
            return Err(Refusal::invalid_value(format!(
                "phone number {phone:?} must be written \"+CountryCode Number\", at most {MAX_PHONE} characters"
            )));
        }

        let mut properties = BTreeMap::new();
        match obj.get(EXT_URN) {
            None | Some(Json::Null) => {}
            Some(Json::Object(ext)) => {
                for (name, value) in ext {
                    let Some((canonical, ty)) = self.properties.get(&name.to_lowercase()) else {
                        return Err(Refusal::invalid_value(format!(
                            "{EXT_URN} has no attribute {name:?}"
                        )));
                    };
                    if !value.is_null() {
                        properties.insert(
                            canonical.clone(),
                            check_property(canonical, *ty, value, self.string_booleans)?,
                        );
                    }
                }
            }
            Some(_) => {
                return Err(Refusal::invalid_value(format!(
                    "{EXT_URN} must be an object"
                )));
            }
        }

        let mut record = UserRecord {
            user_name,
            domain,
            given_name,
            middle_name,
            family_name,
            email,
            phone,
            enabled,
            properties,
            ..base
        };
        self.drop_unkept(&mut record);
        Ok(record)
    }

    /// Forgets what this server does not keep (`drops`), after accepting it.
    fn drop_unkept(&self, record: &mut UserRecord) {
        for dropped in &self.drops {
            match dropped.as_str() {
                "name.givenname" => record.given_name = None,
                "name.middlename" => record.middle_name = None,
                "name.familyname" => record.family_name = None,
                "email" => record.email = None,
                "phone" => record.phone = None,
                other => {
                    if let Some(name) = other.strip_prefix("properties.") {
                        record
                            .properties
                            .retain(|p, _| !p.eq_ignore_ascii_case(name));
                    }
                }
            }
        }
    }

    /// Applies a PatchOp to `record`, as Bizagi documents it: `replace`, `add` acting as
    /// replace, `remove`; an operation without a path is ignored (facts §6).
    pub fn patch(&self, record: &UserRecord, body: &Json) -> Result<UserRecord, Refusal> {
        let operations = body
            .get("Operations")
            .and_then(Json::as_array)
            .ok_or_else(|| Refusal::invalid_syntax("a PatchOp needs an `Operations` array"))?;
        let mut doc = record.to_scim("", false);
        for op in operations {
            let kind = op
                .get("op")
                .and_then(Json::as_str)
                .unwrap_or_default()
                .to_ascii_lowercase();
            let Some(path) = op.get("path").and_then(Json::as_str) else {
                continue;
            };
            let value = op.get("value");
            match kind.as_str() {
                "replace" | "add" => {
                    let value = value.ok_or_else(|| {
                        Refusal::invalid_syntax(format!("`{kind}` of {path:?} has no value"))
                    })?;
                    apply_path(&mut doc, path, Some(value.clone()))?;
                }
                "remove" => {
                    if path.eq_ignore_ascii_case("userName") {
                        return Err(Refusal {
                            status: 400,
                            scim_type: Some("mutability"),
                            detail: "userName cannot be removed".into(),
                        });
                    }
                    // Removing `active` would leave the user active by default: a
                    // deactivated user would come back. Refused, as RFC servers do.
                    if path.eq_ignore_ascii_case("active") {
                        return Err(Refusal {
                            status: 400,
                            scim_type: Some("mutability"),
                            detail: "active cannot be removed: replace it with true or false"
                                .into(),
                        });
                    }
                    apply_path(&mut doc, path, None)?;
                }
                other => return Err(Refusal::invalid_syntax(format!("unknown op {other:?}"))),
            }
        }
        self.record_from_scim(&doc, record.clone())
    }
}

/// Sets (`Some`) or removes (`None`) the attribute at a PATCH `path` of `doc`.
fn apply_path(doc: &mut Json, path: &str, value: Option<Json>) -> Result<(), Refusal> {
    let core_prefix = format!("{USER_URN}:");
    let ext_prefix = format!("{EXT_URN}:");
    if path.len() > ext_prefix.len() && path[..ext_prefix.len()].eq_ignore_ascii_case(&ext_prefix) {
        let member = &path[ext_prefix.len()..];
        let ext = doc[EXT_URN]
            .as_object_mut()
            .expect("the extension is rendered");
        let existing = ext.keys().find(|k| k.eq_ignore_ascii_case(member)).cloned();
        let key = existing.unwrap_or_else(|| member.to_string());
        ext.insert(key, value.unwrap_or(Json::Null));
        return Ok(());
    }
    if path.eq_ignore_ascii_case(EXT_URN) {
        let ext = doc[EXT_URN]
            .as_object_mut()
            .expect("the extension is rendered");
        match value {
            Some(Json::Object(members)) => ext.extend(members),
            Some(_) => {
                return Err(Refusal::invalid_value(format!(
                    "{EXT_URN} must be an object"
                )));
            }
            None => ext.values_mut().for_each(|v| *v = Json::Null),
        }
        return Ok(());
    }
    let path = if path.len() > core_prefix.len()
        && path[..core_prefix.len()].eq_ignore_ascii_case(&core_prefix)
    {
        &path[core_prefix.len()..]
    } else {
        path
    };

    // A filtered path: `emails[type eq "work"].value`.
    if let Some((attr, rest)) = path.split_once('[') {
        let (filter, sub) = rest
            .split_once(']')
            .ok_or_else(|| Refusal::invalid_path(format!("unclosed filter in {path:?}")))?;
        let attr = known(attr, &["emails", "phoneNumbers"])?;
        let (fattr, fvalue) = parse_eq_filter(filter)
            .ok_or_else(|| Refusal::invalid_path(format!("unsupported filter {filter:?}")))?;
        let sub = sub.strip_prefix('.').unwrap_or(sub);
        let list = doc
            .as_object_mut()
            .expect("a resource")
            .entry(attr)
            .or_insert_with(|| json!([]));
        if !list.is_array() {
            *list = json!([]);
        }
        let entries = list.as_array_mut().expect("an array");
        let matches = |e: &Json| {
            e.get(&fattr)
                .and_then(Json::as_str)
                .is_some_and(|v| v.eq_ignore_ascii_case(&fvalue))
        };
        match (value, sub.is_empty()) {
            (None, true) => entries.retain(|e| !matches(e)),
            (None, false) => entries.iter_mut().filter(|e| matches(e)).for_each(|e| {
                if let Some(o) = e.as_object_mut() {
                    o.remove(sub);
                }
            }),
            (Some(v), true) => {
                entries.retain(|e| !matches(e));
                entries.push(v);
            }
            (Some(v), false) => match entries.iter_mut().find(|e| matches(e)) {
                Some(e) => e[sub] = v,
                None => entries.push(json!({ fattr: fvalue, "primary": true, sub: v })),
            },
        }
        return Ok(());
    }

    let (attr, sub) = match path.split_once('.') {
        Some((a, s)) => (a, Some(s)),
        None => (path, None),
    };
    let obj = doc.as_object_mut().expect("a resource");
    match sub {
        None => {
            let attr = known(
                attr,
                &["userName", "name", "active", "emails", "phoneNumbers"],
            )?;
            match (attr, value) {
                ("name", Some(Json::Object(members))) => {
                    let name = obj.entry("name").or_insert_with(|| json!({}));
                    if let Some(name) = name.as_object_mut() {
                        name.extend(members);
                    }
                }
                (attr, Some(v)) => {
                    obj.insert(attr.to_string(), v);
                }
                (attr, None) => {
                    obj.remove(attr);
                }
            }
        }
        Some(sub) => {
            known(attr, &["name"])?;
            let sub = known(sub, &["givenName", "middleName", "familyName", "formatted"])?;
            let name = obj.entry("name").or_insert_with(|| json!({}));
            if let Some(name) = name.as_object_mut() {
                match value {
                    Some(v) => {
                        name.insert(sub.to_string(), v);
                    }
                    None => {
                        name.remove(sub);
                    }
                }
            }
        }
    }
    Ok(())
}

fn known(name: &str, names: &[&'static str]) -> Result<&'static str, Refusal> {
    names
        .iter()
        .find(|n| n.eq_ignore_ascii_case(name))
        .copied()
        .ok_or_else(|| Refusal::invalid_path(format!("no attribute {name:?}")))
}

/// `attr eq "value"` → (attr, value).
pub fn parse_eq_filter(filter: &str) -> Option<(String, String)> {
    let mut parts = filter.trim().splitn(3, char::is_whitespace);
    let attr = parts.next()?;
    let op = parts.next()?;
    let value = parts.next()?.trim();
    if !op.eq_ignore_ascii_case("eq") {
        return None;
    }
    let value = value.strip_prefix('"')?.strip_suffix('"')?;
    Some((
        attr.to_string(),
        value.replace("\\\"", "\"").replace("\\\\", "\\"),
    ))
}

#[cfg(test)]
mod tests;
