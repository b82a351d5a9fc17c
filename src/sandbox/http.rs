//! The sandbox's HTTP API: Bizagi's token endpoint, SCIM discovery and Users, and
//! `/_sandbox/requests`, the log of what it served (for tests and benchmarks).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine;
use serde::Serialize;
use serde_json::{Value as Json, json};

use super::config::{Failure, FaultKind, Faults, Paging, ResourceTypesPath, UserKeys};
use super::store::{SortKey, Store, StoreError};
use super::user::{
    EXT_URN, Refusal, Rules, UserRecord, name_key, parse_eq_filter, parse_user_name,
};
use crate::random;
use crate::scim::wire::{LIST_RESPONSE_URN, SCIM_JSON, ScimError, USER_URN};
use crate::secret::Secret;

/// How listings and keys behave (Bizagi's ambiguities, facts §12).
#[derive(Clone, Copy, Debug)]
pub struct Listing {
    pub paging: Paging,
    pub default_page_size: u64,
    pub max_page_size: u64,
    pub filter: bool,
    pub user_keys: UserKeys,
    pub resource_types: ResourceTypesPath,
    /// A listing with `count` is answered with this status.
    pub count_refused: Option<u16>,
}

pub struct AppState {
    pub store: Store,
    /// When the sandbox started (the request log's clock).
    pub started: Instant,
    pub rules: Rules,
    pub listing: Listing,
    pub failures: Vec<Failure>,
    /// How many requests each failure answered (for `times`).
    pub failure_hits: Mutex<Vec<u32>>,
    /// Random faults; tests change them while the sandbox runs.
    pub faults: Mutex<Faults>,
    pub clients: Vec<(String, Secret)>,
    /// `None`: tokens never expire.
    pub token_lifetime: Option<Duration>,
    tokens: Mutex<BTreeMap<String, Option<Instant>>>,
    /// Every token issued, revoked or not (tests look for them in scimops' output).
    issued: Mutex<Vec<String>>,
    /// Writes are serialised so that a read-modify-write (PATCH) is atomic.
    writes: Mutex<()>,
    log: Mutex<Vec<Served>>,
}

impl AppState {
    pub fn new(
        store: Store,
        rules: Rules,
        listing: Listing,
        clients: Vec<(String, Secret)>,
        token_lifetime: Option<Duration>,
    ) -> Self {
        Self {
            store,
            started: Instant::now(),
            rules,
            listing,
            failures: Vec::new(),
            failure_hits: Mutex::default(),
            faults: Mutex::new(Faults::default()),
            clients,
            token_lifetime,
            tokens: Mutex::default(),
            issued: Mutex::default(),
            writes: Mutex::default(),
            log: Mutex::default(),
        }
    }

    pub fn request_log(&self) -> RequestLog {
        RequestLog::new(lock(&self.log).clone())
    }

    pub fn clear_request_log(&self) {
        lock(&self.log).clear();
    }

    /// Forgets every issued token: the next SCIM call with one gets a 401.
    pub fn issued_tokens(&self) -> Vec<String> {
        lock(&self.issued).clone()
    }

    pub fn revoke_tokens(&self) {
        lock(&self.tokens).clear();
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// One request the sandbox served.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct Served {
    pub method: String,
    /// Path and query, as received.
    pub path: String,
    pub status: u16,
    /// The JSON body of a SCIM request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Json>,
    /// The fault injected into this request, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<String>,
    /// When it arrived, in microseconds since the sandbox started (benchmarks: how long
    /// the server took for a batch of writes).
    #[serde(default)]
    pub start_us: u64,
    /// How long it took to answer, in microseconds.
    #[serde(default)]
    pub took_us: u64,
}

/// What the sandbox served: every request, and counts of the SCIM ones by method.
#[derive(Clone, Debug, Default, PartialEq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestLog {
    /// SCIM requests (under `/scim/v2`) by method.
    pub scim: BTreeMap<String, usize>,
    /// Requests to the token endpoint.
    pub token: usize,
    pub requests: Vec<Served>,
}

