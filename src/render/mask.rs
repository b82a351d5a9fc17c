//! Masking private data in what people read (`--mask-pii`), for plans posted where
//! more people see them than should.
//!
//! What is private is the repository's choice (`private:` in `scimops.yaml`; by
//! default e-mails and phones), carried by the plan. Masking makes a copy of the plan
//! with every private value masked: in the changes, in the request bodies, in what
//! apply reports. Every view renders that copy, so no view can forget. UserNames stay:
//! reviewers need them to know whose access changes. A masked plan is for reading:
//! `apply` refuses it.

use serde_json::Value as Json;

use crate::model::{Attr, AttrChange, Value};
use crate::plan::{Plan, UserChange};

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

/// Any other private text: its first character, then `***`.
pub fn other(text: &str) -> String {
    let first: String = text.chars().take(1).collect();
    format!("{first}***")
}

/// The attributes a repository calls private, as user files name them.
#[derive(Clone, Debug)]
pub struct Private<'a>(pub &'a [Attr]);

impl Private<'_> {
    fn has(&self, attr: &Attr) -> bool {
        self.0.iter().any(|p| match (p, attr) {
            (Attr::Property(a), Attr::Property(b)) | (Attr::Core(a), Attr::Core(b)) => {
                a.eq_ignore_ascii_case(b)
            }
            (Attr::Extension(a), Attr::Extension(b)) => {
                a.0.eq_ignore_ascii_case(&b.0) && a.1.eq_ignore_ascii_case(&b.1)
            }
            (p, a) => p == a,
        })
    }

    /// How a value of `attr` is masked, if it is private.
    fn mask(&self, attr: &Attr) -> Option<fn(&str) -> String> {
        if !self.has(attr) {
            return None;
        }
        Some(match attr {
            Attr::Email => email,
            Attr::Phone => phone,
            _ => other,
        })
    }

    /// A value of `attr`, masked if it is private (numbers and dates become text).
    pub fn value(&self, attr: &Attr, value: &Value) -> Value {
        match (self.mask(attr), value) {
            (None, v) => v.clone(),
            (Some(mask), Value::String(s)) => Value::String(mask(s)),
            (Some(_), _) => Value::String("***".to_string()),
        }
    }

    fn change(&self, c: &AttrChange) -> AttrChange {
        AttrChange {
            before: c.before.as_ref().map(|v| self.value(&c.attr, v)),
            after: c.after.as_ref().map(|v| self.value(&c.attr, v)),
            ..c.clone()
        }
    }

    /// The attribute a member of a User resource (or a PatchOp path) holds.
    fn member(&self, path: &str) -> Option<Attr> {
        let head = path.split(['[', '.']).next().unwrap_or(path);
        if head.eq_ignore_ascii_case("emails") {
            return Some(Attr::Email);
        }
        if head.eq_ignore_ascii_case("phoneNumbers") {
            return Some(Attr::Phone);
        }
        if let Some(part) = path.strip_prefix("name.") {
            return Some(match part {
                "givenName" => Attr::GivenName,
                "middleName" => Attr::MiddleName,
                "familyName" => Attr::FamilyName,
                _ => Attr::FormattedName,
            });
        }
        if path.starts_with("urn:")
            && let Some((urn, member)) = path.rsplit_once(':')
        {
            return Some(self.extension(urn, member));
        }
        Some(Attr::Core(head.into()))
    }

    /// A member of an extension: a user property when a private property has its name.
    fn extension(&self, urn: &str, member: &str) -> Attr {
        let property = Attr::Property(member.into());
        if self.has(&property) {
            property
        } else {
            Attr::extension(urn, member)
        }
    }

    /// A JSON value of `attr`: strings masked (in contact lists, their `value`).
    fn json(&self, attr: &Attr, value: &Json) -> Json {
        let Some(mask) = self.mask(attr) else {
            return value.clone();
        };
        match value {
            Json::String(s) => Json::String(mask(s)),
            Json::Array(items) => Json::Array(items.iter().map(|i| self.json(attr, i)).collect()),
            Json::Object(obj) => Json::Object(
                obj.iter()
                    .map(|(k, v)| {
                        let v = if k == "value" {
                            self.json(attr, v)
                        } else {
                            v.clone()
                        };
                        (k.clone(), v)
                    })
                    .collect(),
            ),
            Json::Null => Json::Null,
            _ => Json::String("***".to_string()),
        }
    }

    /// A request body with private values masked: a User resource's members (its name
    /// parts, contacts, core attributes, extension members), and PatchOp values.
    pub fn body(&self, body: &Json) -> Json {
        let Json::Object(obj) = body else {
            return body.clone();
        };
        let mut out = obj.clone();
        for (key, value) in out.iter_mut() {
            match (key.as_str(), &mut *value) {
                ("userName" | "schemas" | "id" | "active" | "Operations", _) => {}
                ("name", Json::Object(name)) => {
                    let any_part = [Attr::GivenName, Attr::MiddleName, Attr::FamilyName]
                        .iter()
                        .any(|a| self.has(a));
                    for (part, v) in name.iter_mut() {
                        let attr = self.member(&format!("name.{part}"));
                        match (attr, &*v) {
                            // A full name built from private parts: masked as a whole.
                            (Some(Attr::FormattedName), Json::String(full)) if any_part => {
                                *v = Json::String(other(full));
                            }
                            (Some(attr), _) => *v = self.json(&attr, v),
                            (None, _) => {}
                        }
                    }
                }
                (urn, Json::Object(members)) if urn.starts_with("urn:") => {
                    for (member, v) in members.iter_mut() {
                        *v = self.json(&self.extension(urn, member), v);
                    }
                }
                (member, v) => {
                    if let Some(attr) = self.member(member) {
                        *v = self.json(&attr, v);
                    }
                }
            }
        }
        if let Some(Json::Array(ops)) = out.get_mut("Operations") {
            for op in ops {
                let attr = op
                    .get("path")
                    .and_then(Json::as_str)
                    .and_then(|p| self.member(p));
                if let (Some(attr), Some(value)) = (attr, op.get_mut("value")) {
                    *value = self.json(&attr, value);
                }
            }
        }
        Json::Object(out)
    }

    /// An apply outcome with the values it reports masked: what the server did not
    /// keep, and the user's private values wherever a message repeats them (a server's
    /// error may quote what it was sent: "e-mail jane@acme.example is taken"). `user`
    /// is the plan's entry the outcome is of.
    pub fn outcome(
        &self,
        outcome: &crate::apply::Outcome,
        user: Option<&UserChange>,
    ) -> crate::apply::Outcome {
        use crate::apply::Status;
        let mut outcome = outcome.clone();
        // Made only for a message to mask: most outcomes have none.
        let text = |message: &mut String| {
            let values = user.map(|u| self.values(u)).unwrap_or_default();
            *message = masked_in(message, &values);
        };
        match &mut outcome.status {
            Status::Unkept(unkept) => {
                for u in unkept {
                    u.sent = u.sent.as_ref().map(|v| self.value(&u.attr, v));
                }
            }
            Status::Failed(message) | Status::Skipped(message) => text(message),
            Status::Applied { note } => note.iter_mut().for_each(text),
        }
        outcome
    }

    /// The private values of a plan's entry, in its changes and its requests, each with
    /// its mask; the longest first, so that a value inside another is masked with it.
    fn values(&self, user: &UserChange) -> Vec<(String, String)> {
        let mut pairs = Vec::new();
        for change in &user.changes {
            for value in [&change.before, &change.after].into_iter().flatten() {
                if let Value::String(raw) = value
                    && let Value::String(masked) = self.value(&change.attr, value)
                    && *raw != masked
                {
                    pairs.push((raw.clone(), masked));
                }
            }
        }
        for body in user.requests.iter().filter_map(|r| r.body.as_ref()) {
            differing(body, &self.body(body), &mut pairs);
        }
        pairs.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.cmp(b)));
        pairs.dedup();
        pairs
    }

    /// A copy of `plan` with every private value masked, marked `masked`.
    pub fn plan(&self, plan: &Plan) -> Plan {
        let mut masked = plan.clone();
        masked.masked = true;
        for user in &mut masked.users {
            user.changes = user.changes.iter().map(|c| self.change(c)).collect();
            for request in &mut user.requests {
                request.body = request.body.as_ref().map(|b| self.body(b));
            }
        }
        masked
    }
}

