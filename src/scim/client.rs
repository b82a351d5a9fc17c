//! The HTTP client: OAuth2 client credentials, SCIM requests, errors that keep what the
//! server said.
//!
//! One token serves the whole run: it is fetched once, shared by concurrent requests,
//! renewed shortly before it expires, and renewed once more if the server answers 401.
//!
//! Retries cannot do harm: a request is sent again only after a transient failure
//! (429, 502, 503, 504, 500, a dropped connection, a timeout), after a backoff with
//! jitter or the server's `Retry-After`, within a count and a time budget, and only
//! when sending it twice is safe. GET, PUT, PATCH (scimops' PatchOps only replace and
//! remove) and DELETE are idempotent. A POST is re-sent only when the server cannot have
//! acted on it (429, 503, a connection never made); when its answer is lost, the error
//! says so ([`HttpError::maybe_done`]) and the caller looks the user up first.
//!
//! The server is not trusted: redirects are never followed (an error names the call,
//! the status and the `Location`), the bearer token goes only to the SCIM base's origin
//! and the client secret only to the token URL's, every answer is read up to
//! [`MAX_BODY`] bytes within `--timeout`, and a TLS failure is explained, not retried.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::header::{ACCEPT, CONTENT_TYPE, ETAG, LOCATION};
use serde::Deserialize;
use url::Url;

use super::wire::{Method, SCIM_JSON, ScimError};
use crate::escape::Shown;
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
    token: tokio::sync::Mutex<TokenCache>,
    token_requests: AtomicUsize,
    retries: AtomicUsize,
    options: Options,
}

/// How long requests may take and how they are retried.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// The longest one attempt may take, from connecting to the end of the answer.
    pub timeout: Duration,
    /// How many times one request may be retried.
    pub retries: u32,
    /// The first backoff; each retry doubles it, up to `max_delay`, with jitter.
    pub first_delay: Duration,
    pub max_delay: Duration,
    /// No retry starts later than this after the request's first attempt.
    pub budget: Duration,
    /// Whether proxy environment variables apply (`HTTPS_PROXY`, `NO_PROXY`...); never
    /// for a server on loopback (the embedded sandbox, a local test server).
    pub proxy: bool,
    /// The largest answer read, in bytes.
    pub max_body: usize,
}

/// The largest answer read by default: a page of 500 users is well under 1 MiB.
pub const MAX_BODY: usize = 64 * 1024 * 1024;

impl Default for Options {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(60),
            retries: 5,
            first_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            budget: Duration::from_secs(300),
            proxy: true,
            max_body: MAX_BODY,
        }
    }
}

struct Token {
    value: Secret,
    /// When it was asked for.
    fetched: Instant,
    /// When to fetch a new one; `None`: it does not expire.
    renew_at: Option<Instant>,
}

