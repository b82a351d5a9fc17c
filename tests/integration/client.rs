//! The HTTP client's token handling, against the sandbox.

use std::time::Duration;

use scimops::scim::client::{Client, Credentials, Options};
use scimops::scim::wire::Method;
use scimops::secret::Secret;

use crate::support::{CLIENT_ID, SECRET, TestSandbox};

/// Retries without the waits of production (backoff from 10 ms).
fn fast() -> Options {
    Options {
        first_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(100),
        ..Options::default()
    }
}

fn client(sandbox: &TestSandbox) -> Client {
    client_with(sandbox, fast())
}

fn client_with(sandbox: &TestSandbox, options: Options) -> Client {
    Client::new(
        scimops::config::checked_url(&sandbox.running.scim_url(), false).unwrap(),
        Credentials::ClientCredentials {
            token_url: sandbox.running.token_url().parse().unwrap(),
            client_id: CLIENT_ID.to_string(),
            client_secret: Secret::new(SECRET.to_string()),
            scope: "api".to_string(),
        },
        options,
        None,
    )
    .unwrap()
}

#[test]
fn one_token_serves_many_requests() {
    let sandbox = TestSandbox::start("");
    let client = client(&sandbox);
    sandbox.runtime.block_on(async {
        for _ in 0..5 {
            client.get("/Users", &[]).await.unwrap();
        }
    });
    assert_eq!(client.token_requests(), 1);
    assert_eq!(sandbox.requests().token, 1);
}

#[test]
fn a_token_is_renewed_before_it_expires() {
    let sandbox = TestSandbox::start("tokenLifetimeSeconds: 1\n");
    let client = client(&sandbox);
    sandbox.runtime.block_on(async {
        client.get("/Users", &[]).await.unwrap();
        tokio::time::sleep(Duration::from_millis(900)).await;
        client.get("/Users", &[]).await.unwrap();
    });
    assert_eq!(client.token_requests(), 2);
    assert!(
        sandbox.requests().requests.iter().all(|r| r.status != 401),
        "renewed before the server refused it"
    );
}

#[test]
fn a_refused_token_is_renewed_once_and_the_request_retried() {
    let sandbox = TestSandbox::start("");
    let client = client(&sandbox);
    sandbox.runtime.block_on(async {
        client.get("/Users", &[]).await.unwrap();
    });
    sandbox.running.revoke_tokens();
    let answer = sandbox
        .runtime
        .block_on(async { client.send(Method::Get, "/Users", &[], None).await });
    assert_eq!(answer.unwrap().status, 200);
    assert_eq!(client.token_requests(), 2);
    let statuses: Vec<u16> = sandbox
        .requests()
        .requests
        .iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(
        statuses,
        [200, 200, 401, 200, 200],
        "token, GET, GET refused, token, GET"
    );
}

#[test]
fn wrong_credentials_are_reported_without_the_secret() {
    let sandbox = TestSandbox::start("");
    let client = Client::new(
        scimops::config::checked_url(&sandbox.running.scim_url(), false).unwrap(),
        Credentials::ClientCredentials {
            token_url: sandbox.running.token_url().parse().unwrap(),
            client_id: CLIENT_ID.to_string(),
            client_secret: Secret::new("the-wrong-secret".to_string()),
            scope: "api".to_string(),
        },
        fast(),
        None,
    )
    .unwrap();
    let err = sandbox
        .runtime
        .block_on(async { client.get("/Users", &[]).await })
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("401 Unauthorized invalid_client; check the client id and the client secret"),
        "{err}"
    );
    assert!(!err.contains("the-wrong-secret"));
}

/// The statuses the sandbox answered to SCIM requests, in order.
fn statuses(sandbox: &TestSandbox, method: &str) -> Vec<u16> {
    sandbox
        .requests()
        .requests
        .iter()
        .filter(|r| r.method == method && r.path.starts_with("/scim/v2/Users"))
        .map(|r| r.status)
        .collect()
}

fn new_user(name: &str) -> serde_json::Value {
    serde_json::json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": format!("acme\\{name}"),
        "name": {"givenName": name, "familyName": "Test"},
        "emails": [{"value": format!("{name}@acme.test"), "primary": true, "type": "work"}],
        "active": true,
    })
}

#[test]
fn transient_failures_are_retried_then_succeed() {
    let sandbox = TestSandbox::start(
        "failures:\n  - {method: GET, path: /Users, status: 503, times: 1}\n  - {method: GET, path: /Users, status: 502, times: 1}\n  - {method: GET, path: /Users, fault: reset, times: 1}\n",
    );
    let client = client(&sandbox);
    let answer = sandbox
        .runtime
        .block_on(async { client.get("/Users", &[]).await });
    assert!(answer.is_ok(), "{answer:?}");
    assert_eq!(client.retries(), 3);
    assert_eq!(
        statuses(&sandbox, "GET"),
        [503, 502, 200, 200],
        "the reset one is logged as served"
    );
}

#[test]
fn retry_after_is_honoured() {
    let sandbox = TestSandbox::start(
        "failures:\n  - {method: GET, path: /Users, fault: \"429\", times: 1}\n",
    );
    let client = client(&sandbox);
    let started = std::time::Instant::now();
    sandbox
        .runtime
        .block_on(async { client.get("/Users", &[]).await })
        .unwrap();
    // The sandbox asks for one second; the backoff alone would wait 10 ms.
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(statuses(&sandbox, "GET"), [429, 200]);
}

