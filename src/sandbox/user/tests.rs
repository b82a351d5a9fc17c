use super::*;

fn rules() -> Rules {
    let mut properties = BTreeMap::new();
    for (name, ty) in BUILT_IN {
        properties.insert(name.to_lowercase(), (name.to_string(), ty));
    }
    properties.insert("level".into(), ("Level".into(), PropertyType::Integer));
    properties.insert(
        "hiredate".into(),
        ("HireDate".into(), PropertyType::DateTime),
    );
    Rules {
        properties,
        default_domain: "domain".into(),
        phone_format: PhoneFormat::Strict,
        patch: true,
        etag: false,
        string_booleans: false,
        name: crate::sandbox::NameReading::Both,
        drops: Vec::new(),
    }
}

fn blank() -> UserRecord {
    UserRecord {
        id_user: 7,
        ..UserRecord::new("g".into(), "c".into())
    }
}

fn create(body: Json) -> Result<UserRecord, Refusal> {
    rules().record_from_scim(&body, blank())
}

fn jane() -> UserRecord {
    create(json!({
        "userName": "jdoe@corp",
        "name": {"givenName": "Jane", "familyName": "Doe"},
        "emails": [{"value": "jane@corp.com", "type": "work", "primary": true}],
        "phoneNumbers": [{"value": "+57 3001234567", "type": "mobile", "primary": true}],
        EXT_URN: {"enabledForAssignation": true, "level": 3},
    }))
    .unwrap()
}

#[test]
fn user_names_in_every_form() {
    assert_eq!(
        parse_user_name("a@b", "d").unwrap(),
        ("a".into(), "b".into())
    );
    assert_eq!(
        parse_user_name(r"b\a", "d").unwrap(),
        ("a".into(), "b".into())
    );
    assert_eq!(parse_user_name("a", "d").unwrap(), ("a".into(), "d".into()));
    let long = parse_user_name("abcdefghijklm@nopqrstuvwxyz", "d").unwrap_err();
    assert!(long.detail.contains("exceeds 25"), "{long:?}");
    assert_eq!(
        parse_user_name("abcdefghijkl@nopqrstuvwxy", "d").unwrap().0,
        "abcdefghijkl"
    );
}

#[test]
fn a_user_keeps_one_work_email_one_phone_and_known_properties() {
    let u = jane();
    assert_eq!((u.user_name.as_str(), u.domain.as_str()), ("jdoe", "corp"));
    assert_eq!(u.full_name(), "Jane Doe");
    assert_eq!(u.email.as_deref(), Some("jane@corp.com"));
    assert_eq!(u.phone.as_deref(), Some("+57 3001234567"));
    assert_eq!(
        u.properties.get("Level"),
        Some(&json!(3)),
        "spelled as the schema spells it"
    );
    assert_eq!(
        u.properties.get("enabledForAssignation"),
        Some(&json!(true))
    );
}

#[test]
fn only_a_primary_work_email_is_stored() {
    let u = create(json!({
        "userName": "a@b", "name": {"givenName": "A"},
        "emails": [
            {"value": "home@x", "type": "home", "primary": true},
            {"value": "work@x", "type": "work", "primary": false},
        ],
    }))
    .unwrap();
    assert_eq!(u.email, None);
    let err = create(json!({
        "userName": "a@b", "name": {"givenName": "A"},
        "emails": [{"value": "w@x", "type": "business", "primary": true}],
    }))
    .unwrap_err();
    assert_eq!(err.scim_type, Some("invalidValue"));
}

#[test]
fn bizagis_refusals() {
    let no_name = create(json!({"userName": "a@b"})).unwrap_err();
    assert!(
        no_name.detail.contains("at least one of name"),
        "{no_name:?}"
    );
    let no_user_name = create(json!({"name": {"givenName": "A"}})).unwrap_err();
    assert!(no_user_name.detail.contains("userName is required"));
    let phone = create(json!({
        "userName": "a@b", "name": {"givenName": "A"},
        "phoneNumbers": [{"value": "3001234567", "type": "mobile", "primary": true}],
    }))
    .unwrap_err();
    assert!(phone.detail.contains("+CountryCode Number"), "{phone:?}");
    let unknown = create(json!({
        "userName": "a@b", "name": {"givenName": "A"}, EXT_URN: {"Nope": 1},
    }))
    .unwrap_err();
    assert!(
        unknown.detail.contains("no attribute \"Nope\""),
        "{unknown:?}"
    );
    let mistyped = create(json!({
        "userName": "a@b", "name": {"givenName": "A"}, EXT_URN: {"Level": "3"},
    }))
    .unwrap_err();
    assert!(mistyped.detail.contains("of type integer"), "{mistyped:?}");
    let date = create(json!({
        "userName": "a@b", "name": {"givenName": "A"}, EXT_URN: {"HireDate": "yesterday"},
    }));
    assert!(date.is_err());
}

