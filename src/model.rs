//! The domain: users as scimops compares them, independent of YAML and of the wire.
//!
//! Both sides of a comparison end up here: a [`DesiredUser`] (what the files declare,
//! with each property typed against the server's schema) and an [`ObservedUser`] (what
//! the server returned, read through the target's dialect). The planner only ever sees
//! these two types.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The identity scimops matches users by: the userName in the dialect's canonical form
/// (for Bizagi: lower-case `user@domain`). Two userNames with the same key are the same
/// user, whatever their case.
#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(transparent)]
pub struct UserKey(String);

impl UserKey {
    /// Wraps an already canonical key. Dialects own the canonicalisation.
    pub fn from_canonical(key: String) -> Self {
        Self(key)
    }

    /// The key of a userName in a dialect's canonical form: Unicode NFC and full case
    /// folding, so that `José` written precomposed or with a combining accent, and in
    /// any case, is one user (userName is `caseExact: false`, RFC 7643 §4.1.1).
    pub fn folded(user_name: &str) -> Self {
        Self(fold(user_name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UserKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `text` in NFC after full Unicode case folding: two texts that fold alike are the same
/// name without regard to case or to how accents were composed.
pub fn fold(text: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    // ASCII is its own NFD and NFC, and folds to lower case (most names: no copies).
    if text.is_ascii() {
        return text.to_ascii_lowercase();
    }
    let decomposed: String = text.nfd().collect();
    caseless::default_case_fold_str(&decomposed).nfc().collect()
}

/// Where something was declared: a file of the repository (relative to its root),
/// a line and a column (both 1-based; 0 when unknown).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
pub struct Origin {
    // Shared by every origin in the same file (a user has one per attribute).
    pub file: Arc<Path>,
    pub line: u64,
    pub column: u64,
}

impl fmt::Display for Origin {
    /// `file:line:col`; the file's name is the repository's, and is shown neutralised.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = self.file.to_string_lossy();
        write!(f, "{}", crate::escape::Shown(&file))?;
        if self.line > 0 {
            write!(f, ":{}:{}", self.line, self.column)?;
        }
        Ok(())
    }
}

/// An attribute scimops manages, named as the user files name it.
///
/// The order of the variants is the order in which a plan lists them.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Attr {
    /// The userName itself: changed only by a rename (`previously`), never declared as
    /// an attribute.
    UserName,
    GivenName,
    MiddleName,
    FamilyName,
    /// `name.formatted`, the full name a server builds from the parts: read, never
    /// declared (Bizagi may answer it alone, ambiguity 11).
    FormattedName,
    Email,
    Phone,
    Active,
    /// Another simple attribute of the core User schema (`displayName`, `title`...),
    /// spelled as the server spells it.
    Core(Name),
    /// A member of the target's user-properties extension (for Bizagi: UserProperties),
    /// spelled as the server spells it.
    Property(Name),
    /// A member of another extension schema: the schema's URN and the attribute (boxed:
    /// an attribute is in every entry of every user's maps, and this keeps it small).
    Extension(Box<(String, String)>),
}

/// An attribute's name, shared: 100,000 users' maps hold the same few names, so each
/// is kept once per process (and never freed: a process reads the names of a bounded
/// set of files and schemas, each bounded in size).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Name(&'static str);

impl Name {
    pub fn new(name: &str) -> Self {
        static NAMES: std::sync::Mutex<std::collections::BTreeSet<&'static str>> =
            std::sync::Mutex::new(std::collections::BTreeSet::new());
        let mut names = NAMES
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(known) = names.get(name) {
            return Self(known);
        }
        let kept: &'static str = Box::leak(name.into());
        names.insert(kept);
        Self(kept)
    }

    pub fn as_str(&self) -> &'static str {
        self.0
    }
}

impl std::ops::Deref for Name {
    type Target = str;

    fn deref(&self) -> &str {
        self.0
    }
}

impl From<&str> for Name {
    fn from(name: &str) -> Self {
        Self::new(name)
    }
}

impl From<String> for Name {
    fn from(name: String) -> Self {
        Self::new(&name)
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.0, f)
    }
}

