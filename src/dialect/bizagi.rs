//! Bizagi's SCIM API, as its documentation describes it (`BIZAGI-SCIM-FACTS.md`), and
//! robust to what the documentation leaves open. Each rule cites the fact it follows.
//!
//! - userName is `user@domain` (or `domain\user` on create), case-insensitive, at most
//!   25 characters as `user@domain` (facts §4, §9.1; ambiguity 3). scimops matches on
//!   lower-case `user@domain` whichever form a file or the server uses.
//! - Users are addressed by `id` (guidUser) once read, or by userName where the target
//!   says `userKeys: userName` (ambiguity 1: the pages disagree; `scimops discover`
//!   tells which the server takes).
//! - One full name built from three parts, at least one non-empty (§4). Parts are
//!   compared with white space collapsed (ambiguity 11).
//! - One contact e-mail: sent as the only, primary, `work` entry; the stored one is read
//!   back whatever its type (§9.1). Compared without regard to case.
//! - One phone: sent as the only, primary entry of type `mobile` (ambiguity 9: the pages
//!   disagree between `mobile` and `work`; any single phone is read back).
//! - PATCH with explicit paths and `replace`/`remove` only: `add` is documented to act as
//!   replace, and filtered paths are undocumented (§6, ambiguity 14). E-mail and phone
//!   are replaced whole (`path: emails`), not through a filter.
//! - DELETE deactivates (§8): a deactivation with nothing else to change is one DELETE;
//!   together with other changes it is one PATCH setting `active: false`.
//! - The UserProperties extension is sent as a top-level member named by its URN, and
//!   the URN is listed in `schemas` (ambiguity 20).

use url::Url;

use super::common::{Contacts, Mapping, NAME_PARTS, check_email, same_email, text};
use super::{Capabilities, Derived, Dialect, Find};
use crate::diag::Diagnostic;
use crate::model::AttrMap;
use crate::model::{Attr, AttrChange, DesiredUser, ObservedUser, UserKey, Value, ValueType};
use crate::schema::{AttrDef, Attributes, UserSchema};
use crate::scim::wire::{Method, Request, user_path};

pub const PROPERTIES_URN: &str = "urn:ietf:params:scim:schemas:extension:bizagi:2.0:UserProperties";

/// Bizagi's limit on `user@domain` (facts §4).
pub const MAX_USER_NAME: usize = 25;

/// Bizagi's limit on a phone number (facts §9.1).
pub const MAX_PHONE: usize = 20;

/// The properties every Bizagi project has (facts §9.2).
pub const BUILT_IN_PROPERTIES: [(&str, ValueType); 6] = [
    ("DelegateEnabled", ValueType::Boolean),
    ("enabledForAssignation", ValueType::Boolean),
    ("createdCasesSkipAssigRules", ValueType::Boolean),
    ("offlineForms", ValueType::Boolean),
    ("normalCost", ValueType::Decimal),
    ("overtimeCost", ValueType::Decimal),
];

/// How requests name a user in their path (the target's `userKeys`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum Keys {
    /// `/Users/{guidUser}` (the default).
    #[default]
    Id,
    /// `/Users/{user@domain}`.
    UserName,
}

#[derive(Clone, Debug)]
pub struct Bizagi {
    pub mapping: Mapping,
    /// What the server says it supports. Without PATCH an update is a PUT of the whole
    /// user as read, with the changes applied (facts §7: PUT replaces everything).
    pub capabilities: Capabilities,
    pub keys: Keys,
    pub page_size: usize,
    pub paging: Option<super::Paging>,
}

impl Default for Bizagi {
    fn default() -> Self {
        Self {
            mapping: Mapping {
                properties_urn: PROPERTIES_URN.to_string(),
                phone_type: "mobile".to_string(),
                contacts: Contacts::Single,
                unsupported: Vec::new(),
                keep_raw: true,
            },
            capabilities: Capabilities::default(),
            keys: Keys::Id,
            page_size: super::PAGE_SIZE,
            paging: None,
        }
    }
}

/// `user@domain` from either written form; `None` without a domain.
pub fn split_user_name(user_name: &str) -> Option<(&str, &str)> {
    if let Some((domain, user)) = user_name.split_once('\\') {
        Some((user, domain))
    } else {
        user_name.rsplit_once('@')
    }
}

/// `local@domain`: one `@`, both parts, no white space or hidden character, at most
/// 254 characters (RFC 5321's limit on a path).
/// `+CountryCode Number`, e.g. `+57 3001234567`.
fn is_bizagi_phone(s: &str) -> bool {
    let Some((code, number)) = s.strip_prefix('+').and_then(|r| r.split_once(' ')) else {
        return false;
    };
    (1..=3).contains(&code.len())
        && code.bytes().all(|b| b.is_ascii_digit())
        && !number.is_empty()
        && !number.contains(char::is_whitespace)
        && s.chars().count() <= MAX_PHONE
}

