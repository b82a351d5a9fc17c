//! SCIM 2.0 on the wire (RFC 7643/7644): URNs, requests, PatchOp, errors.
//!
//! User resources stay `serde_json::Value`: servers add members we do not model, and a
//! typed struct would drop them (a PUT built from it would then erase them).

use std::fmt;

use serde::{Deserialize, Serialize};

pub const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const PATCH_OP_URN: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const LIST_RESPONSE_URN: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const ERROR_URN: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
pub const SCIM_JSON: &str = "application/scim+json";

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One HTTP request a plan will send, exactly: `path` is relative to the SCIM base
/// URL and already percent-encoded.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Request {
    pub method: Method,
    pub path: String,
    /// The `If-Match` header: the user's version when it was read (servers with ETags).
    #[serde(default, rename = "ifMatch", skip_serializing_if = "Option::is_none")]
    pub if_match: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<serde_json::Value>,
}

impl fmt::Display for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

/// `/Users/{key}`, with the key percent-encoded as one path segment (`@` and `\`
/// included, as Bizagi's keys are `user@domain` or `domain\user`).
pub fn user_path(key: &str) -> String {
    format!("/Users/{}", encode_segment(key))
}

fn encode_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// One operation of a PatchOp (RFC 7644 §3.5.2).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PatchOperation {
    pub op: PatchOpKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<serde_json::Value>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PatchOpKind {
    Add,
    Replace,
    Remove,
}

pub fn patch_body(operations: Vec<PatchOperation>) -> serde_json::Value {
    serde_json::json!({
        "schemas": [PATCH_OP_URN],
        "Operations": operations,
    })
}

/// A ListResponse (RFC 7644 §3.4.2): what listings, filters and discovery answer.
///
/// Read leniently, in one place: member names match without regard to case (SCIM
/// attribute names are case-insensitive: `Resources` and `resources` are the same), an
/// absent `Resources` is an empty list, and a bare array (some servers answer discovery
/// that way) is the list itself. Resources are read into `T` as they come: a page is
/// never held twice.
#[derive(Debug)]
pub struct ListResponse<T> {
    pub total_results: Option<u64>,
    pub items_per_page: Option<u64>,
    pub start_index: Option<u64>,
    pub resources: Vec<T>,
}

impl<T> Default for ListResponse<T> {
    fn default() -> Self {
        Self {
            total_results: None,
            items_per_page: None,
            start_index: None,
            resources: Vec::new(),
        }
    }
}

impl ListResponse<serde_json::Value> {
    /// A parsed answer as a ListResponse; anything else is an empty one.
    pub fn from_value(body: serde_json::Value) -> Self {
        let serde_json::Value::Object(mut members) = body else {
            return serde_json::from_value(body).unwrap_or_default();
        };
        // The resources are moved out, not read again into new values (a page of 1,000
        // users is not rebuilt); the rest is read as any ListResponse. As there, the last
        // `Resources` in any case wins, and one that is not a list makes no list.
        let names: Vec<String> = members
            .keys()
            .filter(|k| k.eq_ignore_ascii_case("resources"))
            .cloned()
            .collect();
        let resources = names.iter().filter_map(|k| members.remove(k)).last();
        let Ok(mut list) = serde_json::from_value::<Self>(serde_json::Value::Object(members))
        else {
            return Self::default();
        };
        match resources {
            None | Some(serde_json::Value::Null) => {}
            Some(serde_json::Value::Array(items)) => list.resources = items,
            Some(_) => return Self::default(),
        }
        list
    }