impl Attr {
    /// `name` of the extension schema `urn`.
    pub fn extension(urn: &str, name: &str) -> Self {
        Attr::Extension(Box::new((urn.to_string(), name.to_string())))
    }
}

impl fmt::Display for Attr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Attr::UserName => f.write_str("userName"),
            Attr::GivenName => f.write_str("name.givenName"),
            Attr::MiddleName => f.write_str("name.middleName"),
            Attr::FamilyName => f.write_str("name.familyName"),
            Attr::FormattedName => f.write_str("name.formatted"),
            Attr::Email => f.write_str("email"),
            Attr::Phone => f.write_str("phone"),
            Attr::Active => f.write_str("active"),
            Attr::Core(name) => f.write_str(name),
            Attr::Property(name) => write!(f, "properties.{name}"),
            Attr::Extension(member) => write!(f, "{}:{}", member.0, member.1),
        }
    }
}

impl Serialize for Attr {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl std::str::FromStr for Attr {
    type Err = std::convert::Infallible;

    /// The inverse of `Display`: `name.givenName`, `email`, `properties.Level`,
    /// `urn:...:department`; any other name is a core attribute.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(match text {
            "userName" => Attr::UserName,
            "name.givenName" => Attr::GivenName,
            "name.middleName" => Attr::MiddleName,
            "name.familyName" => Attr::FamilyName,
            "name.formatted" => Attr::FormattedName,
            "email" => Attr::Email,
            "phone" => Attr::Phone,
            "active" => Attr::Active,
            _ => {
                if let Some(name) = text.strip_prefix("properties.") {
                    Attr::Property(name.into())
                } else if text.starts_with("urn:")
                    && let Some((urn, name)) = text.rsplit_once(':')
                {
                    Attr::extension(urn, name)
                } else {
                    Attr::Core(text.into())
                }
            }
        })
    }
}

impl<'de> Deserialize<'de> for Attr {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Ok(text.parse().unwrap_or_else(|never| match never {}))
    }
}

impl JsonSchema for Attr {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Attribute".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "An attribute as user files name it: `name.givenName`, `email`, `phone`, `active`, `properties.NAME`, a core attribute's name, or `URN:NAME`.",
            "type": "string",
        })
    }
}

/// The type of a property, as SCIM's `/Schemas` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum ValueType {
    String,
    Boolean,
    Integer,
    Decimal,
    DateTime,
}

impl ValueType {
    /// Parses a SCIM schema `type`; `None` for types scimops cannot manage (complex,
    /// reference, binary).
    pub fn from_scim(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "string" => Some(Self::String),
            "boolean" => Some(Self::Boolean),
            "integer" => Some(Self::Integer),
            "decimal" => Some(Self::Decimal),
            "datetime" => Some(Self::DateTime),
            _ => None,
        }
    }

    pub fn scim_name(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Boolean => "boolean",
            Self::Integer => "integer",
            Self::Decimal => "decimal",
            Self::DateTime => "dateTime",
        }
    }
}

impl fmt::Display for ValueType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.scim_name())
    }
}

/// A typed attribute value.
#[derive(Clone, Debug)]
pub enum Value {
    String(String),
    Boolean(bool),
    Integer(i64),
    Decimal(f64),
    /// An ISO 8601 / RFC 3339 date and time, kept as written.
    DateTime(String),
}

/// Decimals compare as numbers (never NaN: they come from YAML and JSON numbers).
impl Eq for Value {}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Value::String(a), Value::String(b)) => a == b,
            // Servers rewrite dateTimes (`...09:00:00Z` comes back `...09:00:00.000Z`):
            // the same instant is the same value.
            (Value::DateTime(a), Value::DateTime(b)) => match (instant(a), instant(b)) {
                (Some(x), Some(y)) => x == y,
                _ => a == b,
            },
            (Value::Boolean(a), Value::Boolean(b)) => a == b,
            (Value::Integer(a), Value::Integer(b)) => a == b,
            (Value::Decimal(a), Value::Decimal(b)) => a == b,
            (Value::Integer(a), Value::Decimal(b)) | (Value::Decimal(b), Value::Integer(a)) => {
                *a as f64 == *b
            }
            _ => false,
        }
    }
}