#[test]
fn retries_stop_at_the_count_and_report_the_last_error() {
    let sandbox = TestSandbox::start("failures:\n  - {method: GET, path: /Users, status: 504}\n");
    let client = client_with(
        &sandbox,
        Options {
            retries: 2,
            ..fast()
        },
    );
    let err = sandbox
        .runtime
        .block_on(async { client.get("/Users", &[]).await })
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(504));
    assert_eq!(statuses(&sandbox, "GET"), [504, 504, 504]);
    assert_eq!(client.retries(), 2);
}

#[test]
fn a_wait_beyond_the_budget_is_not_started() {
    let sandbox =
        TestSandbox::start("failures:\n  - {method: GET, path: /Users, fault: \"503\"}\n");
    let client = client_with(
        &sandbox,
        Options {
            budget: Duration::from_millis(500),
            ..fast()
        },
    );
    let err = sandbox
        .runtime
        .block_on(async { client.get("/Users", &[]).await })
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(
        statuses(&sandbox, "GET"),
        [503],
        "Retry-After: 1 is past the budget"
    );
    // Said as "later", not as an outage.
    assert!(
        err.to_string().ends_with(
            "; the server asked to wait 1 s before trying again, beyond the 0.5 s scimops gives a request's retries: run again later"
        ),
        "{err}"
    );
}

#[test]
fn a_post_that_may_have_been_done_is_not_sent_again() {
    for failure in [
        "status: 500",
        "status: 502",
        "status: 504",
        "fault: lost",
        "fault: reset",
    ] {
        let sandbox = TestSandbox::start(&format!(
            "failures:\n  - {{method: POST, path: /Users, {failure}, times: 1}}\n"
        ));
        let client = client(&sandbox);
        let err = sandbox
            .runtime
            .block_on(async {
                client
                    .send(Method::Post, "/Users", &[], Some(&new_user("ann")))
                    .await
            })
            .unwrap_err();
        assert!(err.maybe_done(), "{failure}: {err}");
        assert_eq!(statuses(&sandbox, "POST").len(), 1, "{failure}: sent once");
        assert_eq!(client.retries(), 0, "{failure}");
    }
}

#[test]
fn a_post_the_server_refused_to_start_is_sent_again() {
    for failure in ["fault: \"503\"", "fault: \"429\""] {
        let sandbox = TestSandbox::start(&format!(
            "failures:\n  - {{method: POST, path: /Users, {failure}, times: 1}}\n"
        ));
        let client = client(&sandbox);
        let answer = sandbox.runtime.block_on(async {
            client
                .send(Method::Post, "/Users", &[], Some(&new_user("ann")))
                .await
        });
        assert_eq!(answer.unwrap().status, 201, "{failure}");
        assert_eq!(statuses(&sandbox, "POST").len(), 2, "{failure}");
    }
}

#[test]
fn a_token_request_is_retried_after_a_transient_failure() {
    let sandbox =
        TestSandbox::start("failures:\n  - {method: POST, path: /oauth2, status: 503, times: 1}\n");
    let client = client(&sandbox);
    sandbox
        .runtime
        .block_on(async { client.get("/Users", &[]).await })
        .unwrap();
    assert_eq!(client.token_requests(), 2);
    assert_eq!(client.retries(), 1);
}

#[test]
fn a_refused_request_is_sent_again_with_a_token_asked_for_after_the_refusal() {
    // A request travels slowly with the first token. Meanwhile every token is revoked,
    // another request renews (second token), and that one is revoked too. When the slow
    // request is refused, the token in the cache is younger than it, yet already
    // dead: it is sent again with a third, asked for after the refusal.
    let sandbox = TestSandbox::start(
        "defaultDomain: acme\ntokenLifetimeSeconds: 0\nfaults: {slowMillis: 1000}\nfailures:\n  - {method: GET, path: /Users/slow, fault: slow, times: 1}\n",
    );
    let client = client(&sandbox);
    let runtime = &sandbox.runtime;
    runtime
        .block_on(client.get("/ServiceProviderConfig", &[]))
        .unwrap();
    assert_eq!(client.token_requests(), 1);
    let slow = runtime.spawn({
        let client = client.clone();
        async move { client.send(Method::Get, "/Users/slow", &[], None).await }
    });
    std::thread::sleep(Duration::from_millis(200));
    sandbox.running.revoke_tokens();
    runtime
        .block_on(client.get("/ServiceProviderConfig", &[]))
        .unwrap();
    assert_eq!(client.token_requests(), 2, "renewed after a 401");
    sandbox.running.revoke_tokens();
    let answer = runtime.block_on(slow).unwrap();
    // The slow one reached the server with the first token: 401, then a third token.
    assert_eq!(
        answer
            .map(|_| ())
            .map_err(|e| e.status().map(|s| s.as_u16())),
        Err(Some(404)),
        "refused for being unknown (404), not for its token (401)"
    );
    assert_eq!(client.token_requests(), 3);
    let log = sandbox.requests();
    let slow_calls: Vec<u16> = log
        .requests
        .iter()
        .filter(|r| r.path == "/scim/v2/Users/slow")
        .map(|r| r.status)
        .collect();
    assert_eq!(slow_calls, [401, 404], "sent twice: refused, then answered");
}
