//! Users as the server has them, written as user files (`scimops import`), pure.
//!
//! An entry says what scimops manages and the server has: name parts, the managed
//! e-mail and phone, `active` when false, and the simple attributes of the user
//! properties (and, on RFC servers, of the core schema and other extensions) that a
//! client may write, but those the team leaves unmanaged (`--skip`). Values the
//! repository's defaults already give are left out, and a default the user lacks is
//! written `null`: the next plan has nothing to change.
//!
//! Every string comes from the server: keys and values are written plain only when
//! YAML cannot read them otherwise, else quoted (JSON's escapes, which YAML reads).
//! Output is sorted, so that importing again gives a clean diff.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::config::Scalar;
use crate::dialect::Dialect;
use crate::model::{Attr, ObservedUser, UserKey, Value, ValueType};
use crate::schema::UserSchema;

/// How imported users are spread over files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Split {
    /// One file.
    None,
    /// One file per domain of the userName.
    Domain,
    /// One file per value of an attribute, as user files name it (`properties.Department`).
    Attribute(Attr),
}

/// What to leave out of each entry: what the repository gives every user, and the
/// attributes the team leaves unmanaged.
pub struct Defaults<'a> {
    /// The domain added to userNames written without one.
    pub domain: Option<&'a str>,
    /// The default properties, by name.
    pub properties: BTreeMap<&'a str, Option<&'a Scalar>>,
    /// Attributes written in no entry (`--skip`), as user files name them, in lower
    /// case: they stay as the server has them.
    pub skip: Vec<String>,
}

impl Defaults<'_> {
    /// Whether `attr` is left out of every entry; names compare without regard to case.
    fn skips(&self, attr: &Attr) -> bool {
        !self.skip.is_empty() && self.skip.contains(&attr.to_string().to_lowercase())
    }
}

/// One user, written.
#[derive(Clone, Debug)]
pub struct Entry {
    pub key: UserKey,
    /// As the server has it.
    pub user_name: String,
    /// The file's group (`acme`, a department): a file name once [`file_name`] made it safe.
    pub group: String,
    /// The entry's YAML lines, starting `  - userName: `.
    pub yaml: String,
    /// The user properties written, as user files name them, with their values as
    /// written (`properties.DelegateEnabled`, `false`), until [`Shared::add`] takes them.
    pub properties: Vec<(String, String)>,
}