impl Value {
    /// The value as JSON, as it is sent to a SCIM server.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::String(s) | Value::DateTime(s) => serde_json::Value::String(s.clone()),
            Value::Boolean(b) => serde_json::Value::Bool(*b),
            Value::Integer(i) => serde_json::Value::from(*i),
            Value::Decimal(d) => serde_json::Number::from_f64(*d)
                .map_or(serde_json::Value::Null, serde_json::Value::Number),
        }
    }

    /// Reads a JSON value as a value of type `ty`, leniently: servers send booleans
    /// as `"true"`, numbers as strings, and integers where decimals are declared.
    pub fn from_json(ty: ValueType, json: &serde_json::Value) -> Option<Value> {
        use serde_json::Value as J;
        match (ty, json) {
            (ValueType::String, J::String(s)) => Some(Value::String(s.clone())),
            (ValueType::String, J::Number(n)) => Some(Value::String(n.to_string())),
            (ValueType::String, J::Bool(b)) => Some(Value::String(b.to_string())),
            (ValueType::Boolean, J::Bool(b)) => Some(Value::Boolean(*b)),
            (ValueType::Boolean, J::String(s)) => parse_bool(s).map(Value::Boolean),
            (ValueType::Integer, J::Number(n)) => n.as_i64().map(Value::Integer),
            (ValueType::Integer, J::String(s)) => s.trim().parse().ok().map(Value::Integer),
            (ValueType::Decimal, J::Number(n)) => n.as_f64().map(Value::Decimal),
            (ValueType::Decimal, J::String(s)) => s.trim().parse().ok().map(Value::Decimal),
            (ValueType::DateTime, J::String(s)) => Some(Value::DateTime(s.clone())),
            _ => None,
        }
    }
}

/// An RFC 3339 / ISO 8601 date and time as the instant it names, or `None` when it
/// names none (`2026-02-30`, hour 25, offset `+99:00`). A date alone is its midnight
/// and a time without an offset is taken as UTC, as SCIM servers write them.
pub fn instant(text: &str) -> Option<jiff::Timestamp> {
    let text = text.trim();
    if let Ok(at) = text.parse::<jiff::Timestamp>() {
        return Some(at);
    }
    let civil = match text.parse::<jiff::civil::DateTime>() {
        Ok(civil) => civil,
        Err(_) => text
            .parse::<jiff::civil::Date>()
            .ok()?
            .to_datetime(jiff::civil::Time::midnight()),
    };
    jiff::tz::Offset::UTC.to_timestamp(civil).ok()
}

/// `true`/`false` in any case, as some servers (and Bizagi's documentation) quote them.
pub fn parse_bool(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

impl fmt::Display for Value {
    /// Shown in plans: strings quoted (JSON escaping), everything else bare.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::String(s) | Value::DateTime(s) => {
                write!(f, "{}", serde_json::Value::String(s.clone()))
            }
            Value::Boolean(b) => write!(f, "{b}"),
            Value::Integer(i) => write!(f, "{i}"),
            Value::Decimal(d) => write!(f, "{d}"),
        }
    }
}

impl Serialize for Value {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Value {
    /// From JSON, by its kind: what a saved plan shows (a dateTime reads back as text).
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        match serde_json::Value::deserialize(deserializer)? {
            serde_json::Value::String(s) => Ok(Value::String(s)),
            serde_json::Value::Bool(b) => Ok(Value::Boolean(b)),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Ok(Value::Integer(i)),
                None => n
                    .as_f64()
                    .map(Value::Decimal)
                    .ok_or_else(|| D::Error::custom("a number out of range")),
            },
            other => Err(D::Error::custom(format!(
                "a value is a string, a boolean or a number, not {other}"
            ))),
        }
    }
}

