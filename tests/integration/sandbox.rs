//! The sandbox's contract, request by request: what Bizagi's documentation says its
//! SCIM API does (`BIZAGI-SCIM-FACTS.md`).

use serde_json::json;

use crate::support::{CLIENT_ID, PROPERTIES, SECRET, TestSandbox, http};

const EXT: &str = "urn:ietf:params:scim:schemas:extension:bizagi:2.0:UserProperties";

fn sandbox() -> TestSandbox {
    TestSandbox::start(&format!("defaultDomain: acme\n{PROPERTIES}"))
}

fn user(name: &str) -> serde_json::Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", EXT],
        "userName": name,
        "name": {"givenName": "Jane", "familyName": "Doe"},
        "emails": [{"value": "jane@acme.example", "type": "work", "primary": true}],
        "phoneNumbers": [{"value": "+57 3001234567", "type": "mobile", "primary": true}],
        EXT: {"enabledForAssignation": true, "Level": 2},
    })
}

fn token_request(
    sandbox: &TestSandbox,
    id: &str,
    secret: &str,
    grant: &str,
) -> (u16, serde_json::Value) {
    sandbox.runtime.block_on(async {
        let r = http()
            .post(sandbox.running.token_url())
            .basic_auth(id, Some(secret))
            .form(&[("grant_type", grant), ("scope", "api")])
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    })
}

#[test]
fn the_token_endpoint_follows_bizagis_example() {
    let s = sandbox();
    let (status, body) = token_request(&s, CLIENT_ID, SECRET, "client_credentials");
    assert_eq!(status, 200);
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 1200);
    assert_eq!(body["scope"], "api usersync openid");
    assert_eq!(body["http_status_code"], 200);
    assert_eq!(body["access_token"].as_str().unwrap().len(), 40);

    let (status, body) = token_request(&s, CLIENT_ID, "wrong", "client_credentials");
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    let (status, body) = token_request(&s, CLIENT_ID, SECRET, "password");
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unsupported_grant_type"))
    );
}