/// The entry of `user`.
pub fn entry(
    user: &ObservedUser,
    schema: &UserSchema,
    dialect: &dyn Dialect,
    defaults: &Defaults<'_>,
    split: &Split,
) -> Entry {
    let mut y = String::new();
    let _ = writeln!(
        y,
        "  - userName: {}",
        scalar(&short_name(user, dialect, defaults))
    );
    let name: Vec<String> = [
        (Attr::GivenName, "givenName"),
        (Attr::MiddleName, "middleName"),
        (Attr::FamilyName, "familyName"),
    ]
    .iter()
    .filter(|(attr, _)| !defaults.skips(attr))
    .filter_map(|(attr, key)| Some(format!("{key}: {}", scalar(text(user.attrs.get(attr)?)?))))
    .collect();
    match (name.is_empty(), user.attrs.get(&Attr::FormattedName)) {
        (false, _) => {
            let _ = writeln!(y, "    name: {{{}}}", name.join(", "));
        }
        // A server that keeps one full name (Bizagi may): it is the given name, which
        // the plan composes back into the same full name.
        (true, Some(Value::String(full))) if !defaults.skips(&Attr::GivenName) => {
            let _ = writeln!(y, "    name: {{givenName: {}}}", scalar(full));
        }
        (true, _) => {}
    }
    for (attr, key) in [(Attr::Email, "email"), (Attr::Phone, "phone")] {
        if defaults.skips(&attr) {
            continue;
        }
        if let Some(value) = user.attrs.get(&attr).and_then(text) {
            let _ = writeln!(y, "    {key}: {}", scalar(value));
        }
    }
    if !user.active() {
        y.push_str("    active: false\n");
    }

    let urn = dialect.properties_urn();
    // What a client may write, of the type the server declares (a value the server
    // sent in another type would not read back).
    let writable = |attributes: Option<&crate::schema::Attributes>, name: &str| {
        attributes
            .and_then(|a| a.get(name))
            .filter(|def| !def.read_only)
            .map(|def| def.ty)
    };
    let mut properties: BTreeMap<String, String> = BTreeMap::new();
    let mut attributes: BTreeMap<String, String> = BTreeMap::new();
    let mut extensions: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for (attr, value) in user.attrs.iter().filter(|(attr, _)| !defaults.skips(attr)) {
        let of = |ty: Option<ValueType>| ty.is_some_and(|ty| typed_as(value, ty));
        match attr {
            Attr::Property(name) if of(writable(schema.extension(urn), name)) => {
                let default = defaults.properties.get(&**name);
                if !matches!(default, Some(Some(d)) if same(d, value)) {
                    properties.insert(name.to_string(), written(value));
                }
            }
            Attr::Core(name) if of(writable(Some(&schema.core), name)) => {
                attributes.insert(name.to_string(), written(value));
            }
            Attr::Extension(member) if of(writable(schema.extension(&member.0), &member.1)) => {
                extensions
                    .entry(member.0.clone())
                    .or_default()
                    .insert(member.1.clone(), written(value));
            }
            _ => {}
        }
    }
    // A default the user does not have: cleared for it, as the server has it.
    for (name, default) in &defaults.properties {
        let attr = Attr::Property((*name).into());
        let has = user.attrs.get(&attr).is_some();
        if default.is_some() && !has && !defaults.skips(&attr) {
            properties.insert((*name).to_string(), "null".to_string());
        }
    }
    block(&mut y, "properties", &properties, 4);
    block(&mut y, "attributes", &attributes, 4);
    if !extensions.is_empty() {
        y.push_str("    extensions:\n");
        for (ext, members) in &extensions {
            block(&mut y, &key(ext), members, 6);
        }
    }
    Entry {
        key: user.key.clone(),
        user_name: user.user_name.clone(),
        group: group(user, split),
        yaml: y,
        properties: properties
            .into_iter()
            .map(|(name, value)| (format!("properties.{name}"), value))
            .collect(),
    }
}

/// The properties every imported user has with the same value (not `null`): Bizagi gives
/// each user its built-in ones, which a team would declare once as defaults, or leave
/// unmanaged. Folded entry by entry, so that no entry keeps its properties.
#[derive(Debug, Default)]
pub struct Shared {
    entries: usize,
    common: Vec<(String, String)>,
}

impl Shared {
    /// Takes `entry`'s properties into the count.
    pub fn add(&mut self, entry: &mut Entry) {
        let properties = std::mem::take(&mut entry.properties);
        if self.entries == 0 {
            self.common = properties
                .into_iter()
                .filter(|(_, v)| v != "null")
                .collect();
        } else {
            self.common.retain(|p| properties.contains(p));
        }
        self.entries += 1;
    }

    /// The properties shared by all, once there are `at_least` entries (a few users
    /// alike say nothing).
    pub fn properties(&self, at_least: usize) -> &[(String, String)] {
        if self.entries >= at_least {
            &self.common
        } else {
            &[]
        }
    }
}

/// The text of a user file holding `entries` (already sorted), its first line pointing
/// editors at the schema (`schema`: its path from the file's folder).
pub fn file(schema: &str, target: &str, entries: &[&Entry]) -> String {
    let mut out = format!(
        "# yaml-language-server: $schema={schema}\n#\n# Users imported from target `{}` by `scimops import`: review them, and commit.\nusers:\n",
        crate::escape::term(target).replace('\n', " ")
    );
    for e in entries {
        out.push_str(&e.yaml);
    }
    out
}

/// A group as a file name: lower-case letters, digits and `-` only, never empty, never
/// a name Windows reserves, at most 64 characters (values come from the server).
pub fn file_name(group: &str) -> String {
    let mut name = String::new();
    for c in group.to_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            name.push(c);
        } else if !name.ends_with('-') {
            name.push('-');
        }
    }
    let name: String = name.trim_matches('-').chars().take(64).collect();
    let name = name.trim_end_matches('-').to_string();
    const RESERVED: [&str; 22] = [
        "con", "prn", "aux", "nul", "com1", "com2", "com3", "com4", "com5", "com6", "com7", "com8",
        "com9", "lpt1", "lpt2", "lpt3", "lpt4", "lpt5", "lpt6", "lpt7", "lpt8", "lpt9",
    ];
    match name.as_str() {
        "" => "none".to_string(),
        n if RESERVED.contains(&n) => format!("{n}-"),
        _ => name,
    }
}

