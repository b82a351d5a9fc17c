//! Finding a user by its name when its id is not known yet (after a create whose answer
//! was lost, or a 409): by a filter where the server filters, else by listing, never by
//! a form of key the server does not take; and a 409 means the user exists.

use crate::support::{PROPERTIES, Repo, TestSandbox};

const ONE: &str = "users:\n  - userName: ann\n    name: {givenName: Ann}\n";

fn sandbox(options: &str, fault: &str) -> TestSandbox {
    TestSandbox::start(&format!(
        "defaultDomain: acme\n{options}\nfailures:\n  - method: POST\n    path: /Users\n    times: 1\n{fault}\n{PROPERTIES}"
    ))
}

/// The requests the sandbox served to `/scim/v2/Users...`, as `METHOD path`.
fn user_calls(s: &TestSandbox) -> Vec<String> {
    s.requests()
        .requests
        .iter()
        .filter(|r| r.path.starts_with("/scim/v2/Users"))
        .map(|r| format!("{} {}", r.method, r.path.trim_start_matches("/scim/v2")))
        .collect()
}

#[test]
fn a_lost_create_on_a_server_of_ids_is_found_by_filter() {
    // The project's paths take ids only; the create is done, and its answer lost.
    let s = sandbox("userKeys: id", "    fault: lost");
    let repo = Repo::for_sandbox(&s, ONE);
    let apply = repo.run(&["apply", "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    assert!(
        apply
            .stdout
            .contains("(the answer was lost; the user was found on the server)"),
        "{}",
        apply.stdout
    );
    assert_eq!(
        user_calls(&s),
        [
            "GET /Users?startIndex=1&count=500",
            "POST /Users",
            "GET /Users?filter=userName+eq+%22ann%40acme%22",
        ],
        "one create, one lookup by filter, nothing by a key the server does not take"
    );
    s.clear();
    assert!(repo.run(&["plan"]).stdout.starts_with("No changes."));
}

#[test]
fn a_lost_create_on_a_server_without_filters_is_found_by_listing() {
    let s = sandbox("userKeys: id\nfilter: false", "    fault: lost");
    let repo = Repo::for_sandbox(&s, ONE);
    let apply = repo.run(&["apply", "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    assert_eq!(
        user_calls(&s),
        [
            "GET /Users?startIndex=1&count=500",
            "POST /Users",
            "GET /Users?startIndex=1&count=500",
        ]
    );
}

#[test]
fn a_conflict_on_create_finds_the_user_and_adopts_it() {
    // The server did the create, and answers 409 as if it had been done before.
    let s = sandbox("", "    fault: conflict");
    let repo = Repo::for_sandbox(&s, ONE);
    let apply = repo.run(&["apply", "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    assert!(
        apply
            .stdout
            .contains("(it already existed (409 Conflict): adopted as it is"),
        "{}",
        apply.stdout
    );
    let calls = user_calls(&s);
    assert_eq!(
        calls.iter().filter(|c| c.starts_with("POST")).count(),
        1,
        "{calls:?}"
    );
    assert_eq!(
        calls.len(),
        3,
        "a listing, the create, one lookup: {calls:?}"
    );
    s.clear();
    assert!(repo.run(&["plan"]).stdout.starts_with("No changes."));
}

#[test]
fn a_conflict_for_a_user_that_cannot_be_found_says_so() {
    let s = sandbox(
        "",
        "    status: 409\n    body: '{\"schemas\": [\"urn:ietf:params:scim:api:messages:2.0:Error\"], \"status\": \"409\", \"scimType\": \"uniqueness\", \"detail\": \"taken\"}'",
    );
    let repo = Repo::for_sandbox(&s, ONE);
    let apply = repo.run(&["apply", "--auto-approve"]);
    assert_eq!(apply.code, 1, "{apply:?}");
    assert!(
        apply.stdout.contains(
            "(the server says the user exists; looked up by its userName, it is not found)"
        ),
        "{}",
        apply.stdout
    );
    let calls = user_calls(&s);
    assert_eq!(
        calls.iter().filter(|c| c.starts_with("POST")).count(),
        1,
        "{calls:?}"
    );
}
