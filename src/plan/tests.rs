use serde_json::json;

use super::*;
use crate::dialect::{Bizagi, Dialect};
use crate::policy::Policy;
use crate::scim::wire::Method;

fn origin() -> Origin {
    Origin {
        file: std::path::Path::new("users/a.yaml").into(),
        line: 1,
        column: 5,
    }
}

fn s(v: &str) -> Value {
    Value::String(v.to_string())
}

fn prop(name: &str) -> Attr {
    Attr::Property(name.into())
}

fn desired(name: &str, attrs: &[(Attr, Option<Value>)]) -> DesiredUser {
    let b = Bizagi::default();
    DesiredUser {
        user_name: name.to_string(),
        key: b.key(name),
        attrs: attrs.iter().cloned().collect(),
        origin: origin(),
        origins: crate::model::AttrMap::new(),
        previously: Vec::new(),
    }
}

fn observed(name: &str, id: &str, attrs: &[(Attr, Value)]) -> ObservedUser {
    let b = Bizagi::default();
    let mut attrs: crate::model::AttrMap<Value> = attrs.iter().cloned().collect();
    if !attrs.contains_key(&Attr::Active) {
        attrs.insert(Attr::Active, Value::Boolean(true));
    }
    ObservedUser {
        id: id.to_string(),
        user_name: name.to_string(),
        key: b.key(name),
        attrs,
        raw: Some((&json!({"id": id, "userName": name})).into()),
        fingerprint: format!("sha256:{id}"),
        version: None,
    }
}

fn run(d: &[DesiredUser], o: &[ObservedUser]) -> Plan {
    let (plan, _warnings) =
        plan(d, o, o.len(), &Bizagi::default(), &Policy::default()).expect("a plan");
    plan
}

fn ann() -> Vec<(Attr, Option<Value>)> {
    vec![
        (Attr::GivenName, Some(s("Ann"))),
        (Attr::FamilyName, Some(s("Lee"))),
        (Attr::Email, Some(s("ann@example.com"))),
        (prop("enabledForAssignation"), Some(Value::Boolean(true))),
    ]
}

fn ann_on_server() -> Vec<(Attr, Value)> {
    vec![
        (Attr::GivenName, s("Ann")),
        (Attr::FamilyName, s("Lee")),
        (Attr::Email, s("ann@example.com")),
        (prop("enabledForAssignation"), Value::Boolean(true)),
    ]
}

#[test]
fn a_new_user_is_one_post_with_every_declared_attribute() {
    let plan = run(&[desired("ann@x", &ann())], &[]);
    assert_eq!(plan.users.len(), 1);
    let u = &plan.users[0];
    assert_eq!(u.action, Action::Create);
    assert_eq!(u.requests.len(), 1);
    assert_eq!(u.requests[0].method, Method::Post);
    assert_eq!(u.requests[0].path, "/Users");
    assert_eq!(
        u.requests[0].body,
        Some(json!({
            "schemas": [
                "urn:ietf:params:scim:schemas:core:2.0:User",
                "urn:ietf:params:scim:schemas:extension:bizagi:2.0:UserProperties"
            ],
            "userName": "ann@x",
            "active": true,
            "name": {"givenName": "Ann", "familyName": "Lee"},
            "emails": [{"value": "ann@example.com", "type": "work", "primary": true}],
            "urn:ietf:params:scim:schemas:extension:bizagi:2.0:UserProperties": {
                "enabledForAssignation": true
            }
        }))
    );
    let attrs: Vec<_> = u.changes.iter().map(|c| c.attr.to_string()).collect();
    assert_eq!(
        attrs,
        [
            "name.givenName",
            "name.familyName",
            "email",
            "active",
            "properties.enabledForAssignation"
        ]
    );
}

#[test]
fn a_user_already_as_declared_needs_nothing() {
    let plan = run(
        &[desired("ann@x", &ann())],
        &[observed("ann@x", "1", &ann_on_server())],
    );
    assert!(plan.is_empty());
    assert_eq!(plan.summary.unchanged, 1);
}