impl RequestLog {
    pub fn new(requests: Vec<Served>) -> Self {
        let mut log = Self::default();
        for r in &requests {
            if r.path.starts_with("/scim/v2") {
                *log.scim.entry(r.method.clone()).or_default() += 1;
            } else if r.path.starts_with("/oauth2/") {
                log.token += 1;
            }
        }
        log.requests = requests;
        log
    }

    /// SCIM requests of `method`.
    pub fn count(&self, method: &str) -> usize {
        self.scim.get(method).copied().unwrap_or(0)
    }

    /// SCIM requests that write (POST, PUT, PATCH, DELETE).
    pub fn writes(&self) -> usize {
        ["POST", "PUT", "PATCH", "DELETE"]
            .iter()
            .map(|m| self.count(m))
            .sum()
    }
}

pub fn router(state: Arc<AppState>) -> Router {
    let mut scim = Router::new();
    // Every path also with a trailing slash (RFC 7644 servers tolerate one).
    let mut route = |path: &str, methods: axum::routing::MethodRouter<Arc<AppState>>| {
        let with_slash = format!("{path}/");
        scim = std::mem::take(&mut scim)
            .route(path, methods.clone())
            .route(&with_slash, methods);
    };
    route("/ServiceProviderConfig", get(service_provider_config));
    let types = state.listing.resource_types;
    if types != ResourceTypesPath::Misprinted {
        route("/ResourceTypes", get(resource_types));
        route("/ResourceTypes/{id}", get(resource_type));
    }
    if types != ResourceTypesPath::Documented {
        route("/scim/v2/ResourceTypes", get(resource_types));
    }
    route("/Schemas", get(schemas));
    route("/Schemas/{id}", get(schema));
    route("/Users", get(list_users).post(create_user));
    route(
        "/Users/{key}",
        get(get_user)
            .patch(patch_user)
            .put(put_user)
            .delete(delete_user),
    );
    let scim = scim
        .method_not_allowed_fallback(method_not_allowed)
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            require_bearer,
        ));
    Router::new()
        .route("/oauth2/server/token", axum::routing::post(token))
        .nest("/scim/v2", scim)
        .route("/_sandbox/requests", get(requests).delete(clear_requests))
        .route("/_sandbox/tokens", axum::routing::delete(revoke_tokens))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), track))
        .with_state(state)
}

/// The largest request body the sandbox reads.
const MAX_BODY: usize = 4 * 1024 * 1024;

/// Logs and counts every request but the sandbox's own endpoints, with its JSON body
/// (form bodies, which carry client secrets, are not kept).
async fn track(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let method = req.method().to_string();
    let path = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.uri().path().to_string(), ToString::to_string);
    if path.starts_with("/_sandbox/") {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        return refusal(Refusal::invalid_syntax(
            "the body is too large or unreadable",
        ));
    };
    let json = if path.starts_with("/scim/v2") {
        serde_json::from_slice(&bytes).ok()
    } else {
        None
    };
    let started = Instant::now();
    let scim_path = path.strip_prefix("/scim/v2").unwrap_or(&path);
    // A configured failure first (while it has times left), else a random fault.
    let failure = {
        let mut hits = lock(&state.failure_hits);
        state
            .failures
            .iter()
            .enumerate()
            .find(|(i, f)| {
                f.method.eq_ignore_ascii_case(parts.method.as_str())
                    && scim_path.starts_with(&f.path)
                    && f.times
                        .is_none_or(|n| hits.get(*i).copied().unwrap_or(0) < n)
            })
            .map(|(i, f)| {
                if let Some(hit) = hits.get_mut(i) {
                    *hit += 1;
                }
                f
            })
    };
    let slow_millis = lock(&state.faults).slow_millis;
    let fault = match failure {
        Some(f) => f.fault,
        None => {
            let faults = lock(&state.faults);
            (faults.rate > 0.0 && random::unit() < faults.rate && !faults.kinds.is_empty())
                .then(|| faults.kinds[random::next() as usize % faults.kinds.len()])
        }
    };
    let serve = |parts, bytes| async {
        scim_errors(
            next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
                .await,
        )
        .await
    };
    let response = match (fault, failure) {
        (Some(FaultKind::InternalError), _) => injected(StatusCode::INTERNAL_SERVER_ERROR, None),
        (Some(FaultKind::Unavailable), _) => injected(StatusCode::SERVICE_UNAVAILABLE, Some("1")),
        (Some(FaultKind::TooMany), _) => injected(StatusCode::TOO_MANY_REQUESTS, Some("1")),
        (Some(FaultKind::Reset), _) => dropped(),
        (Some(FaultKind::Lost), _) => {
            // The write is done, then the answer is lost.
            serve(parts, bytes).await;
            dropped()
        }
        (Some(FaultKind::Conflict), _) => {
            // The write is done, then answered as if it had been done before.
            serve(parts, bytes).await;
            refusal(Refusal {
                status: 409,
                scim_type: Some("uniqueness"),
                detail: "fault injected by the sandbox: userName is already taken".into(),
            })
        }
        (Some(FaultKind::Slow), _) => {
            tokio::time::sleep(Duration::from_millis(slow_millis)).await;
            serve(parts, bytes).await
        }
        (None, Some(f)) => failure_response(f),
        (None, None) => serve(parts, bytes).await,
    };
    let status = response.status().as_u16();
    tracing::info!(
        target: "scimops::sandbox",
        "{method} {path} {status} {:.1}ms{}",
        started.elapsed().as_secs_f64() * 1000.0,
        fault.map_or(String::new(), |k| format!(" (fault: {})", k.name()))
    );
    let micros = |d: Duration| u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
    lock(&state.log).push(Served {
        method,
        path,
        status,
        body: json,
        fault: fault.map(|k| k.name().to_string()),
        start_us: micros(started.duration_since(state.started)),
        took_us: micros(started.elapsed()),
    });
    response
}

