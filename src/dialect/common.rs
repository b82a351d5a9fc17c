//! The SCIM User mapping every dialect shares: reading a resource into the model, and
//! building create, PATCH and PUT bodies. Dialects choose the few things that differ
//! between servers through [`Mapping`]; everything else is RFC 7643/7644.

use std::collections::BTreeMap;

use serde_json::{Map, Value as Json, json};

use crate::escape::Shown;
use crate::model::{
    Attr, AttrChange, DesiredUser, ObservedUser, UserKey, Value, fingerprint, parse_bool,
};
use crate::schema::UserSchema;
use crate::scim::wire::{Method, PatchOpKind, PatchOperation, Request, USER_URN, patch_body};

pub const NAME_PARTS: [(Attr, &str); 3] = [
    (Attr::GivenName, "givenName"),
    (Attr::MiddleName, "middleName"),
    (Attr::FamilyName, "familyName"),
];

/// How a server keeps multi-valued contact attributes (`emails`, `phoneNumbers`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Contacts {
    /// One entry only (Bizagi): the attribute is written as that one entry.
    Single,
    /// Any number (RFC servers): the managed entry is changed inside the list read
    /// from the server; the other entries are sent back as they were.
    Merge,
}

#[derive(Clone, Debug)]
pub struct Mapping {
    /// The extension that `properties` in user files stands for.
    pub properties_urn: String,
    /// The `type` of the phone scimops manages.
    pub phone_type: String,
    pub contacts: Contacts,
    /// Attributes the server does not keep (the target's `unsupported`): never compared,
    /// never sent.
    pub unsupported: Vec<Attr>,
    /// Whether users are kept as read (their JSON text), for updates that need it: a
    /// PUT (the server has no PATCH), or contact lists merged (`Contacts::Merge`).
    pub keep_raw: bool,
}

impl Mapping {
    /// Whether the server keeps `attr` (the target's `unsupported` says which it does
    /// not; names compare without regard to case).
    pub fn keeps(&self, attr: &Attr) -> bool {
        if self.unsupported.is_empty() {
            return true;
        }
        let name = attr.to_string();
        !self
            .unsupported
            .iter()
            .any(|u| u.to_string().eq_ignore_ascii_case(&name))
    }
}

/// Which entry of `emails` / `phoneNumbers` scimops manages: the one of `kind`, else the
/// primary one, else the first. Returns its index.
fn managed_entry(list: &[Json], kind: &str) -> Option<usize> {
    let of_kind = |e: &Json| {
        e.get("type")
            .and_then(Json::as_str)
            .is_some_and(|t| t.eq_ignore_ascii_case(kind))
    };
    let primary = |e: &Json| match e.get("primary") {
        Some(Json::Bool(b)) => *b,
        Some(Json::String(s)) => parse_bool(s) == Some(true),
        _ => false,
    };
    list.iter()
        .position(of_kind)
        .or_else(|| list.iter().position(primary))
        .or(if list.is_empty() { None } else { Some(0) })
}

fn entries<'a>(resource: &'a Json, attribute: &str) -> &'a [Json] {
    resource
        .get(attribute)
        .and_then(Json::as_array)
        .map_or(&[], Vec::as_slice)
}

fn entry_value(list: &[Json], kind: &str) -> Option<String> {
    let entry = &list[managed_entry(list, kind)?];
    let value = entry.get("value")?.as_str()?.trim();
    (!value.is_empty()).then(|| value.to_string())
}

/// `userName eq "..."`, quoted as RFC 7644 §3.4.2.2 requires.
pub fn user_name_filter(user_name: &str) -> String {
    let escaped = user_name.replace('\\', "\\\\").replace('"', "\\\"");
    format!("userName eq \"{escaped}\"")
}

/// The text of a string value (empty for other kinds).
pub fn text(value: &Value) -> &str {
    match value {
        Value::String(s) | Value::DateTime(s) => s,
        _ => "",
    }
}

/// `local@domain`: one `@`, both parts, no white space or hidden character, at most
/// 254 characters (RFC 5321's limit on a path).
pub fn is_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && s.chars().count() <= 254
                && !s
                    .chars()
                    .any(|c| c.is_whitespace() || crate::escape::hidden(c))
        }
        None => false,
    }
}

