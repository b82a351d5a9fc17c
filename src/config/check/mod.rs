//! Checks a file's [`Node`] tree against the JSON Schema generated from the Rust types
//! that parse it (`schemas/`), reporting every problem at once, each at its place, with
//! what would be right. One source of truth: the schema editors use is the one CI uses.
//!
//! The subset of JSON Schema that schemars emits for scimops' types is understood:
//! `$ref`, `type`, `properties`, `additionalProperties`, `required`, `anyOf`, `oneOf`,
//! `const`, `enum`, `items`, `minimum`, `maximum`, `format` (int64, uint32), `pattern`,
//! `minLength`, and `errorMessage` (what a value must be, said to people; the keyword
//! yaml-language-server shows).

use std::path::Path;
use std::sync::Arc;

use serde_json::Value as Json;

use super::node::{At, Node, NodeValue, Refused};
use crate::diag::Diagnostic;
use crate::model::Origin;
use crate::words::suggest;

pub struct Checker<'a> {
    root: &'a Json,
    file: Arc<Path>,
    pub problems: Vec<Diagnostic>,
    /// What the problems are about, for the reading that follows to pass over it.
    pub refused: Refused,
}

/// The schemas' patterns, each compiled once per process and shared (a file may hold
/// thousands of userNames, each checked against several): a regex keeps its caches, a
/// clone would build them again. The patterns are scimops' own schemas', a fixed few.
fn compiled(pattern: &str) -> Option<&'static regex::Regex> {
    type Patterns = std::collections::BTreeMap<String, Option<&'static regex::Regex>>;
    static PATTERNS: std::sync::Mutex<Patterns> =
        std::sync::Mutex::new(std::collections::BTreeMap::new());
    let mut patterns = PATTERNS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(found) = patterns.get(pattern) {
        return *found;
    }
    let regex = regex::Regex::new(pattern)
        .ok()
        .map(|r| &*Box::leak(Box::new(r)));
    patterns.insert(pattern.to_string(), regex);
    regex
}

/// A value in a message: quoted, nothing hidden, long values cut.
fn quoted(text: &str) -> String {
    let cut: String = text.chars().take(80).collect();
    let more = if cut.len() < text.len() { "…" } else { "" };
    format!(
        "\"{}{more}\"",
        crate::escape::term(&cut).replace('"', "\\\"")
    )
}

fn article(ty: &str) -> &'static str {
    match ty {
        "string" => "a string",
        "boolean" => "a boolean (true or false)",
        "integer" => "a whole number",
        "number" => "a number",
        "array" => "a list",
        "object" => "a mapping",
        "null" => "null",
        _ => "a value",
    }
}

fn or_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// The types a schema allows (`type` as a string or a list).
fn types(schema: &Json) -> Vec<&str> {
    match schema.get("type") {
        Some(Json::String(t)) => vec![t.as_str()],
        Some(Json::Array(ts)) => ts.iter().filter_map(Json::as_str).collect(),
        _ => Vec::new(),
    }
}

/// What a value is called in messages ("the file", "a user", "`active`", "an item of
/// `phones`"), made into text only when a message says it: most values have none.
#[derive(Clone, Copy)]
enum Name<'n> {
    Said(&'static str),
    Key(&'n str),
    ItemOf(&'n Name<'n>),
}

impl std::fmt::Display for Name<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Name::Said(said) => f.write_str(said),
            Name::Key(key) => write!(f, "`{key}`"),
            Name::ItemOf(list) => write!(f, "an item of {list}"),
        }
    }
}

/// Whether `node` may fit `schema` by its kind alone: a schema that allows other
/// types refuses it whatever else it says (but for branches, which are checked apart).
fn may_fit(node: &Node, schema: &Json) -> bool {
    if schema.get("anyOf").is_some() || schema.get("oneOf").is_some() {
        return true;
    }
    let allowed = types(schema);
    allowed.is_empty() || node.value.json_types().iter().any(|t| allowed.contains(t))
}

impl<'a> Checker<'a> {
    pub fn new(root: &'a Json, file: Arc<Path>) -> Self {
        Self {
            root,
            file,
            problems: Vec::new(),
            refused: Refused::default(),
        }
    }

    fn origin(&self, at: At) -> Origin {
        Origin {
            file: self.file.clone(),
            line: at.line,
            column: at.column,
        }
    }

    /// A problem with the value at `at`.
    fn error(&mut self, at: At, message: String) -> &mut Diagnostic {
        self.refused.values.insert(at);
        self.problems.push(Diagnostic {
            by_schema: true,
            ..Diagnostic::error(self.origin(at), message)
        });
        self.problems.last_mut().expect("just pushed")
    }