impl JsonSchema for Value {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Value".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A simple value: a string (also dateTimes), a boolean or a number.",
            "type": ["string", "boolean", "number"],
        })
    }
}

/// A user as the files declare it, after defaults, typed for the target.
#[derive(Clone, Debug, PartialEq)]
pub struct DesiredUser {
    /// The userName as declared (with the default domain added where it had none).
    pub user_name: String,
    pub key: UserKey,
    /// Declared attributes; `None` is an explicit `null`: clear it on the server.
    /// Attributes the files do not mention are absent, and left as the server has them.
    pub attrs: AttrMap<Option<Value>>,
    /// Where the user's entry is (its userName).
    pub origin: Origin,
    /// Where each declared attribute was written (a default: in the settings file).
    pub origins: AttrMap<Origin>,
    /// Names the user had before (`previously`): when the server has one of them and
    /// not this one, the user is renamed, not created.
    pub previously: Vec<Previous>,
}

/// A name a declared user had before.
#[derive(Clone, Debug, PartialEq)]
pub struct Previous {
    /// Qualified as the user's own name is (the default domain added).
    pub user_name: String,
    pub key: UserKey,
    /// Where it is written.
    pub origin: Origin,
}

impl DesiredUser {
    /// Where `attr` was declared, or else where the user was.
    pub fn origin_of(&self, attr: &Attr) -> &Origin {
        self.origins.get(attr).unwrap_or(&self.origin)
    }

    /// Whether the files want this user active (the default for a declared user).
    pub fn active(&self) -> bool {
        !matches!(
            self.attrs.get(&Attr::Active),
            Some(Some(Value::Boolean(false)))
        )
    }
}

/// A resource as the server sent it, kept as its JSON text: most users read are never
/// written, and a parsed `Value` takes several times the memory of the text (a plan of
/// 50,000 users holds them all).
#[derive(Clone, Debug, PartialEq)]
pub struct RawResource(Box<str>);

impl RawResource {
    /// The resource, parsed again.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.0).unwrap_or_default()
    }
}

impl From<&serde_json::Value> for RawResource {
    fn from(json: &serde_json::Value) -> Self {
        Self(json.to_string().into_boxed_str())
    }
}

/// A user as the server returned it, read through the target's dialect.
#[derive(Clone, Debug, PartialEq)]
pub struct ObservedUser {
    /// The server's id for the user (Bizagi: `guidUser`).
    pub id: String,
    pub user_name: String,
    pub key: UserKey,
    /// Every attribute scimops can manage that the server has a value for.
    pub attrs: AttrMap<Value>,
    /// What was read, as read, where the dialect's updates need it (`Mapping::keep_raw`):
    /// a PUT rebuilds the user from it, so attributes scimops does not manage are sent
    /// back unchanged.
    pub raw: Option<RawResource>,
    /// Identifies this version of the user: a saved plan is stale once it changes.
    pub fingerprint: String,
    /// The server's version of the user (`meta.version`), for `If-Match`.
    pub version: Option<String>,
}

impl ObservedUser {
    /// The resource as read. Only a dialect that keeps it asks for it (a PUT, merged
    /// contacts); anything else is a bug, and must not send a user rebuilt from nothing.
    pub fn raw(&self) -> serde_json::Value {
        self.raw
            .as_ref()
            .map(RawResource::json)
            .expect("a dialect that rebuilds users from what it read keeps it (Mapping::keep_raw)")
    }
}

/// The fingerprint of a user resource: the server's version (`meta.version`, its
/// ETag) when it gives one, else a SHA-256 of the resource without `meta` (which
/// holds timestamps and the URL the server was reached at).
pub fn fingerprint(resource: &serde_json::Value) -> String {
    if let Some(version) = resource
        .get("meta")
        .and_then(|m| m.get("version"))
        .and_then(|v| v.as_str())
    {
        return format!("version:{version}");
    }
    // The resource's compact text without `meta`, hashed as it is written (no copy of
    // the resource), through a buffer: SHA-256 takes blocks, the writer gives pieces.
    let mut out = std::io::BufWriter::with_capacity(4096, Hasher::new());
    let written = write_without_meta(&mut out, resource);
    debug_assert!(written.is_ok(), "a Value always serializes");
    match out.into_inner() {
        Ok(hasher) => hasher.finish(),
        Err(e) => e.into_inner().into_parts().0.finish(),
    }
}

