//! Bizagi's SCIM API, as its documentation describes it (`BIZAGI-SCIM-FACTS.md`), and
//! robust to what the documentation leaves open. Each rule cites the fact it follows.
//!
//! - userName is `user@domain` (or `domain\user` on create), case-insensitive, at most
//!   25 characters as `user@domain` (facts §4, §9.1; ambiguity 3). scimops matches on
//!   lower-case `user@domain` whichever form a file or the server uses.
//! - Users are addressed by `id` (guidUser) once read (ambiguity 1).
//! - One full name built from three parts, at least one non-empty (§4). Parts are
//!   compared with white space collapsed (ambiguity 11).
//! - One contact e-mail: sent as the only, primary, `work` entry; the stored one is read
//!   back whatever its type (§9.1). Compared without regard to case.
//! - One phone: sent as the only, primary entry of type `mobile` (ambiguity 9: the pages
//!   disagree between `mobile` and `work`; any single phone is read back).
//! - PATCH with explicit paths and `replace`/`remove` only: `add` is documented to act as
//!   replace, and filtered paths are undocumented (§6, ambiguity 14). E-mail and phone
//!   are replaced whole (`path: emails`), not through a filter.
//! - DELETE deactivates (§8): a deactivation with nothing else to change is one DELETE;
//!   together with other changes it is one PATCH setting `active: false`.
//! - The UserProperties extension is sent as a top-level member named by its URN, and
//!   the URN is listed in `schemas` (ambiguity 20).

use std::collections::BTreeMap;

use serde_json::{Map, json};

use super::Dialect;
use crate::diag::Diagnostic;
use crate::model::{
    Attr, AttrChange, DesiredUser, ObservedUser, UserKey, Value, ValueType, fingerprint, parse_bool,
};
use crate::schema::{PropertyDef, UserSchema};
use crate::scim::wire::{
    Method, PatchOpKind, PatchOperation, Request, USER_URN, patch_body, user_path,
};

pub const PROPERTIES_URN: &str = "urn:ietf:params:scim:schemas:extension:bizagi:2.0:UserProperties";

/// Bizagi's limit on `user@domain` (facts §4).
pub const MAX_USER_NAME: usize = 25;

/// Bizagi's limit on a phone number (facts §9.1).
pub const MAX_PHONE: usize = 20;

/// The properties every Bizagi project has (facts §9.2).
pub const BUILT_IN_PROPERTIES: [(&str, ValueType); 6] = [
    ("DelegateEnabled", ValueType::Boolean),
    ("enabledForAssignation", ValueType::Boolean),
    ("createdCasesSkipAssigRules", ValueType::Boolean),
    ("offlineForms", ValueType::Boolean),
    ("normalCost", ValueType::Decimal),
    ("overtimeCost", ValueType::Decimal),
];

#[derive(Clone, Debug)]
pub struct Bizagi {
    /// The `type` sent with the phone number.
    pub phone_type: String,
    /// Whether the server takes PATCH. Without it an update is a PUT of the whole user
    /// as read, with the changes applied (facts §7: PUT replaces everything).
    pub patch: bool,
}

impl Default for Bizagi {
    fn default() -> Self {
        Self {
            phone_type: "mobile".to_string(),
            patch: true,
        }
    }
}

/// `user@domain` from either written form; `None` without a domain.
pub fn split_user_name(user_name: &str) -> Option<(&str, &str)> {
    if let Some((domain, user)) = user_name.split_once('\\') {
        Some((user, domain))
    } else {
        user_name.rsplit_once('@')
    }
}

