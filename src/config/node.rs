//! A YAML document as a tree in which every value and every key knows where it was
//! written, so that the schema check can report every problem of a file at once, each
//! at its place (serde stops at the first error).

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

use super::yaml::Located;

/// A line and a column, 1-based.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct At {
    pub line: u64,
    pub column: u64,
}

impl<T> From<&Located<T>> for At {
    fn from(l: &Located<T>) -> Self {
        Self {
            line: l.referenced.line(),
            column: l.referenced.column(),
        }
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

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let located = Located::<NodeValue>::deserialize(deserializer)?;
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
        while let Some(key) = map.next_key::<Located<String>>()? {
            let value = map.next_value::<Node>()?;
            let at = At::from(&key);
            entries.push((key.value, at, value));
        }
        Ok(NodeValue::Map(entries))
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
}
