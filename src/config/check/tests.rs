use std::path::Path;

use super::*;
use crate::config::yaml;

fn problems(schema_name: &str, text: &str) -> Vec<String> {
    let schemas = crate::config::json_schemas();
    let (_, schema) = schemas.iter().find(|(n, _)| *n == schema_name).unwrap();
    let file = Path::new("f.yaml");
    let node: Node = yaml::parse_node(file, text).unwrap();
    let mut checker = Checker::new(schema, file.into());
    checker.check_document(&node);
    checker.problems.iter().map(ToString::to_string).collect()
}

fn users(text: &str) -> Vec<String> {
    problems("users.schema.json", text)
}

fn settings(text: &str) -> Vec<String> {
    problems("scimops.schema.json", text)
}

#[test]
fn a_valid_file_has_no_problem() {
    assert_eq!(
        users(
            "users:\n  - userName: a\n    name: {givenName: A}\n    active: false\n    properties: {X: 1, Y: null}\n"
        ),
        Vec::<String>::new()
    );
}

#[test]
fn every_problem_of_a_file_is_reported_with_its_place() {
    let found = users(
        "users:\n  - userName: a\n    emial: x\n    active: yes\n  - name: {givenNme: B}\n    phone: [1]\n",
    );
    assert_eq!(
        found,
        [
            "f.yaml:3:5: error: unknown key `emial`\n  hint: did you mean `email`?",
            "f.yaml:4:13: error: `active` must be a boolean (true or false), not the string \"yes\"\n  hint: YAML's `yes` and `no` are strings here: write `true` or `false`",
            "f.yaml:5:12: error: unknown key `givenNme`\n  hint: did you mean `givenName`?",
            "f.yaml:6:12: error: `phone` must be a string, not a list",
            "f.yaml:5:5: error: a user needs `userName`",
        ]
    );
}

#[test]
fn wrong_shapes_are_named() {
    assert_eq!(
        users("users: {a: 1}\n"),
        ["f.yaml:1:8: error: `users` must be a list, not a mapping"]
    );
    assert_eq!(
        users("- a\n"),
        ["f.yaml:1:1: error: the file must be a mapping, not a list"]
    );
    assert_eq!(
        users("users:\n  - userName: 7\n"),
        [
            "f.yaml:2:15: error: `userName` must be a string, not the integer 7\n  hint: quote the value to make it a string"
        ]
    );
    assert_eq!(
        users("users:\n  - userName: a\n    properties: {X: [1]}\n"),
        [
            "f.yaml:3:21: error: `X` must be a boolean (true or false), a whole number, a number or a string, not a list"
        ]
    );
}

#[test]
fn settings_choices_and_tags() {
    assert_eq!(
        settings(
            "targets:\n  t:\n    url: https://x/scim/v2\n    dialect: bizagy\n    auth:\n      bearr: {token: x}\n    pageSize: -1\n"
        ),
        [
            "f.yaml:4:14: error: `dialect` must be `bizagi` or `rfc7644`, not \"bizagy\"\n  hint: did you mean `bizagi`?",
            "f.yaml:6:7: error: unknown key `bearr` in `auth`: it is one of `clientCredentials: ...`, `bearer: ...` or `none`\n  hint: did you mean `bearer`?",
            "f.yaml:7:15: error: `pageSize` must be from 1 to 1000000, not -1",
        ]
    );
    assert_eq!(
        settings("targets:\n  t:\n    auth:\n      bearer: {tokn: x}\n"),
        [
            "f.yaml:4:16: error: unknown key `tokn`\n  hint: did you mean `token`?",
            "f.yaml:4:15: error: `bearer` needs `token`",
            "f.yaml:3:5: error: `auth` needs `url` beside it",
        ]
    );
    assert_eq!(
        settings("targets:\n  t:\n    auth: nonee\n"),
        [
            "f.yaml:3:11: error: `auth` must be `none`, `clientCredentials` or `bearer`, not \"nonee\"\n  hint: did you mean `none`?",
            "f.yaml:3:5: error: `auth` needs `url` beside it",
        ]
    );
}

#[test]
fn every_pattern_of_the_schemas_compiles_and_says_what_is_right() {
    fn patterns(value: &Json, out: &mut Vec<String>) {
        match value {
            Json::Object(obj) => {
                if let Some(Json::String(p)) = obj.get("pattern") {
                    assert!(obj.contains_key("errorMessage"), "{p}: no errorMessage");
                    out.push(p.clone());
                }
                obj.values().for_each(|v| patterns(v, out));
            }
            Json::Array(items) => items.iter().for_each(|v| patterns(v, out)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    for (_, schema) in crate::config::json_schemas() {
        patterns(&schema, &mut found);
    }
    assert!(found.len() >= 8, "{found:?}");
    for p in found {
        // No look-around: editors (ECMAScript) and the checker (`regex`) read it alike.
        assert!(
            !p.contains("(?=") && !p.contains("(?!") && !p.contains("(?<"),
            "{p}"
        );
        regex::Regex::new(&p).unwrap();
    }
}

#[test]
fn text_is_refused_by_what_the_schema_says_it_must_be() {
    let problems = users(
        "users:\n  - userName: a b\n    email: x@y@z\n    name: {givenName: ''}\n    previously: [\"x\\u202eexe.doc\"]\n  - userName: ok@acme\n    email: ann@acme.example\n    phone: '+57 3001234567'\n",
    );
    assert_eq!(
        problems,
        [
            "f.yaml:2:15: error: `userName` must be a userName (`user@domain`, or `user` with the default domain) in visible characters, without white space, with one `@` at most, not \"a b\"",
            "f.yaml:3:12: error: `email` must be an e-mail address, `name@example.com`, in visible characters, not \"x@y@z\"",
            "f.yaml:4:23: error: `givenName` must be a name without control characters or bidi overrides, not empty (`null` clears it), not \"\"",
            "f.yaml:5:18: error: an item of `previously` must be a userName (`user@domain`, or `user` with the default domain) in visible characters, without white space, with one `@` at most, not \"x\\u{202e}exe.doc\"",
        ]
    );
    let settings = settings(
        "targets:\n  t:\n    url: https://admin:pw@x/scim/v2\n    auth:\n      bearer: {token: hunter2}\n    caFile: ../ca.pem\nusers: [/etc, users/../..]\n",
    );
    assert_eq!(settings.len(), 5, "{settings:#?}");
    assert!(
        settings[0].starts_with(
            "f.yaml:3:10: error: `url` must be an `https://` URL, without `user:password@`"
        ),
        "{}",
        settings[0]
    );
    assert!(
        settings[1].contains("`token` must be a reference to an environment variable"),
        "{}",
        settings[1]
    );
    assert!(
        !settings.concat().contains("hunter2"),
        "a secret is never repeated: {settings:#?}"
    );
}
