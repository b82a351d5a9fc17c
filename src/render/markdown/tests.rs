use serde_json::json;

use super::*;
use crate::model::{Attr, AttrChange, Origin, UserKey};
use crate::plan::{Kind, Reason, Summary, TargetRef};
use crate::scim::wire::{Method, Request};

fn user(name: &str, action: Action, changes: Vec<AttrChange>) -> UserChange {
    UserChange {
        kind: Kind::User,
        user_name: name.to_string(),
        key: UserKey::from_canonical(name.to_lowercase()),
        id: None,
        renamed_from: None,
        action,
        reason: Reason::Differs,
        declared_at: Origin {
            file: "users/a.yaml".into(),
            line: 3,
            column: 15,
        },
        fingerprint: None,
        changes,
        unchanged_attributes: 2,
        requests: vec![Request {
            method: Method::Patch,
            path: "/Users/1".into(),
            if_match: None,
            body: None,
        }],
    }
}

fn change(attribute: &str, before: serde_json::Value, after: serde_json::Value) -> AttrChange {
    let value = |v: serde_json::Value| -> Option<Value> {
        (!v.is_null()).then(|| serde_json::from_value(v).unwrap())
    };
    let (attr, before, after) = (attribute.parse().unwrap(), value(before), value(after));
    AttrChange {
        effect: Effect::of(&attr, before.as_ref(), after.as_ref()),
        attr,
        before,
        after,
        before_from: None,
        declared_at: None,
    }
}

fn doc(users: Vec<UserChange>) -> Plan {
    Plan {
        scimops_version: "0.0.0".into(),
        target: TargetRef {
            name: "prod".into(),
            dialect: "bizagi".into(),
            endpoint: "https://x/scim/v2/".into(),
        },
        summary: Summary {
            update: users.len(),
            ..Summary::default()
        },
        users,
        digest: "sha256:0123456789abcdef".into(),
        ..Plan::default()
    }
}

#[test]
fn users_are_grouped_for_access_review() {
    let d = doc(vec![
        user("a@x", Action::Create, vec![]),
        user(
            "b@x",
            Action::Update,
            vec![change(
                "properties.DelegateEnabled",
                json!(false),
                json!(true),
            )],
        ),
        user(
            "c@x",
            Action::Update,
            vec![change(
                "properties.enabledForAssignation",
                json!(true),
                json!(false),
            )],
        ),
        user(
            "d@x",
            Action::Update,
            vec![change("name.familyName", json!("Lee"), json!("Li"))],
        ),
        user(
            "e@x",
            Action::Deactivate,
            vec![change("active", json!(true), json!(false))],
        ),
        user("f@x", Action::Reactivate, vec![]),
    ]);
    let md = render(&d, Options::default());
    let grants = md.find("#### Grants (3)").unwrap();
    let revocations = md.find("#### Revocations (2)").unwrap();
    let profile = md.find("#### Profile changes (1)").unwrap();
    assert!(grants < revocations && revocations < profile, "{md}");
    for (name, section) in [
        ("a@x", grants),
        ("b@x", grants),
        ("f@x", grants),
        ("c@x", revocations),
        ("e@x", revocations),
        ("d@x", profile),
    ] {
        let at = md.find(&format!("<code>{name}</code>")).unwrap();
        assert!(at > section, "{name} in the wrong group:\n{md}");
    }
    assert!(
        md.contains("> [!WARNING]\n> This plan **deactivates or deletes 1 user**: `e@x`."),
        "{md}"
    );
    assert!(md.contains("! name.familyName = \"Lee\" -> \"Li\""), "{md}");
    assert!(md.contains("Plan digest `sha256:0123456789ab`"), "{md}");
}

#[test]
fn no_warning_without_deactivations() {
    let md = render(
        &doc(vec![user("a@x", Action::Create, vec![])]),
        Options::default(),
    );
    assert!(!md.contains("[!WARNING]"), "{md}");
}

#[test]
fn a_long_plan_stays_under_the_limit_and_says_what_it_left_out() {
    let users: Vec<UserChange> = (0..2000)
        .map(|i| {
            user(
                &format!("user{i:04}@x"),
                Action::Update,
                vec![change(
                    "name.familyName",
                    json!("A long old family name"),
                    json!("A long new family name"),
                )],
            )
        })
        .collect();
    let md = render(&doc(users), Options::default());
    assert!(md.chars().count() <= GITHUB_COMMENT_LIMIT, "{}", md.len());
    assert!(
        md.contains("more users are not shown: the comment would exceed GitHub's limit"),
        "{}",
        &md[md.len() - 600..]
    );
    assert!(md.ends_with("</sub>\n"), "the digest line is always there");
    let two = doc(vec![
        user("a@x", Action::Create, vec![]),
        user("b@x", Action::Create, vec![]),
    ]);
    let whole = render(&two, Options::default());
    let limit = whole.len() - 100;
    let cut = render(
        &two,
        Options {
            limit,
            ..Options::default()
        },
    );
    assert!(cut.len() <= limit, "{} > {limit}", cut.len());
    assert!(
        cut.contains("users are not shown") || cut.contains("user is not shown"),
        "{cut}"
    );
}

#[test]
fn personal_data_can_be_masked() {
    let mut plan = doc(vec![user(
        "a@x",
        Action::Update,
        vec![change(
            "email",
            json!("ann@x.example"),
            json!("anne@x.example"),
        )],
    )]);
    plan.private = vec![Attr::Email];
    let md = render(
        &crate::render::mask::Private(&plan.private).plan(&plan),
        Options::default(),
    );
    assert!(
        md.contains("! email = \"a***@x.example\" -> \"a***@x.example\""),
        "{md}"
    );
    assert!(!md.contains("anne"), "{md}");
}
