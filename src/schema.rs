//! What a server says its users' properties are: names and types, from `GET /Schemas`.

use std::collections::BTreeMap;

use crate::model::ValueType;

/// One attribute of the user-properties extension.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PropertyDef {
    /// The name as the server spells it.
    pub name: String,
    pub ty: ValueType,
    /// `mutability: readOnly`: the server sets it, a client cannot.
    pub read_only: bool,
}

/// The properties a target's users can have.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserSchema {
    /// By lower-case name: SCIM attribute names are case-insensitive (RFC 7643 §2.1).
    properties: BTreeMap<String, PropertyDef>,
    /// Unsupported attributes (complex, reference, binary) by lower-case name, with their type.
    unsupported: BTreeMap<String, String>,
    /// Whether this is the server's own list. An offline schema (for `validate`) knows
    /// only the documented properties, so it cannot reject the others.
    pub complete: bool,
}

impl UserSchema {
    pub fn new(complete: bool) -> Self {
        Self {
            complete,
            ..Self::default()
        }
    }

    pub fn insert(&mut self, def: PropertyDef) {
        self.properties.insert(def.name.to_lowercase(), def);
    }

    pub fn get(&self, name: &str) -> Option<&PropertyDef> {
        self.properties.get(&name.to_lowercase())
    }

    pub fn unsupported_type(&self, name: &str) -> Option<&str> {
        self.unsupported
            .get(&name.to_lowercase())
            .map(String::as_str)
    }

    pub fn properties(&self) -> impl Iterator<Item = &PropertyDef> {
        self.properties.values()
    }

    /// Reads the attributes of the schema `urn` from a `GET /Schemas` answer (a
    /// ListResponse, or a bare array from lenient servers). `None` when the server
    /// does not declare that schema.
    pub fn from_schemas_response(body: &serde_json::Value, urn: &str) -> Option<Self> {
        let resources = body
            .get("Resources")
            .or_else(|| body.get("resources"))
            .unwrap_or(body)
            .as_array()?;
        let schema = resources.iter().find(|r| {
            r.get("id")
                .and_then(|id| id.as_str())
                .is_some_and(|id| id.eq_ignore_ascii_case(urn))
        })?;
        let mut out = Self::new(true);
        for attr in schema.get("attributes")?.as_array()? {
            let Some(name) = attr.get("name").and_then(|n| n.as_str()) else {
                continue;
            };
            let ty = attr
                .get("type")
                .and_then(|t| t.as_str())
                .unwrap_or("string");
            let multi = attr
                .get("multiValued")
                .and_then(|m| m.as_bool())
                .unwrap_or(false);
            match ValueType::from_scim(ty).filter(|_| !multi) {
                Some(ty) => out.insert(PropertyDef {
                    name: name.to_string(),
                    ty,
                    read_only: attr
                        .get("mutability")
                        .and_then(|m| m.as_str())
                        .is_some_and(|m| m.eq_ignore_ascii_case("readOnly")),
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
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_the_extension_from_a_list_response() {
        let body = json!({"Resources": [
            {"id": "urn:core", "attributes": [{"name": "userName", "type": "string"}]},
            {"id": "urn:ext", "attributes": [
                {"name": "DelegateEnabled", "type": "boolean", "mutability": "readWrite"},
                {"name": "Level", "type": "integer"},
                {"name": "Seen", "type": "dateTime", "mutability": "readOnly"},
                {"name": "Boss", "type": "complex"},
            ]},
        ]});
        let schema = UserSchema::from_schemas_response(&body, "urn:ext").unwrap();
        assert!(schema.complete);
        assert_eq!(
            schema.get("delegateenabled").unwrap().name,
            "DelegateEnabled"
        );
        assert_eq!(schema.get("LEVEL").unwrap().ty, ValueType::Integer);
        assert!(schema.get("Seen").unwrap().read_only);
        assert_eq!(schema.get("Boss"), None);
        assert_eq!(schema.unsupported_type("boss"), Some("complex"));
        assert_eq!(
            UserSchema::from_schemas_response(&body, "urn:missing"),
            None
        );
    }
}
