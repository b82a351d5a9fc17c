//! The only module that knows which YAML crate parses the files (serde-saphyr), so a
//! swap is a one-file change. It turns parse errors into located [`Diagnostic`]s and
//! keeps where each value was written ([`Located`]).

use std::path::Path;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_saphyr::MessageFormatter;

use crate::diag::Diagnostic;
use crate::model::Origin;

/// A value and where the parser found it (for the [`super::node::Node`] tree).
pub type Spanned<T> = serde_saphyr::Spanned<T>;

pub use super::node::Located;

/// Bounds on what a file may make the parser do. serde-saphyr's defaults already stop
/// alias bombs and deep nesting; the node and event caps are raised so that one file
/// can declare a directory of 100,000 users.
fn options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        strict_booleans: true,
        budget: serde_saphyr::budget! {
            max_nodes: 10_000_000,
            max_events: 20_000_000,
        },
    }
}

/// Parses `text`, read from `file` (a path relative to the repository, for messages).
/// An empty document parses as `T::default()`.
pub fn parse<T: DeserializeOwned + Default>(file: &Path, text: &str) -> Result<T, Diagnostic> {
    if is_blank(text) {
        return Ok(T::default());
    }
    serde_saphyr::from_str_with_options(text, options()).map_err(|err| located(file, text, &err))
}

/// Parses `text` into a tree that keeps every place, for the schema check. An empty
/// document is an empty mapping.
pub fn parse_node(file: &Path, text: &str) -> Result<super::node::Node, Diagnostic> {
    if is_blank(text) {
        return Ok(super::node::Node {
            at: super::node::At::default(),
            value: super::node::NodeValue::Map(Vec::new()),
        });
    }
    serde_saphyr::from_str_with_options(text, options()).map_err(|err| located(file, text, &err))
}

/// Parses `text`, handing each entry of its `users` list to `entry` as it is read (see
/// [`super::node::Streamed`]): the rest of the document, or `None` when it is not a
/// mapping with one `users` list, to read whole with [`parse_node`]. A parse error
/// may come after some entries were handed over.
pub fn parse_users(
    file: &Path,
    text: &str,
    entry: &mut dyn FnMut(super::node::Node),
) -> Result<Option<super::node::Node>, Diagnostic> {
    use serde::de::DeserializeSeed;
    if is_blank(text) {
        return Ok(None);
    }
    serde_saphyr::with_deserializer_from_str_with_options(text, options(), |deserializer| {
        super::node::Streamed::document(entry).deserialize(deserializer)
    })
    .map_err(|err| located(file, text, &err))
}

fn located(file: &Path, text: &str, err: &serde_saphyr::Error) -> Diagnostic {
    // YAML indents with spaces only, but a parser reports a tab where the value it was
    // reading began: point at the tab itself.
    if let Some((line, column)) = indenting_tab(text) {
        return Diagnostic::error(
            Some(Origin {
                file: file.into(),
                line,
                column,
            }),
            "a tab indents this line; YAML indents with spaces only",
        )
        .hint("replace the tab with spaces");
    }
    let origin = err
        .location()
        .filter(|l| l.line() > 0)
        .map(|l| origin_at(file, &l));
    let message = serde_saphyr::UserMessageFormatter
        .format_message(err.without_snippet())
        .into_owned();
    let d = Diagnostic::error(origin.or_else(|| Some(whole_file(file))), "");
    match message.strip_prefix("YAML document too large or too complex: limits breached: ") {
        Some(breach) if breach.starts_with("Depth") => Diagnostic {
            message: "the document nests deeper than 64 levels".into(),
            ..d
        }
        .hint("user files are shallow: look for brackets that do not close"),
        Some(_) => Diagnostic {
            message: "the document is too large, or its aliases expand too far".into(),
            ..d
        }
        .hint(
            "scimops refuses documents that would expand beyond its limits; write the values out",
        ),
        None => Diagnostic { message, ..d },
    }
}

/// The first line indented with a tab: its line and the tab's column.
fn indenting_tab(text: &str) -> Option<(u64, u64)> {
    text.lines().enumerate().find_map(|(i, line)| {
        let indent = &line[..line.len() - line.trim_start_matches([' ', '\t']).len()];
        let tab = indent.find('\t')?;
        Some((i as u64 + 1, tab as u64 + 1))
    })
}

/// Only comments and white space.
fn is_blank(text: &str) -> bool {
    text.lines()
        .map(str::trim)
        .all(|l| l.is_empty() || l.starts_with('#') || l == "---")
}

pub fn origin_at(file: &Path, location: &serde_saphyr::Location) -> Origin {
    Origin {
        file: file.into(),
        line: location.line(),
        column: location.column(),
    }
}

/// Where a located value was written.
pub fn origin<T>(file: &Arc<Path>, value: &Located<T>) -> Origin {
    Origin {
        file: file.clone(),
        line: value.at.line,
        column: value.at.column,
    }
}

pub fn whole_file(file: &Path) -> Origin {
    Origin {
        file: file.into(),
        line: 0,
        column: 0,
    }
}

/// For fields where an explicit `null` means something else than leaving the key out:
/// absent is `None`, `null` is `Some(None)` (with `#[serde(default)]`).
pub fn nullable<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}
