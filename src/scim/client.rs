//! The HTTP client: OAuth2 client credentials, SCIM requests, errors that keep what the
//! server said.
//!
//! One token serves the whole run: it is fetched once, shared by concurrent requests,
//! renewed shortly before it expires, and renewed once more if the server answers 401.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::header::{ACCEPT, CONTENT_TYPE, ETAG, LOCATION};
use serde::Deserialize;
use url::Url;

use super::wire::{Method, SCIM_JSON, ScimError};
use crate::secret::Secret;

/// How scimops proves who it is.
#[derive(Clone, Debug)]
pub enum Credentials {
    /// OAuth 2.0 client credentials (RFC 6749 §4.4), Basic-authenticated as Bizagi documents.
    ClientCredentials {
        token_url: Url,
        client_id: String,
        client_secret: Secret,
        scope: String,
    },
    /// A static bearer token.
    Bearer(Secret),
    /// No authentication.
    None,
}

/// A SCIM client for one service provider. Cheap to clone; clones share the token.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    /// The SCIM base URL, ending in `/`.
    base: Url,
    credentials: Credentials,
    token: tokio::sync::Mutex<Option<Token>>,
    token_requests: AtomicUsize,
}

struct Token {
    value: Secret,
    /// When to fetch a new one; `None`: it does not expire.
    renew_at: Option<Instant>,
}

/// A successful answer.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub body: Option<serde_json::Value>,
    pub etag: Option<String>,
    pub location: Option<String>,
}

/// A failed request, with what the server said.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("{method} {path}: {message}")]
    Transport {
        method: Method,
        path: String,
        message: String,
    },
    #[error("{method} {path}: {status}{}", describe(scim.as_ref(), body))]
    Status {
        method: Method,
        path: String,
        status: StatusCode,
        scim: Option<ScimError>,
        /// The start of a body that was not a SCIM error.
        body: String,
    },
    #[error("{method} {path}: the answer is not JSON: {message}")]
    Decode {
        method: Method,
        path: String,
        message: String,
    },
    #[error("cannot get an access token from {url}: {message}")]
    Token { url: String, message: String },
}

impl HttpError {
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            HttpError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

fn describe(scim: Option<&ScimError>, body: &str) -> String {
    let mut out = String::new();
    if let Some(e) = scim {
        if let Some(t) = &e.scim_type {
            out.push_str(&format!(" ({t})"));
        }
        if let Some(d) = &e.detail {
            out.push_str(&format!(": {d}"));
        }
    } else if !body.is_empty() {
        out.push_str(&format!(": {body}"));
    }
    out
}

/// The error and its causes on one line: "connection refused" is under several layers.
fn chain(err: &dyn std::error::Error) -> String {
    let mut message = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = s.source();
    }
    message
}

/// What a body that is not a SCIM error says, in one line: an HTML page (a gateway, a
/// login page) by its text, anything else by its start.
fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return "(no body)".to_string();
    }
    if text.starts_with('<') {
        let mut words = String::new();
        let mut in_tag = false;
        for c in text.chars() {
            match c {
                '<' => {
                    in_tag = true;
                    words.push(' ');
                }
                '>' => in_tag = false,
                c if !in_tag => words.push(c),
                _ => {}
            }
        }
        let words: Vec<&str> = words.split_whitespace().collect();
        let mut summary = words.join(" ");
        if summary.chars().count() > 200 {
            summary = summary.chars().take(200).collect::<String>() + "…";
        }
        return format!("an HTML page, not a SCIM answer: {summary:?}");
    }
    let mut cut: String = text.chars().take(300).collect();
    if cut.len() < text.len() {
        cut.push('…');
    }
    cut.replace('\n', " ")
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
}