/// A resource's compact JSON text without its `meta` member. serde_json's maps are
/// sorted: the text is canonical.
fn write_without_meta(
    out: &mut impl std::io::Write,
    resource: &serde_json::Value,
) -> std::io::Result<()> {
    let Some(obj) = resource.as_object() else {
        return Ok(serde_json::to_writer(out, resource)?);
    };
    let mut separator = "";
    out.write_all(b"{")?;
    for (key, value) in obj.iter().filter(|(k, _)| *k != "meta") {
        out.write_all(separator.as_bytes())?;
        serde_json::to_writer(&mut *out, key)?;
        out.write_all(b":")?;
        serde_json::to_writer(&mut *out, value)?;
        separator = ",";
    }
    out.write_all(b"}")
}

/// Feeds what is written to a SHA-256.
pub(crate) struct Hasher(ring::digest::Context);

impl Hasher {
    pub fn new() -> Self {
        Self(ring::digest::Context::new(&ring::digest::SHA256))
    }

    /// `sha256:` and the digest's hex digits.
    pub fn finish(self) -> String {
        format!("sha256:{}", hex(self.0.finish().as_ref()))
    }
}

impl std::io::Write for Hasher {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.update(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(ring::digest::digest(&ring::digest::SHA256, bytes).as_ref())
}

impl ObservedUser {
    pub fn active(&self) -> bool {
        !matches!(self.attrs.get(&Attr::Active), Some(Value::Boolean(false)))
    }
}

/// One attribute that differs: what the server has (`None`: no value) and what the
/// files want (`None`: cleared), and what it means for the user's access.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttrChange {
    /// As user files name it: `name.givenName`, `email`, `properties.Level`...
    #[serde(rename = "attribute")]
    pub attr: Attr,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub effect: Effect,
    /// When the server returned no value for this attribute, the one `before` was read
    /// from (for a name part: `name.formatted`, the full name the server keeps).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before_from: Option<Attr>,
    /// Where the files declare the value (absent for the policy's own changes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declared_at: Option<Origin>,
}

/// What a change means for access review.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub enum Effect {
    /// A permission turned on: a boolean user property from false (or none) to true.
    Grant,
    /// A permission turned off: a boolean user property from true to false (or none).
    Revoke,
    /// Anything else: names, contact details, other properties.
    #[default]
    Profile,
}

impl Effect {
    /// The effect of changing `attr` from `before` to `after`: `active` is the access
    /// itself, and user properties that are booleans are permissions (Bizagi's
    /// `DelegateEnabled`, `enabledForAssignation`...).
    pub fn of(attr: &Attr, before: Option<&Value>, after: Option<&Value>) -> Self {
        let on = |v: Option<&Value>| matches!(v, Some(Value::Boolean(true)));
        let boolean = |v: Option<&Value>| matches!(v, Some(Value::Boolean(_)) | None);
        match attr {
            Attr::Active | Attr::Property(_) if boolean(before) && boolean(after) => {
                match (on(before), on(after)) {
                    (false, true) => Effect::Grant,
                    (true, false) => Effect::Revoke,
                    _ => Effect::Profile,
                }
            }
            _ => Effect::Profile,
        }
    }
}

/// A map kept as a vector sorted by key: for the few attributes of one user, a fraction
/// of a `BTreeMap`'s memory (whose smallest node holds eleven entries), with the same
/// order and the same lookups (binary search). Plans of 50,000 users hold a few per user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttrMap<V>(Vec<(Attr, V)>);

impl<V> Default for AttrMap<V> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<V> AttrMap<V> {
    pub fn new() -> Self {
        Self::default()
    }