#[test]
fn scim_calls_need_a_live_token() {
    let s = TestSandbox::start("tokenLifetimeSeconds: 1\n");
    let (status, body) = s.call("GET", "/Users", "not-a-token", None);
    assert_eq!(status, 401);
    assert_eq!(
        body["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:Error"
    );
    let token = s.token();
    assert_eq!(s.call("GET", "/Users", &token, None).0, 200);
    std::thread::sleep(std::time::Duration::from_millis(1200));
    assert_eq!(
        s.call("GET", "/Users", &token, None).0,
        401,
        "the token expired"
    );
    // Bizagi's mode for Entra ID: the client secret itself as a static bearer token.
    assert_eq!(s.call("GET", "/Users", SECRET, None).0, 200);
}

#[test]
fn discovery_describes_users_and_their_properties() {
    let s = sandbox();
    let t = s.token();
    let (status, config) = s.call("GET", "/ServiceProviderConfig", &t, None);
    assert_eq!(status, 200);
    assert_eq!(config["patch"]["supported"], true);
    assert_eq!(config["bulk"]["supported"], false);
    for path in ["/ResourceTypes", "/scim/v2/ResourceTypes"] {
        let (status, types) = s.call("GET", path, &t, None);
        assert_eq!(status, 200, "{path}");
        assert_eq!(types["Resources"][0]["schemaExtensions"][0]["schema"], EXT);
    }
    let (_, schemas) = s.call("GET", "/Schemas", &t, None);
    let ext = schemas["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == EXT)
        .unwrap();
    assert_eq!(ext["name"], "BizagiUserProperties");
    let ty = |n: &str| {
        ext["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == n)
            .map(|a| a["type"].clone())
    };
    assert_eq!(ty("enabledForAssignation"), Some(json!("boolean")));
    assert_eq!(ty("normalCost"), Some(json!("decimal")));
    assert_eq!(ty("Level"), Some(json!("integer")));
    assert_eq!(ty("HireDate"), Some(json!("dateTime")));
}

#[test]
fn users_are_created_read_by_name_or_id_and_unique_without_regard_to_case() {
    let s = sandbox();
    let t = s.token();
    let (status, created) = s.call("POST", "/Users", &t, Some(user("JDoe@Acme")));
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(created["userName"], "JDoe@Acme");
    assert_eq!(created["name"]["formatted"], "Jane Doe");
    assert_eq!(created[EXT]["Level"], 2);
    assert_eq!(
        created[EXT]["DelegateEnabled"], false,
        "built-in properties always answer"
    );

    for key in [id.as_str(), "jdoe@acme", "JDOE%40ACME", "acme%5Cjdoe"] {
        let (status, found) = s.call("GET", &format!("/Users/{key}"), &t, None);
        assert_eq!(
            (status, found["id"].as_str()),
            (200, Some(id.as_str())),
            "{key}"
        );
    }
    let (status, _) = s.call("GET", "/Users/nobody@acme", &t, None);
    assert_eq!(status, 404);

    let (status, conflict) = s.call("POST", "/Users", &t, Some(user("jdoe@ACME")));
    assert_eq!(status, 409);
    assert_eq!(conflict["scimType"], "uniqueness");
    assert_eq!(conflict["status"], "409");
}

#[test]
fn bizagis_limits_are_enforced_with_scim_errors() {
    let s = sandbox();
    let t = s.token();
    let refused = |body: serde_json::Value| {
        let (status, error) = s.call("POST", "/Users", &t, Some(body));
        assert_eq!(status, 400, "{error}");
        assert_eq!(
            error["schemas"][0],
            "urn:ietf:params:scim:api:messages:2.0:Error"
        );
        error["detail"].as_str().unwrap().to_string()
    };
    assert!(refused(user("abcdefghijklm@nopqrstuvwxyz")).contains("exceeds 25 characters"));
    let mut no_name = user("a@acme");
    no_name["name"] = json!({});
    assert!(refused(no_name).contains("at least one of name"));
    let mut unknown = user("b@acme");
    unknown[EXT] = json!({"Nope": true});
    assert!(refused(unknown).contains("no attribute \"Nope\""));
    let mut mistyped = user("c@acme");
    mistyped[EXT] = json!({"Level": "two"});
    assert!(refused(mistyped).contains("of type integer"));
    let mut bad_phone = user("d@acme");
    bad_phone["phoneNumbers"] = json!([{"value": "300 123", "type": "mobile", "primary": true}]);
    assert!(refused(bad_phone).contains("+CountryCode Number"));
    let mut no_user_name = user("e@acme");
    no_user_name.as_object_mut().unwrap().remove("userName");
    assert!(refused(no_user_name).contains("userName is required"));
}

#[test]
fn only_one_primary_work_email_and_one_phone_are_stored() {
    let s = sandbox();
    let t = s.token();
    let mut body = user("multi@acme");
    body["emails"] = json!([
        {"value": "home@x.example", "type": "home", "primary": true},
        {"value": "work@x.example", "type": "work", "primary": true},
        {"value": "other@x.example", "type": "work", "primary": false},
    ]);
    body["phoneNumbers"] = json!([
        {"value": "+1 111", "type": "work", "primary": false},
        {"value": "+1 222", "type": "mobile", "primary": true},
    ]);
    body["title"] = json!("Not stored by Bizagi");
    let (_, created) = s.call("POST", "/Users", &t, Some(body));
    assert_eq!(
        created["emails"],
        json!([{"value": "work@x.example", "type": "work", "primary": true}])
    );
    assert_eq!(created["phoneNumbers"].as_array().unwrap().len(), 1);
    assert_eq!(created["phoneNumbers"][0]["value"], "+1 222");
    assert_eq!(created.get("title"), None);
}

#[test]
fn patch_put_and_delete_as_documented() {
    let s = sandbox();
    let t = s.token();
    let (_, created) = s.call("POST", "/Users", &t, Some(user("p@acme")));
    let path = format!("/Users/{}", created["id"].as_str().unwrap());
    let patch = |ops: serde_json::Value| {
        s.call(
            "PATCH",
            &path,
            &t,
            Some(json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops})),
        )
    };
    let (status, patched) = patch(json!([
        {"op": "replace", "path": "name.middleName", "value": "Q"},
        {"op": "add", "path": "name.familyName", "value": "Roe"},
        {"op": "remove", "path": format!("{EXT}:Level")},
        {"op": "replace", "value": {"active": false}},
    ]));
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["name"]["formatted"], "Jane Q Roe");
    assert_eq!(patched[EXT].get("Level"), None);
    assert_eq!(
        patched["active"], true,
        "an operation without a path is ignored"
    );

    let (status, error) = patch(json!([{"op": "replace", "path": "nickName", "value": "J"}]));
    assert_eq!(
        (status, error["scimType"].as_str()),
        (400, Some("invalidPath"))
    );

    let mut replacement = user("p@acme");
    replacement.as_object_mut().unwrap().remove("phoneNumbers");
    let (status, put) = s.call("PUT", &path, &t, Some(replacement));
    assert_eq!(status, 200, "{put}");
    assert_eq!(put.get("phoneNumbers"), None, "PUT replaces everything");

    let (status, body) = s.call("DELETE", &path, &t, None);
    assert_eq!((status, body), (204, serde_json::Value::Null));
    let (status, after) = s.call("GET", &path, &t, None);
    assert_eq!(status, 200, "Bizagi never deletes: the user remains");
    assert_eq!(after["active"], false);
}