    /// A problem with a value of the right type (a pattern, a length, a key that needs
    /// another): the value is still read, so that the checks that follow see it too.
    fn problem(&mut self, at: At, message: String) {
        self.problems.push(Diagnostic {
            by_schema: true,
            ..Diagnostic::error(self.origin(at), message)
        });
    }

    /// A problem with the key at `at` (one that is unknown).
    fn key_error(&mut self, at: At, message: String) -> &mut Diagnostic {
        self.refused.keys.insert(at);
        self.problems.push(Diagnostic {
            by_schema: true,
            ..Diagnostic::error(self.origin(at), message)
        });
        self.problems.last_mut().expect("just pushed")
    }

    fn resolve(&self, schema: &'a Json) -> &'a Json {
        let mut schema = schema;
        for _ in 0..32 {
            let Some(reference) = schema.get("$ref").and_then(Json::as_str) else {
                break;
            };
            let Some(name) = reference.strip_prefix("#/$defs/") else {
                break;
            };
            match self.root.get("$defs").and_then(|d| d.get(name)) {
                Some(target) => schema = target,
                None => break,
            }
        }
        schema
    }

    /// Checks `node` against the document's root schema.
    pub fn check_document(&mut self, node: &Node) {
        self.check(node, self.root, Name::Said("the file"));
    }

    /// Checks one entry of the document's `users` list, read apart from the rest
    /// ([`super::yaml::parse_users`]), as [`Checker::check_document`] checks it.
    pub fn check_user_entry(&mut self, entry: &Node) {
        let users = self
            .root
            .get("properties")
            .and_then(|p| p.get("users"))
            .map(|users| self.resolve(users));
        if let Some(items) = users.and_then(|users| users.get("items")) {
            self.check(entry, items, Name::Said("a user"));
        }
    }

    /// How many problems checking `node` against `schema` would report.
    fn count(&self, node: &Node, schema: &'a Json, name: Name<'_>) -> usize {
        let mut probe = Checker::new(self.root, self.file.clone());
        probe.check(node, schema, name);
        probe.problems.len()
    }

    /// `name` says the value in messages: "`active`", "a user".
    fn check(&mut self, node: &Node, schema: &'a Json, name: Name<'_>) {
        let schema = self.resolve(schema);
        if let Some(branches) = schema
            .get("anyOf")
            .or_else(|| schema.get("oneOf"))
            .and_then(Json::as_array)
        {
            return self.check_branches(node, branches, name);
        }
        if let Some(wanted) = schema.get("const").and_then(Json::as_str) {
            return self.check_choice(node, &[wanted], name);
        }
        if let Some(values) = schema.get("enum").and_then(Json::as_array) {
            let choices: Vec<&str> = values.iter().filter_map(Json::as_str).collect();
            return self.check_choice(node, &choices, name);
        }
        let allowed = types(schema);
        if !allowed.is_empty() && !node.value.json_types().iter().any(|t| allowed.contains(t)) {
            let expected: Vec<String> = allowed
                .iter()
                .filter(|t| **t != "null")
                .map(|t| article(t).to_string())
                .collect();
            let hint = match (&node.value, allowed.first()) {
                (NodeValue::Str(s), Some(&"boolean"))
                    if matches!(s.to_lowercase().as_str(), "yes" | "no" | "on" | "off") =>
                {
                    Some(
                        "YAML's `yes` and `no` are strings here: write `true` or `false`"
                            .to_string(),
                    )
                }
                (NodeValue::Int(_) | NodeValue::Float(_) | NodeValue::Bool(_), Some(&"string")) => {
                    Some("quote the value to make it a string".to_string())
                }
                _ => None,
            };
            let d = self.error(
                node.at,
                format!(
                    "{name} must be {}, not {}",
                    or_list(&expected),
                    node.value.kind()
                ),
            );
            if let Some(hint) = hint {
                d.hint = Some(hint);
            }
            return;
        }
        match &node.value {
            NodeValue::Map(entries) => self.check_map(node.at, entries, schema, name),
            NodeValue::Seq(items) => {
                if let Some(item_schema) = schema.get("items") {
                    let entries = self.resolve(item_schema).get("properties").is_some();
                    let item_name = if matches!(name, Name::Key("users")) && entries {
                        Name::Said("a user")
                    } else {
                        Name::ItemOf(&name)
                    };
                    for item in items {
                        self.check(item, item_schema, item_name);
                    }
                }
            }
            NodeValue::Str(text) => self.check_text(node.at, text, schema, name),
            NodeValue::Float(f) if !types(schema).contains(&"integer") => {
                self.check_range(node.at, *f, f, schema, name);
            }
            NodeValue::Int(i) => {
                let format = schema.get("format").and_then(Json::as_str);
                let refused = self.check_range(node.at, *i as f64, i, schema, name);
                if !refused && format == Some("uint32") && u32::try_from(*i).is_err() {
                    self.error(
                        node.at,
                        format!(
                            "{name} must be a whole number from 0 to {}, not {i}",
                            u32::MAX
                        ),
                    );
                }
            }
            NodeValue::Float(f)
                if types(schema) == ["integer"] || types(schema) == ["integer", "null"] =>
            {
                self.error(node.at, format!("{name} must be a whole number, not {f}"));
            }
            _ => {}
        }
    }

    /// `minimum` and `maximum`; whether the number was refused.
    fn check_range(
        &mut self,
        at: At,
        n: f64,
        shown: &dyn std::fmt::Display,
        schema: &Json,
        name: Name<'_>,
    ) -> bool {
        let minimum = schema.get("minimum").and_then(Json::as_f64);
        let maximum = schema.get("maximum").and_then(Json::as_f64);
        let message = match (minimum, maximum) {
            (Some(min), Some(max)) if n < min || n > max => {
                format!("{name} must be from {min} to {max}, not {shown}")
            }
            (Some(min), None) if n < min => format!("{name} must be at least {min}, not {shown}"),
            (None, Some(max)) if n > max => format!("{name} must be at most {max}, not {shown}"),
            _ => return false,
        };
        self.error(at, message);
        true
    }

    /// `minLength` and `pattern`, said with the schema's `errorMessage`.
    fn check_text(&mut self, at: At, text: &str, schema: &'a Json, name: Name<'_>) {
        let short = schema
            .get("minLength")
            .and_then(Json::as_u64)
            .is_some_and(|min| (text.chars().count() as u64) < min);
        let unmatched = match schema.get("pattern").and_then(Json::as_str) {
            // A pattern the checker cannot compile is a bug of scimops' schemas (a test
            // compiles them all): it refuses nothing.
            Some(pattern) => compiled(pattern).is_some_and(|r| !r.is_match(text)),
            None => false,
        };
        if short || unmatched {
            // A value that may be a secret (`writeOnly`) is never repeated.
            let secret = schema.get("writeOnly") == Some(&Json::Bool(true));
            let message = match (schema.get("errorMessage").and_then(Json::as_str), secret) {
                (Some(what), true) => {
                    format!("{name} must be {what} (the value is not repeated here)")
                }
                (Some(what), false) => format!("{name} must be {what}, not {}", quoted(text)),
                (None, true) => format!("{name} is not allowed (the value is not repeated here)"),
                (None, false) => format!("{name} is not allowed: {}", quoted(text)),
            };
            self.problem(at, message);
        }
    }

    fn check_choice(&mut self, node: &Node, choices: &[&str], name: Name<'_>) {
        if matches!(&node.value, NodeValue::Str(s) if choices.contains(&s.as_str())) {
            return;
        }
        let listed: Vec<String> = choices.iter().map(|c| format!("`{c}`")).collect();
        match &node.value {
            NodeValue::Str(s) => {
                let hint =
                    suggest(s, choices.iter().copied()).map(|c| format!("did you mean `{c}`?"));
                let d = self.error(
                    node.at,
                    format!("{name} must be {}, not {s:?}", or_list(&listed)),
                );
                d.hint = hint;
            }
            other => {
                self.error(
                    node.at,
                    format!("{name} must be {}, not {}", or_list(&listed), other.kind()),
                );
            }
        }
    }

    /// `anyOf`/`oneOf`: fine when one branch fits; else the problems of the branch that
    /// fits best. An externally tagged enum (`{clientCredentials: ...}`, `{bearer: ...}`,
    /// `none`) is reported as a choice between its tags.
    fn check_branches(&mut self, node: &Node, branches: &'a [Json], name: Name<'_>) {
        let branches: Vec<&'a Json> = branches.iter().map(|b| self.resolve(b)).collect();
        if branches
            .iter()
            .any(|b| may_fit(node, b) && self.count(node, b, name) == 0)
        {
            return;
        }
        let tags: Vec<&str> = branches
            .iter()
            .filter_map(|b| {
                let required = b.get("required")?.as_array()?;
                let props = b.get("properties")?.as_object()?;
                (required.len() == 1 && props.len() == 1)
                    .then(|| required[0].as_str())
                    .flatten()
            })
            .collect();
        let consts: Vec<&str> = branches
            .iter()
            .filter_map(|b| b.get("const").and_then(Json::as_str))
            .collect();
        if tags.is_empty() && consts.len() == branches.len() {
            // An enum: one of its names.
            return self.check_choice(node, &consts, name);
        }
        if !tags.is_empty() {
            let choices: Vec<String> = tags
                .iter()
                .map(|t| format!("`{t}: ...`"))
                .chain(consts.iter().map(|c| format!("`{c}`")))
                .collect();
            match &node.value {
                NodeValue::Map(entries)
                    if entries.len() == 1 && !tags.contains(&entries[0].0.as_str()) =>
                {
                    let (key, at, _) = &entries[0];
                    let all: Vec<&str> = tags.iter().chain(consts.iter()).copied().collect();
                    let hint =
                        suggest(key, all.into_iter()).map(|c| format!("did you mean `{c}`?"));
                    let d = self.error(
                        *at,
                        format!(
                            "unknown key `{key}` in {name}: it is one of {}",
                            or_list(&choices)
                        ),
                    );
                    d.hint = hint;
                    return;
                }
                NodeValue::Map(entries) if entries.len() == 1 => {
                    // A known tag: the problems are those inside it.
                    let tagged = branches.iter().find(|b| {
                        b.get("required").and_then(Json::as_array).is_some_and(|r| {
                            r.iter().any(|t| t.as_str() == Some(entries[0].0.as_str()))
                        })
                    });
                    if let Some(branch) = tagged {
                        return self.check(node, branch, name);
                    }
                }
                NodeValue::Str(_) if !consts.is_empty() => {
                    let all: Vec<&str> = consts.iter().chain(tags.iter()).copied().collect();
                    return self.check_choice(node, &all, name);
                }
                _ => {
                    self.error(
                        node.at,
                        format!(
                            "{name} must be one of {}, not {}",
                            or_list(&choices),
                            node.value.kind()
                        ),
                    );
                    return;
                }
            }
        }
        // The branches the value's kind could be, and among them the one with the
        // fewest problems.
        let fitting: Vec<&'a Json> = branches
            .iter()
            .copied()
            .filter(|b| may_fit(node, b))
            .collect();
        match fitting.iter().min_by_key(|b| self.count(node, b, name)) {
            Some(best) => self.check(node, best, name),
            None => {
                let mut expected: Vec<String> = branches
                    .iter()
                    .flat_map(|b| types(b))
                    .filter(|t| *t != "null")
                    .map(|t| article(t).to_string())
                    .collect();
                expected.dedup();
                self.error(
                    node.at,
                    format!(
                        "{name} must be {}, not {}",
                        or_list(&expected),
                        node.value.kind()
                    ),
                );
            }
        }
    }

    fn check_map(
        &mut self,
        at: At,
        entries: &[(String, At, Node)],
        schema: &'a Json,
        name: Name<'_>,
    ) {
        let properties = schema.get("properties").and_then(Json::as_object);
        let additional = schema.get("additionalProperties");
        for (key, key_at, value) in entries {
            match properties.and_then(|p| p.get(key)) {
                Some(property) => self.check(value, property, Name::Key(key)),
                None => match additional {
                    Some(Json::Bool(false)) => {
                        let known: Vec<&str> = properties
                            .map(|p| p.keys().map(String::as_str).collect())
                            .unwrap_or_default();
                        let hint = match suggest(key, known.iter().copied()) {
                            Some(close) => format!("did you mean `{close}`?"),
                            None => format!(
                                "{name} takes {}",
                                or_list(
                                    &known.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>()
                                )
                            ),
                        };
                        let d = self.key_error(*key_at, format!("unknown key `{key}`"));
                        d.hint = Some(hint);
                    }
                    Some(extra @ Json::Object(_)) => self.check(value, extra, Name::Key(key)),
                    _ => {}
                },
            }
        }
        for required in schema
            .get("required")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
        {
            let Some(required) = required.as_str() else {
                continue;
            };
            if !entries.iter().any(|(k, _, _)| k == required) {
                self.error(at, format!("{name} needs `{required}`"));
            }
        }
        if let Some(min) = schema.get("minProperties").and_then(Json::as_u64)
            && (entries.len() as u64) < min
        {
            self.error(at, format!("{name} needs at least {min} entry"));
        }
        // `dependentRequired`: a key that goes with others (`url` with `auth`).
        if let Some(dependent) = schema.get("dependentRequired").and_then(Json::as_object) {
            for (key, key_at, _) in entries {
                let needs = dependent
                    .get(key)
                    .and_then(Json::as_array)
                    .into_iter()
                    .flatten();
                for other in needs.filter_map(Json::as_str) {
                    if !entries.iter().any(|(k, _, _)| k == other) {
                        self.problem(*key_at, format!("`{key}` needs `{other}` beside it"));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