/// A configured failure's answer.
fn failure_response(f: &Failure) -> Response {
    let kind = f.content_type.clone().unwrap_or_else(|| {
        if f.body.trim_start().starts_with('<') {
            "text/html"
        } else {
            SCIM_JSON
        }
        .to_string()
    });
    let status = StatusCode::from_u16(f.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, f.body.clone()).into_response();
    if let Ok(kind) = HeaderValue::from_str(&kind) {
        response.headers_mut().insert(header::CONTENT_TYPE, kind);
    }
    response
}

/// An injected failure, with `Retry-After` in seconds where given.
fn injected(status: StatusCode, retry_after: Option<&'static str>) -> Response {
    let mut response = refusal(Refusal {
        status: status.as_u16(),
        scim_type: None,
        detail: "fault injected by the sandbox".into(),
    });
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static(seconds));
    }
    response
}

/// An answer whose body fails: a 200 head, then the connection drops, so the client
/// gets no answer (a body-less status such as 204 would have nothing to break).
fn dropped() -> Response {
    struct Broken;
    impl http_body::Body for Broken {
        type Data = Bytes;
        type Error = std::io::Error;
        fn poll_frame(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, std::io::Error>>> {
            std::task::Poll::Ready(Some(Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "fault injected by the sandbox: connection dropped",
            ))))
        }
    }
    Response::new(axum::body::Body::new(Broken))
}

fn scim_response(status: StatusCode, body: &Json) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON));
    response
}

/// One user, with its ETag when versions are on.
fn user_response(state: &AppState, status: StatusCode, user: &UserRecord, base: &str) -> Response {
    let mut response = scim_response(status, &user.answer(&state.rules, base));
    if state.rules.etag
        && let Ok(etag) = HeaderValue::from_str(&user.etag())
    {
        response.headers_mut().insert(header::ETAG, etag);
    }
    response
}

fn refusal(r: Refusal) -> Response {
    let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::BAD_REQUEST);
    scim_response(status, &ScimError::body(r.status, r.scim_type, &r.detail))
}

fn not_found_user(key: &str) -> Refusal {
    Refusal {
        status: 404,
        scim_type: None,
        detail: format!("user {key:?} not found"),
    }
}

fn internal(err: StoreError) -> Refusal {
    match err {
        StoreError::Conflict => Refusal {
            status: 409,
            scim_type: Some("uniqueness"),
            detail: "userName is already taken".into(),
        },
        StoreError::Sql(e) => {
            tracing::error!(target: "scimops::sandbox", "state database: {e}");
            Refusal {
                status: 500,
                scim_type: None,
                detail: "the state database failed".into(),
            }
        }
    }
}

