//! What a server says its users are made of: the simple attributes of the core User
//! schema and of each extension schema, with their types (`GET /ResourceTypes`,
//! `GET /Schemas`).

use std::collections::BTreeMap;

use serde_json::Value as Json;

use crate::model::ValueType;

/// One simple attribute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttrDef {
    /// The name as the server spells it.
    pub name: crate::model::Name,
    pub ty: ValueType,
    /// `mutability: readOnly` (or `immutable`): a client cannot change it.
    pub read_only: bool,
}

/// `f` of `name` in lower case. Every attribute of every user is looked up by name: a
/// short ASCII name is lowered on the stack (ASCII lowers alike either way), others
/// in a new string.
fn lowered<R>(name: &str, f: impl FnOnce(&str) -> R) -> R {
    let mut buffer = [0u8; 128];
    match buffer.get_mut(..name.len()) {
        Some(ascii) if name.is_ascii() => {
            ascii.copy_from_slice(name.as_bytes());
            ascii.make_ascii_lowercase();
            f(std::str::from_utf8(ascii).unwrap_or_default())
        }
        _ => f(&name.to_lowercase()),
    }
}

/// The attributes of one schema, by lower-case name (SCIM attribute names are
/// case-insensitive, RFC 7643 §2.1).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Attributes {
    defs: BTreeMap<String, AttrDef>,
    /// Attributes scimops cannot manage (complex, multi-valued, binary), with their type.
    unsupported: BTreeMap<String, String>,
}

impl Attributes {
    pub fn insert(&mut self, def: AttrDef) {
        self.defs.insert(def.name.to_lowercase(), def);
    }

    pub fn get(&self, name: &str) -> Option<&AttrDef> {
        lowered(name, |name| self.defs.get(name))
    }

    pub fn defs(&self) -> impl Iterator<Item = &AttrDef> {
        self.defs.values()
    }

    pub fn unsupported_type(&self, name: &str) -> Option<&str> {
        lowered(name, |name| self.unsupported.get(name)).map(String::as_str)
    }

    /// Reads a schema resource's `attributes`, skipping those in `skip` (handled elsewhere).
    fn from_schema(schema: &Json, skip: &[&str]) -> Self {
        let mut out = Self::default();
        for attr in schema
            .get("attributes")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
        {
            let Some(name) = attr.get("name").and_then(Json::as_str) else {
                continue;
            };
            if skip.iter().any(|s| s.eq_ignore_ascii_case(name)) {
                continue;
            }
            let field = |k: &str| attr.get(k).and_then(Json::as_str).unwrap_or_default();
            let mutability = field("mutability");
            if mutability.eq_ignore_ascii_case("writeOnly")
                || field("returned").eq_ignore_ascii_case("never")
            {
                continue; // never read back: cannot be compared
            }
            let ty = if field("type").is_empty() {
                "string"
            } else {
                field("type")
            };
            let multi = attr
                .get("multiValued")
                .and_then(Json::as_bool)
                .unwrap_or(false);
            match ValueType::from_scim(ty).filter(|_| !multi) {
                Some(ty) => out.insert(AttrDef {
                    name: name.into(),
                    ty,
                    read_only: mutability.eq_ignore_ascii_case("readOnly")
                        || mutability.eq_ignore_ascii_case("immutable"),
                }),
                None => {
                    let ty = if multi {
                        format!("multi-valued {ty}")
                    } else {
                        ty.to_string()
                    };
                    out.unsupported.insert(name.to_lowercase(), ty);
                }
            }
        }
        out
    }
}

/// The attributes of a target's users.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserSchema {
    /// Simple attributes of the core User schema, besides those every dialect handles
    /// itself (userName, name, active, emails, phoneNumbers).
    pub core: Attributes,
    /// Extension schemas by lower-case URN: (URN as the server spells it, attributes).
    extensions: BTreeMap<String, (String, Attributes)>,
    /// Whether this is the server's own description. An offline schema (for
    /// `validate`) knows only documented attributes, so it cannot reject the others.
    pub complete: bool,
}

/// The core User attributes that dialects map themselves.
const HANDLED: [&str; 7] = [
    "id",
    "userName",
    "name",
    "active",
    "emails",
    "phoneNumbers",
    "meta",
];

/// The members of a discovery answer (a ListResponse, or a bare array).
pub(crate) fn listed(body: &Json) -> Vec<Json> {
    crate::scim::wire::ListResponse::from_value(body.clone()).resources
}