    /// Whether `body` is a ListResponse (and not a single resource).
    pub fn is_list(body: &serde_json::Value) -> bool {
        match body {
            serde_json::Value::Array(_) => true,
            serde_json::Value::Object(members) => members.keys().any(|k| {
                ["resources", "totalresults", "itemsperpage"]
                    .contains(&k.to_ascii_lowercase().as_str())
            }),
            _ => false,
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for ListResponse<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::{IgnoredAny, MapAccess, SeqAccess, Visitor};

        struct Lists<T>(std::marker::PhantomData<T>);

        /// A count that may come as a number or as a numeric string.
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Count {
            Number(u64),
            Text(String),
            Other(IgnoredAny),
        }

        impl Count {
            fn value(self) -> Option<u64> {
                match self {
                    Count::Number(n) => Some(n),
                    Count::Text(t) => t.trim().parse().ok(),
                    Count::Other(_) => None,
                }
            }
        }

        impl<'de, T: Deserialize<'de>> Visitor<'de> for Lists<T> {
            type Value = ListResponse<T>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a SCIM ListResponse")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut resources = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
                while let Some(item) = seq.next_element()? {
                    resources.push(item);
                }
                Ok(ListResponse {
                    resources,
                    ..ListResponse::default()
                })
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut list = ListResponse::default();
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    match key.to_ascii_lowercase().as_str() {
                        "resources" => {
                            list.resources =
                                map.next_value::<Option<Vec<T>>>()?.unwrap_or_default();
                        }
                        "totalresults" => list.total_results = map.next_value::<Count>()?.value(),
                        "itemsperpage" => list.items_per_page = map.next_value::<Count>()?.value(),
                        "startindex" => list.start_index = map.next_value::<Count>()?.value(),
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(list)
            }
        }

        deserializer.deserialize_any(Lists(std::marker::PhantomData))
    }
}

/// A SCIM error body (RFC 7644 §3.12). `status` is a string in the RFC; some servers
/// send a number.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScimError {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scim_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl ScimError {
    /// The body of an error response as the sandbox sends it.
    pub fn body(status: u16, scim_type: Option<&str>, detail: &str) -> serde_json::Value {
        let mut body = serde_json::json!({
            "schemas": [ERROR_URN],
            "status": status.to_string(),
            "detail": detail,
        });
        if let Some(t) = scim_type {
            body["scimType"] = t.into();
        }
        body
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_responses_are_read_whatever_the_case_of_their_members() {
        let page: ListResponse<serde_json::Value> = serde_json::from_str(
            r#"{"schemas": [], "totalresults": "3", "ItemsPerPage": 2, "resources": [{"id": "a"}, {"id": "b"}]}"#,
        )
        .unwrap();
        assert_eq!(page.total_results, Some(3));
        assert_eq!(page.items_per_page, Some(2));
        assert_eq!(page.resources.len(), 2);
        let bare = ListResponse::from_value(serde_json::json!([{"id": "a"}]));
        assert_eq!(bare.resources.len(), 1);
        let none = ListResponse::from_value(serde_json::json!({"totalResults": 0}));
        assert!(none.resources.is_empty());
        assert!(ListResponse::is_list(&serde_json::json!({"Resources": []})));
        assert!(!ListResponse::is_list(&serde_json::json!({"id": "a"})));
    }

    /// A parsed answer (`from_value`, which moves its resources) reads as the answer's
    /// text does.
    #[test]
    fn list_responses_read_alike_from_text_and_from_values() {
        for text in [
            r#"{"totalResults": "2", "Resources": [{"id": "a"}, {"id": "b"}]}"#,
            r#"{"Resources": [{"id": "a"}], "resources": [{"id": "b"}, {"id": "c"}]}"#,
            r#"{"Resources": [{"id": "a"}], "resources": null, "startIndex": 3}"#,
            r#"{"RESOURCES": {"id": "a"}, "totalResults": 1}"#,
            r#"{"resources": [], "itemsPerPage": "x"}"#,
            r#"{"totalResults": [1], "Resources": [1, "two", null]}"#,
            r#"[{"id": "a"}]"#,
            r#""a string""#,
        ] {
            let read: ListResponse<serde_json::Value> =
                serde_json::from_str(text).unwrap_or_default();
            let moved = ListResponse::from_value(serde_json::from_str(text).unwrap());
            assert_eq!(
                (
                    read.total_results,
                    read.items_per_page,
                    read.start_index,
                    read.resources
                ),
                (
                    moved.total_results,
                    moved.items_per_page,
                    moved.start_index,
                    moved.resources
                ),
                "{text}"
            );
        }
    }

    #[test]
    fn user_keys_are_encoded_as_one_segment() {
        assert_eq!(user_path("jdoe@example"), "/Users/jdoe%40example");
        assert_eq!(user_path(r"example\jdoe"), "/Users/example%5Cjdoe");
        assert_eq!(user_path("a b/c"), "/Users/a%20b%2Fc");
        assert_eq!(
            user_path("5f0c-AB_1.~"),
            "/Users/5f0c-AB_1.~",
            "unreserved characters stay"
        );
    }
}