async fn not_found() -> Response {
    refusal(Refusal {
        status: 404,
        scim_type: None,
        detail: "no such endpoint".into(),
    })
}

async fn method_not_allowed(req: Request) -> Response {
    refusal(Refusal {
        status: 405,
        scim_type: None,
        detail: format!("{} is not allowed on {}", req.method(), req.uri().path()),
    })
}

/// Any error answered without a SCIM body (an extractor's rejection, a framework's
/// answer) gets one: every SCIM error carries `urn:...:Error`.
async fn scim_errors(response: Response) -> Response {
    let status = response.status();
    let scim = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.contains("json"));
    if !status.is_client_error() && !status.is_server_error() || scim {
        return response;
    }
    let bytes = axum::body::to_bytes(response.into_body(), MAX_BODY)
        .await
        .unwrap_or_default();
    let detail = String::from_utf8_lossy(&bytes).trim().to_string();
    let mut response = refusal(Refusal {
        status: status.as_u16(),
        scim_type: (status == StatusCode::BAD_REQUEST).then_some("invalidValue"),
        detail: if detail.is_empty() {
            status.canonical_reason().unwrap_or("error").to_string()
        } else {
            detail
        },
    });
    *response.status_mut() = status;
    response
}

async fn requests(State(state): State<Arc<AppState>>) -> Response {
    axum::Json(state.request_log()).into_response()
}

async fn clear_requests(State(state): State<Arc<AppState>>) -> StatusCode {
    state.clear_request_log();
    StatusCode::NO_CONTENT
}

async fn revoke_tokens(State(state): State<Arc<AppState>>) -> StatusCode {
    state.revoke_tokens();
    StatusCode::NO_CONTENT
}

// ---- OAuth2 --------------------------------------------------------------------------

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        axum::Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

/// `POST /oauth2/server/token`: client credentials, Basic-authenticated (or in the form).
async fn token(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Response {
    let form: BTreeMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "grant_type must be client_credentials",
        );
    }
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Basic ")
                .or_else(|| v.strip_prefix("basic "))
        })
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| {
            s.split_once(':')
                .map(|(i, s)| (i.to_string(), s.to_string()))
        });
    let credentials = basic.or_else(|| {
        Some((
            form.get("client_id")?.clone(),
            form.get("client_secret")?.clone(),
        ))
    });
    let known = credentials.is_some_and(|(id, secret)| {
        state
            .clients
            .iter()
            .any(|(cid, csecret)| *cid == id && csecret.expose() == secret)
    });
    if !known {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "unknown client or wrong secret",
        );
    }
    let access_token = random::hex(40);
    let expires = state.token_lifetime.map(|d| Instant::now() + d);
    lock(&state.tokens).insert(access_token.clone(), expires);
    lock(&state.issued).push(access_token.clone());
    axum::Json(json!({
        "access_token": access_token,
        "token_type": "bearer",
        "expires_in": state.token_lifetime.map_or(0, |d| d.as_secs()),
        "scope": "api usersync openid",
        "http_status_code": 200,
    }))
    .into_response()
}

/// SCIM calls need a live token from the token endpoint, or a client secret used as a
/// static bearer token (Bizagi's mode for Entra ID, facts §2.3).
async fn require_bearer(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim);
    let valid = bearer.is_some_and(|token| {
        let issued = lock(&state.tokens)
            .get(token)
            .is_some_and(|expires| expires.is_none_or(|e| Instant::now() < e));
        issued
            || state
                .clients
                .iter()
                .any(|(_, secret)| secret.expose() == token)
    });
    if !valid {
        let detail = if bearer.is_some() {
            "the access token is unknown or expired"
        } else {
            "an access token is required"
        };
        let mut response = refusal(Refusal {
            status: 401,
            scim_type: None,
            detail: detail.into(),
        });
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return response;
    }
    next.run(req).await
}

// ---- discovery -----------------------------------------------------------------------