/// The userName as a file writes it: without the default domain when the dialect adds
/// it back to the same user.
fn short_name(user: &ObservedUser, dialect: &dyn Dialect, defaults: &Defaults<'_>) -> String {
    if let Some(domain) = defaults.domain
        && let Some((local, at)) = user.user_name.rsplit_once('@')
        && at.eq_ignore_ascii_case(domain)
        && dialect.key(&dialect.qualify(local, Some(domain))) == user.key
    {
        return local.to_string();
    }
    user.user_name.clone()
}

fn group(user: &ObservedUser, split: &Split) -> String {
    match split {
        Split::None => String::new(),
        Split::Domain => user
            .user_name
            .rsplit_once('@')
            .map(|(_, domain)| domain.to_string())
            .or_else(|| {
                user.user_name
                    .split_once('\\')
                    .map(|(domain, _)| domain.to_string())
            })
            .unwrap_or_default(),
        Split::Attribute(attr) => user
            .attrs
            .get(attr)
            .map(|v| match v {
                Value::String(s) | Value::DateTime(s) => s.clone(),
                other => other.to_string(),
            })
            .unwrap_or_default(),
    }
}

/// Whether `value` is of the type `ty` (integers are decimals too).
fn typed_as(value: &Value, ty: ValueType) -> bool {
    matches!(
        (value, ty),
        (Value::String(_), ValueType::String)
            | (Value::Boolean(_), ValueType::Boolean)
            | (Value::Integer(_), ValueType::Integer | ValueType::Decimal)
            | (Value::Decimal(_), ValueType::Decimal)
            | (Value::DateTime(_), ValueType::DateTime)
    )
}

fn text(value: &Value) -> Option<&str> {
    match value {
        Value::String(s) | Value::DateTime(s) => Some(s),
        _ => None,
    }
}

/// Whether a default, as written, is the server's value.
fn same(default: &Scalar, value: &Value) -> bool {
    match (default, value) {
        (Scalar::Boolean(a), Value::Boolean(b)) => a == b,
        (Scalar::Integer(a), v) => *v == Value::Integer(*a),
        (Scalar::Decimal(a), v) => *v == Value::Decimal(*a),
        (Scalar::String(a), Value::DateTime(b)) => {
            Value::DateTime(a.clone()) == Value::DateTime(b.clone())
        }
        (Scalar::String(a), Value::String(b)) => a == b,
        _ => false,
    }
}

/// A value as YAML: numbers and booleans as they are, text as [`scalar`] writes it.
fn written(value: &Value) -> String {
    match value {
        Value::Boolean(b) => b.to_string(),
        Value::Integer(i) => i.to_string(),
        Value::Decimal(d) => {
            let text = d.to_string();
            // `1` would read back as an integer; the server's type says decimal.
            if text.contains(['.', 'e', 'E']) || !d.is_finite() {
                text
            } else {
                format!("{text}.0")
            }
        }
        Value::String(s) | Value::DateTime(s) => scalar(s),
    }
}

/// `key:` lines under `name:`, indented by `indent`.
fn block(y: &mut String, name: &str, members: &BTreeMap<String, String>, indent: usize) {
    if members.is_empty() {
        return;
    }
    let _ = writeln!(y, "{:indent$}{name}:", "");
    for (k, v) in members {
        let _ = writeln!(y, "{:width$}{}: {v}", "", key(k), width = indent + 2);
    }
}

/// Words YAML reads as something other than text (YAML 1.1 and 1.2).
fn special(text: &str) -> bool {
    const WORDS: [&str; 12] = [
        "true", "false", "yes", "no", "on", "off", "y", "n", "null", "~", "nan", "inf",
    ];
    WORDS.contains(&text.to_ascii_lowercase().as_str())
}

/// Text as a YAML scalar, in a block or a flow: plain when it can only read back as the
/// same text (letters first; letters, digits, spaces and `._@-'` after; no trailing
/// space), else double-quoted with JSON's escapes.
pub fn scalar(text: &str) -> String {
    let plain = text.chars().next().is_some_and(char::is_alphabetic)
        && !text.ends_with(' ')
        && !text.contains("  ")
        && text.chars().count() <= 200
        && text
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, ' ' | '.' | '_' | '@' | '-' | '\''))
        && text
            .chars()
            .all(|c| !crate::escape::hidden(c) && !c.is_control())
        && !special(text);
    if plain {
        text.to_string()
    } else {
        quoted(text)
    }
}