    fn find(&self, attr: &Attr) -> Result<usize, usize> {
        self.0.binary_search_by(|(a, _)| a.cmp(attr))
    }

    pub fn get(&self, attr: &Attr) -> Option<&V> {
        self.find(attr).ok().map(|i| &self.0[i].1)
    }

    /// Gives back what growing left unused: a user holds its attributes for the whole
    /// run, and 50,000 users' spare room is tens of megabytes.
    pub fn shrink(&mut self) {
        self.0.shrink_to_fit();
    }

    pub fn contains_key(&self, attr: &Attr) -> bool {
        self.find(attr).is_ok()
    }

    /// Sets `attr`; returns the value it had.
    pub fn insert(&mut self, attr: Attr, value: V) -> Option<V> {
        match self.find(&attr) {
            Ok(i) => Some(std::mem::replace(&mut self.0[i].1, value)),
            Err(i) => {
                self.0.insert(i, (attr, value));
                None
            }
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Attr, &V)> {
        self.0.iter().map(|(a, v)| (a, v))
    }

    pub fn keys(&self) -> impl Iterator<Item = &Attr> {
        self.0.iter().map(|(a, _)| a)
    }

    /// Keeps the attributes `keep` says to keep.
    pub fn retain(&mut self, mut keep: impl FnMut(&Attr) -> bool) {
        self.0.retain(|(a, _)| keep(a));
    }
}

impl<V> FromIterator<(Attr, V)> for AttrMap<V> {
    /// Later entries win, as in a `BTreeMap`.
    fn from_iter<I: IntoIterator<Item = (Attr, V)>>(items: I) -> Self {
        let mut map = Self::new();
        for (attr, value) in items {
            map.insert(attr, value);
        }
        map.0.shrink_to_fit();
        map
    }
}

impl<V> IntoIterator for AttrMap<V> {
    type Item = (Attr, V);
    type IntoIter = std::vec::IntoIter<(Attr, V)>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a, V> IntoIterator for &'a AttrMap<V> {
    type Item = (&'a Attr, &'a V);
    type IntoIter =
        std::iter::Map<std::slice::Iter<'a, (Attr, V)>, fn(&'a (Attr, V)) -> (&'a Attr, &'a V)>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(a, v)| (a, v))
    }
}

