//! From declared users (files) to desired users (typed for a target), pure.
//!
//! This is where the files meet the target: userNames get their default domain and
//! their matching key from the dialect, properties get the types the server declares
//! (or, offline, the documented ones), duplicates are found, and the dialect checks the
//! server's documented limits. Every problem is reported, with the place it was written.

use std::collections::BTreeMap;

use crate::config::{Declared, DeclaredUser, Scalar};
use crate::diag::{self, Diagnostic, Diagnostics};
use crate::dialect::Dialect;
use crate::escape::Shown;
use crate::model::{Attr, AttrMap, DesiredUser, Origin, Previous, UserKey, Value, ValueType};
use crate::schema::UserSchema;
use crate::words::suggest;

/// Users typed for a target, and the warnings found on the way.
#[derive(Debug)]
pub struct Resolved {
    pub users: Vec<DesiredUser>,
    pub warnings: Vec<Diagnostic>,
}

/// The repository's users checked for a target without its server: names qualified and
/// keyed, duplicates found, the dialect's limits checked, properties typed by what the
/// dialect documents. [`Declaration::typed`] then types them by the server's schema.
#[derive(Debug)]
pub struct Declaration {
    users: Vec<DesiredUser>,
    /// For each user, its entry among the declared users (to type its values again).
    entries: Vec<usize>,
    pub warnings: Vec<Diagnostic>,
}

impl Declaration {
    /// The users with every property, attribute and extension typed by `schema` (the
    /// server's): the only part of the work that needs the server.
    pub fn typed(
        self,
        declared: &[DeclaredUser],
        schema: &UserSchema,
        dialect: &dyn Dialect,
    ) -> Result<Resolved, Diagnostics> {
        let Declaration {
            mut users,
            entries,
            mut warnings,
        } = self;
        let mut problems = Vec::new();
        for (user, &entry) in users.iter_mut().zip(&entries) {
            let typed = |attr: &Attr| {
                matches!(
                    attr,
                    Attr::Property(_) | Attr::Core(_) | Attr::Extension(..)
                )
            };
            user.attrs.retain(|attr| !typed(attr));
            user.origins.retain(|attr| !typed(attr));
            type_values(user, &declared[entry], schema, dialect, &mut problems);
        }
        warnings.extend(diag::check(problems)?);
        for user in &mut users {
            user.attrs.shrink();
            user.origins.shrink();
        }
        Ok(Resolved { users, warnings })
    }
}

/// Types the repository's users for a target: [`declare`], then
/// [`Declaration::typed`] with `schema`.
pub fn resolve(
    declared: &[DeclaredUser],
    problems: Vec<Diagnostic>,
    default_domain: Option<&str>,
    schema: &UserSchema,
    dialect: &dyn Dialect,
) -> Result<Resolved, Diagnostics> {
    declare(declared, problems, default_domain, dialect)?.typed(declared, schema, dialect)
}

/// A user's previous names (`previously`), qualified and keyed as its own name is. A
/// name that is the user's own (a case-only change) is no rename: said, and dropped.
fn previous_names(
    d: &DeclaredUser,
    key: &UserKey,
    default_domain: Option<&str>,
    dialect: &dyn Dialect,
    problems: &mut Vec<Diagnostic>,
) -> Vec<Previous> {
    let mut names: Vec<Previous> = Vec::new();
    for (old, origin) in &d.previously {
        if let Some(problem) =
            user_name_problem(old).or_else(|| old.trim().is_empty().then(|| "is empty".to_string()))
        {
            problems.push(
                Diagnostic::error(
                    origin.clone(),
                    format!("previous userName `{}` {problem}", Shown(old)),
                )
                .hint("list the names the user had on the server, `user@domain`"),
            );
            continue;
        }
        let user_name = dialect.qualify(old, default_domain);
        let old_key = dialect.key(&user_name);
        if old_key == *key {
            problems.push(
                Diagnostic::warning(
                    origin.clone(),
                    format!(
                        "`{}` is this user's own name without regard to case: a change of case only is no rename",
                        Shown(old)
                    ),
                )
                .hint("remove it from `previously`"),
            );
            continue;
        }
        if names.iter().any(|n| n.key == old_key) {
            continue;
        }
        names.push(Previous {
            user_name,
            key: old_key,
            origin: origin.clone(),
        });
    }
    names
}