fn collapse_spaces(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn is_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && !s.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

/// `+CountryCode Number`, e.g. `+57 3001234567`.
fn is_bizagi_phone(s: &str) -> bool {
    let Some((code, number)) = s.strip_prefix('+').and_then(|r| r.split_once(' ')) else {
        return false;
    };
    (1..=3).contains(&code.len())
        && code.bytes().all(|b| b.is_ascii_digit())
        && !number.is_empty()
        && !number.contains(char::is_whitespace)
        && s.chars().count() <= MAX_PHONE
}

fn text(value: &Value) -> &str {
    match value {
        Value::String(s) | Value::DateTime(s) => s,
        _ => "",
    }
}

const NAME_PARTS: [(Attr, &str); 3] = [
    (Attr::GivenName, "givenName"),
    (Attr::MiddleName, "middleName"),
    (Attr::FamilyName, "familyName"),
];

impl Bizagi {
    fn email_json(value: &str) -> serde_json::Value {
        json!([{"value": value, "type": "work", "primary": true}])
    }

    fn phone_json(&self, value: &str) -> serde_json::Value {
        json!([{"value": value, "type": self.phone_type, "primary": true}])
    }

    /// The entry Bizagi keeps of a multi-valued attribute: the primary one, else the first.
    fn kept_value(list: Option<&serde_json::Value>) -> Option<String> {
        let list = list?.as_array()?;
        let primary = |e: &&serde_json::Value| match e.get("primary") {
            Some(serde_json::Value::Bool(b)) => *b,
            Some(serde_json::Value::String(s)) => parse_bool(s) == Some(true),
            _ => false,
        };
        let entry = list.iter().find(primary).or_else(|| list.first())?;
        let value = entry.get("value")?.as_str()?.trim();
        (!value.is_empty()).then(|| value.to_string())
    }

    /// The whole user as read, with `changes` applied: the body of a PUT. Attributes
    /// scimops does not manage are sent back as they were read.
    fn put_body(&self, observed: &ObservedUser, changes: &[AttrChange]) -> serde_json::Value {
        let mut body = match &observed.raw {
            serde_json::Value::Object(obj) => obj.clone(),
            _ => Map::new(),
        };
        body.remove("meta");
        for change in changes {
            let after = change.after.as_ref();
            let mut set = |key: &str, value: Option<serde_json::Value>| match value {
                Some(v) => {
                    body.insert(key.to_string(), v);
                }
                None => {
                    body.remove(key);
                }
            };
            match &change.attr {
                Attr::GivenName | Attr::MiddleName | Attr::FamilyName => {
                    let (_, part) = NAME_PARTS
                        .iter()
                        .find(|(a, _)| *a == change.attr)
                        .expect("a name part");
                    let name = body.entry("name").or_insert_with(|| json!({}));
                    if let Some(name) = name.as_object_mut() {
                        // The server builds the full name from the parts.
                        name.remove("formatted");
                        match after {
                            Some(v) => name.insert((*part).to_string(), v.to_json()),
                            None => name.remove(*part),
                        };
                    }
                }
                Attr::Email => set("emails", after.map(|v| Self::email_json(text(v)))),
                Attr::Phone => set("phoneNumbers", after.map(|v| self.phone_json(text(v)))),
                Attr::Active => set("active", after.map(Value::to_json)),
                Attr::Property(p) => {
                    let ext = body.entry(PROPERTIES_URN).or_insert_with(|| json!({}));
                    if let Some(ext) = ext.as_object_mut() {
                        match after {
                            Some(v) => ext.insert(p.clone(), v.to_json()),
                            None => ext.remove(p),
                        };
                    }
                }
            }
        }
        let mut schemas = vec![json!(USER_URN)];
        if body.contains_key(PROPERTIES_URN) {
            schemas.push(json!(PROPERTIES_URN));
        }
        body.insert("schemas".into(), schemas.into());
        body.into()
    }

    fn patch_operation(&self, change: &AttrChange) -> PatchOperation {
        let (path, value) = match &change.attr {
            Attr::GivenName | Attr::MiddleName | Attr::FamilyName => {
                let (_, part) = NAME_PARTS
                    .iter()
                    .find(|(a, _)| *a == change.attr)
                    .expect("a name part");
                (
                    format!("name.{part}"),
                    change.after.as_ref().map(Value::to_json),
                )
            }
            Attr::Email => (
                "emails".to_string(),
                change.after.as_ref().map(|v| Self::email_json(text(v))),
            ),
            Attr::Phone => (
                "phoneNumbers".to_string(),
                change.after.as_ref().map(|v| self.phone_json(text(v))),
            ),
            Attr::Active => (
                "active".to_string(),
                change.after.as_ref().map(Value::to_json),
            ),
            Attr::Property(name) => (
                format!("{PROPERTIES_URN}:{name}"),
                change.after.as_ref().map(Value::to_json),
            ),
        };
        PatchOperation {
            op: if value.is_some() {
                PatchOpKind::Replace
            } else {
                PatchOpKind::Remove
            },
            path: Some(path),
            value,
        }
    }
}

impl Dialect for Bizagi {
    fn name(&self) -> &'static str {
        "bizagi"
    }

    fn properties_urn(&self) -> &'static str {
        PROPERTIES_URN
    }

    fn qualify(&self, user_name: &str, default_domain: Option<&str>) -> String {
        let user_name = user_name.trim();
        match (split_user_name(user_name), default_domain) {
            (None, Some(domain)) => format!("{user_name}@{domain}"),
            _ => user_name.to_string(),
        }
    }

    fn key(&self, user_name: &str) -> UserKey {
        let canonical = match split_user_name(user_name.trim()) {
            Some((user, domain)) => format!("{user}@{domain}"),
            None => user_name.trim().to_string(),
        };
        UserKey::from_canonical(canonical.to_lowercase())
    }

    fn offline_schema(&self) -> UserSchema {
        let mut schema = UserSchema::new(false);
        for (name, ty) in BUILT_IN_PROPERTIES {
            schema.insert(PropertyDef {
                name: name.to_string(),
                ty,
                read_only: false,
            });
        }
        schema
    }

    fn check_user(&self, user: &DesiredUser, out: &mut Vec<Diagnostic>) {
        match split_user_name(&user.user_name) {
            None => out.push(
                Diagnostic::error(
                    user.origin.clone(),
                    format!(
                        "userName `{}` has no domain; Bizagi users are `user@domain`",
                        user.user_name
                    ),
                )
                .hint(format!(
                    "write `{}@DOMAIN`, or set `defaults.domain` in scimops.yaml",
                    user.user_name
                )),
            ),
            Some((user_part, domain)) => {
                let canonical = format!("{user_part}@{domain}");
                let len = canonical.chars().count();
                if user_part.is_empty() || domain.is_empty() {
                    out.push(Diagnostic::error(
                        user.origin.clone(),
                        format!(
                            "userName `{}` needs both a user and a domain",
                            user.user_name
                        ),
                    ));
                } else if len > MAX_USER_NAME {
                    out.push(
                        Diagnostic::error(
                            user.origin.clone(),
                            format!(
                                "userName `{canonical}` is {len} characters long; Bizagi allows at most {MAX_USER_NAME} for `user@domain`"
                            ),
                        )
                        .hint("shorten the user part or the domain"),
                    );
                }
            }
        }

        let parts: Vec<_> = NAME_PARTS
            .iter()
            .filter_map(|(attr, _)| user.attrs.get(attr).map(|v| (attr, v)))
            .collect();
        for (attr, value) in &parts {
            if value.as_ref().is_some_and(|v| text(v).trim().is_empty()) {
                out.push(
                    Diagnostic::error(user.origin_of(attr).clone(), format!("`{attr}` is empty"))
                        .hint("write `null` to clear it, or leave it out to leave it as it is"),
                );
            }
        }
        if parts.len() == NAME_PARTS.len() && parts.iter().all(|(_, v)| v.is_none()) {
            out.push(
                Diagnostic::error(
                    user.origin_of(&Attr::GivenName).clone(),
                    "this clears every part of the name; Bizagi needs at least one",
                )
                .hint("keep `givenName`, `middleName` or `familyName`"),
            );
        }

        if let Some(Some(email)) = user.attrs.get(&Attr::Email)
            && !is_email(text(email))
        {
            out.push(
                Diagnostic::error(
                    user.origin_of(&Attr::Email).clone(),
                    format!("{email} is not an e-mail address"),
                )
                .hint("write it as `name@example.com`"),
            );
        }
        if let Some(Some(phone)) = user.attrs.get(&Attr::Phone)
            && !is_bizagi_phone(text(phone))
        {
            out.push(
                Diagnostic::warning(
                    user.origin_of(&Attr::Phone).clone(),
                    format!(
                        "phone {phone} is not in Bizagi's format `+CountryCode Number` (at most {MAX_PHONE} characters); Bizagi may refuse it"
                    ),
                )
                .hint("write it like \"+57 3001234567\""),
            );
        }
    }

    fn check_create(&self, user: &DesiredUser, out: &mut Vec<Diagnostic>) {
        let has_name = NAME_PARTS.iter().any(
            |(attr, _)| matches!(user.attrs.get(attr), Some(Some(v)) if !text(v).trim().is_empty()),
        );
        if !has_name {
            out.push(
                Diagnostic::error(
                    user.origin.clone(),
                    format!(
                        "`{}` does not exist yet, and Bizagi needs a name to create it",
                        user.user_name
                    ),
                )
                .hint("declare at least one of `name.givenName`, `name.middleName`, `name.familyName`"),
            );
        }
        let assignation = Attr::Property("enabledForAssignation".to_string());
        if !user.attrs.contains_key(&assignation) {
            out.push(
                Diagnostic::warning(
                    user.origin.clone(),
                    format!(
                        "`{}` will be created without `enabledForAssignation`; Bizagi's documentation says it must be sent for creation to work correctly",
                        user.user_name
                    ),
                )
                .hint("set `properties.enabledForAssignation` on the user or in `defaults.properties`"),
            );
        }
    }

    fn read_user(
        &self,
        resource: &serde_json::Value,
        schema: &UserSchema,
    ) -> Result<ObservedUser, String> {
        let obj = resource.as_object().ok_or("a user is not a JSON object")?;
        let string = |key: &str| obj.get(key).and_then(|v| v.as_str());
        let user_name = string("userName").ok_or("a user has no `userName`")?;
        let id = string("id")
            .ok_or_else(|| format!("user `{user_name}` has no `id`"))?
            .to_string();
        let mut attrs = BTreeMap::new();

        let active = match obj.get("active") {
            None | Some(serde_json::Value::Null) => true,
            Some(serde_json::Value::Bool(b)) => *b,
            Some(serde_json::Value::String(s)) => {
                parse_bool(s).ok_or_else(|| format!("user `{user_name}` has `active: {s:?}`"))?
            }
            Some(other) => return Err(format!("user `{user_name}` has `active: {other}`")),
        };
        attrs.insert(Attr::Active, Value::Boolean(active));

        if let Some(name) = obj.get("name").and_then(|n| n.as_object()) {
            for (attr, member) in NAME_PARTS {
                if let Some(part) = name.get(member).and_then(|v| v.as_str())
                    && !part.trim().is_empty()
                {
                    attrs.insert(attr, Value::String(part.to_string()));
                }
            }
        }
        if let Some(email) = Self::kept_value(obj.get("emails")) {
            attrs.insert(Attr::Email, Value::String(email));
        }
        if let Some(phone) = Self::kept_value(obj.get("phoneNumbers")) {
            attrs.insert(Attr::Phone, Value::String(phone));
        }
        if let Some(ext) = obj.get(PROPERTIES_URN).and_then(|e| e.as_object()) {
            for (name, json) in ext {
                if json.is_null() {
                    continue;
                }
                let Some(def) = schema.get(name) else {
                    continue;
                };
                // A value that does not read as its declared type is kept as text, so a
                // plan shows it rather than hiding it.
                let value = Value::from_json(def.ty, json)
                    .unwrap_or_else(|| Value::String(json.to_string()));
                attrs.insert(Attr::Property(def.name.clone()), value);
            }
        }

        Ok(ObservedUser {
            key: self.key(user_name),
            id,
            user_name: user_name.to_string(),
            attrs,
            raw: resource.clone(),
            fingerprint: fingerprint(resource),
        })
    }

    fn equivalent(&self, attr: &Attr, want: &Value, have: &Value) -> bool {
        match attr {
            Attr::GivenName | Attr::MiddleName | Attr::FamilyName | Attr::Phone => {
                collapse_spaces(text(want)) == collapse_spaces(text(have))
            }
            Attr::Email => text(want).trim().eq_ignore_ascii_case(text(have).trim()),
            Attr::Active | Attr::Property(_) => want == have,
        }
    }

    /// Bizagi reads a user by userName in the path (facts §5.1).
    fn lookup_path(&self, user_name: &str) -> String {
        user_path(user_name)
    }

    fn create_request(&self, user: &DesiredUser) -> Request {
        let mut body = Map::new();
        let mut schemas = vec![json!(USER_URN)];
        body.insert("userName".into(), json!(user.user_name));
        body.insert("active".into(), json!(user.active()));
        let mut name = Map::new();
        let mut properties = Map::new();
        for (attr, value) in &user.attrs {
            let Some(value) = value else {
                continue;
            };
            match attr {
                Attr::GivenName | Attr::MiddleName | Attr::FamilyName => {
                    let (_, member) = NAME_PARTS
                        .iter()
                        .find(|(a, _)| a == attr)
                        .expect("a name part");
                    name.insert((*member).to_string(), value.to_json());
                }
                Attr::Email => {
                    body.insert("emails".into(), Self::email_json(text(value)));
                }
                Attr::Phone => {
                    body.insert("phoneNumbers".into(), self.phone_json(text(value)));
                }
                Attr::Active => {}
                Attr::Property(p) => {
                    properties.insert(p.clone(), value.to_json());
                }
            }
        }
        if !name.is_empty() {
            body.insert("name".into(), name.into());
        }
        if !properties.is_empty() {
            schemas.push(json!(PROPERTIES_URN));
            body.insert(PROPERTIES_URN.into(), properties.into());
        }
        body.insert("schemas".into(), schemas.into());
        Request {
            method: Method::Post,
            path: "/Users".to_string(),
            body: Some(body.into()),
        }
    }

    fn update_requests(&self, observed: &ObservedUser, changes: &[AttrChange]) -> Vec<Request> {
        if changes.is_empty() {
            return Vec::new();
        }
        let path = user_path(&observed.id);
        if let [only] = changes
            && only.attr == Attr::Active
            && only.after == Some(Value::Boolean(false))
        {
            return vec![Request {
                method: Method::Delete,
                path,
                body: None,
            }];
        }
        if !self.patch {
            return vec![Request {
                method: Method::Put,
                path,
                body: Some(self.put_body(observed, changes)),
            }];
        }
        let operations = changes.iter().map(|c| self.patch_operation(c)).collect();
        vec![Request {
            method: Method::Patch,
            path,
            body: Some(patch_body(operations)),
        }]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_names_match_in_either_form_and_any_case() {
        let b = Bizagi::default();
        assert_eq!(b.key("JDoe@Example").as_str(), "jdoe@example");
        assert_eq!(b.key(r"Example\JDoe").as_str(), "jdoe@example");
        assert_eq!(b.qualify("jdoe", Some("example")), "jdoe@example");
        assert_eq!(b.qualify(r"corp\jdoe", Some("example")), r"corp\jdoe");
        assert_eq!(b.qualify("jdoe@corp", Some("example")), "jdoe@corp");
    }

    #[test]
    fn phones_follow_bizagis_format() {
        assert!(is_bizagi_phone("+57 3001234567"));
        assert!(!is_bizagi_phone("+57 300 1234567"));
        assert!(!is_bizagi_phone("3001234567"));
        assert!(!is_bizagi_phone("+5712 3001234567"));
        assert!(!is_bizagi_phone("+57 30012345678901234"));
    }

    #[test]
    fn emails_need_one_at_and_no_spaces() {
        assert!(is_email("a@b"));
        assert!(!is_email("ab"));
        assert!(!is_email("a@b@c"));
        assert!(!is_email("a b@c"));
        assert!(!is_email("@c"));
    }

    #[test]
    fn the_kept_entry_is_the_primary_one() {
        let list = json!([
            {"value": "a@x", "type": "home"},
            {"value": "b@x", "type": "work", "primary": "True"},
        ]);
        assert_eq!(Bizagi::kept_value(Some(&list)), Some("b@x".to_string()));
        let list = json!([{"value": "a@x", "type": "home"}]);
        assert_eq!(Bizagi::kept_value(Some(&list)), Some("a@x".to_string()));
        assert_eq!(Bizagi::kept_value(Some(&json!([]))), None);
    }
}
