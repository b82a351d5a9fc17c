use std::path::Path;

use super::*;
use crate::config::yaml;

fn problems(schema_name: &str, text: &str) -> Vec<String> {
    let schemas = crate::config::json_schemas();
    let (_, schema) = schemas.iter().find(|(n, _)| *n == schema_name).unwrap();
    let file = Path::new("f.yaml");
    let node: Node = yaml::parse_node(file, text).unwrap();
    let mut checker = Checker::new(schema, file);
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
            "f.yaml:7:15: error: `pageSize` must be at least 0, not -1",
        ]
    );
    assert_eq!(
        settings("targets:\n  t:\n    auth:\n      bearer: {tokn: x}\n"),
        [
            "f.yaml:4:16: error: unknown key `tokn`\n  hint: did you mean `token`?",
            "f.yaml:4:15: error: `bearer` needs `token`"
        ]
    );
    assert_eq!(
        settings("targets:\n  t:\n    auth: nonee\n"),
        [
            "f.yaml:3:11: error: `auth` must be `none`, `clientCredentials` or `bearer`, not \"nonee\"\n  hint: did you mean `none`?"
        ]
    );
}