/// A previous name is one account's: not a declared user's own name, and not the
/// previous name of two users.
fn renames_conflicts(users: &[DesiredUser], problems: &mut Vec<Diagnostic>) {
    let mut by_key: Vec<&DesiredUser> = users.iter().collect();
    by_key.sort_by(|a, b| a.key.cmp(&b.key));
    let mut claimed: BTreeMap<&UserKey, (&DesiredUser, &Previous)> = BTreeMap::new();
    for user in users {
        for old in &user.previously {
            if let Ok(i) = by_key.binary_search_by(|u| u.key.cmp(&old.key)) {
                let other = by_key[i];
                problems.push(
                    Diagnostic::error(
                        old.origin.clone(),
                        format!(
                            "`{}` is a previous name of `{}` and a user declared at {}",
                            Shown(&old.user_name),
                            Shown(&user.user_name),
                            other.origin
                        ),
                    )
                    .hint(
                        "a name is either a user's, or a previous name of one: remove one of them",
                    ),
                );
                continue;
            }
            match claimed.get(&old.key) {
                Some((first, at)) => problems.push(
                    Diagnostic::error(
                        old.origin.clone(),
                        format!(
                            "`{}` is a previous name of both `{}` and `{}` (at {})",
                            Shown(&old.user_name),
                            Shown(&first.user_name),
                            Shown(&user.user_name),
                            at.origin
                        ),
                    )
                    .hint("one account can be renamed to one user: keep it in one `previously`"),
                ),
                None => {
                    claimed.insert(&old.key, (user, old));
                }
            }
        }
    }
}

/// Checks the repository's users for a target, offline: problems of the files
/// (`problems`) and of the users are reported together.
pub fn declare(
    declared: &[DeclaredUser],
    problems: Vec<Diagnostic>,
    default_domain: Option<&str>,
    dialect: &dyn Dialect,
) -> Result<Declaration, Diagnostics> {
    let schema = dialect.offline_schema();
    let mut problems = problems;
    let mut seen: BTreeMap<UserKey, &Origin> = BTreeMap::new();
    let mut users = Vec::with_capacity(declared.len());
    let mut entries = Vec::with_capacity(declared.len());
    for (entry, d) in declared.iter().enumerate() {
        if d.user_name.trim().is_empty() {
            problems.push(Diagnostic::error(d.origin.clone(), "userName is empty"));
            continue;
        }
        if let Some(problem) = user_name_problem(&d.user_name) {
            problems.push(
                Diagnostic::error(
                    d.origin.clone(),
                    format!("userName `{}` {problem}", Shown(&d.user_name)),
                )
                .hint("a userName is `user@domain` (or `domain\\user`) in visible characters, without spaces"),
            );
            continue;
        }
        let user_name = dialect.qualify(&d.user_name, default_domain);
        let key = dialect.key(&user_name);
        // A duplicate is reported, and its values are still checked (and then dropped).
        let duplicate = seen.contains_key(&key);
        if let Some(first) = seen.get(&key) {
            problems.push(
                Diagnostic::error(
                    d.origin.clone(),
                    format!("user `{user_name}` is declared twice; the first is at {first}"),
                )
                .hint("userNames are compared without regard to case; keep one entry"),
            );
        } else {
            seen.insert(key.clone(), &d.origin);
        }

        let previously = previous_names(d, &key, default_domain, dialect, &mut problems);
        let mut user = DesiredUser {
            user_name,
            key,
            attrs: AttrMap::new(),
            origin: d.origin.clone(),
            origins: AttrMap::new(),
            previously,
        };
        for (attr, value) in &d.attrs {
            match value
                .value
                .as_ref()
                .map(|s| core_value(attr, s))
                .transpose()
            {
                // What the target says its server does not keep is neither compared
                // nor sent (the plan names it).
                Ok(_) if !dialect.mapping().keeps(attr) => {}
                Ok(v) => {
                    user.attrs.insert(attr.clone(), v);
                    user.origins.insert(attr.clone(), value.origin.clone());
                }
                Err(message) => problems.push(Diagnostic::error(value.origin.clone(), message)),
            }
        }
        type_values(&mut user, d, &schema, dialect, &mut problems);
        dialect.check_user(&user, &mut problems);
        // At its size: 100,000 users' spare capacity would be memory for nothing.
        user.attrs.shrink();
        user.origins.shrink();
        if !duplicate {
            users.push(user);
            entries.push(entry);
        }
    }
    renames_conflicts(&users, &mut problems);
    let warnings = diag::check(problems)?;
    Ok(Declaration {
        users,
        entries,
        warnings,
    })
}