#[test]
fn usernames_match_without_regard_to_case_or_form() {
    let plan = run(
        &[desired("Ann@X", &ann())],
        &[observed(r"x\ann", "1", &ann_on_server())],
    );
    assert!(plan.is_empty(), "{plan:?}");
}

#[test]
fn an_update_patches_only_what_changed() {
    let mut want = ann();
    want[1].1 = Some(s("Li"));
    let plan = run(
        &[desired("ann@x", &want)],
        &[observed("ann@x", "g-1", &ann_on_server())],
    );
    let u = &plan.users[0];
    assert_eq!(u.action, Action::Update);
    assert_eq!(u.unchanged_attributes, 4, "3 declared + active");
    assert_eq!(
        u.changes,
        [AttrChange {
            attr: Attr::FamilyName,
            before: Some(s("Lee")),
            after: Some(s("Li")),
            effect: crate::model::Effect::Profile,
            before_from: None,
            declared_at: Some(origin()),
        }]
    );
    assert_eq!(u.requests.len(), 1);
    assert_eq!(u.requests[0].method, Method::Patch);
    assert_eq!(u.requests[0].path, "/Users/g-1");
    assert_eq!(
        u.requests[0].body,
        Some(json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "name.familyName", "value": "Li"}]
        }))
    );
}

#[test]
fn extension_properties_are_patched_by_urn_path() {
    let mut want = ann();
    want[3].1 = Some(Value::Boolean(false));
    let plan = run(
        &[desired("ann@x", &want)],
        &[observed("ann@x", "1", &ann_on_server())],
    );
    let body = plan.users[0].requests[0].body.as_ref().unwrap();
    assert_eq!(
        body["Operations"],
        json!([{
            "op": "replace",
            "path": "urn:ietf:params:scim:schemas:extension:bizagi:2.0:UserProperties:enabledForAssignation",
            "value": false
        }])
    );
}

#[test]
fn attributes_the_files_leave_out_are_left_alone() {
    let mut have = ann_on_server();
    have.push((Attr::Phone, s("+57 1")));
    have.push((prop("Level"), Value::Integer(3)));
    let plan = run(
        &[desired("ann@x", &ann())],
        &[observed("ann@x", "1", &have)],
    );
    assert!(plan.is_empty());
}

#[test]
fn null_clears_a_value_and_clearing_nothing_is_nothing() {
    let mut want = ann();
    want[2].1 = None; // email: null
    want.push((Attr::Phone, None));
    let plan = run(
        &[desired("ann@x", &want)],
        &[observed("ann@x", "1", &ann_on_server())],
    );
    let u = &plan.users[0];
    assert_eq!(u.changes.len(), 1, "the phone was already empty");
    assert_eq!(
        u.requests[0].body.as_ref().unwrap()["Operations"],
        json!([{"op": "remove", "path": "emails"}])
    );
}

#[test]
fn deactivation_alone_is_one_delete() {
    let mut want = ann();
    want.push((Attr::Active, Some(Value::Boolean(false))));
    let plan = run(
        &[desired("ann@x", &want)],
        &[observed("ann@x", "g-1", &ann_on_server())],
    );
    let u = &plan.users[0];
    assert_eq!(u.action, Action::Deactivate);
    assert_eq!(u.requests.len(), 1);
    assert_eq!(u.requests[0].method, Method::Delete);
    assert_eq!(u.requests[0].path, "/Users/g-1");
    assert_eq!(u.requests[0].body, None);
}