/// The strings `masked` masks in `raw` (the same JSON, masked), with their masks.
fn differing(raw: &Json, masked: &Json, pairs: &mut Vec<(String, String)>) {
    match (raw, masked) {
        (Json::String(a), Json::String(b)) if a != b => pairs.push((a.clone(), b.clone())),
        (Json::Array(a), Json::Array(b)) => {
            for (a, b) in a.iter().zip(b) {
                differing(a, b, pairs);
            }
        }
        (Json::Object(a), Json::Object(b)) => {
            for (key, a) in a {
                if let Some(b) = b.get(key) {
                    differing(a, b, pairs);
                }
            }
        }
        _ => {}
    }
}

/// `text` with each value of `pairs` replaced by its mask, as written and in lower
/// case (servers often fold e-mails). Values under 3 characters are left: masking
/// every "1" or "ab" of a message would hide the message, not the person.
fn masked_in(text: &str, pairs: &[(String, String)]) -> String {
    let mut text = text.to_string();
    for (raw, masked) in pairs.iter().filter(|(raw, _)| raw.chars().count() >= 3) {
        text = text.replace(raw.as_str(), masked);
        let lower = raw.to_lowercase();
        if lower != *raw {
            text = text.replace(&lower, masked);
        }
    }
    text
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
        assert_eq!(other("Lovelace"), "L***");
    }

    #[test]
    fn bodies_are_masked_where_private_data_is() {
        let private = [
            Attr::Email,
            Attr::Phone,
            Attr::FamilyName,
            Attr::Property("IdentificationNumber".into()),
        ];
        let private = Private(&private);
        let post = json!({
            "userName": "jdoe@acme",
            "name": {"givenName": "Jane", "familyName": "Doe", "formatted": "Jane Doe"},
            "emails": [{"value": "jane@acme.example", "type": "work"}],
            "phoneNumbers": [{"value": "+57 3001234567"}],
            "urn:ietf:params:scim:schemas:extension:bizagi:2.0:UserProperties": {"IdentificationNumber": "CC-42", "Level": 3},
        });
        let m = private.body(&post);
        assert_eq!(m["userName"], "jdoe@acme");
        assert_eq!(m["name"]["givenName"], "Jane");
        assert_eq!(m["name"]["familyName"], "D***");
        assert_eq!(m["name"]["formatted"], "J***");
        assert_eq!(m["emails"][0]["value"], "j***@acme.example");
        assert_eq!(m["emails"][0]["type"], "work");
        assert_eq!(m["phoneNumbers"][0]["value"], "+57 ******4567");
        let ext = &m["urn:ietf:params:scim:schemas:extension:bizagi:2.0:UserProperties"];
        assert_eq!(ext["IdentificationNumber"], "C***");
        assert_eq!(ext["Level"], 3);
        let patch = json!({"Operations": [
            {"op": "replace", "path": "emails", "value": [{"value": "jane@acme.example"}]},
            {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "jane@acme.example"},
            {"op": "replace", "path": "name.givenName", "value": "Jane"},
            {"op": "replace", "path": "name.familyName", "value": "Doe"},
            {"op": "replace", "path": "urn:ietf:params:scim:schemas:extension:bizagi:2.0:UserProperties:IdentificationNumber", "value": "CC-42"},
            {"op": "replace", "path": "userName", "value": "jane@acme"},
        ]});
        let m = private.body(&patch);
        assert_eq!(m["Operations"][0]["value"][0]["value"], "j***@acme.example");
        assert_eq!(m["Operations"][1]["value"], "j***@acme.example");
        assert_eq!(m["Operations"][2]["value"], "Jane");
        assert_eq!(m["Operations"][3]["value"], "D***");
        assert_eq!(m["Operations"][4]["value"], "C***");
        assert_eq!(m["Operations"][5]["value"], "jane@acme");
    }
}
