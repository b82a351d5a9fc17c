//! The HTTP client's token handling, against the sandbox.

use std::time::Duration;

use scimops::scim::client::{Client, Credentials};
use scimops::scim::wire::Method;
use scimops::secret::Secret;

use crate::support::{CLIENT_ID, SECRET, TestSandbox};

fn client(sandbox: &TestSandbox) -> Client {
    Client::new(
        scimops::config::checked_url(&sandbox.running.scim_url()).unwrap(),
        Credentials::ClientCredentials {
            token_url: sandbox.running.token_url().parse().unwrap(),
            client_id: CLIENT_ID.to_string(),
            client_secret: Secret::new(SECRET.to_string()),
            scope: "api".to_string(),
        },
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
        scimops::config::checked_url(&sandbox.running.scim_url()).unwrap(),
        Credentials::ClientCredentials {
            token_url: sandbox.running.token_url().parse().unwrap(),
            client_id: CLIENT_ID.to_string(),
            client_secret: Secret::new("the-wrong-secret".to_string()),
            scope: "api".to_string(),
        },
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
