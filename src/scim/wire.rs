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
