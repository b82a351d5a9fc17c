//! A YAML document as a tree in which every value and every key knows where it was
//! written, and a serde [`Deserializer`] over that tree.
//!
//! A file is parsed once, into a [`Node`] tree. The tree is checked against the JSON
//! Schema generated from the Rust types that describe the file, which reports every
//! problem of the file at once, each at its place (serde stops at the first). The same
//! types then read the tree through [`NodeDeserializer`]: values the check refused are
//! passed over, so that one bad value does not hide the rest of its entry. The types
//! carry positions in [`Located`] values.

use std::collections::BTreeSet;
use std::fmt;

use serde::de::{
    self, Deserialize, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, SeqAccess,
    Visitor,
};

use super::yaml::Spanned;

/// A line and a column, 1-based.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct At {
    pub line: u64,
    pub column: u64,
}

impl<T> From<&Spanned<T>> for At {
    fn from(l: &Spanned<T>) -> Self {
        Self {
            line: l.referenced.line(),
            column: l.referenced.column(),
        }
    }
}

impl<T> From<&Located<T>> for At {
    fn from(l: &Located<T>) -> Self {
        l.at
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub at: At,
    pub value: NodeValue,
}

#[derive(Clone, Debug, PartialEq)]
pub enum NodeValue {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    /// Keys in the order written, each with its place.
    Map(Vec<(String, At, Node)>),
}

impl NodeValue {
    /// What kind of value this is, as a message says it: "a string", "a list"...
    pub fn kind(&self) -> String {
        match self {
            NodeValue::Null => "null".to_string(),
            NodeValue::Bool(b) => format!("the boolean {b}"),
            NodeValue::Int(i) => format!("the integer {i}"),
            NodeValue::Float(f) => format!("the number {f}"),
            NodeValue::Str(s) => format!("the string {s:?}"),
            NodeValue::Seq(_) => "a list".to_string(),
            NodeValue::Map(_) => "a mapping".to_string(),
        }
    }

    /// The JSON Schema types this value satisfies.
    pub fn json_types(&self) -> &'static [&'static str] {
        match self {
            NodeValue::Null => &["null"],
            NodeValue::Bool(_) => &["boolean"],
            NodeValue::Int(_) => &["integer", "number"],
            NodeValue::Float(_) => &["number"],
            NodeValue::Str(_) => &["string"],
            NodeValue::Seq(_) => &["array"],
            NodeValue::Map(_) => &["object"],
        }
    }
}

// ---- from the YAML parser -------------------------------------------------------------

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let located = Spanned::<NodeValue>::deserialize(deserializer)?;
        Ok(Node {
            at: At::from(&located),
            value: located.value,
        })
    }
}