async fn service_provider_config(State(state): State<Arc<AppState>>) -> Response {
    scim_response(
        StatusCode::OK,
        &json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
            "patch": {"supported": state.rules.patch},
            "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
            "filter": {"supported": state.listing.filter, "maxResults": state.listing.max_page_size},
            "changePassword": {"supported": false},
            "sort": {"supported": true},
            "etag": {"supported": state.rules.etag},
            "authenticationSchemes": [{
                "type": "oauthbearertoken",
                "name": "OAuth Bearer Token",
                "description": "OAuth 2.0 client credentials at /oauth2/server/token",
            }],
            "meta": {"resourceType": "ServiceProviderConfig"},
        }),
    )
}

fn list_response(resources: Vec<Json>, total: u64, start: u64) -> Json {
    json!({
        "schemas": [LIST_RESPONSE_URN],
        "totalResults": total,
        "itemsPerPage": resources.len(),
        "startIndex": start,
        "Resources": resources,
    })
}

/// The User resource type, the one resource type the sandbox has.
fn user_resource_type() -> Json {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
        "id": "User",
        "name": "User",
        "endpoint": "/Users",
        "description": "User Account",
        "schema": USER_URN,
        "schemaExtensions": [{"schema": EXT_URN, "required": false}],
        "meta": {"resourceType": "ResourceType"},
    })
}

async fn resource_types() -> Response {
    scim_response(
        StatusCode::OK,
        &list_response(vec![user_resource_type()], 1, 1),
    )
}

/// `GET /ResourceTypes/{id}`: one resource type (RFC 7644 §4).
async fn resource_type(Path(id): Path<String>) -> Response {
    let user = user_resource_type();
    if user["id"]
        .as_str()
        .is_some_and(|i| i.eq_ignore_ascii_case(&id))
    {
        scim_response(StatusCode::OK, &user)
    } else {
        refusal(Refusal {
            status: 404,
            scim_type: None,
            detail: format!("no resource type {id:?}"),
        })
    }
}

fn attribute(name: &str, ty: &str, description: &str) -> Json {
    json!({
        "name": name, "type": ty, "multiValued": false, "description": description,
        "required": false, "caseExact": false, "mutability": "readWrite",
        "returned": "default", "uniqueness": "none",
    })
}

async fn schemas(State(state): State<Arc<AppState>>) -> Response {
    let all = schema_list(&state);
    scim_response(StatusCode::OK, &list_response(all, 2, 1))
}

/// `GET /Schemas/{urn}`: one schema (RFC 7644 §4).
async fn schema(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Response {
    match schema_list(&state).into_iter().find(|s| {
        s["id"]
            .as_str()
            .is_some_and(|i| i.eq_ignore_ascii_case(&id))
    }) {
        Some(schema) => scim_response(StatusCode::OK, &schema),
        None => refusal(Refusal {
            status: 404,
            scim_type: None,
            detail: format!("no schema {id:?}"),
        }),
    }
}

/// The core User schema and the UserProperties extension.
fn schema_list(state: &AppState) -> Vec<Json> {
    let mut user_name = attribute("userName", "string", "user@domain; unique");
    user_name["required"] = json!(true);
    user_name["uniqueness"] = json!("server");
    let mut name = attribute("name", "complex", "Full name, built from its parts");
    name["subAttributes"] = json!([
        attribute("formatted", "string", "Full name"),
        attribute("givenName", "string", "Given name"),
        attribute("middleName", "string", "Middle name"),
        attribute("familyName", "string", "Family name"),
    ]);
    let multi = |n: &str, d: &str| {
        let mut a = attribute(n, "complex", d);
        a["multiValued"] = json!(true);
        a["subAttributes"] = json!([
            attribute("value", "string", "Value"),
            attribute("type", "string", "Type"),
            attribute("primary", "boolean", "Primary"),
        ]);
        a
    };
    let core = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
        "id": USER_URN,
        "name": "User",
        "description": "User Account",
        "attributes": [
            user_name,
            name,
            attribute("active", "boolean", "Whether the user can sign in"),
            multi("emails", "Contact e-mail (one, primary, work)"),
            multi("phoneNumbers", "Contact cellphone (one, primary)"),
        ],
        "meta": {"resourceType": "Schema"},
    });
    let ext_attributes: Vec<Json> = state
        .rules
        .properties
        .values()
        .map(|(name, ty)| attribute(name, ty.as_str(), name))
        .collect();
    let ext = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
        "id": EXT_URN,
        "name": "BizagiUserProperties",
        "description": "Bizagi user properties",
        "attributes": ext_attributes,
        "meta": {"resourceType": "Schema"},
    });
    vec![core, ext]
}