impl Client {
    pub fn new(base: Url, credentials: Credentials) -> anyhow::Result<Self> {
        // reqwest is built with rustls and no default crypto provider; ring is ours.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .user_agent(concat!("scimops/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .build()?;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                base,
                credentials,
                token: tokio::sync::Mutex::new(None),
                token_requests: AtomicUsize::new(0),
            }),
        })
    }

    pub fn base(&self) -> &Url {
        &self.inner.base
    }

    /// How many tokens this client asked for.
    pub fn token_requests(&self) -> usize {
        self.inner.token_requests.load(Ordering::Relaxed)
    }

    /// The bearer token to send, if any.
    async fn bearer(&self) -> Result<Option<Secret>, HttpError> {
        match &self.inner.credentials {
            Credentials::ClientCredentials { .. } => self.issued_token().await.map(Some),
            Credentials::Bearer(token) => Ok(Some(token.clone())),
            Credentials::None => Ok(None),
        }
    }

    async fn issued_token(&self) -> Result<Secret, HttpError> {
        let mut cached = self.inner.token.lock().await;
        if let Some(token) = cached.as_ref()
            && token.renew_at.is_none_or(|at| Instant::now() < at)
        {
            return Ok(token.value.clone());
        }
        let token = self.fetch_token().await?;
        let value = token.value.clone();
        *cached = Some(token);
        Ok(value)
    }

    /// Forgets `used` (the server refused it), unless another request already renewed it.
    async fn forget(&self, used: &Secret) {
        let mut cached = self.inner.token.lock().await;
        if cached.as_ref().is_some_and(|t| &t.value == used) {
            *cached = None;
        }
    }

    async fn fetch_token(&self) -> Result<Token, HttpError> {
        let Credentials::ClientCredentials {
            token_url,
            client_id,
            client_secret,
            scope,
        } = &self.inner.credentials
        else {
            unreachable!("only client credentials fetch tokens")
        };
        let failed = |message: String| HttpError::Token {
            url: token_url.to_string(),
            message,
        };
        self.inner.token_requests.fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        let response = self
            .inner
            .http
            .post(token_url.clone())
            .basic_auth(client_id, Some(client_secret.expose()))
            .header(ACCEPT, "application/json")
            .form(&[
                ("grant_type", "client_credentials"),
                ("scope", scope.as_str()),
            ])
            .send()
            .await
            .map_err(|e| failed(chain(&e)))?;
        let status = response.status();
        let body = response.bytes().await.map_err(|e| failed(chain(&e)))?;
        if !status.is_success() {
            let oauth: Option<serde_json::Value> = serde_json::from_slice(&body).ok();
            let error = oauth
                .as_ref()
                .and_then(|o| o.get("error"))
                .and_then(|e| e.as_str())
                .map_or_else(|| excerpt(&body), str::to_string);
            let hint = if status == StatusCode::UNAUTHORIZED {
                "; check the client id and the client secret"
            } else {
                ""
            };
            return Err(failed(format!("{status} {error}{hint}")));
        }
        let answer: TokenAnswer = serde_json::from_slice(&body)
            .map_err(|e| failed(format!("the answer has no `access_token`: {e}")))?;
        // Bizagi sends a number; be lenient with a string. 0 or absent: does not expire.
        let lifetime = match &answer.expires_in {
            Some(serde_json::Value::Number(n)) => n.as_u64(),
            Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        }
        .filter(|s| *s > 0)
        .map(Duration::from_secs);
        // Renew a little before the end: a fifth of the lifetime, at most a minute.
        let renew_at = lifetime.map(|l| started + l - (l / 5).min(Duration::from_secs(60)));
        tracing::debug!("got an access token (expires in {lifetime:?})");
        Ok(Token {
            value: Secret::new(answer.access_token),
            renew_at,
        })
    }

    /// Sends one request of a plan, exactly: method, path, `If-Match`, body.
    pub async fn send_request(
        &self,
        request: &super::wire::Request,
    ) -> Result<Response, HttpError> {
        self.execute(
            request.method,
            &request.path,
            &[],
            request.body.as_ref(),
            request.if_match.as_deref(),
        )
        .await
    }

    /// Sends one SCIM request. `path` is relative to the base URL (`/Users/...`), already
    /// encoded; a 401 renews the token and retries once.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&serde_json::Value>,
    ) -> Result<Response, HttpError> {
        self.execute(method, path, query, body, None).await
    }

    async fn execute(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&serde_json::Value>,
        if_match: Option<&str>,
    ) -> Result<Response, HttpError> {
        let url = self
            .inner
            .base
            .join(path.trim_start_matches('/'))
            .map_err(|e| HttpError::Transport {
                method,
                path: path.to_string(),
                message: e.to_string(),
            })?;
        let mut retried = false;
        loop {
            let token = self.bearer().await?;
            let mut request = self
                .inner
                .http
                .request(reqwest_method(method), url.clone())
                .header(ACCEPT, format!("{SCIM_JSON}, application/json"));
            if let Some(token) = &token {
                request = request.bearer_auth(token.expose());
            }
            if let Some(version) = if_match {
                request = request.header(reqwest::header::IF_MATCH, version);
            }
            if !query.is_empty() {
                request = request.query(query);
            }
            if let Some(body) = body {
                request = request
                    .header(CONTENT_TYPE, SCIM_JSON)
                    .body(body.to_string());
            }
            let shown = || {
                if query.is_empty() {
                    path.to_string()
                } else {
                    let q: Vec<_> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
                    format!("{path}?{}", q.join("&"))
                }
            };
            let response = request.send().await.map_err(|e| HttpError::Transport {
                method,
                path: shown(),
                message: chain(&e),
            })?;
            let status = response.status();
            let renewable = matches!(
                self.inner.credentials,
                Credentials::ClientCredentials { .. }
            );
            if status == StatusCode::UNAUTHORIZED && !retried && renewable {
                tracing::debug!("{method} {path}: 401, renewing the token once");
                if let Some(token) = &token {
                    self.forget(token).await;
                }
                retried = true;
                continue;
            }
            let header = |name| {
                response
                    .headers()
                    .get(name)
                    .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
                    .map(str::to_string)
            };
            let (etag, location) = (header(ETAG), header(LOCATION));
            let bytes = response.bytes().await.map_err(|e| HttpError::Transport {
                method,
                path: shown(),
                message: chain(&e),
            })?;
            tracing::debug!("{method} {} -> {status}", shown());
            if !status.is_success() {
                let scim = serde_json::from_slice::<ScimError>(&bytes)
                    .ok()
                    .filter(|e| e.detail.is_some() || e.scim_type.is_some());
                return Err(HttpError::Status {
                    method,
                    path: shown(),
                    status,
                    body: if scim.is_some() {
                        String::new()
                    } else {
                        excerpt(&bytes)
                    },
                    scim,
                });
            }
            let body = if bytes.iter().all(u8::is_ascii_whitespace) {
                None
            } else {
                Some(
                    serde_json::from_slice(&bytes).map_err(|e| HttpError::Decode {
                        method,
                        path: shown(),
                        message: format!("{e}; it starts with: {}", excerpt(&bytes)),
                    })?,
                )
            };
            return Ok(Response {
                status: status.as_u16(),
                body,
                etag,
                location,
            });
        }
    }

    /// `GET path`, expecting a JSON body.
    pub async fn get(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<serde_json::Value, HttpError> {
        let response = self.send(Method::Get, path, query, None).await?;
        response.body.ok_or_else(|| HttpError::Decode {
            method: Method::Get,
            path: path.to_string(),
            message: "the answer is empty".to_string(),
        })
    }
}

fn reqwest_method(method: Method) -> reqwest::Method {
    match method {
        Method::Get => reqwest::Method::GET,
        Method::Post => reqwest::Method::POST,
        Method::Put => reqwest::Method::PUT,
        Method::Patch => reqwest::Method::PATCH,
        Method::Delete => reqwest::Method::DELETE,
    }
}