#[derive(Default)]
struct TokenCache {
    token: Option<Token>,
    /// The last fetch that failed: when it failed, and its error. A request that was
    /// waiting for it gets the same error instead of asking again.
    failed: Option<(Instant, HttpError)>,
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
#[derive(Clone, Debug, thiserror::Error)]
pub enum HttpError {
    #[error("{method} {}: {}", Shown(path), Shown(message))]
    Transport {
        method: Method,
        path: String,
        message: String,
        /// The request never reached the server (no connection was made).
        unsent: bool,
    },
    /// The TLS handshake failed: the request was never sent, and sending it again
    /// would fail the same way.
    #[error("{method} {}: {}", Shown(path), Shown(message))]
    Tls {
        method: Method,
        path: String,
        message: String,
    },
    /// scimops refused to send the request (it would leave the server's origin).
    #[error("{method} {}: {}", Shown(path), Shown(message))]
    Refused {
        method: Method,
        path: String,
        message: String,
    },
    /// The server answered with a redirect, which is not followed: the credentials go
    /// only to the server the settings name.
    #[error(
        "{method} {}: the server answered {status} and redirects to {}; scimops does not \
         follow redirects (credentials go only to the address in the settings): if the \
         service moved, set the target's URL to its new address",
        Shown(path),
        location.as_deref().map_or_else(|| "no `Location`".to_string(), |l| format!("`{}`", Shown(l)))
    )]
    Redirect {
        method: Method,
        path: String,
        status: StatusCode,
        location: Option<String>,
    },
    /// The answer was larger than scimops reads.
    #[error(
        "{method} {}: the answer ({status}) is larger than {} MiB, the most scimops reads; \
         nothing more was read",
        Shown(path),
        limit / (1024 * 1024)
    )]
    TooLarge {
        method: Method,
        path: String,
        status: StatusCode,
        limit: usize,
    },
    #[error("{method} {}: {status}{}", Shown(path), describe(scim.as_ref(), body))]
    Status {
        method: Method,
        path: String,
        status: StatusCode,
        scim: Option<ScimError>,
        /// The start of a body that was not a SCIM error.
        body: String,
    },
    #[error("{method} {}: the answer is not JSON: {}", Shown(path), Shown(message))]
    Decode {
        method: Method,
        path: String,
        message: String,
    },
    #[error("cannot get an access token from {}: {}", Shown(url), Shown(message))]
    Token { url: String, message: String },
    /// A failure the server asked to retry later than the retries' time budget allows.
    #[error(
        "{error}; the server asked to wait {} s before trying again, beyond the {} s \
         scimops gives a request's retries: run again later",
        asked.as_secs_f64(),
        budget.as_secs_f64()
    )]
    Later {
        error: Box<HttpError>,
        asked: Duration,
        budget: Duration,
    },
}

impl HttpError {
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            HttpError::Status { status, .. } => Some(*status),
            HttpError::Later { error, .. } => error.status(),
            _ => None,
        }
    }

    /// Whether the server may have done what was asked although no success came back:
    /// the answer was lost (connection dropped after sending, timeout) or a gateway or
    /// the server failed while it worked (500, 502, 504).
    pub fn maybe_done(&self) -> bool {
        match self {
            HttpError::Transport { unsent, .. } => !unsent,
            HttpError::Status { status, .. } => matches!(status.as_u16(), 500 | 502 | 504),
            HttpError::TooLarge { status, .. } => status.is_success(),
            HttpError::Later { error, .. } => error.maybe_done(),
            _ => false,
        }
    }

    /// Whether the server did not act on the request and asks to try later (429, 503),
    /// or the request never reached it.
    fn not_done(&self) -> bool {
        match self {
            HttpError::Transport { unsent, .. } => *unsent,
            HttpError::Status { status, .. } => matches!(status.as_u16(), 429 | 503),
            HttpError::Later { error, .. } => error.not_done(),
            _ => false,
        }
    }

    /// Whether sending the request again may succeed, and does no harm.
    fn retryable(&self, method: Method) -> bool {
        if matches!(self, HttpError::TooLarge { .. }) {
            return false;
        }
        self.not_done() || (self.maybe_done() && method != Method::Post)
    }
}