// ---- users ---------------------------------------------------------------------------

/// The SCIM base URL as the client reached it, for `meta.location` and `Location`.
fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("http://{host}/scim/v2")
}

fn parse_body(body: &Bytes) -> Result<Json, Refusal> {
    serde_json::from_slice(body)
        .map_err(|e| Refusal::invalid_syntax(format!("the body is not JSON: {e}")))
}

/// A user by guidUser, else by userName (`user@domain`, `domain\user`, or bare), as
/// far as the sandbox's `userKeys` allows.
fn find(state: &AppState, key: &str) -> Result<UserRecord, Refusal> {
    let keys = state.listing.user_keys;
    if keys != UserKeys::UserName
        && let Some(user) = state.store.by_guid(key).map_err(internal)?
    {
        return Ok(user);
    }
    let by_name = match parse_user_name(key, &state.rules.default_domain) {
        Ok((user, domain)) if keys != UserKeys::Id => state
            .store
            .by_name_key(&name_key(&user, &domain))
            .map_err(internal)?,
        _ => None,
    };
    by_name.ok_or_else(|| not_found_user(key))
}

async fn list_users(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(query): Query<BTreeMap<String, String>>,
) -> Response {
    let number = |name: &str, default: u64| -> Result<u64, Refusal> {
        match query.get(name) {
            None => Ok(default),
            Some(v) => v
                .trim()
                .parse::<i64>()
                .map(|n| n.max(0).unsigned_abs())
                .map_err(|_| Refusal::invalid_value(format!("{name} must be a number, not {v:?}"))),
        }
    };
    let listing = state.listing;
    if let Some(status) = listing.count_refused
        && query.contains_key("count")
    {
        return refusal(Refusal {
            status,
            scim_type: None,
            detail: "count is not supported on this server".into(),
        });
    }
    let projection = Projection::of(&query);
    let (start, count) = match (
        number("startIndex", 1),
        number("count", listing.default_page_size),
    ) {
        (Ok(s), Ok(c)) => (s.max(1), c.min(listing.max_page_size)),
        (Err(r), _) | (_, Err(r)) => return refusal(r),
    };
    let base = base_url(&headers);
    if let Some(filter) = query.get("filter") {
        if !listing.filter {
            return refusal(Refusal {
                status: 400,
                scim_type: Some("invalidFilter"),
                detail: "filtering is not supported".into(),
            });
        }
        let Some((_, value)) =
            parse_eq_filter(filter).filter(|(a, _)| a.eq_ignore_ascii_case("userName"))
        else {
            return refusal(Refusal {
                status: 400,
                scim_type: Some("invalidFilter"),
                detail: format!("only `userName eq \"...\"` filters are supported, not {filter:?}"),
            });
        };
        let found = match parse_user_name(&value, &state.rules.default_domain) {
            Ok((u, d)) => match state.store.by_name_key(&name_key(&u, &d)) {
                Ok(found) => found,
                Err(e) => return refusal(internal(e)),
            },
            Err(_) => None,
        };
        let resources: Vec<Json> = found
            .iter()
            .map(|u| projection.apply(u.answer(&state.rules, &base)))
            .collect();
        let total = resources.len() as u64;
        return scim_response(StatusCode::OK, &list_response(resources, total, 1));
    }
    let sort = match query
        .get("sortBy")
        .or_else(|| query.get("orderBy"))
        .map(|s| s.to_ascii_lowercase())
        .as_deref()
    {
        None => SortKey::Created,
        Some("username") => SortKey::UserName,
        Some(s) if s == "name" || s.starts_with("name.") => SortKey::FullName,
        Some(_) => SortKey::Created,
    };
    let descending = query
        .get("sortOrder")
        .is_some_and(|o| o.eq_ignore_ascii_case("descending"));
    // RFC 7644: `startIndex` is a 1-based index; Bizagi's pages call it a page.
    let offset = match listing.paging {
        Paging::Index => start - 1,
        Paging::Page => (start - 1).saturating_mul(count),
    };
    match state.store.list(offset, count, sort, descending) {
        Ok((total, users)) => {
            let resources = users
                .iter()
                .map(|u| projection.apply(u.answer(&state.rules, &base)))
                .collect();
            scim_response(StatusCode::OK, &list_response(resources, total, start))
        }
        Err(e) => refusal(internal(e)),
    }
}