impl Dialect for Bizagi {
    fn name(&self) -> &'static str {
        "bizagi"
    }

    fn mapping(&self) -> &Mapping {
        &self.mapping
    }

    fn capabilities(&self) -> Capabilities {
        self.capabilities
    }

    /// `admon`, Bizagi's administrator: the account scimops' OAuth application runs as
    /// (facts §2.1).
    fn protected_by_default(&self) -> &'static [&'static str] {
        &["admon", "admon@*"]
    }

    /// `{project}/oauth2/server/token`, beside `{project}/scim/v2` (facts §2.2).
    fn token_url(&self, base: &Url) -> Result<Url, (String, String)> {
        let project = base
            .path()
            .trim_end_matches('/')
            .strip_suffix("/scim/v2")
            .ok_or_else(|| {
                (
                    "cannot derive the token URL: `url` does not end in `/scim/v2`".to_string(),
                    "set `tokenUrl`, e.g. `https://my-company.bizagi.com/oauth2/server/token`"
                        .to_string(),
                )
            })?;
        let mut url = base.clone();
        url.set_path(&format!("{project}/oauth2/server/token"));
        Ok(url)
    }

    /// The documented path, then the one Bizagi's documentation prints,
    /// `/scim/v2/scim/v2/ResourceTypes` (ambiguity 17).
    fn resource_types_paths(&self) -> &'static [&'static str] {
        &["/ResourceTypes", "/scim/v2/ResourceTypes"]
    }

    /// Users are addressed by guidUser or by userName, depending on the project
    /// (ambiguity 1): `discover` tries both.
    fn key_probes(&self, id: &str, user_name: &str) -> Vec<(&'static str, String)> {
        vec![("id", user_path(id)), ("userName", user_path(user_name))]
    }

    fn qualify(&self, user_name: &str, default_domain: Option<&str>) -> String {
        let user_name = user_name.trim();
        match (split_user_name(user_name), default_domain) {
            (None, Some(domain)) => format!("{user_name}@{domain}"),
            _ => user_name.to_string(),
        }
    }

    fn key(&self, user_name: &str) -> UserKey {
        let canonical = match split_user_name(user_name.trim()) {
            Some((user, domain)) => format!("{user}@{domain}"),
            None => user_name.trim().to_string(),
        };
        UserKey::folded(&canonical)
    }

    /// At most 500 (facts §5.2: `count` cannot be greater than 500).
    fn page_size(&self) -> usize {
        self.page_size
    }

    fn paging(&self) -> Option<super::Paging> {
        self.paging
    }

    /// Integer user properties are 32-bit columns (SQL Server `int`).
    fn integer_range(&self) -> std::ops::RangeInclusive<i64> {
        i64::from(i32::MIN)..=i64::from(i32::MAX)
    }

    /// Bizagi stores no core attribute besides those of the model, and documents its
    /// built-in properties.
    fn offline_schema(&self) -> UserSchema {
        let mut properties = Attributes::default();
        for (name, ty) in BUILT_IN_PROPERTIES {
            properties.insert(AttrDef {
                name: name.into(),
                ty,
                read_only: false,
            });
        }
        let mut schema = UserSchema::new(false);
        schema.add_extension(PROPERTIES_URN, properties);
        schema
    }

    fn check_user(&self, user: &DesiredUser, out: &mut Vec<Diagnostic>) {
        match split_user_name(&user.user_name) {
            None => out.push(
                Diagnostic::error(
                    user.origin.clone(),
                    format!(
                        "userName `{}` has no domain; Bizagi users are `user@domain`",
                        user.user_name
                    ),
                )
                .hint(format!(
                    "write `{}@DOMAIN`, or set `defaults.domain` in scimops.yaml",
                    user.user_name
                )),
            ),
            Some((user_part, domain)) => {
                let canonical = format!("{user_part}@{domain}");
                let len = canonical.chars().count();
                if user_part.is_empty() || domain.is_empty() {
                    out.push(Diagnostic::error(
                        user.origin.clone(),
                        format!(
                            "userName `{}` needs both a user and a domain",
                            user.user_name
                        ),
                    ));
                } else if len > MAX_USER_NAME {
                    out.push(
                        Diagnostic::error(
                            user.origin.clone(),
                            format!(
                                "userName `{canonical}` is {len} characters long; Bizagi allows at most {MAX_USER_NAME} for `user@domain`"
                            ),
                        )
                        .hint("shorten the user part or the domain"),
                    );
                }
            }
        }

        // Bizagi keeps only its WFUser columns (facts §9.1): anything else would be
        // dropped, and every plan would show the same change again.
        for attr in user.attrs.keys() {
            if matches!(attr, Attr::Core(_) | Attr::Extension(..)) {
                out.push(
                    Diagnostic::error(
                        user.origin_of(attr).clone(),
                        format!("Bizagi does not store `{attr}`"),
                    )
                    .hint("Bizagi keeps the name, one work e-mail, one phone, `active`, and its user properties (`properties`)"),
                );
            }
        }

        let parts: Vec<_> = NAME_PARTS
            .iter()
            .filter_map(|(attr, _)| user.attrs.get(attr).map(|v| (attr, v)))
            .collect();
        for (attr, value) in &parts {
            if value.as_ref().is_some_and(|v| text(v).trim().is_empty()) {
                out.push(
                    Diagnostic::error(user.origin_of(attr).clone(), format!("`{attr}` is empty"))
                        .hint("write `null` to clear it, or leave it out to leave it as it is"),
                );
            }
        }
        if parts.len() == NAME_PARTS.len() && parts.iter().all(|(_, v)| v.is_none()) {
            out.push(
                Diagnostic::error(
                    user.origin_of(&Attr::GivenName).clone(),
                    "this clears every part of the name; Bizagi needs at least one",
                )
                .hint("keep `givenName`, `middleName` or `familyName`"),
            );
        }

        check_email(user, out);
        if let Some(Some(phone)) = user.attrs.get(&Attr::Phone)
            && !is_bizagi_phone(text(phone))
        {
            out.push(
                Diagnostic::error(
                    user.origin_of(&Attr::Phone).clone(),
                    format!(
                        "phone {phone} is not in Bizagi's format `+CountryCode Number` (at most {MAX_PHONE} characters), which Bizagi refuses"
                    ),
                )
                .hint("write it like \"+57 3001234567\": `+`, the country code, one space, the number"),
            );
        }
    }

    fn check_create(&self, user: &DesiredUser, out: &mut Vec<Diagnostic>) {
        let has_name = NAME_PARTS.iter().any(
            |(attr, _)| matches!(user.attrs.get(attr), Some(Some(v)) if !text(v).trim().is_empty()),
        );
        if !has_name {
            out.push(
                Diagnostic::error(
                    user.origin.clone(),
                    format!(
                        "`{}` does not exist yet, and Bizagi needs a name to create it",
                        user.user_name
                    ),
                )
                .hint("declare at least one of `name.givenName`, `name.middleName`, `name.familyName`"),
            );
        }
        let assignation = Attr::Property("enabledForAssignation".into());
        if !user.attrs.contains_key(&assignation) {
            out.push(
                Diagnostic::warning(
                    user.origin.clone(),
                    format!(
                        "`{}` will be created without `enabledForAssignation`; Bizagi's documentation says it must be sent for creation to work correctly",
                        user.user_name
                    ),
                )
                .hint("set `properties.enabledForAssignation` on the user or in `defaults.properties`"),
            );
        }
    }

    /// Bizagi keeps one full name and may answer it alone, as `name.formatted`
    /// (ambiguity 11). When it does, the declared parts are judged by it: all three
    /// declared, their composition (`given middle family`, empties skipped) must be it;
    /// otherwise the given name must begin it, the family name end it, and the middle
    /// name be in it. Spaces (and `_`) only separate words. A part cleared that cannot
    /// be seen is taken as cleared: never a change that only the answer's shape causes.
    fn derived(
        &self,
        attr: &Attr,
        wanted: &AttrMap<Option<Value>>,
        observed: &ObservedUser,
    ) -> Option<Derived> {
        if !NAME_PARTS.iter().any(|(a, _)| a == attr)
            || NAME_PARTS
                .iter()
                .any(|(a, _)| observed.attrs.contains_key(a))
        {
            return None;
        }
        let formatted = observed.attrs.get(&Attr::FormattedName)?;
        let words = |text: &str| -> Vec<String> {
            text.split(|c: char| c.is_whitespace() || c == '_')
                .filter(|w| !w.is_empty())
                .map(str::to_string)
                .collect()
        };
        let full = words(text(formatted));
        let declared: Vec<Option<&Value>> = NAME_PARTS
            .iter()
            .filter_map(|(a, _)| wanted.get(a).map(Option::as_ref))
            .collect();
        let same = if declared.len() == NAME_PARTS.len() {
            let composed: Vec<String> = declared
                .iter()
                .flatten()
                .flat_map(|v| words(text(v)))
                .collect();
            composed == full
        } else {
            match wanted.get(attr).and_then(Option::as_ref) {
                None => true,
                Some(want) => {
                    let part = words(text(want));
                    match attr {
                        Attr::GivenName => full.starts_with(&part),
                        Attr::FamilyName => full.ends_with(&part),
                        _ => part.is_empty() || full.windows(part.len()).any(|w| w == part),
                    }
                }
            }
        };
        Some(Derived {
            same,
            from: Attr::FormattedName,
            value: formatted.clone(),
        })
    }

    fn equivalent(&self, attr: &Attr, want: &Value, have: &Value) -> bool {
        match attr {
            // Bizagi builds one full name from the parts (ambiguity 11).
            Attr::GivenName | Attr::MiddleName | Attr::FamilyName | Attr::Phone => text(want)
                .split_whitespace()
                .eq(text(have).split_whitespace()),
            Attr::Email => same_email(want, have),
            _ => want == have,
        }
    }

    /// By userName in the path where the project takes userNames (facts §5.1:
    /// `userKeys: userName`); else by a filter if the server filters (ambiguity 7),
    /// else by listing. Never by a form of key the project may not take.
    fn find(&self, user_name: &str) -> Find {
        match self.keys {
            Keys::UserName => Find::Path(user_path(user_name)),
            Keys::Id if self.capabilities.filter => {
                Find::Filter(vec![("filter", super::user_name_filter(user_name))])
            }
            Keys::Id => Find::List,
        }
    }

    /// By guidUser, or by userName where the target says `userKeys: userName`.
    fn user_path(&self, observed: &ObservedUser) -> String {
        match self.keys {
            Keys::Id => user_path(&observed.id),
            Keys::UserName => user_path(&observed.user_name),
        }
    }

    /// A 404 for a user scimops just listed: the project may take only userNames in
    /// paths (ambiguity 1).
    fn failure_hint(&self, request: &Request, status: u16) -> Option<&'static str> {
        (status == 404 && request.method != Method::Post && self.keys == Keys::Id).then_some(
            "this Bizagi project may address users by userName only: set `userKeys: userName` on the target (`scimops discover` shows which keys it takes)",
        )
    }

    /// DELETE deactivates (facts §8): the one call for a deactivation alone; anything
    /// else is one PATCH (or PUT) of what changes.
    fn update_requests(&self, observed: &ObservedUser, changes: &[AttrChange]) -> Vec<Request> {
        if let [only] = changes
            && only.attr == Attr::Active
            && only.after == Some(Value::Boolean(false))
        {
            return vec![Request {
                method: Method::Delete,
                path: self.user_path(observed),
                if_match: observed.version.clone().filter(|_| self.capabilities.etag),
                body: None,
            }];
        }
        if changes.is_empty() {
            return Vec::new();
        }
        vec![self.mapping.update_request(
            observed,
            changes,
            self.user_path(observed),
            self.capabilities,
        )]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_names_match_in_either_form_and_any_case() {
        let b = Bizagi::default();
        assert_eq!(b.key("JDoe@Example").as_str(), "jdoe@example");
        assert_eq!(b.key(r"Example\JDoe").as_str(), "jdoe@example");
        assert_eq!(b.qualify("jdoe", Some("example")), "jdoe@example");
        assert_eq!(b.qualify(r"corp\jdoe", Some("example")), r"corp\jdoe");
        assert_eq!(b.qualify("jdoe@corp", Some("example")), "jdoe@corp");
    }

    #[test]
    fn phones_follow_bizagis_format() {
        assert!(is_bizagi_phone("+57 3001234567"));
        assert!(!is_bizagi_phone("+57 300 1234567"));
        assert!(!is_bizagi_phone("3001234567"));
        assert!(!is_bizagi_phone("+5712 3001234567"));
        assert!(!is_bizagi_phone("+57 30012345678901234"));
    }

    #[test]
    fn the_token_url_sits_beside_the_scim_base() {
        let b = Bizagi::default();
        let base: Url = "https://x.bizagi.com/scim/v2/".parse().unwrap();
        assert_eq!(
            b.token_url(&base).unwrap().as_str(),
            "https://x.bizagi.com/oauth2/server/token"
        );
        assert!(
            b.token_url(&"https://x.bizagi.com/other/".parse().unwrap())
                .is_err()
        );
    }

    #[test]
    fn emails_need_one_at_and_no_spaces() {
        use super::super::common::is_email;
        assert!(is_email("a@b"));
        assert!(!is_email("ab"));
        assert!(!is_email("a@b@c"));
        assert!(!is_email("a b@c"));
        assert!(!is_email("@c"));
    }
}