/// What the server said, neutralised: it is the server's text.
fn describe(scim: Option<&ScimError>, body: &str) -> String {
    let mut out = String::new();
    if let Some(e) = scim {
        if let Some(t) = &e.scim_type {
            out.push_str(&format!(" ({})", Shown(t)));
        }
        if let Some(d) = &e.detail {
            out.push_str(&format!(": {}", Shown(d)));
        }
    } else if !body.is_empty() {
        out.push_str(&format!(": {}", Shown(body)));
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

/// An answer, read whole.
struct Answer {
    status: StatusCode,
    etag: Option<String>,
    location: Option<String>,
    /// `Retry-After`.
    asked: Option<Duration>,
    bytes: Vec<u8>,
}

/// A failed attempt: the error, whether another attempt may succeed, and how long the
/// server asked to wait.
struct Failed {
    error: HttpError,
    transient: bool,
    asked: Option<Duration>,
}

impl Failed {
    fn new(error: HttpError, method: Method, asked: Option<Duration>) -> Self {
        Self {
            transient: error.retryable(method),
            error,
            asked,
        }
    }
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
}

/// A transport failure, described; `unsent` when no connection was made. A TLS
/// failure is its own kind: explained, and never retried.
fn transport(method: Method, path: String, e: &reqwest::Error, timeout: Duration) -> HttpError {
    if let Some(message) = tls_problem(e) {
        return HttpError::Tls {
            method,
            path,
            message,
        };
    }
    let message = if e.is_timeout() && !e.is_connect() {
        timed_out(timeout)
    } else {
        chain(e)
    };
    HttpError::Transport {
        method,
        path,
        message,
        unsent: e.is_connect(),
    }
}

fn timed_out(timeout: Duration) -> String {
    format!(
        "no complete answer within {}s (see --timeout)",
        timeout.as_secs_f64()
    )
}

/// What a TLS failure means, in words a user can act on, if `e` is one.
fn tls_problem(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    use rustls::{CertificateError, Error as Tls};
    // The causes, depth first; an `io::Error`'s `source()` skips the error it wraps,
    // so that one is looked into too.
    let mut causes: Vec<&(dyn std::error::Error + 'static)> = vec![e];
    let mut found = None;
    while let Some(err) = causes.pop() {
        if let Some(tls) = err.downcast_ref::<Tls>() {
            found = Some(tls);
            break;
        }
        if let Some(inner) = err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            causes.push(inner);
        }
        causes.extend(err.source());
    }
    found.map(|tls| {
        let trust = "if the server uses a private certificate authority (common for \
                         on-premises servers), set `caFile:` on the target to that authority's \
                         certificate (PEM); scimops never turns verification off";
        match tls {
            Tls::InvalidCertificate(CertificateError::UnknownIssuer) => format!(
                "the server's TLS certificate is not signed by an authority this machine \
                     trusts (it is self-signed, or signed by a private authority): {trust}"
            ),
            Tls::InvalidCertificate(
                CertificateError::Expired | CertificateError::ExpiredContext { .. },
            ) => "the server's TLS certificate has expired: the server's administrators \
                      must renew it"
                .to_string(),
            Tls::InvalidCertificate(
                CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. },
            ) => "the server's TLS certificate is not valid yet: check this machine's \
                      clock, or the certificate"
                .to_string(),
            Tls::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            ) => "the server's TLS certificate is for another host name: check the \
                      target's URL (the certificate must name its host)"
                .to_string(),
            Tls::InvalidCertificate(CertificateError::Revoked) => {
                "the server's TLS certificate has been revoked".to_string()
            }
            // webpki's word for a self-signed certificate (an authority's own).
            Tls::InvalidCertificate(CertificateError::Other(other))
                if format!("{other:?}").contains("CaUsedAsEndEntity") =>
            {
                format!(
                    "the server's TLS certificate is not signed by an authority this \
                         machine trusts (it is self-signed): {trust}"
                )
            }
            Tls::InvalidCertificate(other) => {
                format!("the server's TLS certificate is not valid ({other:?}): {trust}")
            }
            other => format!("the TLS handshake failed: {other}"),
        }
    })
}

/// Whether `url` names this machine.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// `Retry-After` (RFC 9110 §10.2.3): seconds, or an HTTP date.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    match value.parse::<u64>() {
        Ok(seconds) => Some(Duration::from_secs(seconds)),
        Err(_) => httpdate::parse_http_date(value).ok().map(|at| {
            at.duration_since(std::time::SystemTime::now())
                .unwrap_or_default()
        }),
    }
}