async fn get_user(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(key): Path<String>,
    Query(query): Query<BTreeMap<String, String>>,
) -> Response {
    let user = match find(&state, &key) {
        Ok(user) => user,
        Err(r) => return refusal(r),
    };
    // RFC 7644 §3.14: the version the client has is the current one.
    let unchanged = state.rules.etag
        && headers
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.split(',')
                    .any(|t| t.trim() == user.etag() || t.trim() == "*")
            });
    if unchanged {
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        if let Ok(etag) = HeaderValue::from_str(&user.etag()) {
            response.headers_mut().insert(header::ETAG, etag);
        }
        return response;
    }
    let mut response = user_response(&state, StatusCode::OK, &user, &base_url(&headers));
    let projection = Projection::of(&query);
    if !projection.is_none() {
        let answer = projection.apply(user.answer(&state.rules, &base_url(&headers)));
        *response.body_mut() = axum::body::Body::from(answer.to_string());
        response.headers_mut().remove(header::CONTENT_LENGTH);
    }
    response
}

/// `attributes` and `excludedAttributes` (RFC 7644 §3.4.2.5): which attributes of a
/// resource are answered. Names are compared without regard to case; `name.givenName`
/// names a sub-attribute, `URN:name` an extension's attribute. `id` and `schemas` are
/// always answered.
#[derive(Default)]
struct Projection {
    only: Option<Vec<String>>,
    except: Vec<String>,
}

impl Projection {
    fn of(query: &BTreeMap<String, String>) -> Self {
        let list = |name: &str| {
            query.get(name).map(|v| {
                v.split(',')
                    .map(|a| a.trim().to_ascii_lowercase())
                    .filter(|a| !a.is_empty())
                    .collect::<Vec<_>>()
            })
        };
        Self {
            only: list("attributes"),
            except: list("excludedAttributes").unwrap_or_default(),
        }
    }

    fn is_none(&self) -> bool {
        self.only.is_none() && self.except.is_empty()
    }

    /// `(attribute, sub-attribute)` of a name, with an extension's URN as the attribute.
    fn split(name: &str) -> (String, Option<String>) {
        let ext = EXT_URN.to_ascii_lowercase();
        let core = format!("{}:", USER_URN.to_ascii_lowercase());
        let name = name.strip_prefix(&core).unwrap_or(name);
        if let Some(member) = name.strip_prefix(&format!("{ext}:")) {
            return (ext, Some(member.to_string()));
        }
        match name.split_once('.') {
            Some((a, sub)) => (a.to_string(), Some(sub.to_string())),
            None => (name.to_string(), None),
        }
    }

    fn apply(&self, resource: Json) -> Json {
        let Json::Object(members) = resource else {
            return resource;
        };
        let always = |key: &str| ["id", "schemas"].contains(&key);
        let names: Vec<(String, Option<String>)> =
            self.only.iter().flatten().map(|n| Self::split(n)).collect();
        let excluded: Vec<(String, Option<String>)> =
            self.except.iter().map(|n| Self::split(n)).collect();
        let mut out = serde_json::Map::new();
        for (key, value) in members {
            let lower = key.to_ascii_lowercase();
            let mut value = value;
            if !always(&key) {
                if self.only.is_some() {
                    let subs: Vec<&str> = names
                        .iter()
                        .filter(|(a, _)| *a == lower)
                        .map(|(_, s)| s.as_deref().unwrap_or(""))
                        .collect();
                    if subs.is_empty() {
                        continue;
                    }
                    if !subs.contains(&"")
                        && let Json::Object(inner) = &mut value
                    {
                        inner.retain(|k, _| subs.contains(&k.to_ascii_lowercase().as_str()));
                    }
                }
                if excluded.iter().any(|(a, s)| *a == lower && s.is_none()) {
                    continue;
                }
                if let Json::Object(inner) = &mut value {
                    inner.retain(|k, _| {
                        !excluded.iter().any(|(a, s)| {
                            *a == lower && s.as_deref() == Some(&k.to_ascii_lowercase())
                        })
                    });
                }
            }
            out.insert(key, value);
        }
        Json::Object(out)
    }
}