#[test]
fn booleans_may_come_quoted() {
    let u =
        create(json!({"userName": "a@b", "name": {"givenName": "A"}, "active": "False"})).unwrap();
    assert!(!u.enabled);
}

fn patch(user: &UserRecord, ops: Json) -> Result<UserRecord, Refusal> {
    rules().patch(
        user,
        &json!({"schemas": [crate::scim::wire::PATCH_OP_URN], "Operations": ops}),
    )
}

#[test]
fn patch_replaces_adds_as_replace_and_removes() {
    let u = jane();
    let p = patch(
        &u,
        json!([
            {"op": "replace", "path": "name.middleName", "value": "Q"},
            {"op": "Add", "path": "name.givenName", "value": "Janet"},
            {"op": "remove", "path": "phoneNumbers"},
            {"op": "replace", "path": format!("{EXT_URN}:Level"), "value": 4},
            {"op": "remove", "path": format!("{EXT_URN}:enabledForAssignation")},
        ]),
    )
    .unwrap();
    assert_eq!(p.full_name(), "Janet Q Doe");
    assert_eq!(p.phone, None);
    assert_eq!(p.email, u.email, "untouched");
    assert_eq!(p.properties.get("Level"), Some(&json!(4)));
    assert_eq!(p.properties.get("enabledForAssignation"), None);
}

#[test]
fn patch_supports_whole_and_filtered_multi_valued_paths() {
    let u = jane();
    let whole = patch(
        &u,
        json!([{"op": "replace", "path": "emails",
        "value": [{"value": "new@corp.com", "type": "work", "primary": true}]}]),
    )
    .unwrap();
    assert_eq!(whole.email.as_deref(), Some("new@corp.com"));
    let filtered = patch(
        &u,
        json!([{"op": "replace", "path": "emails[type eq \"work\"].value",
        "value": "f@corp.com"}]),
    )
    .unwrap();
    assert_eq!(filtered.email.as_deref(), Some("f@corp.com"));
}

#[test]
fn patch_ignores_pathless_operations_and_refuses_unknown_paths() {
    let u = jane();
    let same = patch(&u, json!([{"op": "replace", "value": {"active": false}}])).unwrap();
    assert!(same.enabled);
    let err = patch(
        &u,
        json!([{"op": "replace", "path": "title", "value": "x"}]),
    )
    .unwrap_err();
    assert_eq!(err.scim_type, Some("invalidPath"));
    let err = patch(&u, json!([{"op": "remove", "path": "userName"}])).unwrap_err();
    assert_eq!(err.scim_type, Some("mutability"));
    let nameless = patch(
        &u,
        json!([
            {"op": "remove", "path": "name.givenName"},
            {"op": "remove", "path": "name.familyName"},
        ]),
    )
    .unwrap_err();
    assert!(nameless.detail.contains("at least one of name"));
}

#[test]
fn the_resource_answers_user_at_domain_and_the_built_in_properties() {
    let u = jane();
    let r = u.to_scim("http://h/scim/v2", false);
    assert_eq!(r["userName"], "jdoe@corp");
    assert_eq!(r["name"]["formatted"], "Jane Doe");
    assert_eq!(r[EXT_URN]["DelegateEnabled"], false);
    assert_eq!(r[EXT_URN]["Level"], 3);
    assert_eq!(r["meta"]["location"], "http://h/scim/v2/Users/g");
}

#[test]
fn eq_filters() {
    assert_eq!(
        parse_eq_filter(r#"userName eq "a@b""#),
        Some(("userName".into(), "a@b".into()))
    );
    assert_eq!(parse_eq_filter(r#"userName co "a""#), None);
    assert_eq!(parse_eq_filter("userName eq a"), None);
}