impl Client {
    /// A client for the SCIM base `base`. `ca_pem`: certificates of a private authority
    /// to trust besides the system's (a target's `caFile`).
    pub fn new(
        base: Url,
        credentials: Credentials,
        options: Options,
        ca_pem: Option<&[u8]>,
    ) -> anyhow::Result<Self> {
        // reqwest is built with rustls and no default crypto provider; ring is ours.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut http = reqwest::Client::builder()
            .user_agent(concat!("scimops/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(options.timeout.min(Duration::from_secs(10)))
            .timeout(options.timeout)
            // A redirect would take the credentials to another address: never followed.
            .redirect(reqwest::redirect::Policy::none());
        let token_url = match &credentials {
            Credentials::ClientCredentials { token_url, .. } => Some(token_url),
            _ => None,
        };
        // A server on loopback is this machine: a proxy would only carry the
        // credentials (in clear, over plain http) to someone else.
        let local = is_loopback(&base) || token_url.is_some_and(is_loopback);
        if !options.proxy || local {
            http = http.no_proxy();
        }
        if let Some(pem) = ca_pem {
            let certificates = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| anyhow::anyhow!("the CA file is not PEM certificates: {e}"))?;
            if certificates.is_empty() {
                anyhow::bail!("the CA file holds no certificate (`-----BEGIN CERTIFICATE-----`)");
            }
            http = http.tls_certs_merge(certificates);
        }
        Ok(Self {
            inner: Arc::new(Inner {
                http: http.build()?,
                base,
                credentials,
                token: tokio::sync::Mutex::default(),
                token_requests: AtomicUsize::new(0),
                retries: AtomicUsize::new(0),
                options,
            }),
        })
    }

    /// How many requests (token requests included) were sent again after a failure.
    pub fn retries(&self) -> usize {
        self.inner.retries.load(Ordering::Relaxed)
    }

    /// How many times a request may be retried (`--retries`).
    pub fn max_retries(&self) -> usize {
        self.inner.options.retries as usize
    }

    /// Counts a request its caller sends again (a create, after a lookup).
    pub fn count_retry(&self) {
        self.inner.retries.fetch_add(1, Ordering::Relaxed);
    }

    /// How long to wait before retry number `attempt` (from 1), or `None` when retrying
    /// is not allowed: too many retries, or past the budget.
    fn backoff(&self, attempt: u32, since: Instant, asked: Option<Duration>) -> Option<Duration> {
        let o = &self.inner.options;
        if attempt > o.retries {
            return None;
        }
        let delay = match asked {
            // The server's wish, plus a little jitter so that waiting clients spread out.
            Some(asked) => asked + asked.mul_f64(0.1 * crate::random::unit()),
            None => {
                let ceiling = o
                    .first_delay
                    .saturating_mul(1 << (attempt - 1).min(16))
                    .min(o.max_delay);
                // "Equal jitter": half fixed, half random.
                ceiling / 2 + ceiling.mul_f64(0.5 * crate::random::unit())
            }
        };
        (since.elapsed() + delay <= o.budget).then_some(delay)
    }

    /// The error to report once no retry is left. When retries were left but the wait
    /// the server asked for (`Retry-After`) would pass the time budget, it says so: a
    /// bare 503 would read as an outage, not as "later".
    fn last(&self, error: HttpError, attempt: u32, asked: Option<Duration>) -> HttpError {
        let o = &self.inner.options;
        match asked {
            Some(asked) if attempt <= o.retries => HttpError::Later {
                error: Box::new(error),
                asked,
                budget: o.budget,
            },
            _ => error,
        }
    }

    /// Counts and logs a retry, then waits.
    async fn pause(&self, what: &str, error: &HttpError, attempt: u32, delay: Duration) {
        self.inner.retries.fetch_add(1, Ordering::Relaxed);
        tracing::info!(
            "{what}: {error}; retrying in {:.1}s ({attempt} of {})",
            delay.as_secs_f64(),
            self.inner.options.retries
        );
        tokio::time::sleep(delay).await;
    }

    pub fn base(&self) -> &Url {
        &self.inner.base
    }

    /// How many tokens this client asked for.
    pub fn token_requests(&self) -> usize {
        self.inner.token_requests.load(Ordering::Relaxed)
    }

    /// The bearer token to send, if any. `fresh_after`: a token asked for after this
    /// instant (a request answered 401 is sent again with a token asked for after the
    /// refusal, not one that was already in use: that one may expire in flight too).
    async fn bearer(&self, fresh_after: Option<Instant>) -> Result<Option<Secret>, HttpError> {
        match &self.inner.credentials {
            Credentials::ClientCredentials { .. } => self.issued_token(fresh_after).await.map(Some),
            Credentials::Bearer(token) => Ok(Some(token.clone())),
            Credentials::None => Ok(None),
        }
    }

    async fn issued_token(&self, fresh_after: Option<Instant>) -> Result<Secret, HttpError> {
        let arrived = Instant::now();
        let mut cache = self.inner.token.lock().await;
        if let Some(token) = cache.token.as_ref()
            && token.renew_at.is_none_or(|at| Instant::now() < at)
            && fresh_after.is_none_or(|after| token.fetched >= after)
        {
            return Ok(token.value.clone());
        }
        // A fetch started while this request waited, and failed: the same answer, not
        // one more request to a token endpoint that just refused.
        if let Some((when, error)) = &cache.failed
            && *when >= arrived
        {
            return Err(error.clone());
        }
        match self.fetch_token().await {
            Ok(token) => {
                let value = token.value.clone();
                *cache = TokenCache {
                    token: Some(token),
                    failed: None,
                };
                Ok(value)
            }
            Err(error) => {
                cache.failed = Some((Instant::now(), error.clone()));
                Err(error)
            }
        }
    }

    /// Asks for a token, again after transient failures (a token request is safe to
    /// repeat: at worst the server issues two).
    async fn fetch_token(&self) -> Result<Token, HttpError> {
        let since = Instant::now();
        let mut attempt = 0;
        loop {
            match self.token_once().await {
                Ok(token) => return Ok(token),
                Err(Failed {
                    error,
                    transient,
                    asked,
                }) => {
                    attempt += 1;
                    match self.backoff(attempt, since, asked).filter(|_| transient) {
                        Some(delay) => self.pause("token request", &error, attempt, delay).await,
                        None if transient => return Err(self.last(error, attempt, asked)),
                        None => return Err(error),
                    }
                }
            }
        }
    }

    async fn token_once(&self) -> Result<Token, Failed> {
        let Credentials::ClientCredentials {
            token_url,
            client_id,
            client_secret,
            scope,
        } = &self.inner.credentials
        else {
            unreachable!("only client credentials fetch tokens")
        };
        let failed = |message: String, transient: bool, asked: Option<Duration>| Failed {
            error: HttpError::Token {
                url: token_url.to_string(),
                message,
            },
            transient,
            asked,
        };
        self.inner.token_requests.fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        let request = self
            .inner
            .http
            .post(token_url.clone())
            .basic_auth(client_id, Some(client_secret.expose()))
            .header(ACCEPT, "application/json")
            .form(&[
                ("grant_type", "client_credentials"),
                ("scope", scope.as_str()),
            ]);
        let answer = self
            .receive(Method::Post, token_url.path(), request)
            .await
            .map_err(|error| {
                // A dropped connection or a timeout may pass; a TLS failure, a redirect
                // or an oversized answer will not.
                let transient = matches!(error, HttpError::Transport { .. });
                let message = match &error {
                    HttpError::Transport { message, .. } | HttpError::Tls { message, .. } => {
                        message.clone()
                    }
                    other => other.to_string(),
                };
                failed(message, transient, None)
            })?;
        let (status, asked, body) = (answer.status, answer.asked, answer.bytes);
        if !status.is_success() {
            let oauth: Option<serde_json::Value> = serde_json::from_slice(&body).ok();
            let error = oauth
                .as_ref()
                .and_then(|o| o.get("error"))
                .and_then(|e| e.as_str())
                .map_or_else(|| excerpt(&body), |e| Shown(e).to_string());
            let hint = if status == StatusCode::UNAUTHORIZED {
                "; check the client id and the client secret"
            } else {
                ""
            };
            let transient = status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error();
            return Err(failed(format!("{status} {error}{hint}"), transient, asked));
        }
        let answer: TokenAnswer = serde_json::from_slice(&body).map_err(|e| {
            failed(
                format!("the answer has no `access_token`: {e}"),
                false,
                None,
            )
        })?;
        // Bizagi sends a number; be lenient with a string. 0 or absent: does not expire.
        let lifetime = match &answer.expires_in {
            Some(serde_json::Value::Number(n)) => n.as_u64(),
            Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        }
        .filter(|s| *s > 0)
        .map(Duration::from_secs);
        // Renew with room for a request to reach the server before the token expires:
        // half the lifetime, at most a minute (a token of 2 seconds exists; one of 20
        // minutes is renewed after 19).
        let renew_at = lifetime.map(|l| started + l - (l / 2).min(Duration::from_secs(60)));
        tracing::debug!("got an access token (expires in {lifetime:?})");
        Ok(Token {
            value: Secret::new(answer.access_token),
            fetched: started,
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
            true,
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
        self.execute(method, path, query, body, None, true).await
    }

    /// `GET path` as a probe of what the server takes: an answer of 400, 500 or 501
    /// (a request the server will refuse again) is not retried, the caller decides.
    /// A server that asks to try later (429, 503), or a lost connection, is retried.
    pub async fn probe(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<serde_json::Value, HttpError> {
        let response = self
            .execute(Method::Get, path, query, None, None, false)
            .await?;
        response.body.ok_or_else(|| HttpError::Decode {
            method: Method::Get,
            path: path.to_string(),
            message: "the answer is empty".to_string(),
        })
    }

    /// `retry_refusals`: whether a 500 (which may be passing) is sent again.
    async fn execute(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&serde_json::Value>,
        if_match: Option<&str>,
        retry_refusals: bool,
    ) -> Result<Response, HttpError> {
        let shown = if query.is_empty() {
            path.to_string()
        } else {
            let q: Vec<_> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
            format!("{path}?{}", q.join("&"))
        };
        let base = &self.inner.base;
        let url = base
            .join(path.trim_start_matches('/'))
            .map_err(|e| e.to_string())
            // The bearer token goes to the SCIM base's origin and nowhere else, whatever
            // a path (from a saved plan, from a server's answer) says.
            .and_then(|url| {
                if url.origin() == base.origin() {
                    Ok(url)
                } else {
                    Err(
                        "the path leads away from the server in the settings; nothing was sent"
                            .to_string(),
                    )
                }
            })
            .map_err(|message| HttpError::Refused {
                method,
                path: path.to_string(),
                message,
            })?;
        let renewable = matches!(
            self.inner.credentials,
            Credentials::ClientCredentials { .. }
        );
        let since = Instant::now();
        let (mut attempt, mut renewed, mut answer_lost) = (0, false, false);
        let mut fresh_after = None;
        loop {
            let token = self.bearer(fresh_after).await?;
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
            let Failed {
                error,
                transient,
                asked,
            } = match self.once(method, &shown, request).await {
                Ok(response) => return Ok(response),
                Err(failed) => failed,
            };
            let status = error.status().map(|s| s.as_u16());
            if status == Some(401) && !renewed && renewable && token.is_some() {
                tracing::debug!(
                    "{method} {}: 401, sending it again with a token asked for after it",
                    Shown(&shown)
                );
                // Not a token that was already in use when this one was refused: it may
                // expire as this request travels again.
                fresh_after = Some(Instant::now());
                renewed = true;
                continue;
            }
            if answer_lost {
                match (method, status) {
                    // The lost attempt removed it.
                    (Method::Delete, Some(404)) => {
                        tracing::debug!(
                            "{method} {}: 404 after a lost answer: done",
                            Shown(&shown)
                        );
                        return Ok(Response {
                            status: 204,
                            body: None,
                            etag: None,
                            location: None,
                        });
                    }
                    // The lost attempt most likely changed the version this one expects.
                    (_, Some(412)) => {
                        return Err(HttpError::Status {
                            method,
                            path: shown,
                            status: StatusCode::PRECONDITION_FAILED,
                            scim: None,
                            body: "the answer to an earlier attempt was lost, and the user has \
                                   changed since: that attempt most likely did it; plan again to check"
                                .to_string(),
                        });
                    }
                    _ => {}
                }
            }
            attempt += 1;
            let refused = matches!(status, Some(400 | 500 | 501)) && !retry_refusals;
            match self
                .backoff(attempt, since, asked)
                .filter(|_| transient && !refused)
            {
                Some(delay) => {
                    answer_lost |= error.maybe_done();
                    self.pause(
                        &format!("{method} {}", Shown(&shown)),
                        &error,
                        attempt,
                        delay,
                    )
                    .await;
                }
                None if transient && !refused => return Err(self.last(error, attempt, asked)),
                None => return Err(error),
            }
        }
    }

    /// Sends `request` and reads its answer whole: at most `max_body` bytes, within
    /// `--timeout` from sending to the last byte. A redirect is an error, not followed.
    async fn receive(
        &self,
        method: Method,
        shown: &str,
        request: reqwest::RequestBuilder,
    ) -> Result<Answer, HttpError> {
        let timeout = self.inner.options.timeout;
        let limit = self.inner.options.max_body;
        let lost = |e: reqwest::Error| transport(method, shown.to_string(), &e, timeout);
        let attempt = async {
            let mut response = request.send().await.map_err(lost)?;
            let status = response.status();
            let header = |name| {
                response
                    .headers()
                    .get(name)
                    .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
                    .map(str::to_string)
            };
            let (etag, location) = (header(ETAG), header(LOCATION));
            let asked = retry_after(response.headers());
            if status.is_redirection() {
                return Err(HttpError::Redirect {
                    method,
                    path: shown.to_string(),
                    status,
                    location,
                });
            }
            let too_large = || HttpError::TooLarge {
                method,
                path: shown.to_string(),
                status,
                limit,
            };
            let announced = response.content_length().unwrap_or(0);
            if announced > limit as u64 {
                return Err(too_large());
            }
            // What the server announces is not trusted for more than a start.
            let mut bytes = Vec::with_capacity((announced as usize).min(1 << 20));
            // The whole answer, even of a failure: a connection dropped mid-answer is a
            // lost answer, not a success.
            while let Some(chunk) = response.chunk().await.map_err(lost)? {
                if bytes.len() + chunk.len() > limit {
                    return Err(too_large());
                }
                bytes.extend_from_slice(&chunk);
            }
            Ok(Answer {
                status,
                etag,
                location,
                asked,
                bytes,
            })
        };
        match tokio::time::timeout(timeout, attempt).await {
            Ok(answer) => answer,
            Err(_) => Err(HttpError::Transport {
                method,
                path: shown.to_string(),
                message: timed_out(timeout),
                unsent: false,
            }),
        }
    }

    /// One attempt.
    async fn once(
        &self,
        method: Method,
        shown: &str,
        request: reqwest::RequestBuilder,
    ) -> Result<Response, Failed> {
        let Answer {
            status,
            etag,
            location,
            asked,
            bytes,
        } = self
            .receive(method, shown, request)
            .await
            .map_err(|error| Failed::new(error, method, None))?;
        tracing::debug!("{method} {} -> {status}", Shown(shown));
        if !status.is_success() {
            let scim = serde_json::from_slice::<ScimError>(&bytes)
                .ok()
                .filter(|e| e.detail.is_some() || e.scim_type.is_some());
            let error = HttpError::Status {
                method,
                path: shown.to_string(),
                status,
                body: if scim.is_some() {
                    String::new()
                } else {
                    excerpt(&bytes)
                },
                scim,
            };
            return Err(Failed::new(error, method, asked));
        }
        let body = if bytes.iter().all(u8::is_ascii_whitespace) {
            None
        } else {
            Some(serde_json::from_slice(&bytes).map_err(|e| {
                let error = HttpError::Decode {
                    method,
                    path: shown.to_string(),
                    message: format!("{e}; it starts with: {}", excerpt(&bytes)),
                };
                Failed::new(error, method, None)
            })?)
        };
        Ok(Response {
            status: status.as_u16(),
            body,
            etag,
            location,
        })
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