#[test]
fn listing_pages_by_index_with_bizagis_limits() {
    let seed: String = (0..600)
        .map(|i| format!("  - {{userName: u{i:03}@acme, name: {{givenName: U{i}}}}}\n"))
        .collect();
    let s = TestSandbox::start(&format!("seed:\n{seed}"));
    let t = s.token();
    let (_, page) = s.call("GET", "/Users", &t, None);
    assert_eq!(page["totalResults"], 600);
    assert_eq!(page["itemsPerPage"], 100, "100 by default");
    assert_eq!(page["Resources"][0]["userName"], "u000@acme");
    let (_, page) = s.call("GET", "/Users?count=1000", &t, None);
    assert_eq!(page["itemsPerPage"], 500, "at most 500");
    let (_, page) = s.call("GET", "/Users?startIndex=501&count=500", &t, None);
    assert_eq!(page["itemsPerPage"], 100);
    assert_eq!(page["startIndex"], 501);
    assert_eq!(
        page["Resources"][0]["userName"], "u500@acme",
        "startIndex is a 1-based index"
    );
    let (_, page) = s.call(
        "GET",
        "/Users?startIndex=0&count=2&sortBy=userName&sortOrder=descending",
        &t,
        None,
    );
    assert_eq!(page["Resources"][0]["userName"], "u599@acme");
    let (_, found) = s.call(
        "GET",
        "/Users?filter=userName%20eq%20%22U042%40ACME%22",
        &t,
        None,
    );
    assert_eq!(found["totalResults"], 1);
    assert_eq!(found["Resources"][0]["userName"], "u042@acme");
}

#[test]
fn every_request_is_counted_by_method() {
    let s = sandbox();
    let t = s.token();
    s.call("GET", "/Users", &t, None);
    s.call("POST", "/Users", &t, Some(user("c1@acme")));
    s.call("POST", "/Users", &t, Some(user("c1@acme")));
    let log = s.requests();
    assert_eq!(log.token, 1);
    assert_eq!(log.count("GET"), 1);
    assert_eq!(log.count("POST"), 2);
    assert_eq!(log.requests.last().unwrap().status, 409);
    assert!(
        log.requests.iter().all(|r| r
            .body
            .as_ref()
            .is_none_or(|b| !b.to_string().contains(SECRET))),
        "token requests' bodies are not kept"
    );
}

// ---- where Bizagi's documents are silent, the sandbox is an RFC 7644 server --------------

/// A raw request: status, the headers asked for, the body as JSON (`Null` when empty).
fn raw(
    s: &TestSandbox,
    method: &str,
    path: &str,
    token: &str,
    headers: &[(&str, &str)],
) -> (u16, serde_json::Value) {
    let url = format!("{}{path}", s.running.scim_url());
    s.runtime.block_on(async {
        let mut request = http()
            .request(method.parse().unwrap(), url)
            .bearer_auth(token);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
        (status, body)
    })
}

const ERROR_URN: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

#[test]
fn single_discovery_resources_are_served() {
    let s = sandbox();
    let token = s.token();
    let (status, body) = s.call("GET", "/ResourceTypes/User", &token, None);
    assert_eq!((status, body["id"].as_str()), (200, Some("User")));
    let (status, body) = s.call("GET", &format!("/Schemas/{EXT}"), &token, None);
    assert_eq!((status, body["id"].as_str()), (200, Some(EXT)));
    let (status, body) = s.call("GET", "/ResourceTypes/Group", &token, None);
    assert_eq!(status, 404);
    assert_eq!(body["schemas"][0], ERROR_URN);
}

#[test]
fn attributes_and_excluded_attributes_choose_what_is_answered() {
    let s = sandbox();
    let token = s.token();
    let (status, created) = s.call("POST", "/Users", &token, Some(user("jane@acme")));
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap();

    let (_, only) = s.call(
        "GET",
        &format!("/Users/{id}?attributes=userName"),
        &token,
        None,
    );
    let mut keys: Vec<&String> = only.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["id", "schemas", "userName"], "{only}");

    let (_, given) = s.call(
        "GET",
        &format!("/Users/{id}?attributes=name.givenName,{EXT}:Level"),
        &token,
        None,
    );
    assert_eq!(given["name"], json!({"givenName": "Jane"}), "{given}");
    assert_eq!(given[EXT], json!({"Level": 2}), "{given}");

    let (_, listed) = s.call(
        "GET",
        "/Users?excludedAttributes=name,emails,phoneNumbers",
        &token,
        None,
    );
    let first = &listed["Resources"][0];
    assert!(
        first.get("name").is_none() && first.get("emails").is_none(),
        "{first}"
    );
    assert_eq!(first["userName"], "jane@acme");
}