/// Types the properties, attributes and extensions `d` declares by `schema`, into `user`.
fn type_values(
    user: &mut DesiredUser,
    d: &DeclaredUser,
    schema: &UserSchema,
    dialect: &dyn Dialect,
    problems: &mut Vec<Diagnostic>,
) {
    let properties_urn = dialect.properties_urn();
    let groups = std::iter::once((Group::Properties(properties_urn), &d.properties))
        .chain(std::iter::once((Group::Core, &d.attributes)))
        .chain(
            d.extensions
                .iter()
                .map(|(urn, m)| (Group::Extension(urn.as_str()), m)),
        );
    let declared =
        groups.flat_map(|(group, members)| members.iter().map(move |(n, v)| (group, n, v)));
    for (group, name, value) in declared {
        match typed_attr(group, name, value, schema, dialect.integer_range()) {
            Ok((attr, _)) if !dialect.mapping().keeps(&attr) => {}
            Ok((attr, v)) => {
                if let Some(first) = user
                    .origins
                    .get(&attr)
                    .filter(|_| user.attrs.contains_key(&attr))
                {
                    problems.push(Diagnostic::error(
                        value.origin.clone(),
                        format!("`{attr}` is set twice; it is also set at {first}"),
                    ));
                    continue;
                }
                user.attrs.insert(attr.clone(), v);
                user.origins.insert(attr, value.origin.clone());
            }
            Err(problem) => problems.push(problem),
        }
    }
}

fn core_value(attr: &Attr, scalar: &Scalar) -> Result<Value, String> {
    match (attr, scalar) {
        (Attr::Active, Scalar::Boolean(b)) => Ok(Value::Boolean(*b)),
        (Attr::Active, other) => Err(format!(
            "`active` must be true or false, not {}",
            other.describe()
        )),
        (_, Scalar::String(s)) => Ok(Value::String(s.clone())),
        (_, other) => Err(format!("`{attr}` must be a string, not {}", other.kind())),
    }
}

/// Which schema a declared attribute belongs to.
#[derive(Clone, Copy)]
enum Group<'a> {
    /// `properties`: the dialect's properties extension, by URN.
    Properties(&'a str),
    /// `attributes`: the core User schema.
    Core,
    /// `extensions.<urn>`.
    Extension(&'a str),
}

impl Group<'_> {
    fn attr(self, name: crate::model::Name) -> Attr {
        match self {
            Group::Properties(_) => Attr::Property(name),
            Group::Core => Attr::Core(name),
            Group::Extension(urn) => Attr::extension(urn, &name),
        }
    }

    /// How messages name the attribute and its schema.
    fn describe(self, name: &str) -> (String, String) {
        match self {
            Group::Properties(urn) => (format!("user property `{name}`"), format!("`{urn}`")),
            Group::Core => (
                format!("attribute `{name}`"),
                "the core User schema".to_string(),
            ),
            Group::Extension(urn) => (format!("attribute `{name}`"), format!("`{urn}`")),
        }
    }
}