async fn create_user(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body = match parse_body(&body) {
        Ok(b) => b,
        Err(r) => return refusal(r),
    };
    let blank = UserRecord::new(random::guid(), super::now());
    let record = match state.rules.record_from_scim(&body, blank) {
        Ok(r) => r,
        Err(r) => return refusal(r),
    };
    let stored = {
        let _write = lock(&state.writes);
        state.store.insert(&record)
    };
    match stored {
        Ok(user) => {
            let base = base_url(&headers);
            let mut response = user_response(&state, StatusCode::CREATED, &user, &base);
            if let Ok(location) = HeaderValue::from_str(&format!("{base}/Users/{}", user.guid)) {
                response.headers_mut().insert(header::LOCATION, location);
            }
            response
        }
        Err(StoreError::Conflict) => refusal(Refusal {
            status: 409,
            scim_type: Some("uniqueness"),
            detail: format!("userName {:?} already exists", record.qualified_name()),
        }),
        Err(e) => refusal(internal(e)),
    }
}

/// The `If-Match` of a request, when versions are on.
fn if_match(state: &AppState, headers: &HeaderMap) -> Option<String> {
    state
        .rules
        .etag
        .then(|| {
            headers
                .get(header::IF_MATCH)?
                .to_str()
                .ok()
                .map(str::to_string)
        })
        .flatten()
}

/// Read, change, write one user under the write lock; refused with 412 when the
/// request's `If-Match` is not the user's version.
fn rewrite(
    state: &AppState,
    key: &str,
    if_match: Option<String>,
    change: impl FnOnce(&Rules, &UserRecord) -> Result<UserRecord, Refusal>,
) -> Result<UserRecord, Refusal> {
    let _write = lock(&state.writes);
    let current = find(state, key)?;
    if let Some(expected) = if_match
        && expected.trim() != "*"
        && expected.trim() != current.etag()
    {
        return Err(Refusal {
            status: 412,
            scim_type: None,
            detail: format!("the user is at version {}, not {expected}", current.etag()),
        });
    }
    let mut next = change(&state.rules, &current)?;
    next.version = current.version + 1;
    next.last_modified = super::now();
    state.store.update(&next).map_err(internal)?;
    Ok(next)
}

/// PATCH or PUT: the body, applied to the current user by `change`.
async fn change_user(
    state: &AppState,
    headers: &HeaderMap,
    key: &str,
    body: &Bytes,
    change: fn(&Rules, &UserRecord, &Json) -> Result<UserRecord, Refusal>,
) -> Response {
    let body = match parse_body(body) {
        Ok(b) => b,
        Err(r) => return refusal(r),
    };
    match rewrite(state, key, if_match(state, headers), |rules, current| {
        change(rules, current, &body)
    }) {
        Ok(user) => user_response(state, StatusCode::OK, &user, &base_url(headers)),
        Err(r) => refusal(r),
    }
}

async fn patch_user(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(key): Path<String>,
    body: Bytes,
) -> Response {
    if !state.rules.patch {
        return refusal(Refusal {
            status: 501,
            scim_type: None,
            detail: "PATCH is not supported".into(),
        });
    }
    change_user(&state, &headers, &key, &body, |rules, current, body| {
        rules.patch(current, body)
    })
    .await
}

/// PUT replaces every attribute Bizagi stores (facts §7, ambiguity 16: `replace_all`).
async fn put_user(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(key): Path<String>,
    body: Bytes,
) -> Response {
    change_user(&state, &headers, &key, &body, |rules, current, body| {
        rules.record_from_scim(body, current.clone())
    })
    .await
}

/// Bizagi never deletes a user: DELETE deactivates it (facts §8), without a body.
async fn delete_user(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(key): Path<String>,
) -> Response {
    match rewrite(&state, &key, if_match(&state, &headers), |_, current| {
        Ok(UserRecord {
            enabled: false,
            ..current.clone()
        })
    }) {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(r) => refusal(r),
    }
}