/// Double-quoted, every character a reviewer could not see (controls, bidi overrides,
/// zero-width) escaped: a file never reorders or hides what its diff shows.
fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() || crate::escape::hidden(c) => {
                let code = u32::from(c);
                if code <= 0xFFFF {
                    let _ = write!(out, "\\u{code:04x}");
                } else {
                    let _ = write!(out, "\\U{code:08x}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A mapping key: plain when it is a plain identifier, else quoted.
fn key(text: &str) -> String {
    let plain = text
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && !special(text);
    if plain {
        text.to_string()
    } else {
        quoted(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_plain_only_when_yaml_reads_it_back_as_the_same_text() {
        assert_eq!(scalar("Juan"), "Juan");
        assert_eq!(scalar("Pérez Gómez"), "Pérez Gómez");
        assert_eq!(scalar("O'Brien"), "O'Brien");
        assert_eq!(scalar("ann@acme"), "ann@acme");
        for quoted in [
            "",
            "yes",
            "No",
            "null",
            "~",
            "3",
            "+57 3001234567",
            "2026-11-16",
            "a: b",
            "a #b",
            "a,b",
            "{x}",
            "[x]",
            "*x",
            "&x",
            "!x",
            "%x",
            "@x",
            "`x`",
            "x ",
            " x",
            "a\nb",
            "\u{1b}[2J",
            "a\u{202e}b",
            "-x",
            "\"x\"",
            "x|y",
            "x>y",
            "a\\b",
            "\u{1F600}\u{200b}",
        ] {
            let written = scalar(quoted);
            assert!(written.starts_with('"'), "{quoted:?} -> {written}");
            assert!(
                !written
                    .chars()
                    .any(|c| c.is_control() || crate::escape::hidden(c)),
                "{written:?}"
            );
            // YAML reads it back as it was.
            let back: String = serde_saphyr::from_str(&written).unwrap();
            assert_eq!(back, quoted);
        }
    }

    #[test]
    fn an_entry_leaves_out_what_the_defaults_give_and_clears_what_they_would_add() {
        use crate::dialect::Bizagi;
        use crate::schema::{AttrDef, Attributes};
        let dialect = Bizagi::default();
        let mut properties = Attributes::default();
        for (name, ty, read_only) in [
            ("enabledForAssignation", ValueType::Boolean, false),
            ("Level", ValueType::Integer, false),
            ("Seen", ValueType::DateTime, true),
        ] {
            properties.insert(AttrDef {
                name: name.into(),
                ty,
                read_only,
            });
        }
        let mut schema = UserSchema::new(true);
        schema.add_extension(dialect.properties_urn(), properties);
        let user = dialect
            .read_user(
                serde_json::json!({
                    "id": "1", "userName": "Ada@ACME", "name": {"formatted": "Ada King"},
                    dialect.properties_urn(): {"Level": "3", "Seen": "2026-01-01T00:00:00Z"}
                }),
                &schema,
            )
            .unwrap();
        let default = Scalar::Boolean(true);
        let defaults = Defaults {
            domain: Some("acme"),
            properties: BTreeMap::from([("enabledForAssignation", Some(&default))]),
            skip: Vec::new(),
        };
        let entry = entry(&user, &schema, &dialect, &defaults, &Split::None);
        assert_eq!(
            entry.yaml,
            "  - userName: Ada\n    name: {givenName: Ada King}\n    properties:\n      Level: 3\n      enabledForAssignation: null\n"
        );
    }

    #[test]
    fn file_names_are_safe_whatever_the_value() {
        assert_eq!(file_name("acme"), "acme");
        assert_eq!(file_name("R&D / Ops"), "r-d-ops");
        assert_eq!(file_name("../../etc/passwd"), "etc-passwd");
        assert_eq!(file_name(""), "none");
        assert_eq!(file_name("..."), "none");
        assert_eq!(file_name("CON"), "con-");
        assert_eq!(file_name(&"x".repeat(100)).len(), 64);
    }
}