fn typed_attr(
    group: Group<'_>,
    name: &str,
    declared: &Declared,
    schema: &UserSchema,
    integers: std::ops::RangeInclusive<i64>,
) -> Result<(Attr, Option<Value>), Diagnostic> {
    let at = || declared.origin.clone();
    // How messages name the attribute: made only for a message.
    let what = || group.describe(name).0;
    let within = || group.describe(name).1;
    let attributes = match group {
        Group::Core => Some(&schema.core),
        Group::Properties(urn) | Group::Extension(urn) => schema.extension(urn),
    };
    let Some(attributes) = attributes else {
        if !schema.complete {
            return Ok((
                group.attr(name.into()),
                declared.value.as_ref().map(untyped),
            ));
        }
        let known: Vec<_> = schema
            .extensions()
            .map(|(urn, _)| format!("`{urn}`"))
            .collect();
        return Err(Diagnostic::error(
            at(),
            format!("the server's users have no extension {}", within()),
        )
        .hint(if known.is_empty() {
            "the server lists no extension schema for users".to_string()
        } else {
            format!("the server's users have: {}", known.join(", "))
        }));
    };
    let Some(def) = attributes.get(name) else {
        if let Some(ty) = attributes.unsupported_type(name) {
            return Err(Diagnostic::error(
                at(),
                format!(
                    "{} is of type {ty} on the server; scimops manages only simple values",
                    what()
                ),
            ));
        }
        if schema.complete {
            let mut d = Diagnostic::error(
                at(),
                format!("the server has no {} (in {})", what(), within()),
            );
            let names: Vec<&str> = attributes.defs().map(|p| p.name.as_str()).collect();
            d = match suggest(name, names.iter().copied()) {
                Some(close) => d.hint(format!("did you mean `{close}`?")),
                None if names.is_empty() => {
                    d.hint(format!("{} has no attribute scimops can set", within()))
                }
                None => d.hint(format!(
                    "the server has: {}",
                    crate::words::ticked(names.iter().copied())
                )),
            };
            return Err(d);
        }
        // Offline: an attribute the documentation does not list takes the file's type.
        return Ok((
            group.attr(name.into()),
            declared.value.as_ref().map(untyped),
        ));
    };
    if def.read_only {
        return Err(Diagnostic::error(
            at(),
            format!("{} is read-only on the server; it cannot be set", what()),
        ));
    }
    let server = if schema.complete {
        " on the server"
    } else {
        ""
    };
    // Named as the server spells it.
    let shown_name = || what().replacen(name, &def.name, 1);
    let ty = def.ty;
    // Values of the right kind that the type still cannot hold.
    match &declared.value {
        Some(Scalar::Integer(i)) if ty == ValueType::Integer && !integers.contains(i) => {
            return Err(Diagnostic::error(
                at(),
                format!(
                    "{} is an integer{server}, and {i} is beyond the integers it keeps",
                    shown_name()
                ),
            )
            .hint(format!(
                "the server keeps integers from {} to {}",
                integers.start(),
                integers.end()
            )));
        }
        Some(Scalar::String(text))
            if ty == ValueType::DateTime
                && crate::model::instant(text).is_none()
                && looks_like_a_date(text) =>
        {
            return Err(Diagnostic::error(
                at(),
                format!(
                    "{} is a dateTime{server}, and {} names no real date and time",
                    shown_name(),
                    Shown(&format!("{text:?}"))
                ),
            )
            .hint("check the day, the hour and the offset: like \"2026-01-31T09:00:00Z\" or \"2026-01-31\""));
        }
        _ => {}
    }
    let value = match &declared.value {
        None => None,
        Some(scalar) => Some(typed(scalar, def.ty, &integers).map_err(|hint| {
            Diagnostic::error(
                at(),
                format!(
                    "{} is of type {}{server}, and {} is {}",
                    shown_name(),
                    def.ty,
                    scalar.describe(),
                    scalar.kind()
                ),
            )
            .hint(hint)
        })?),
    };
    Ok((group.attr(def.name), value))
}

/// A scalar's value when no schema says its type.
fn untyped(s: &Scalar) -> Value {
    match s {
        Scalar::Boolean(b) => Value::Boolean(*b),
        Scalar::Integer(i) => Value::Integer(*i),
        Scalar::Decimal(d) => Value::Decimal(*d),
        Scalar::String(s) => Value::String(s.clone()),
    }
}