#[test]
fn deactivation_with_other_changes_is_one_patch() {
    let mut want = ann();
    want[0].1 = Some(s("Anne"));
    want.push((Attr::Active, Some(Value::Boolean(false))));
    let plan = run(
        &[desired("ann@x", &want)],
        &[observed("ann@x", "1", &ann_on_server())],
    );
    let u = &plan.users[0];
    assert_eq!(u.action, Action::Deactivate);
    assert_eq!(u.requests.len(), 1);
    assert_eq!(
        u.requests[0].body.as_ref().unwrap()["Operations"],
        json!([
            {"op": "replace", "path": "name.givenName", "value": "Anne"},
            {"op": "replace", "path": "active", "value": false},
        ])
    );
}

#[test]
fn a_declared_user_found_inactive_is_reactivated() {
    let mut have = ann_on_server();
    have.push((Attr::Active, Value::Boolean(false)));
    let have: Vec<_> = have.into_iter().rev().collect(); // the last `active` wins below
    let mut o = observed("ann@x", "1", &have);
    o.attrs.insert(Attr::Active, Value::Boolean(false));
    let plan = run(&[desired("ann@x", &ann())], &[o]);
    let u = &plan.users[0];
    assert_eq!(u.action, Action::Reactivate);
    assert_eq!(
        u.requests[0].body.as_ref().unwrap()["Operations"],
        json!([{"op": "replace", "path": "active", "value": true}])
    );
}

#[test]
fn an_inactive_user_declared_inactive_stays_so() {
    let mut want = ann();
    want.push((Attr::Active, Some(Value::Boolean(false))));
    let mut o = observed("ann@x", "1", &ann_on_server());
    o.attrs.insert(Attr::Active, Value::Boolean(false));
    assert!(run(&[desired("ann@x", &want)], &[o]).is_empty());
}

#[test]
fn bizagis_stored_forms_are_not_differences() {
    let plan = run(
        &[desired(
            "ann@x",
            &[
                (Attr::GivenName, Some(s("Ann  Marie"))),
                (Attr::Email, Some(s("Ann@Example.com"))),
            ],
        )],
        &[observed(
            "ann@x",
            "1",
            &[
                (Attr::GivenName, s("Ann Marie")),
                (Attr::Email, s("ann@example.com")),
            ],
        )],
    );
    assert!(plan.is_empty(), "{plan:?}");
}

#[test]
fn users_nobody_declares_are_counted_and_left_alone() {
    let plan = run(
        &[desired("ann@x", &ann())],
        &[
            observed("ann@x", "1", &ann_on_server()),
            observed("admon@x", "2", &[]),
            observed("bob@x", "3", &[]),
        ],
    );
    assert!(plan.is_empty());
    assert_eq!(plan.summary.unmanaged, 2);
}

#[test]
fn the_plan_does_not_depend_on_input_order() {
    let d = [
        desired("carl@x", &ann()),
        desired("ann@x", &ann()),
        desired("bob@x", &[(Attr::Active, Some(Value::Boolean(false)))]),
    ];
    let o = [observed("bob@x", "2", &[]), observed("zed@x", "9", &[])];
    let forward = run(&d, &o);
    let mut d2 = d.to_vec();
    d2.reverse();
    let mut o2 = o.to_vec();
    o2.reverse();
    assert_eq!(forward, run(&d2, &o2));
    let names: Vec<_> = forward.users.iter().map(|u| u.user_name.as_str()).collect();
    assert_eq!(names, ["ann@x", "bob@x", "carl@x"]);
    let s = forward.summary.clone();
    assert_eq!((s.create, s.update, s.deactivate), (2, 0, 1));
    assert_eq!(s.requests.get(&Method::Post), Some(&2));
    assert_eq!(s.requests.get(&Method::Delete), Some(&1));
}

#[test]
fn creating_a_user_without_a_name_is_refused_before_any_request() {
    let err = plan(
        &[desired("ann@x", &[(Attr::Email, Some(s("a@x.com")))])],
        &[],
        0,
        &Bizagi::default(),
        &Policy::default(),
    )
    .unwrap_err();
    assert_eq!(err.error_count(), 1);
    assert!(
        err.0
            .iter()
            .any(|d| d.message.contains("Bizagi needs a name to create it"))
    );
}