#[test]
fn removing_active_is_refused() {
    let s = sandbox();
    let token = s.token();
    let (_, created) = s.call("POST", "/Users", &token, Some(user("jane@acme")));
    let path = format!("/Users/{}", created["id"].as_str().unwrap());
    assert_eq!(s.call("DELETE", &path, &token, None).0, 204);
    let patch = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "remove", "path": "active"}],
    });
    let (status, body) = s.call("PATCH", &path, &token, Some(patch));
    assert_eq!(
        (status, body["scimType"].as_str()),
        (400, Some("mutability"))
    );
    let (_, now) = s.call("GET", &path, &token, None);
    assert_eq!(now["active"], false, "still deactivated");
}

#[test]
fn every_error_carries_a_scim_body_and_trailing_slashes_are_tolerated() {
    let s = sandbox();
    let token = s.token();
    let (status, body) = raw(&s, "POST", "/Users/someone", &token, &[]);
    assert_eq!(status, 405);
    assert_eq!(body["schemas"][0], ERROR_URN, "{body}");
    assert_eq!(body["status"], "405");
    let (status, body) = raw(&s, "GET", "/Users?startIndex=many", &token, &[]);
    assert_eq!(status, 400);
    assert_eq!(body["schemas"][0], ERROR_URN, "{body}");
    assert_eq!(raw(&s, "GET", "/Users/", &token, &[]).0, 200);
    assert_eq!(
        raw(&s, "GET", "/ServiceProviderConfig/", &token, &[]).0,
        200
    );
}

#[test]
fn a_current_version_answers_not_modified() {
    let s = TestSandbox::start(&format!("defaultDomain: acme\netag: true\n{PROPERTIES}"));
    let token = s.token();
    let (_, created) = s.call("POST", "/Users", &token, Some(user("jane@acme")));
    let path = format!("/Users/{}", created["id"].as_str().unwrap());
    let version = created["meta"]["version"].as_str().unwrap().to_string();
    let (status, _) = raw(&s, "GET", &path, &token, &[("If-None-Match", &version)]);
    assert_eq!(status, 304);
    let (status, _) = raw(&s, "GET", &path, &token, &[("If-None-Match", "W/\"0\"")]);
    assert_eq!(status, 200);
}

#[test]
fn names_are_answered_as_the_setting_says() {
    for (setting, formatted, parts) in [
        ("both", true, true),
        ("parts", false, true),
        ("formatted", true, false),
    ] {
        let s = TestSandbox::start(&format!(
            "defaultDomain: acme\nname: {setting}\n{PROPERTIES}"
        ));
        let token = s.token();
        let (_, created) = s.call("POST", "/Users", &token, Some(user("jane@acme")));
        let name = &created["name"];
        assert_eq!(
            name.get("formatted").is_some(),
            formatted,
            "{setting}: {name}"
        );
        assert_eq!(name.get("givenName").is_some(), parts, "{setting}: {name}");
        if formatted {
            assert_eq!(name["formatted"], "Jane Doe");
        }
    }
}

#[test]
fn dropped_attributes_are_accepted_and_not_kept() {
    let s = TestSandbox::start(&format!(
        "defaultDomain: acme\ndrops: [name.familyName, phone, properties.Level]\n{PROPERTIES}"
    ));
    let token = s.token();
    let (status, created) = s.call("POST", "/Users", &token, Some(user("jane@acme")));
    assert_eq!(status, 201);
    assert!(created["name"].get("familyName").is_none(), "{created}");
    assert!(created.get("phoneNumbers").is_none(), "{created}");
    assert!(created[EXT].get("Level").is_none(), "{created}");
    assert_eq!(created["emails"][0]["value"], "jane@acme.example", "kept");
}

#[test]
fn a_listing_with_count_can_be_refused() {
    let s = TestSandbox::start(&format!(
        "defaultDomain: acme\ncountRefused: 500\n{PROPERTIES}"
    ));
    let token = s.token();
    let (status, body) = s.call("GET", "/Users?startIndex=1&count=500", &token, None);
    assert_eq!(status, 500);
    assert_eq!(body["schemas"][0], ERROR_URN);
    let (status, body) = s.call("GET", "/Users?startIndex=1", &token, None);
    assert_eq!((status, body["totalResults"].as_u64()), (200, Some(0)));
}