/// A YAML scalar as a value of `ty`, or a hint saying how to write one. `integers`:
/// the integers the server keeps exactly.
fn typed(
    scalar: &Scalar,
    ty: ValueType,
    integers: &std::ops::RangeInclusive<i64>,
) -> Result<Value, String> {
    match (ty, scalar) {
        (ValueType::Boolean, Scalar::Boolean(b)) => Ok(Value::Boolean(*b)),
        (ValueType::Boolean, _) => Err("write `true` or `false`".into()),
        (ValueType::Integer, Scalar::Integer(i)) if integers.contains(i) => Ok(Value::Integer(*i)),
        (ValueType::Integer, Scalar::Integer(_)) => Err(format!(
            "the server keeps integers from {} to {}",
            integers.start(),
            integers.end()
        )),
        (ValueType::Integer, _) => Err("write a whole number without quotes, like `3`".into()),
        (ValueType::Decimal, Scalar::Integer(i)) => Ok(Value::Decimal(*i as f64)),
        (ValueType::Decimal, Scalar::Decimal(d)) => Ok(Value::Decimal(*d)),
        (ValueType::Decimal, _) => Err("write a number without quotes, like `12.5`".into()),
        (ValueType::String, Scalar::String(s)) => Ok(Value::String(s.clone())),
        (ValueType::String, other) => Err(format!(
            "quote it to make it a string: \"{}\"",
            other.describe()
        )),
        (ValueType::DateTime, Scalar::String(s)) if crate::model::instant(s).is_some() => {
            Ok(Value::DateTime(s.clone()))
        }
        (ValueType::DateTime, _) => Err(
            "write a real date and time in ISO 8601, like \"2026-01-31T09:00:00Z\" or \"2026-01-31\""
                .into(),
        ),
    }
}

/// Starts like an ISO 8601 date (`2026-`), so a failure to read it is about the values.
fn looks_like_a_date(text: &str) -> bool {
    let b = text.trim().as_bytes();
    b.len() >= 5 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-'
}