#[test]
fn creating_without_enabled_for_assignation_warns() {
    let (_, warnings) = plan(
        &[desired("ann@x", &[(Attr::GivenName, Some(s("Ann")))])],
        &[],
        0,
        &Bizagi::default(),
        &Policy::default(),
    )
    .unwrap();
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].message.contains("enabledForAssignation"));
}

#[test]
fn two_server_users_matching_one_declared_user_is_an_error() {
    let err = plan(
        &[desired("ann@x", &ann())],
        &[observed("ann@x", "1", &[]), observed("ANN@X", "2", &[])],
        2,
        &Bizagi::default(),
        &Policy::default(),
    )
    .unwrap_err();
    assert!(
        err.0[0]
            .message
            .contains("the server has 2 users that match")
    );
}

#[test]
fn users_in_no_file_are_deactivated_only_when_the_policy_says_so() {
    let d = [desired("ann@x", &ann())];
    let o = [
        observed("ann@x", "1", &ann_on_server()),
        observed("bob@x", "2", &[]),
        observed("admon@x", "3", &[]),
    ];
    let bizagi = Bizagi::default();
    let policy = Policy {
        unmanaged: crate::policy::Unmanaged::Deactivate,
        protected: bizagi
            .protected_by_default()
            .iter()
            .map(|p| crate::policy::Pattern::new(p))
            .collect(),
        ..Policy::default()
    };
    let (p, _) = plan(&d, &o, 3, &bizagi, &policy).unwrap();
    assert_eq!(p.users.len(), 1);
    assert_eq!(p.users[0].user_name, "bob@x");
    assert_eq!(p.users[0].action, Action::Deactivate);
    assert_eq!(p.users[0].requests[0].method, Method::Delete);
    assert_eq!(p.protected.len(), 1, "admon is protected by default");
    assert_eq!(p.protected[0].user_name, "admon@x");
    assert_eq!(p.summary.managed, 2, "ann and bob");
    // What is true: 1 declared, 3 on the server, 2 in no file, 1 of them deactivated.
    assert_eq!(
        (p.summary.declared, p.summary.server, p.summary.unmanaged),
        (1, 3, 2)
    );
    assert_eq!(p.summary.unmanaged_deactivated, 1);
    assert_eq!(
        crate::render::summary::users_line(&p.summary),
        "1 user declared, 1 already as declared. The server has 3 users; 2 are unmanaged (in no file): 1 to deactivate by the policy, 1 left alone."
    );
    let (ignored, _) = plan(&d, &o, 3, &Bizagi::default(), &Policy::default()).unwrap();
    assert!(ignored.is_empty());
    assert_eq!(ignored.summary.unmanaged, 2);
}

#[test]
fn deleting_on_bizagi_is_an_error() {
    let policy = Policy {
        unmanaged: crate::policy::Unmanaged::Delete,
        ..Policy::default()
    };
    let err = plan(
        &[],
        &[observed("bob@x", "2", &[])],
        1,
        &Bizagi::default(),
        &policy,
    )
    .unwrap_err();
    assert!(
        err.0[0]
            .message
            .contains("bizagi servers cannot delete users"),
        "{err:?}"
    );
}

#[test]
fn protected_declared_users_are_reported_not_changed() {
    let mut want = ann();
    want.push((Attr::Active, Some(Value::Boolean(false))));
    let policy = Policy {
        protected: vec![crate::policy::Pattern::new("ann@*")],
        ..Policy::default()
    };
    let (p, _) = plan(
        &[desired("ann@x", &want)],
        &[observed("ann@x", "1", &ann_on_server())],
        1,
        &Bizagi::default(),
        &policy,
    )
    .unwrap();
    assert!(p.users.is_empty());
    assert_eq!(p.protected[0].action, Action::Deactivate);
    assert_eq!(p.protected[0].pattern, "ann@*");
}