impl<V, const N: usize> From<[(Attr, V); N]> for AttrMap<V> {
    fn from(items: [(Attr, V); N]) -> Self {
        items.into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn user_names_fold_accents_and_case() {
        assert_eq!(fold("jose\u{301}@ACME"), fold("jos\u{e9}@acme"));
        assert_eq!(fold("Straße"), fold("STRASSE"));
        assert_eq!(UserKey::folded("JDoe@X").as_str(), "jdoe@x");
        assert_ne!(fold("ann@x"), fold("anne@x"));
        // ASCII's short way gives what the full folding gives, for every character.
        use unicode_normalization::UnicodeNormalization;
        let all: String = (0u8..128).map(char::from).collect();
        let full: String = caseless::default_case_fold_str(&all.nfd().collect::<String>())
            .nfc()
            .collect();
        assert_eq!(fold(&all), full);
    }

    #[test]
    fn values_read_leniently_from_json() {
        assert_eq!(
            Value::from_json(ValueType::Boolean, &json!("True")),
            Some(Value::Boolean(true))
        );
        assert_eq!(
            Value::from_json(ValueType::Integer, &json!("3")),
            Some(Value::Integer(3))
        );
        assert_eq!(
            Value::from_json(ValueType::Decimal, &json!(3)),
            Some(Value::Decimal(3.0))
        );
        assert_eq!(Value::from_json(ValueType::Boolean, &json!("yes")), None);
        assert_eq!(Value::from_json(ValueType::Integer, &json!(1.5)), None);
    }

    #[test]
    fn date_times_are_instants() {
        assert_eq!(
            instant("1970-01-01T00:00:00Z"),
            Some(jiff::Timestamp::UNIX_EPOCH)
        );
        assert_eq!(instant("2026-11-16"), instant("2026-11-16T00:00:00Z"));
        assert_eq!(
            instant("2026-11-16T09:00:00"),
            instant("2026-11-16T09:00:00Z")
        );
        assert_eq!(
            instant("2026-11-16T09:00:00Z"),
            instant("2026-11-16T09:00:00.000Z")
        );
        assert_eq!(
            instant("2026-11-16T10:30:00+01:30"),
            instant("2026-11-16T09:00:00Z")
        );
        assert_eq!(
            instant("2026-11-16T09:00:00.5Z")
                .unwrap()
                .subsec_nanosecond(),
            500_000_000
        );
        assert_eq!(
            instant("2000-02-29T00:00:00Z").unwrap().as_second(),
            951_782_400
        );
        assert_eq!(instant("16/11/2026"), None);
        assert_eq!(instant("2026-13-01"), None);
        assert_eq!(instant("2026-02-30"), None, "no such day");
        assert_eq!(instant("2026-02-28T25:00:00Z"), None, "no such hour");
        assert_eq!(instant("2026-02-28T09:00:00+99:00"), None, "no such offset");
        let a = Value::DateTime("2026-11-16T09:00:00Z".into());
        assert_eq!(a, Value::DateTime("2026-11-16T09:00:00.000Z".into()));
        assert_ne!(a, Value::DateTime("2026-11-16T09:00:01Z".into()));
    }

    #[test]
    fn integers_equal_decimals_of_the_same_amount() {
        assert_eq!(Value::Integer(3), Value::Decimal(3.0));
        assert_ne!(Value::Integer(3), Value::Decimal(3.5));
        assert_ne!(Value::String("3".into()), Value::Integer(3));
    }

    #[test]
    fn an_attribute_name_is_kept_once_however_often_it_is_made() {
        let read = String::from("enabledForAssignation");
        let (a, b) = (Name::new("enabledForAssignation"), Name::from(read.clone()));
        assert_eq!(a, b);
        assert!(std::ptr::eq(a.as_str(), b.as_str()), "one copy");
        assert_eq!(
            Attr::Property(b),
            "properties.enabledForAssignation".parse::<Attr>().unwrap()
        );
        assert!(Name::new("a") < Name::new("b"), "ordered by text");
    }

    #[test]
    fn fingerprints_prefer_the_servers_version_and_ignore_meta() {
        let a = json!({"id": "1", "userName": "a", "meta": {"lastModified": "x"}});
        let b = json!({"userName": "a", "id": "1", "meta": {"lastModified": "y"}});
        assert_eq!(fingerprint(&a), fingerprint(&b));
        assert!(fingerprint(&a).starts_with("sha256:"));
        assert_ne!(
            fingerprint(&a),
            fingerprint(&json!({"id": "1", "userName": "b"}))
        );
        let v = json!({"id": "1", "meta": {"version": "W/\"3\""}});
        assert_eq!(fingerprint(&v), "version:W/\"3\"");
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn values_display_as_in_a_plan() {
        assert_eq!(Value::String("a \"b\"".into()).to_string(), r#""a \"b\"""#);
        assert_eq!(Value::Decimal(12.5).to_string(), "12.5");
        assert_eq!(Value::Boolean(false).to_string(), "false");
    }

    #[test]
    fn a_fingerprint_is_the_sha256_of_the_compact_text_without_meta() {
        let resource = serde_json::json!({
            "userName": "a", "id": "1", "meta": {"location": "http://x/Users/1"},
            "name": {"givenName": "A"}, "emails": [{"value": "a@b.c"}],
        });
        let text =
            r#"{"emails":[{"value":"a@b.c"}],"id":"1","name":{"givenName":"A"},"userName":"a"}"#;
        assert_eq!(
            fingerprint(&resource),
            format!("sha256:{}", sha256_hex(text.as_bytes()))
        );
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let versioned = serde_json::json!({"id": "1", "meta": {"version": "W/\"3\""}});
        assert_eq!(fingerprint(&versioned), "version:W/\"3\"");
    }
}