/// What is wrong with a userName that no server should receive, if anything: characters
/// that hide or fake what a reviewer reads, white space, more than one `@`.
pub fn user_name_problem(user_name: &str) -> Option<String> {
    if let Some(c) = user_name.chars().find(|c| crate::escape::hidden(*c)) {
        return Some(format!(
            "contains the invisible or control character U+{:04X}",
            u32::from(c)
        ));
    }
    if user_name.chars().any(char::is_whitespace) {
        return Some("contains white space".to_string());
    }
    if user_name.matches('@').count() > 1 {
        return Some("has more than one `@`".to_string());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialect::Bizagi;
    use crate::schema::{AttrDef, Attributes};

    fn origin(line: u64) -> Origin {
        Origin {
            file: std::path::Path::new("users/a.yaml").into(),
            line,
            column: 3,
        }
    }

    fn user(name: &str, line: u64, properties: &[(&str, Scalar)]) -> DeclaredUser {
        DeclaredUser {
            user_name: name.to_string(),
            origin: origin(line),
            attrs: crate::model::AttrMap::from([(
                Attr::GivenName,
                Declared {
                    value: Some(Scalar::String("Ann".into())),
                    origin: origin(line + 1),
                },
            )]),
            properties: properties
                .iter()
                .map(|(n, v)| {
                    let d = Declared {
                        value: Some(v.clone()),
                        origin: origin(line + 2),
                    };
                    (n.to_string(), d)
                })
                .collect(),
            attributes: Default::default(),
            extensions: BTreeMap::new(),
            previously: Vec::new(),
        }
    }

    fn server_schema() -> UserSchema {
        let mut properties = Attributes::default();
        for (name, ty) in [
            ("Level", ValueType::Integer),
            ("Salary", ValueType::Decimal),
        ] {
            properties.insert(AttrDef {
                name: name.into(),
                ty,
                read_only: false,
            });
        }
        let mut s = UserSchema::new(true);
        s.add_extension(crate::dialect::PROPERTIES_URN, properties);
        s
    }

    fn messages(err: Diagnostics) -> Vec<String> {
        err.0.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn duplicates_differing_only_in_case_name_both_places() {
        let users = [user("ann@x", 1, &[]), user("ANN@X", 7, &[])];
        let err = resolve(
            &users,
            vec![],
            None,
            &UserSchema::new(false),
            &Bizagi::default(),
        )
        .unwrap_err();
        assert_eq!(
            messages(err),
            [
                "users/a.yaml:7:3: error: user `ANN@X` is declared twice; the first is at users/a.yaml:1:3\n  hint: userNames are compared without regard to case; keep one entry"
            ]
        );
    }

    #[test]
    fn properties_are_typed_by_the_servers_schema() {
        let users = [user(
            "ann",
            1,
            &[
                ("level", Scalar::Integer(3)),
                ("Salary", Scalar::Integer(10)),
            ],
        )];
        let ok = resolve(
            &users,
            vec![],
            Some("x"),
            &server_schema(),
            &Bizagi::default(),
        )
        .unwrap();
        let u = &ok.users[0];
        assert_eq!(u.user_name, "ann@x");
        assert_eq!(
            u.attrs.get(&Attr::Property("Level".into())),
            Some(&Some(Value::Integer(3)))
        );
        assert_eq!(
            u.attrs.get(&Attr::Property("Salary".into())),
            Some(&Some(Value::Decimal(10.0)))
        );
    }

    #[test]
    fn unknown_and_mistyped_properties_are_errors_with_hints() {
        let users = [user(
            "ann@x",
            1,
            &[
                ("Levle", Scalar::Integer(3)),
                ("Salary", Scalar::String("a lot".into())),
            ],
        )];
        let err = resolve(&users, vec![], None, &server_schema(), &Bizagi::default()).unwrap_err();
        let m = messages(err);
        assert_eq!(m.len(), 2, "{m:?}");
        assert!(
            m.iter()
                .any(|m| m.contains("no user property `Levle`")
                    && m.contains("did you mean `Level`?")),
            "{m:?}"
        );
        assert!(
            m.iter().any(|m| m
                .contains("`Salary` is of type decimal on the server, and \"a lot\" is a string")),
            "{m:?}"
        );
    }

    #[test]
    fn offline_custom_properties_take_the_files_type() {
        let users = [user("ann@x", 1, &[("Custom", Scalar::String("v".into()))])];
        let ok = resolve(
            &users,
            vec![],
            None,
            &Bizagi::default().offline_schema(),
            &Bizagi::default(),
        )
        .unwrap();
        assert_eq!(
            ok.users[0].attrs.get(&Attr::Property("Custom".into())),
            Some(&Some(Value::String("v".into())))
        );
    }

    #[test]
    fn user_names_in_visible_characters_only() {
        assert_eq!(user_name_problem("jdoe@acme"), None);
        assert_eq!(user_name_problem(r"acme\jdoe"), None);
        assert_eq!(user_name_problem("josé@acme"), None);
        for bad in [
            "j doe@acme",
            "jdoe@acme\n",
            "a\u{202e}b@x",
            "a\u{200b}b@x",
            "a@b@c",
            "a\u{1b}[2J@x",
        ] {
            assert!(user_name_problem(bad).is_some(), "{bad:?}");
        }
    }

    #[test]
    fn date_times_and_suggestions() {
        let range = i64::MIN..=i64::MAX;
        let date = |s: &str| typed(&Scalar::String(s.into()), ValueType::DateTime, &range).is_ok();
        assert!(date("2026-01-31"));
        assert!(date("2026-01-31T09:00:00Z"));
        assert!(!date("31/01/2026"));
        assert!(!date("2026-02-30"));
        assert!(!date("2026-01-31T25:00:00Z"));
        assert!(!date("2026-01-31T09:00:00+99:00"));
        let small = -5..=5;
        assert!(typed(&Scalar::Integer(5), ValueType::Integer, &small).is_ok());
        assert!(typed(&Scalar::Integer(6), ValueType::Integer, &small).is_err());
    }
}
