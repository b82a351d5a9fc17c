//! No input makes scimops panic or hang: random text, random YAML documents made of
//! scimops' own vocabulary, and random edits of a valid file, each read (and checked
//! against the schemas, and typed) within a deadline. Bounded: CI runs a few hundred
//! cases in seconds; `PROPTEST_CASES` runs more.

use std::sync::mpsc;
use std::time::Duration;

use proptest::prelude::*;
use scimops::config::Repository;
use scimops::desired;
use scimops::dialect::{self, Capabilities};

const SETTINGS: &str = "targets:\n  t:\n    url: https://x.example.com/scim/v2\n    auth:\n      clientCredentials:\n        clientId: c\n        clientSecret: ${S}\ndefaults:\n  domain: acme\n";

const VALID: &str = "users:\n  - userName: ada\n    name: {givenName: Ada, familyName: Lovelace}\n    email: ada@acme.example\n    phone: '+44 2071234567'\n    active: true\n    properties: {DelegateEnabled: false, Level: 3}\n  - userName: acme\\\\bob\n    name:\n      givenName: Bob\n    active: false\n";

/// Reads a repository with this users file (and settings) the way `validate` does;
/// panics if that does not finish in 10 s.
fn read(settings: &str, users: &[u8]) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("scimops.yaml"), settings).unwrap();
    std::fs::create_dir_all(dir.path().join("users")).unwrap();
    std::fs::write(dir.path().join("users/u.yaml"), users).unwrap();
    let path = dir.path().to_path_buf();
    let (done, wait) = mpsc::channel();
    std::thread::spawn(move || {
        if let Ok(repo) = Repository::load(&path, None)
            && let Ok(target) = repo.target(None)
        {
            let d = dialect::for_target(&target.dialect, Capabilities::default());
            let _ = desired::resolve(
                &repo.users,
                repo.problems.clone(),
                repo.default_domain(),
                &d.offline_schema(),
                d.as_ref(),
            );
        }
        let _ = done.send(());
    });
    match wait.recv_timeout(Duration::from_secs(10)) {
        Ok(()) => {}
        Err(mpsc::RecvTimeoutError::Timeout) => panic!(
            "reading did not finish in 10 s:\n{}",
            String::from_utf8_lossy(users)
        ),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            panic!("reading panicked:\n{}", String::from_utf8_lossy(users))
        }
    }
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(200)
}

/// A YAML document from scimops' vocabulary, in block or flow style.
fn document() -> impl Strategy<Value = String> {
    let key = prop_oneof![
        Just("users"),
        Just("userName"),
        Just("name"),
        Just("givenName"),
        Just("familyName"),
        Just("email"),
        Just("phone"),
        Just("active"),
        Just("properties"),
        Just("attributes"),
        Just("extensions"),
        Just("DelegateEnabled"),
        Just("targets"),
        Just("url"),
        Just("x"),
    ];
    let scalar = prop_oneof![
        Just("null".to_string()),
        Just("true".to_string()),
        Just("yes".to_string()),
        Just("3".to_string()),
        Just("-1.5".to_string()),
        Just("''".to_string()),
        Just("ada".to_string()),
        Just("\"a\\\"b\"".to_string()),
        Just("~".to_string()),
        Just("&a x".to_string()),
        Just("*a".to_string()),
        Just("!!str 1".to_string()),
        "[a-z@.]{0,8}".prop_map(|s| s),
    ];
    let leaf = scalar.boxed();
    leaf.prop_recursive(5, 40, 6, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4)
                .prop_map(|items| format!("[{}]", items.join(", "))),
            proptest::collection::vec((key.clone(), inner.clone()), 0..4).prop_map(|entries| {
                let body: Vec<String> = entries.iter().map(|(k, v)| format!("{k}: {v}")).collect();
                format!("{{{}}}", body.join(", "))
            }),
            proptest::collection::vec(inner, 0..4)
                .prop_map(|items| { items.iter().map(|i| format!("\n- {i}")).collect::<String>() }),
        ]
    })
    .prop_map(|body| format!("users: {body}\n"))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics_or_hangs(text in "[a-zA-Z0-9 :{}\\[\\],'\"&*!|>#%@.\\-\\\\\n\t]{0,200}") {
        read(SETTINGS, text.as_bytes());
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        read(SETTINGS, &bytes);
    }

    #[test]
    fn documents_of_our_vocabulary_never_panic_or_hang(doc in document()) {
        read(SETTINGS, doc.as_bytes());
    }

    #[test]
    fn edits_of_a_valid_file_never_panic_or_hang(
        edits in proptest::collection::vec((0..VALID.len(), 0..3usize, "[a-z:{}\\[\\] \n\t'\"-]{0,3}"), 1..6)
    ) {
        let mut text = VALID.to_string();
        for (at, kind, insert) in edits {
            let at = at.min(text.len());
            let at = (0..=at).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(0);
            match kind {
                0 => text.insert_str(at, &insert),
                1 => { let end = (at + 3).min(text.len()); if text.is_char_boundary(end) { text.replace_range(at..end, ""); } }
                _ => { let end = (at + 1).min(text.len()); if text.is_char_boundary(end) { text.replace_range(at..end, &insert); } }
            }
        }
        read(SETTINGS, text.as_bytes());
        read(&text, VALID.as_bytes());
    }
}