#[test]
fn a_name_answered_as_one_full_name_is_judged_by_it() {
    let full = |f: &str| observed("ann@x", "1", &[(Attr::FormattedName, s(f))]);
    let all = |g: &str, m: Option<&str>, f: &str| {
        desired(
            "ann@x",
            &[
                (Attr::GivenName, Some(s(g))),
                (Attr::MiddleName, m.map(s)),
                (Attr::FamilyName, Some(s(f))),
            ],
        )
    };
    // The composition is the full name: nothing to do, whatever the spaces.
    assert!(run(&[all("Ann", None, "Lee")], &[full("Ann  Lee")]).is_empty());
    assert!(run(&[all("Ann", Some("B"), "Lee")], &[full("Ann B Lee")]).is_empty());
    // It differs: every part is sent, and the plan says what the server had.
    let plan = run(&[all("Ann", None, "Li")], &[full("Ann Lee")]);
    let changes = &plan.users[0].changes;
    assert_eq!(changes.len(), 3, "{changes:?}");
    assert!(
        changes
            .iter()
            .all(|c| c.before == Some(s("Ann Lee")) && c.before_from == Some(Attr::FormattedName))
    );
    // Only some parts declared: judged by where they stand in the full name.
    let given = |g: &str| desired("ann@x", &[(Attr::GivenName, Some(s(g)))]);
    assert!(run(&[given("Ann")], &[full("Ann Lee")]).is_empty());
    assert_eq!(run(&[given("Anna")], &[full("Ann Lee")]).users.len(), 1);
    let family = desired("ann@x", &[(Attr::FamilyName, Some(s("Lee")))]);
    assert!(run(&[family], &[full("Ann Lee")]).is_empty());
    // Parts returned: compared as parts, the full name aside.
    let both = observed(
        "ann@x",
        "1",
        &[
            (Attr::GivenName, s("Ann")),
            (Attr::FormattedName, s("Something Else")),
        ],
    );
    assert!(run(&[given("Ann")], &[both]).is_empty());
}

/// A saved plan reads back whatever its layout; any edit of what it says, or a plan of
/// another format version, is refused.
#[test]
fn a_saved_plan_is_checked_by_its_digest_and_its_format_version() {
    let mut plan = run(
        &[desired("ann@acme", &ann()), desired("bob@acme", &ann())],
        &[],
    );
    // Sealed while it is read elsewhere, it is sealed alike.
    let mut while_read = plan.clone();
    assert_eq!(while_read.seal_while(|p| p.users.len()), 2);
    plan.seal();
    assert_eq!(while_read.digest, plan.digest);
    assert!(plan.digest.starts_with("sha256:"));
    let saved = plan.to_json();
    assert_eq!(Plan::from_json(&saved).unwrap(), plan);
    // Another layout of the same content (compact, members sorted) is the same plan.
    let json: serde_json::Value = serde_json::from_str(&saved).unwrap();
    assert_eq!(Plan::from_json(&json.to_string()).unwrap(), plan);

    let edited = |edit: &dyn Fn(&mut serde_json::Value)| {
        let mut json = json.clone();
        edit(&mut json);
        Plan::from_json(&json.to_string()).unwrap_err()
    };
    let e = edited(&|j| j["users"][1]["requests"][0]["body"]["userName"] = "eve@acme".into());
    assert!(e.contains("does not match its digest"), "{e}");
    let e = edited(&|j| {
        j["users"].as_array_mut().unwrap().pop();
    });
    assert!(e.contains("does not match its digest"), "{e}");
    let e = edited(&|j| j["formatVersion"] = "2.0".into());
    assert!(
        e.contains("in format 2.0") && e.contains("older than"),
        "{e}"
    );
    let e = edited(&|j| j["formatVersion"] = "2.10".into());
    assert!(
        e.contains("in format 2.10") && e.contains("newer than"),
        "{e}"
    );
}
