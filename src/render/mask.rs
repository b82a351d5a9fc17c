//! Masking personal data (e-mail addresses, phone numbers) in what people read, for
//! plans posted where more people see them than should (`--mask-pii`). UserNames stay:
//! reviewers need them to know whose access changes.

use serde_json::Value as Json;

/// `jane.doe@acme.example` → `j***@acme.example`.
pub fn email(text: &str) -> String {
    match text.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".to_string(),
    }
}

/// `+57 3001234567` → `+57 ******4567`: the country code and the last four digits.
pub fn phone(text: &str) -> String {
    let (prefix, number) = match text.split_once(' ') {
        Some((code, rest)) if code.starts_with('+') => (format!("{code} "), rest),
        _ => (String::new(), text),
    };
    let chars: Vec<char> = number.chars().collect();
    let keep = chars.len().saturating_sub(4);
    let masked: String = chars
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if i < keep && c.is_ascii_alphanumeric() {
                '*'
            } else {
                *c
            }
        })
        .collect();
    format!("{prefix}{masked}")
}

/// Which masking an attribute (as files name it) needs, if any.
pub fn for_attribute(attribute: &str) -> Option<fn(&str) -> String> {
    match attribute {
        "email" => Some(email),
        "phone" => Some(phone),
        _ => None,
    }
}

/// A JSON value masked with `mask` (strings inside it, recursively).
fn masked(value: &Json, mask: fn(&str) -> String) -> Json {
    match value {
        Json::String(s) => Json::String(mask(s)),
        Json::Array(items) => Json::Array(items.iter().map(|i| masked(i, mask)).collect()),
        Json::Object(obj) => Json::Object(
            obj.iter()
                .map(|(k, v)| {
                    let v = if k == "value" {
                        masked(v, mask)
                    } else {
                        v.clone()
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

fn attribute_mask(name: &str) -> Option<fn(&str) -> String> {
    let name = name.split(['[', '.']).next().unwrap_or(name);
    if name.eq_ignore_ascii_case("emails") {
        Some(email)
    } else if name.eq_ignore_ascii_case("phoneNumbers") {
        Some(phone)
    } else {
        None
    }
}

/// A request body with e-mails and phones masked: in `emails` and `phoneNumbers` of a
/// resource, and in the values of PatchOp operations on those paths.
pub fn body(body: &Json) -> Json {
    let Json::Object(obj) = body else {
        return body.clone();
    };
    let mut out = obj.clone();
    for (key, value) in out.iter_mut() {
        if let Some(mask) = attribute_mask(key) {
            *value = masked(value, mask);
        }
    }
    if let Some(Json::Array(ops)) = out.get_mut("Operations") {
        for op in ops {
            let mask = op
                .get("path")
                .and_then(Json::as_str)
                .and_then(attribute_mask);
            if let (Some(mask), Some(value)) = (mask, op.get_mut("value")) {
                *value = match &*value {
                    Json::String(s) => Json::String(mask(s)),
                    other => masked(other, mask),
                };
            }
        }
    }
    Json::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn emails_and_phones_keep_only_what_identifies_them_loosely() {
        assert_eq!(email("jane.doe@acme.example"), "j***@acme.example");
        assert_eq!(phone("+57 3001234567"), "+57 ******4567");
        assert_eq!(phone("555-0100"), "***-0100");
    }

    #[test]
    fn bodies_are_masked_where_personal_data_is() {
        let post = json!({
            "userName": "jdoe@acme",
            "emails": [{"value": "jane@acme.example", "type": "work"}],
            "phoneNumbers": [{"value": "+57 3001234567"}],
        });
        let m = body(&post);
        assert_eq!(m["userName"], "jdoe@acme");
        assert_eq!(m["emails"][0]["value"], "j***@acme.example");
        assert_eq!(m["emails"][0]["type"], "work");
        assert_eq!(m["phoneNumbers"][0]["value"], "+57 ******4567");
        let patch = json!({"Operations": [
            {"op": "replace", "path": "emails", "value": [{"value": "jane@acme.example"}]},
            {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "jane@acme.example"},
            {"op": "replace", "path": "name.givenName", "value": "Jane"},
        ]});
        let m = body(&patch);
        assert_eq!(m["Operations"][0]["value"][0]["value"], "j***@acme.example");
        assert_eq!(m["Operations"][1]["value"], "j***@acme.example");
        assert_eq!(m["Operations"][2]["value"], "Jane");
    }
}