impl UserSchema {
    pub fn new(complete: bool) -> Self {
        Self {
            complete,
            ..Self::default()
        }
    }

    pub fn add_extension(&mut self, urn: &str, attributes: Attributes) {
        self.extensions
            .insert(urn.to_lowercase(), (urn.to_string(), attributes));
    }

    pub fn extension(&self, urn: &str) -> Option<&Attributes> {
        lowered(urn, |urn| self.extensions.get(urn)).map(|(_, a)| a)
    }

    /// (URN, attributes) of every extension.
    pub fn extensions(&self) -> impl Iterator<Item = (&str, &Attributes)> {
        self.extensions.values().map(|(urn, a)| (urn.as_str(), a))
    }

    /// From `GET /ResourceTypes` and `GET /Schemas` (ListResponses, or bare arrays from
    /// lenient servers): the core User schema and the extensions the User resource
    /// type lists.
    pub fn from_discovery(resource_types: &Json, schemas: &Json) -> Self {
        let schemas = listed(schemas);
        let find = |urn: &str| {
            schemas.iter().find(|s| {
                s.get("id")
                    .and_then(Json::as_str)
                    .is_some_and(|id| id.eq_ignore_ascii_case(urn))
            })
        };
        let user_type = listed(resource_types).into_iter().find(|t| {
            t.get("name").and_then(Json::as_str) == Some("User")
                || t.get("id").and_then(Json::as_str) == Some("User")
        });
        let core_urn = user_type
            .as_ref()
            .and_then(|t| t.get("schema"))
            .and_then(Json::as_str)
            .unwrap_or(crate::scim::wire::USER_URN);
        let mut out = Self::new(true);
        if let Some(core) = find(core_urn) {
            out.core = Attributes::from_schema(core, &HANDLED);
        }
        let extensions = user_type
            .as_ref()
            .and_then(|t| t.get("schemaExtensions"))
            .and_then(Json::as_array)
            .cloned()
            .unwrap_or_default();
        for ext in extensions {
            let Some(urn) = ext.get("schema").and_then(Json::as_str) else {
                continue;
            };
            let attributes = find(urn)
                .map(|s| Attributes::from_schema(s, &[]))
                .unwrap_or_default();
            out.add_extension(urn, attributes);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_core_and_extension_attributes_from_discovery() {
        let types = json!({"Resources": [{
            "name": "User", "schema": "urn:core",
            "schemaExtensions": [{"schema": "urn:ext"}, {"schema": "urn:empty"}],
        }]});
        let schemas = json!({"Resources": [
            {"id": "urn:core", "attributes": [
                {"name": "userName", "type": "string"},
                {"name": "displayName", "type": "string"},
                {"name": "password", "type": "string", "mutability": "writeOnly"},
                {"name": "groups", "type": "complex", "multiValued": true, "mutability": "readOnly"},
            ]},
            {"id": "urn:ext", "attributes": [
                {"name": "DelegateEnabled", "type": "boolean", "mutability": "readWrite"},
                {"name": "Level", "type": "integer"},
                {"name": "Seen", "type": "dateTime", "mutability": "readOnly"},
                {"name": "Boss", "type": "complex"},
            ]},
            {"id": "urn:unlisted", "attributes": [{"name": "x", "type": "string"}]},
        ]});
        let schema = UserSchema::from_discovery(&types, &schemas);
        assert!(schema.complete);
        assert_eq!(
            schema.core.get("DISPLAYNAME").unwrap().name.as_str(),
            "displayName"
        );
        assert_eq!(
            schema.core.get("userName"),
            None,
            "dialects map it themselves"
        );
        assert_eq!(schema.core.get("password"), None, "never read back");
        assert_eq!(
            schema.core.unsupported_type("groups"),
            Some("multi-valued complex")
        );
        let ext = schema.extension("URN:EXT").unwrap();
        assert_eq!(
            ext.get("delegateenabled").unwrap().name.as_str(),
            "DelegateEnabled"
        );
        assert_eq!(ext.get("Level").unwrap().ty, ValueType::Integer);
        assert!(ext.get("Seen").unwrap().read_only);
        assert_eq!(ext.unsupported_type("boss"), Some("complex"));
        assert!(
            schema.extension("urn:empty").is_some(),
            "listed, even without a schema"
        );
        assert!(
            schema.extension("urn:unlisted").is_none(),
            "not an extension of User"
        );
    }
}