/// The declared e-mail, when it is not an e-mail address.
pub fn check_email(user: &DesiredUser, out: &mut Vec<crate::diag::Diagnostic>) {
    if let Some(Some(email)) = user.attrs.get(&Attr::Email)
        && !is_email(text(email))
    {
        out.push(
            crate::diag::Diagnostic::error(
                user.origin_of(&Attr::Email).clone(),
                format!("{email} is not an e-mail address"),
            )
            .hint("write it as `name@example.com`"),
        );
    }
}

/// E-mails compare without regard to case or surrounding space.
pub fn same_email(want: &Value, have: &Value) -> bool {
    text(want).trim().eq_ignore_ascii_case(text(have).trim())
}

impl Mapping {
    fn email_kind(&self) -> &str {
        "work"
    }

    /// The attribute and entry type of a contact attribute.
    fn contact(&self, attr: &Attr) -> Option<(&'static str, &str)> {
        match attr {
            Attr::Email => Some(("emails", self.email_kind())),
            Attr::Phone => Some(("phoneNumbers", &self.phone_type)),
            _ => None,
        }
    }

    /// Reads a User resource. `key` is the dialect's matching key of a userName.
    pub fn read_user(
        &self,
        resource: Json,
        schema: &UserSchema,
        key: impl Fn(&str) -> UserKey,
    ) -> Result<ObservedUser, String> {
        let obj = resource.as_object().ok_or("a user is not a JSON object")?;
        let string = |k: &str| obj.get(k).and_then(Json::as_str);
        let user_name = string("userName")
            .ok_or("a user has no `userName`")?
            .to_string();
        let user_name = user_name.as_str();
        let id = string("id")
            .ok_or_else(|| format!("user `{}` has no `id`", Shown(user_name)))?
            .to_string();
        let mut attrs = crate::model::AttrMap::new();

        let active = match obj.get("active") {
            None | Some(Json::Null) => true,
            Some(Json::Bool(b)) => *b,
            Some(Json::String(s)) => parse_bool(s).ok_or_else(|| {
                format!(
                    "user `{}` has `active: {}`",
                    Shown(user_name),
                    Shown(&format!("{s:?}"))
                )
            })?,
            Some(other) => {
                return Err(format!(
                    "user `{}` has `active: {}`",
                    Shown(user_name),
                    Shown(&other.to_string())
                ));
            }
        };
        attrs.insert(Attr::Active, Value::Boolean(active));

        if let Some(name) = obj.get("name").and_then(Json::as_object) {
            for (attr, member) in NAME_PARTS {
                if let Some(part) = name.get(member).and_then(Json::as_str)
                    && !part.trim().is_empty()
                {
                    attrs.insert(attr, Value::String(part.to_string()));
                }
            }
            if let Some(full) = name.get("formatted").and_then(Json::as_str)
                && !full.trim().is_empty()
            {
                attrs.insert(Attr::FormattedName, Value::String(full.to_string()));
            }
        }
        for attr in [Attr::Email, Attr::Phone] {
            let (attribute, kind) = self.contact(&attr).expect("a contact attribute");
            if let Some(value) = entry_value(entries(&resource, attribute), kind) {
                attrs.insert(attr, Value::String(value));
            }
        }
        for def in schema.core.defs() {
            if let Some(json) = obj.get(def.name.as_str()).filter(|j| !j.is_null()) {
                attrs.insert(Attr::Core(def.name), read_value(def.ty, json));
            }
        }
        for (urn, defs) in schema.extensions() {
            let Some(ext) = obj
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(urn))
                .and_then(|(_, v)| v.as_object())
            else {
                continue;
            };
            for (name, json) in ext {
                let Some(def) = defs.get(name).filter(|_| !json.is_null()) else {
                    continue;
                };
                let attr = if urn.eq_ignore_ascii_case(&self.properties_urn) {
                    Attr::Property(def.name)
                } else {
                    Attr::extension(urn, &def.name)
                };
                attrs.insert(attr, read_value(def.ty, json));
            }
        }
        let version = obj
            .get("meta")
            .and_then(|m| m.get("version"))
            .and_then(Json::as_str)
            .map(str::to_string);
        attrs.shrink();
        Ok(ObservedUser {
            key: key(user_name),
            id,
            user_name: user_name.to_string(),
            attrs,
            fingerprint: fingerprint(&resource),
            // Kept only where an update needs it: a PUT rebuilds the user from it, and
            // contact lists are merged into it.
            raw: self.keep_raw.then(|| (&resource).into()),
            version,
        })
    }

    /// The URN and member of an extension attribute.
    fn extension<'a>(&'a self, attr: &'a Attr) -> Option<(&'a str, &'a str)> {
        match attr {
            Attr::Property(name) => Some((&self.properties_urn, name)),
            Attr::Extension(member) => Some((&member.0, &member.1)),
            _ => None,
        }
    }

    /// The body of a POST creating `user`: every declared value, the extensions' URNs
    /// listed in `schemas`.
    pub fn create_body(&self, user: &DesiredUser) -> Json {
        let mut body = Map::new();
        let mut schemas = vec![USER_URN.to_string()];
        body.insert("userName".into(), json!(user.user_name));
        body.insert("active".into(), json!(user.active()));
        let mut name = Map::new();
        let mut extensions: BTreeMap<&str, Map<String, Json>> = BTreeMap::new();
        for (attr, value) in &user.attrs {
            let Some(value) = value else {
                continue;
            };
            if let Some((urn, member)) = self.extension(attr) {
                extensions
                    .entry(urn)
                    .or_default()
                    .insert(member.to_string(), value.to_json());
                continue;
            }
            if let Some((attribute, kind)) = self.contact(attr) {
                body.insert(
                    attribute.into(),
                    json!([{"value": text(value), "type": kind, "primary": true}]),
                );
                continue;
            }
            match attr {
                Attr::GivenName | Attr::MiddleName | Attr::FamilyName => {
                    let (_, member) = NAME_PARTS
                        .iter()
                        .find(|(a, _)| a == attr)
                        .expect("a name part");
                    name.insert((*member).to_string(), value.to_json());
                }
                Attr::Core(member) => {
                    body.insert(member.to_string(), value.to_json());
                }
                _ => {}
            }
        }
        if !name.is_empty() {
            body.insert("name".into(), name.into());
        }
        for (urn, members) in extensions {
            schemas.push(urn.to_string());
            body.insert(urn.to_string(), members.into());
        }
        body.insert("schemas".into(), json!(schemas));
        body.into()
    }

    /// The new value of a contact attribute (`emails`, `phoneNumbers`) after `change`:
    /// `None` removes the attribute.
    fn contact_list(&self, observed: &ObservedUser, change: &AttrChange) -> Option<Json> {
        let (attribute, kind) = self.contact(&change.attr)?;
        let after = change.after.as_ref().map(text);
        match self.contacts {
            Contacts::Single => after.map(|v| json!([{"value": v, "type": kind, "primary": true}])),
            Contacts::Merge => {
                let mut list = entries(&observed.raw(), attribute).to_vec();
                match (managed_entry(&list, kind), after) {
                    (Some(i), Some(v)) => list[i]["value"] = json!(v),
                    (Some(i), None) => {
                        list.remove(i);
                    }
                    (None, Some(v)) => {
                        let primary = !list.iter().any(|e| e.get("primary") == Some(&json!(true)));
                        list.push(json!({"value": v, "type": kind, "primary": primary}));
                    }
                    (None, None) => {}
                }
                (!list.is_empty()).then_some(Json::Array(list))
            }
        }
    }

    /// The one request that creates `user`: a POST of every declared value.
    pub fn create_request(&self, user: &DesiredUser) -> Request {
        Request {
            method: Method::Post,
            path: "/Users".to_string(),
            if_match: None,
            body: Some(self.create_body(user)),
        }
    }

    /// The one request that makes `changes` on the user at `path`: a PATCH with one
    /// operation per change where the server takes PATCH, else a PUT of the user as
    /// read with the changes applied.
    pub fn update_request(
        &self,
        observed: &ObservedUser,
        changes: &[AttrChange],
        path: String,
        capabilities: super::Capabilities,
    ) -> Request {
        let (method, body) = if capabilities.patch {
            (
                Method::Patch,
                patch_body(self.patch_operations(observed, changes)),
            )
        } else {
            (Method::Put, self.put_body(observed, changes))
        };
        Request {
            method,
            path,
            if_match: observed.version.clone().filter(|_| capabilities.etag),
            body: Some(body),
        }
    }

    /// One PatchOp operation per change, with explicit paths and `replace`/`remove`.
    pub fn patch_operations(
        &self,
        observed: &ObservedUser,
        changes: &[AttrChange],
    ) -> Vec<PatchOperation> {
        changes
            .iter()
            .map(|change| {
                let (path, value) = if let Some((attribute, _)) = self.contact(&change.attr) {
                    (attribute.to_string(), self.contact_list(observed, change))
                } else if let Some((urn, member)) = self.extension(&change.attr) {
                    (
                        format!("{urn}:{member}"),
                        change.after.as_ref().map(Value::to_json),
                    )
                } else {
                    let path = match &change.attr {
                        Attr::GivenName | Attr::MiddleName | Attr::FamilyName => {
                            let (_, member) = NAME_PARTS
                                .iter()
                                .find(|(a, _)| *a == change.attr)
                                .expect("a name part");
                            format!("name.{member}")
                        }
                        Attr::Core(member) => member.to_string(),
                        Attr::UserName => "userName".to_string(),
                        _ => "active".to_string(),
                    };
                    (path, change.after.as_ref().map(Value::to_json))
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
            })
            .collect()
    }

    /// The whole user as read, with `changes` applied: the body of a PUT. Attributes
    /// scimops does not manage are sent back as they were read; `meta` and the
    /// server-built `name.formatted` are left out.
    pub fn put_body(&self, observed: &ObservedUser, changes: &[AttrChange]) -> Json {
        let mut body = match observed.raw() {
            Json::Object(obj) => obj,
            _ => Map::new(),
        };
        body.remove("meta");
        for change in changes {
            let after = change.after.as_ref();
            if let Some((attribute, _)) = self.contact(&change.attr) {
                match self.contact_list(observed, change) {
                    Some(list) => body.insert(attribute.into(), list),
                    None => body.remove(attribute),
                };
                continue;
            }
            if let Some((urn, member)) = self.extension(&change.attr) {
                let ext = body.entry(urn.to_string()).or_insert_with(|| json!({}));
                if let Some(ext) = ext.as_object_mut() {
                    match after {
                        Some(v) => ext.insert(member.to_string(), v.to_json()),
                        None => ext.remove(member),
                    };
                }
                continue;
            }
            match &change.attr {
                Attr::GivenName | Attr::MiddleName | Attr::FamilyName => {
                    let (_, part) = NAME_PARTS
                        .iter()
                        .find(|(a, _)| *a == change.attr)
                        .expect("a name part");
                    let name = body.entry("name").or_insert_with(|| json!({}));
                    if let Some(name) = name.as_object_mut() {
                        name.remove("formatted");
                        match after {
                            Some(v) => name.insert((*part).to_string(), v.to_json()),
                            None => name.remove(*part),
                        };
                    }
                }
                attr => {
                    let key = match attr {
                        Attr::Core(member) => member.to_string(),
                        Attr::UserName => "userName".to_string(),
                        _ => "active".to_string(),
                    };
                    match after {
                        Some(v) => body.insert(key, v.to_json()),
                        None => body.remove(&key),
                    };
                }
            }
        }
        // `schemas` lists the core schema and every extension present.
        let mut schemas = vec![json!(USER_URN)];
        for key in body.keys() {
            if key.starts_with("urn:") && !key.eq_ignore_ascii_case(USER_URN) {
                schemas.push(json!(key));
            }
        }
        body.insert("schemas".into(), schemas.into());
        body.into()
    }
}

/// A JSON value as a value of `ty`; one that does not read as its type is kept as
/// text, so a plan shows it rather than hiding it.
fn read_value(ty: crate::model::ValueType, json: &Json) -> Value {
    Value::from_json(ty, json).unwrap_or_else(|| Value::String(json.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_quote_user_names() {
        assert_eq!(user_name_filter("a@b"), r#"userName eq "a@b""#);
        assert_eq!(user_name_filter(r#"a"b\c"#), r#"userName eq "a\"b\\c""#);
    }

    #[test]
    fn the_managed_contact_is_of_its_type_else_primary_else_first() {
        let list = vec![
            json!({"value": "a", "type": "home"}),
            json!({"value": "b", "type": "other", "primary": "True"}),
            json!({"value": "c", "type": "work"}),
        ];
        assert_eq!(managed_entry(&list, "work"), Some(2));
        assert_eq!(managed_entry(&list, "mobile"), Some(1));
        assert_eq!(managed_entry(&list[..1], "mobile"), Some(0));
        assert_eq!(managed_entry(&[], "work"), None);
    }
}
