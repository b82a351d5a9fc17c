//! The kinds of text the files hold, as their JSON Schemas say them: a pattern (valid
//! in the ECMAScript dialect editors use and in the `regex` crate the checker uses) and,
//! for people, what a value must be (`errorMessage`, which yaml-language-server shows).
//!
//! Only what a file can be refused for on its own is here; what needs the target (its
//! dialect's limits) or the server is checked by `validate` and `plan`.

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};

/// Characters that hide or fake what a reviewer reads (see `escape::hidden`).
const HIDDEN: &str = r"\u0000-\u001F\u007F-\u009F\u00AD\u061C\u180E\u200B-\u200F\u2028-\u202E\u2060-\u2064\u2066-\u206F\uFEFF\uFFF9-\uFFFB";

/// Controls and bidi overrides: never in a name (zero-width joiners are: Persian and
/// Indic names need them).
const CONTROLS: &str = r"\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069";

/// One path segment that is not `..`, and does not start with `/`.
const SEGMENT: &str = r"(?:[^./][^/]*|\.[^./][^/]*|\.\.[^/]+|\.)";

macro_rules! text {
    ($name:ident, $title:literal, $schema:expr) => {
        #[doc = $title]
        pub struct $name;

        impl JsonSchema for $name {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }

            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                $schema
            }
        }
    };
}

text!(
    UserNameText,
    "A userName: visible characters, no white space, at most one `@`.",
    json_schema!({
        "type": "string",
        "pattern": format!(r"^[^@\s{HIDDEN}]+(@[^@\s{HIDDEN}]+)?$"),
        "errorMessage": "a userName (`user@domain`, or `user` with the default domain) in visible characters, without white space, with one `@` at most",
    })
);

text!(
    EmailText,
    "An e-mail address: `local@domain` in visible characters, without white space.",
    json_schema!({
        "type": "string",
        "pattern": format!(r"^[^@\s{HIDDEN}]+@[^@\s{HIDDEN}]+$"),
        "errorMessage": "an e-mail address, `name@example.com`, in visible characters",
    })
);

text!(
    PhoneText,
    "A phone number: digits, in visible characters.",
    json_schema!({
        "type": "string",
        "pattern": format!(r"^[^{HIDDEN}]*[0-9][^{HIDDEN}]*$"),
        "errorMessage": "a phone number, `+CountryCode Number`, in visible characters",
    })
);

text!(
    NamePartText,
    "A part of a name: not empty, in visible characters.",
    json_schema!({
        "type": "string",
        "pattern": format!(r"^[^{CONTROLS}]*\S[^{CONTROLS}]*$"),
        "errorMessage": "a name without control characters or bidi overrides, not empty (`null` clears it)",
    })
);

text!(
    DomainText,
    "A domain: visible characters, no white space, no `@`.",
    json_schema!({
        "type": "string",
        "pattern": format!(r"^[^@\s{HIDDEN}]+$"),
        "errorMessage": "a domain such as `acme`, without `@` or white space",
    })
);

text!(
    SecretText,
    "A reference to an environment variable: `${NAME}`.",
    json_schema!({
        "type": "string",
        "pattern": r"^\s*\$\{[A-Za-z_][A-Za-z0-9_]*\}\s*$",
        // A value written here may be a secret: messages never repeat it.
        "writeOnly": true,
        "errorMessage": "a reference to an environment variable, like `${BIZAGI_CLIENT_SECRET}`: secrets are not written in files",
    })
);

text!(
    UrlText,
    "An http(s) URL without a user name or password.",
    json_schema!({
        "type": "string",
        "pattern": format!(r"^\s*https?://[^/@\s{HIDDEN}]+(/[^\s{HIDDEN}]*)?\s*$"),
        // A URL with `user:password@` carries a secret: messages never repeat it.
        "writeOnly": true,
        "errorMessage": "an `https://` URL, without `user:password@` (credentials go in `auth`)",
    })
);

text!(
    PathText,
    "A path inside the repository: relative, without `..`.",
    json_schema!({
        "type": "string",
        "pattern": format!(r"^{SEGMENT}(/{SEGMENT}?)*$"),
        "errorMessage": "a path inside the repository: relative to it, without `..`",
    })
);

text!(
    NameText,
    "A name: not empty.",
    json_schema!({
        "type": "string",
        "minLength": 1,
        "pattern": r"\S",
        "errorMessage": "a name that is not empty",
    })
);

text!(
    PageSize,
    "How many users per listing call: at least 1.",
    json_schema!({
        "type": "integer",
        "format": "uint32",
        "minimum": 1,
        "maximum": 1_000_000,
    })
);

text!(
    Percent,
    "A percentage, from 0 to 100.",
    json_schema!({
        "type": "number",
        "minimum": 0,
        "maximum": 100,
    })
);
