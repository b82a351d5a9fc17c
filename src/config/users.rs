//! User files (`users/*.yaml`): the users a repository declares.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

use super::yaml::{Located, nullable};

/// A file of users. A repository may split its users over any number of files (for
/// example one per department, each with its own CODEOWNERS).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UserFile {
    /// The users this file declares.
    #[serde(default)]
    pub users: Vec<UserEntry>,
}

/// One user. Only the attributes written here are managed: an attribute left out is
/// left as the server has it; an attribute set to `null` is cleared on the server.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UserEntry {
    /// The user's unique name, `user@domain` (`domain\user` is also accepted). Without a
    /// domain, `defaults.domain` of the settings is added. Compared without regard to case.
    #[schemars(with = "super::text::UserNameText")]
    pub user_name: Located<String>,
    /// Names this user had before, newest first. When the server has one of them and
    /// not `userName`, the plan renames that account (one update of its userName)
    /// instead of creating a second one. A case-only change needs none: names compare
    /// without regard to case.
    #[serde(default)]
    #[schemars(with = "Vec<super::text::UserNameText>")]
    pub previously: Vec<Located<String>>,
    /// The parts of the user's name. Bizagi stores them as one full name and needs at least one.
    pub name: Option<Name>,
    /// The user's work e-mail address (the one contact e-mail Bizagi keeps).
    #[serde(default, deserialize_with = "nullable")]
    #[schemars(with = "Option<super::text::EmailText>")]
    pub email: Option<Located<Option<String>>>,
    /// The user's phone number (Bizagi keeps one, written `+CountryCode Number`, e.g. `+57 3001234567`).
    #[serde(default, deserialize_with = "nullable")]
    #[schemars(with = "Option<super::text::PhoneText>")]
    pub phone: Option<Located<Option<String>>>,
    /// Whether the user may sign in. Default: `true`. Set `false` to deactivate the user
    /// (Bizagi never deletes users).
    #[serde(default, deserialize_with = "nullable")]
    #[schemars(with = "bool")]
    pub active: Option<Located<Option<bool>>>,
    /// Values of the server's user-properties extension (for Bizagi: `enabledForAssignation`,
    /// `DelegateEnabled`, `createdCasesSkipAssigRules` and the project's custom properties),
    /// each of the type the server declares. `null` clears a value.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, Option<Scalar>>")]
    pub properties: BTreeMap<String, Located<Option<Scalar>>>,
    /// Other simple attributes of the server's core User schema (`displayName`,
    /// `title`, `locale`...), each of the type the server declares. Not for Bizagi, which
    /// does not store them.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, Option<Scalar>>")]
    pub attributes: BTreeMap<String, Located<Option<Scalar>>>,
    /// Attributes of other extension schemas, by the schema's URN (for example
    /// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User: {department: Sales}`).
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, BTreeMap<String, Option<Scalar>>>")]
    pub extensions: BTreeMap<String, BTreeMap<String, Located<Option<Scalar>>>>,
}

/// The parts of a name; each one left out is left as the server has it.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Name {
    #[serde(default, deserialize_with = "nullable")]
    #[schemars(with = "Option<super::text::NamePartText>")]
    pub given_name: Option<Located<Option<String>>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schemars(with = "Option<super::text::NamePartText>")]
    pub middle_name: Option<Located<Option<String>>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schemars(with = "Option<super::text::NamePartText>")]
    pub family_name: Option<Located<Option<String>>>,
}

/// A YAML scalar as written, before it is typed against the server's schema.
#[derive(Clone, Debug, PartialEq, JsonSchema)]
#[serde(untagged)]
pub enum Scalar {
    Boolean(bool),
    Integer(i64),
    Decimal(f64),
    String(String),
}

/// Read by its kind, as the parser gives it: an integer beyond `i64` is a decimal.
/// (serde's `untagged` would buffer every value and build an error for each variant
/// it tries first: a fifth of the time spent reading a large user file.)
impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Kinds;

        impl serde::de::Visitor<'_> for Kinds {
            type Value = Scalar;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a boolean, a number or a string")
            }

            fn visit_bool<E>(self, v: bool) -> Result<Scalar, E> {
                Ok(Scalar::Boolean(v))
            }

            fn visit_i64<E>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar::Integer(v))
            }

            fn visit_i128<E>(self, v: i128) -> Result<Scalar, E> {
                Ok(i64::try_from(v).map_or(Scalar::Decimal(v as f64), Scalar::Integer))
            }

            fn visit_u64<E>(self, v: u64) -> Result<Scalar, E> {
                Ok(i64::try_from(v).map_or(Scalar::Decimal(v as f64), Scalar::Integer))
            }

            fn visit_u128<E>(self, v: u128) -> Result<Scalar, E> {
                Ok(i64::try_from(v).map_or(Scalar::Decimal(v as f64), Scalar::Integer))
            }

            fn visit_f64<E>(self, v: f64) -> Result<Scalar, E> {
                Ok(Scalar::Decimal(v))
            }

            fn visit_str<E>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar::String(v.to_string()))
            }

            fn visit_string<E>(self, v: String) -> Result<Scalar, E> {
                Ok(Scalar::String(v))
            }
        }

        deserializer.deserialize_any(Kinds)
    }
}

impl Scalar {
    /// How the value reads in a message: `true`, `3`, `"text"`.
    pub fn describe(&self) -> String {
        match self {
            Scalar::Boolean(b) => b.to_string(),
            Scalar::Integer(i) => i.to_string(),
            Scalar::Decimal(d) => d.to_string(),
            Scalar::String(s) => format!("{s:?}"),
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Scalar::Boolean(_) => "a boolean",
            Scalar::Integer(_) => "an integer",
            Scalar::Decimal(_) => "a decimal number",
            Scalar::String(_) => "a string",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Scalar;

    #[test]
    fn scalars_are_read_by_their_kind() {
        let read: Vec<Scalar> = serde_saphyr::from_str(
            "[true, 3, -3, 3.5, text, '3', 9223372036854775807, 18446744073709551615]",
        )
        .unwrap();
        assert_eq!(
            read,
            [
                Scalar::Boolean(true),
                Scalar::Integer(3),
                Scalar::Integer(-3),
                Scalar::Decimal(3.5),
                Scalar::String("text".into()),
                Scalar::String("3".into()),
                Scalar::Integer(i64::MAX),
                // Beyond i64: a decimal, as serde's `untagged` read it.
                Scalar::Decimal(18446744073709551615.0),
            ]
        );
        let null = serde_saphyr::from_str::<Scalar>("~").unwrap_err();
        assert!(
            null.to_string().contains("a boolean, a number or a string"),
            "{null}"
        );
    }
}