impl<'de> Deserialize<'de> for NodeValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = NodeValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a YAML value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<NodeValue, E> {
        Ok(NodeValue::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<NodeValue, E> {
        Ok(NodeValue::Int(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<NodeValue, E> {
        Ok(i64::try_from(v).map_or(NodeValue::Float(v as f64), NodeValue::Int))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<NodeValue, E> {
        Ok(NodeValue::Float(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<NodeValue, E> {
        Ok(NodeValue::Str(v.to_string()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<NodeValue, E> {
        Ok(NodeValue::Str(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<NodeValue, E> {
        Ok(NodeValue::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<NodeValue, E> {
        Ok(NodeValue::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<NodeValue, D::Error> {
        NodeValue::deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<NodeValue, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(NodeValue::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<NodeValue, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<String>>()? {
            let value = map.next_value::<Node>()?;
            let at = At::from(&key);
            entries.push((key.value, at, value));
        }
        Ok(NodeValue::Map(entries))
    }
}

/// A users file read with each entry of its `users` list handed to `entry` as soon as
/// it is parsed, so that the tree of a file of 100,000 users is never whole. The
/// value is the rest of the document, with `users` an empty list; `None` when the
/// document is not a mapping with one `users` list (the caller then reads it whole,
/// and its problems are said as always).
pub struct Streamed<'f> {
    entry: &'f mut dyn FnMut(Node),
    /// The document, or the value of its `users` key (`Some` when it is a list).
    root: bool,
}

impl<'f> Streamed<'f> {
    /// The document, its entries handed to `entry`.
    pub fn document(entry: &'f mut dyn FnMut(Node)) -> Self {
        Self { entry, root: true }
    }
}

impl<'de> DeserializeSeed<'de> for Streamed<'_> {
    type Value = Option<Node>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Streamed<'_> {
    type Value = Option<Node>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a file of users")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        if !self.root {
            while map
                .next_entry::<de::IgnoredAny, de::IgnoredAny>()?
                .is_some()
            {}
            return Ok(None);
        }
        let mut members = Vec::new();
        let mut users = None;
        while let Some(key) = map.next_key::<Spanned<String>>()? {
            let at = At::from(&key);
            if key.value == "users" && users.is_none() {
                let streamed = map.next_value_seed(Streamed {
                    entry: &mut *self.entry,
                    root: false,
                })?;
                users = Some(streamed.is_some());
                let value = NodeValue::Seq(Vec::new());
                members.push((key.value, at, Node { at, value }));
            } else {
                if key.value == "users" {
                    users = Some(false);
                }
                members.push((key.value, at, map.next_value::<Node>()?));
            }
        }
        Ok((users == Some(true)).then_some(Node {
            at: At::default(),
            value: NodeValue::Map(members),
        }))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        if self.root {
            while seq.next_element::<de::IgnoredAny>()?.is_some() {}
            return Ok(None);
        }
        while let Some(item) = seq.next_element::<Node>()? {
            (self.entry)(item);
        }
        // Not the document: any value says the list was streamed.
        Ok(Some(Node {
            at: At::default(),
            value: NodeValue::Null,
        }))
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

// ---- into the types that describe the files -------------------------------------------

/// A value of a file and where it was written.
#[derive(Clone, Debug, PartialEq)]
pub struct Located<T> {
    pub value: T,
    pub at: At,
}

/// The name by which [`Located`] asks [`NodeDeserializer`] for a position.
const LOCATED: &str = "$scimops::Located";

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Located<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct LocatedVisitor<T>(std::marker::PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for LocatedVisitor<T> {
            type Value = Located<T>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a located value")
            }

            /// From a [`NodeDeserializer`]: line, column, value.
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let missing = || de::Error::custom("a located value without its value");
                let line = seq.next_element()?.ok_or_else(missing)?;
                let column = seq.next_element()?.ok_or_else(missing)?;
                let value = seq.next_element()?.ok_or_else(missing)?;
                Ok(Located {
                    value,
                    at: At { line, column },
                })
            }

            /// From any other deserializer: the value, at no known place.
            fn visit_newtype_struct<D: Deserializer<'de>>(
                self,
                deserializer: D,
            ) -> Result<Self::Value, D::Error> {
                Ok(Located {
                    value: T::deserialize(deserializer)?,
                    at: At::default(),
                })
            }
        }

        deserializer.deserialize_newtype_struct(LOCATED, LocatedVisitor(std::marker::PhantomData))
    }
}

/// What went wrong reading a tree into a type, and where.
#[derive(Debug, PartialEq)]
pub struct NodeError {
    pub message: String,
    pub at: Option<At>,
}

impl fmt::Display for NodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for NodeError {}

impl de::Error for NodeError {
    fn custom<T: fmt::Display>(message: T) -> Self {
        Self {
            message: message.to_string(),
            at: None,
        }
    }
}

/// The keys and the values a schema check refused, by place.
#[derive(Debug, Default)]
pub struct Refused {
    pub keys: BTreeSet<At>,
    pub values: BTreeSet<At>,
}

/// Reads a [`Node`] into a type; what the schema check refused is passed over, as if it
/// were not written (it was reported, at its place).
#[derive(Clone, Copy)]
pub struct NodeDeserializer<'a> {
    node: &'a Node,
    skip: &'a Refused,
}

impl<'a> NodeDeserializer<'a> {
    pub fn new(node: &'a Node, skip: &'a Refused) -> Self {
        Self { node, skip }
    }

    fn with(self, node: &'a Node) -> Self {
        Self {
            node,
            skip: self.skip,
        }
    }

    /// Locates an error that has no place yet at this node.
    fn here(self, mut error: NodeError) -> NodeError {
        error.at.get_or_insert(self.node.at);
        error
    }

    fn entries(self, only: Option<&'static [&'static str]>) -> Entries<'a> {
        let NodeValue::Map(entries) = &self.node.value else {
            unreachable!("called on maps only")
        };
        Entries {
            de: self,
            entries: entries.iter(),
            only,
            value: None,
        }
    }
}

struct Items<'a> {
    de: NodeDeserializer<'a>,
    items: std::slice::Iter<'a, Node>,
}

impl<'de> SeqAccess<'de> for Items<'_> {
    type Error = NodeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, NodeError> {
        let skip = self.de.skip;
        match self
            .items
            .by_ref()
            .find(|item| !skip.values.contains(&item.at))
        {
            Some(item) => seed.deserialize(self.de.with(item)).map(Some),
            None => Ok(None),
        }
    }
}

struct Entries<'a> {
    de: NodeDeserializer<'a>,
    entries: std::slice::Iter<'a, (String, At, Node)>,
    /// A struct's fields: other keys are passed over (the schema check reported them).
    only: Option<&'static [&'static str]>,
    value: Option<&'a Node>,
}

impl<'de> MapAccess<'de> for Entries<'_> {
    type Error = NodeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, NodeError> {
        let (skip, only) = (self.de.skip, self.only);
        let next = self.entries.by_ref().find(|(key, key_at, value)| {
            !skip.keys.contains(key_at)
                && !skip.values.contains(&value.at)
                && only.is_none_or(|fields| fields.contains(&key.as_str()))
        });
        match next {
            Some((key, _, value)) => {
                self.value = Some(value);
                seed.deserialize(key.as_str().into_deserializer()).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, NodeError> {
        let value = self
            .value
            .take()
            .ok_or_else(|| de::Error::custom("a value without a key"))?;
        seed.deserialize(self.de.with(value))
    }
}

/// A located value as a sequence: line, column, value.
struct Position<'a> {
    de: NodeDeserializer<'a>,
    next: u8,
}

impl<'de> SeqAccess<'de> for Position<'_> {
    type Error = NodeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, NodeError> {
        self.next += 1;
        let at = self.de.node.at;
        match self.next {
            1 => seed.deserialize(at.line.into_deserializer()).map(Some),
            2 => seed.deserialize(at.column.into_deserializer()).map(Some),
            3 => seed.deserialize(self.de).map(Some),
            _ => Ok(None),
        }
    }
}

/// An externally tagged enum variant written as a one-key mapping.
struct Variant<'a> {
    de: NodeDeserializer<'a>,
    tag: &'a str,
    value: Option<&'a Node>,
}

impl<'de, 'a> de::EnumAccess<'de> for Variant<'a> {
    type Error = NodeError;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self), NodeError> {
        let tag = seed.deserialize(self.tag.into_deserializer())?;
        Ok((tag, self))
    }
}

impl<'de> de::VariantAccess<'de> for Variant<'_> {
    type Error = NodeError;

    fn unit_variant(self) -> Result<(), NodeError> {
        match self.value {
            None => Ok(()),
            Some(node) if node.value == NodeValue::Null => Ok(()),
            Some(_) => Err(de::Error::custom(format!("`{}` takes no value", self.tag))),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, NodeError> {
        match self.value {
            Some(node) => seed.deserialize(self.de.with(node)),
            None => Err(de::Error::custom(format!("`{}` needs a value", self.tag))),
        }
    }

    fn tuple_variant<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, NodeError> {
        match self.value {
            Some(node) => self.de.with(node).deserialize_seq(visitor),
            None => Err(de::Error::custom(format!("`{}` needs a value", self.tag))),
        }
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, NodeError> {
        match self.value {
            Some(node) => self.de.with(node).deserialize_struct("", fields, visitor),
            None => Err(de::Error::custom(format!("`{}` needs a value", self.tag))),
        }
    }
}

impl<'de> Deserializer<'de> for NodeDeserializer<'_> {
    type Error = NodeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, NodeError> {
        let result = match &self.node.value {
            NodeValue::Null => visitor.visit_unit(),
            NodeValue::Bool(b) => visitor.visit_bool(*b),
            NodeValue::Int(i) => visitor.visit_i64(*i),
            NodeValue::Float(f) => visitor.visit_f64(*f),
            NodeValue::Str(s) => visitor.visit_str(s),
            NodeValue::Seq(items) => visitor.visit_seq(Items {
                de: self,
                items: items.iter(),
            }),
            NodeValue::Map(_) => visitor.visit_map(self.entries(None)),
        };
        result.map_err(|e| self.here(e))
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, NodeError> {
        match self.node.value {
            NodeValue::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, NodeError> {
        if name == LOCATED {
            return visitor
                .visit_seq(Position { de: self, next: 0 })
                .map_err(|e| self.here(e));
        }
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, NodeError> {
        match &self.node.value {
            NodeValue::Map(_) => visitor
                .visit_map(self.entries(Some(fields)))
                .map_err(|e| self.here(e)),
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, NodeError> {
        let result = match &self.node.value {
            NodeValue::Str(tag) => visitor.visit_enum(Variant {
                de: self,
                tag,
                value: None,
            }),
            NodeValue::Map(entries) if entries.len() == 1 => {
                let (tag, _, value) = &entries[0];
                visitor.visit_enum(Variant {
                    de: self,
                    tag,
                    value: Some(value),
                })
            }
            _ => Err(de::Error::custom(format!(
                "expected one of the choices, not {}",
                self.node.value.kind()
            ))),
        };
        result.map_err(|e| self.here(e))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Node {
        serde_saphyr::from_str(text).unwrap()
    }

    #[test]
    fn every_key_and_value_knows_its_place() {
        let node = parse("users:\n  - userName: a\n    active: yes\n    n: 3\n");
        let NodeValue::Map(top) = &node.value else {
            panic!()
        };
        let (key, key_at, users) = &top[0];
        assert_eq!((key.as_str(), key_at.line, key_at.column), ("users", 1, 1));
        let NodeValue::Seq(items) = &users.value else {
            panic!()
        };
        assert_eq!(items[0].at.line, 2);
        let NodeValue::Map(entry) = &items[0].value else {
            panic!()
        };
        assert_eq!(entry[1].0, "active");
        assert_eq!((entry[1].1.line, entry[1].1.column), (3, 5));
        assert_eq!(
            entry[1].2.at,
            At {
                line: 3,
                column: 13
            }
        );
        assert_eq!(entry[2].2.value, NodeValue::Int(3));
    }

    #[derive(Debug, serde::Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Entry {
        name: Located<String>,
        count: Option<Located<u32>>,
        #[serde(default)]
        tags: Vec<String>,
        kind: Option<Kind>,
    }

    #[derive(Debug, serde::Deserialize, PartialEq)]
    #[serde(rename_all = "camelCase")]
    enum Kind {
        Plain,
        Tagged(String),
    }

    #[test]
    fn types_read_the_tree_with_places_and_pass_over_what_was_refused() {
        let node = parse("name: ann\ncount: 3\ntags: [a, b]\nunknown: 1\nkind: {tagged: x}\n");
        let none = Refused::default();
        let entry = Entry::deserialize(NodeDeserializer::new(&node, &none)).unwrap();
        assert_eq!(entry.name.value, "ann");
        assert_eq!(entry.name.at, At { line: 1, column: 7 });
        assert_eq!(entry.count.unwrap().at, At { line: 2, column: 8 });
        assert_eq!(entry.tags, ["a", "b"]);
        assert_eq!(entry.kind, Some(Kind::Tagged("x".into())));

        // `count` refused by the schema check: read as if absent.
        let bad = parse("name: ann\ncount: many\nkind: plain\n");
        let skip = Refused {
            values: BTreeSet::from([At { line: 2, column: 8 }]),
            ..Refused::default()
        };
        let entry = Entry::deserialize(NodeDeserializer::new(&bad, &skip)).unwrap();
        assert_eq!(entry.count, None);
        assert_eq!(entry.kind, Some(Kind::Plain));

        // Not passed over: the error is located.
        let err = Entry::deserialize(NodeDeserializer::new(&bad, &none)).unwrap_err();
        assert_eq!(err.at, Some(At { line: 2, column: 8 }));
    }
}
