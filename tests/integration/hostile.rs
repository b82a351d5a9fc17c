//! scimops against a deliberately hostile server: one that redirects to steal the
//! credentials, answers without end, lies about its size, repeats itself, or returns
//! names made to forge what a reviewer reads; against broken TLS; and behind a proxy.
//! Each test checks the exit code, a clear message, bounded time (and memory), and
//! what the hostile side received.

use std::net::SocketAddr;
use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value as Json, json};

use crate::support::{Run, SECRET, SECRET_VAR, TestSandbox, scimops_with};

const EXT: &str = "urn:ietf:params:scim:schemas:extension:bizagi:2.0:UserProperties";

/// How the hostile server misbehaves.
#[derive(Clone)]
enum Behaviour {
    /// Serves `users` honestly.
    Honest(Vec<Json>),
    /// `/ServiceProviderConfig` redirects to the thief.
    RedirectScim,
    /// The token endpoint redirects (307, method and body kept) to the thief.
    RedirectToken,
    /// The token endpoint refuses with a message made of control characters.
    ForgingTokenError,
    /// A listing of `bytes` bytes, with a `Content-Length` or chunked.
    HugeBody { bytes: usize, announced: bool },
    /// A listing whose chunked body never ends.
    Endless,
    /// A listing that trickles a byte at a time, forever.
    Drip,
    /// One user, and `totalResults: 1000000000000`.
    HugeTotal,
    /// 100 users, `totalResults: 1000`, whatever `startIndex` says.
    SamePage,
    /// Serves `users`, with the ListResponse's members in lower case (SCIM attribute
    /// names are case-insensitive).
    LowerCase(Vec<Json>),
}

/// Every request a server received: method, path and query, and its Authorization.
#[derive(Clone, Debug)]
struct Received {
    #[allow(dead_code)] // shown when an assertion fails
    method: String,
    path: String,
    authorization: Option<String>,
}

#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<Received>>>);

impl Log {
    fn push(&self, req: &Request) {
        self.0.lock().unwrap().push(Received {
            method: req.method().to_string(),
            path: req
                .uri()
                .path_and_query()
                .map_or_else(String::new, ToString::to_string),
            authorization: req
                .headers()
                .get(header::AUTHORIZATION)
                .map(|v| v.to_str().unwrap_or("(binary)").to_string()),
        });
    }

    fn all(&self) -> Vec<Received> {
        self.0.lock().unwrap().clone()
    }

    fn count(&self, path_prefix: &str) -> usize {
        self.all()
            .iter()
            .filter(|r| r.path.starts_with(path_prefix))
            .count()
    }
}

#[derive(Clone)]
struct Hostile {
    behaviour: Behaviour,
    thief: SocketAddr,
    log: Log,
}

/// A server on its own runtime, serving `router` on loopback.
struct Served {
    addr: SocketAddr,
    _runtime: tokio::runtime::Runtime,
}

/// A runtime of its own, and a listener on a free port of loopback.
fn listening() -> (tokio::runtime::Runtime, tokio::net::TcpListener, SocketAddr) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    (runtime, listener, addr)
}

fn serve(router: Router) -> Served {
    let (runtime, listener, addr) = listening();
    runtime.spawn(async move { axum::serve(listener, router).await });
    Served {
        addr,
        _runtime: runtime,
    }
}

/// The thief: a server that records whatever reaches it.
fn thief() -> (Served, Log) {
    let log = Log::default();
    let router = Router::new().fallback({
        let log = log.clone();
        move |req: Request| {
            let log = log.clone();
            async move {
                log.push(&req);
                (StatusCode::OK, "{}").into_response()
            }
        }
    });
    (serve(router), log)
}

fn scim(status: StatusCode, body: &Json) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/scim+json")],
        body.to_string(),
    )
        .into_response()
}

fn user(name: &str, i: usize) -> Json {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": format!("00000000-0000-4000-8000-{i:012}"),
        "userName": name,
        "name": {"givenName": "G"},
        "active": true,
        EXT: {"enabledForAssignation": true},
    })
}

fn list(users: &[Json], total: u64) -> Json {
    json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": total,
        "itemsPerPage": users.len(),
        "startIndex": 1,
        "Resources": users,
    })
}

/// A body that never ends: `chunk` again and again, after `delay` each time.
struct Endless {
    chunk: Bytes,
    delay: Option<Duration>,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl http_body::Body for Endless {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, std::io::Error>>> {
        if let Some(delay) = self.delay {
            let sleep = self
                .sleep
                .get_or_insert_with(|| Box::pin(tokio::time::sleep(delay)));
            if sleep.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            self.sleep = None;
        }
        Poll::Ready(Some(Ok(http_body::Frame::data(self.chunk.clone()))))
    }
}

async fn handle(State(h): State<Hostile>, req: Request) -> Response {
    h.log.push(&req);
    let path = req.uri().path().to_string();
    let thief = format!("http://{}/steal", h.thief);
    if path == "/oauth2/server/token" {
        return match h.behaviour {
            Behaviour::RedirectToken => {
                (StatusCode::TEMPORARY_REDIRECT, [(header::LOCATION, thief)]).into_response()
            }
            Behaviour::ForgingTokenError => (
                StatusCode::BAD_REQUEST,
                axum::Json(json!({"error": "\u{1b}[2J\u{1b}[H\n::warning::forged\u{202e}"})),
            )
                .into_response(),
            _ => axum::Json(json!({"access_token": "hostile-token", "expires_in": 1200}))
                .into_response(),
        };
    }
    let Some(scim_path) = path.strip_prefix("/scim/v2") else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match scim_path {
        "/ServiceProviderConfig" => match h.behaviour {
            Behaviour::RedirectScim => {
                (StatusCode::FOUND, [(header::LOCATION, thief)]).into_response()
            }
            _ => scim(
                StatusCode::OK,
                &json!({"patch": {"supported": true}, "filter": {"supported": false}, "etag": {"supported": false}}),
            ),
        },
        "/ResourceTypes" => scim(
            StatusCode::OK,
            &list(
                &[json!({"id": "User", "name": "User", "endpoint": "/Users",
                    "schema": "urn:ietf:params:scim:schemas:core:2.0:User",
                    "schemaExtensions": [{"schema": EXT, "required": false}]})],
                1,
            ),
        ),
        "/Schemas" => scim(
            StatusCode::OK,
            &list(
                &[
                    json!({"id": "urn:ietf:params:scim:schemas:core:2.0:User", "attributes": []}),
                    json!({"id": EXT, "attributes": [
                        {"name": "enabledForAssignation", "type": "boolean", "multiValued": false, "mutability": "readWrite"},
                    ]}),
                ],
                2,
            ),
        ),
        "/Users" => users(&h.behaviour),
        _ => scim(StatusCode::NOT_FOUND, &json!({"detail": "no such thing"})),
    }
}

fn users(behaviour: &Behaviour) -> Response {
    let json_head = [(header::CONTENT_TYPE, "application/scim+json")];
    match behaviour {
        Behaviour::Honest(users) => scim(StatusCode::OK, &list(users, users.len() as u64)),
        Behaviour::HugeBody { bytes, announced } => {
            let text = format!(
                "{{\"totalResults\": 1, \"Resources\": [], \"padding\": \"{}\"}}",
                "x".repeat(*bytes)
            );
            if *announced {
                (StatusCode::OK, json_head, text).into_response()
            } else {
                let chunks = Bytes::from(text);
                let body = Endless {
                    chunk: chunks,
                    delay: None,
                    sleep: None,
                };
                // One huge chunk, repeated: chunked, no Content-Length.
                (StatusCode::OK, json_head, Body::new(body)).into_response()
            }
        }
        Behaviour::Endless => {
            let body = Endless {
                chunk: Bytes::from("{\"id\": \"x\", \"userName\": \"x@acme\"}, ".repeat(2000)),
                delay: None,
                sleep: None,
            };
            (StatusCode::OK, json_head, Body::new(body)).into_response()
        }
        Behaviour::Drip => {
            let body = Endless {
                chunk: Bytes::from_static(b" "),
                delay: Some(Duration::from_millis(50)),
                sleep: None,
            };
            (StatusCode::OK, json_head, Body::new(body)).into_response()
        }
        Behaviour::HugeTotal => scim(
            StatusCode::OK,
            &list(&[user("ann@acme", 1)], 1_000_000_000_000),
        ),
        Behaviour::LowerCase(users) => scim(
            StatusCode::OK,
            &json!({"totalresults": users.len(), "itemsperpage": users.len(), "resources": users}),
        ),
        Behaviour::SamePage => {
            let page: Vec<Json> = (0..100).map(|i| user(&format!("u{i}@acme"), i)).collect();
            scim(StatusCode::OK, &list(&page, 1000))
        }
        _ => scim(StatusCode::OK, &list(&[], 0)),
    }
}

/// A hostile server, and the thief it redirects to.
struct Scene {
    _server: Served,
    log: Log,
    _thief: Served,
    stolen: Log,
    repo: tempfile::TempDir,
}

impl Scene {
    fn new(behaviour: Behaviour, users_yaml: &str) -> Self {
        let (thief_server, stolen) = thief();
        let log = Log::default();
        let state = Hostile {
            behaviour,
            thief: thief_server.addr,
            log: log.clone(),
        };
        let server = serve(Router::new().fallback(handle).with_state(state));
        let repo = tempfile::tempdir().unwrap();
        std::fs::write(
            repo.path().join("scimops.yaml"),
            format!(
                "targets:
  hostile:
    url: http://{}/scim/v2
    auth:
      clientCredentials:
        clientId: scimops
        clientSecret: ${{{SECRET_VAR}}}
policy:
  unmanaged: deactivate
defaults:
  domain: acme
  properties:
    enabledForAssignation: true
",
                server.addr
            ),
        )
        .unwrap();
        std::fs::create_dir_all(repo.path().join("users")).unwrap();
        std::fs::write(repo.path().join("users/users.yaml"), users_yaml).unwrap();
        Self {
            _server: server,
            log,
            _thief: thief_server,
            stolen,
            repo,
        }
    }

    fn run(&self, args: &[&str]) -> Measured {
        run_measured(self.repo.path(), args, &[])
    }

    /// Nothing reached the thief, and no request carried the secret or the token
    /// anywhere but where it belongs.
    fn nothing_stolen(&self) {
        assert!(
            self.stolen.all().is_empty(),
            "the thief received {:?}",
            self.stolen.all()
        );
        for r in self.log.all() {
            if let Some(auth) = &r.authorization {
                if r.path.starts_with("/oauth2/") {
                    assert!(auth.starts_with("Basic "), "{r:?}");
                } else {
                    assert_eq!(auth, "Bearer hostile-token", "{r:?}");
                }
            }
        }
    }
}

const ONE_USER: &str = "users:\n  - userName: ann\n    name: {givenName: Ann}\n";

/// A run, how long it took, and the most memory it held (VmHWM, sampled).
struct Measured {
    run: Run,
    took: Duration,
    peak_kb: u64,
}

fn run_measured(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Measured {
    let mut command = crate::support::command(dir, args, env);
    command
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let started = Instant::now();
    let mut child = command.spawn().unwrap();
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak_kb = 0;
    // Read the pipes on threads, so a talkative child never blocks.
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut s).unwrap();
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut stderr, &mut s).unwrap();
        s
    });
    let code = loop {
        if let Ok(status) = std::fs::read_to_string(&status_file)
            && let Some(line) = status.lines().find(|l| l.starts_with("VmHWM:"))
        {
            let kb: u64 = line
                .split_whitespace()
                .nth(1)
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            peak_kb = peak_kb.max(kb);
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status.code().unwrap_or(-1);
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("still running after 60 s (peak memory {peak_kb} kB)");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Measured {
        run: Run {
            code,
            stdout: out.join().unwrap(),
            stderr: err.join().unwrap(),
        },
        took: started.elapsed(),
        peak_kb,
    }
}

/// No terminal control, bidi or invisible character, and no line a workflow command.
fn inert(text: &str) {
    for (i, line) in text.lines().enumerate() {
        assert!(
            !line.chars().any(scimops::escape::hidden),
            "line {i} carries a hidden character: {line:?}"
        );
        assert!(
            !line.trim_start().starts_with("::"),
            "line {i} is a workflow command: {line:?}"
        );
    }
}

#[test]
fn a_redirect_from_the_scim_base_is_not_followed() {
    let scene = Scene::new(Behaviour::RedirectScim, ONE_USER);
    let m = scene.run(&["plan"]);
    assert_eq!(m.run.code, 1, "{:?}", m.run);
    let thief = format!("http://{}/steal", scene._thief.addr);
    assert!(
        m.run.stderr.contains(&format!(
            "GET /ServiceProviderConfig: the server answered 302 Found and redirects to `{thief}`; scimops does not follow redirects"
        )),
        "{}",
        m.run.stderr
    );
    scene.nothing_stolen();
}

#[test]
fn a_redirect_from_the_token_endpoint_is_not_followed() {
    let scene = Scene::new(Behaviour::RedirectToken, ONE_USER);
    let m = scene.run(&["plan"]);
    assert_eq!(m.run.code, 1, "{:?}", m.run);
    assert!(
        m.run.stderr.contains("cannot get an access token from")
            && m.run
                .stderr
                .contains("307 Temporary Redirect and redirects to"),
        "{}",
        m.run.stderr
    );
    assert_eq!(scene.log.count("/oauth2/"), 1, "not retried");
    scene.nothing_stolen();
    assert!(!m.run.stderr.contains(SECRET));
}

#[test]
fn an_answer_larger_than_the_bound_is_cut_off() {
    for announced in [true, false] {
        let scene = Scene::new(
            Behaviour::HugeBody {
                bytes: 80 << 20,
                announced,
            },
            ONE_USER,
        );
        let m = scene.run(&["plan"]);
        assert_eq!(m.run.code, 1, "{:?}", m.run);
        assert!(
            m.run
                .stderr
                .contains("is larger than 64 MiB, the most scimops reads"),
            "{}",
            m.run.stderr
        );
        assert_eq!(scene.log.count("/scim/v2/Users"), 1, "not retried");
        assert!(m.peak_kb < 400_000, "peak memory {} kB", m.peak_kb);
    }
}

#[test]
fn an_endless_answer_ends_at_the_bound() {
    let scene = Scene::new(Behaviour::Endless, ONE_USER);
    let m = scene.run(&["plan", "--timeout", "5"]);
    assert_eq!(m.run.code, 1, "{:?}", m.run);
    assert!(
        m.run.stderr.contains("is larger than 64 MiB"),
        "{}",
        m.run.stderr
    );
    assert!(m.took < Duration::from_secs(5), "took {:?}", m.took);
    assert!(m.peak_kb < 400_000, "peak memory {} kB", m.peak_kb);
}

#[test]
fn a_trickling_answer_ends_within_the_timeout() {
    let scene = Scene::new(Behaviour::Drip, ONE_USER);
    let m = scene.run(&["plan", "--timeout", "2", "--retries", "0"]);
    assert_eq!(m.run.code, 1, "{:?}", m.run);
    assert!(
        m.run.stderr.contains("no complete answer within 2s"),
        "{}",
        m.run.stderr
    );
    assert!(m.took < Duration::from_secs(4), "took {:?}", m.took);
}

#[test]
fn an_announced_total_is_not_trusted() {
    let scene = Scene::new(Behaviour::HugeTotal, ONE_USER);
    let m = scene.run(&["plan"]);
    assert_eq!(m.run.code, 1, "{:?}", m.run);
    assert!(
        m.run.stderr.contains(
            "the server says it has 1000000000000 users (`totalResults`); scimops reads at most 1000000"
        ),
        "{}",
        m.run.stderr
    );
    assert!(m.peak_kb < 100_000, "peak memory {} kB", m.peak_kb);
}

#[test]
fn a_listing_that_repeats_itself_stops_at_once() {
    let scene = Scene::new(Behaviour::SamePage, ONE_USER);
    let m = scene.run(&["plan"]);
    assert_eq!(m.run.code, 1, "{:?}", m.run);
    assert!(
        m.run
            .stderr
            .contains("the server answered `startIndex=101` with 100 users it had already listed"),
        "{}",
        m.run.stderr
    );
    assert_eq!(scene.log.count("/scim/v2/Users"), 2, "two listing calls");
}

#[test]
fn server_data_cannot_forge_what_a_reviewer_reads() {
    let forged = [
        "clear\u{1b}[2J\u{1b}[H@acme",
        "x@acme\n  + user \"approved\" {",
        "`</details></summary>\n\n<h1>Approved by security</h1> @acme/admins",
        "::error::forged@acme",
        "rtl\u{202e}nimda@acme",
        "zero\u{200b}width@acme",
        "pipe|cell #123 @everyone> quote@acme",
    ];
    let mut users: Vec<Json> = forged
        .iter()
        .enumerate()
        .map(|(i, n)| user(n, i + 10))
        .collect();
    users.push(user("ann@acme", 1));
    let scene = Scene::new(Behaviour::Honest(users), ONE_USER);

    let human = scene.run(&["plan"]);
    assert_eq!(human.run.code, 0, "{:?}", human.run);
    inert(&human.run.stdout);
    inert(&human.run.stderr);
    assert!(
        human
            .run
            .stdout
            .contains(r#"# clear\u{1b}[2J\u{1b}[H@acme will be deactivated"#),
        "{}",
        human.run.stdout
    );
    assert!(
        !human
            .run
            .stdout
            .lines()
            .any(|l| l.trim() == "+ user \"approved\" {"),
        "a forged plan line:\n{}",
        human.run.stdout
    );

    let markdown = scene.run(&["plan", "--format", "markdown"]);
    assert_eq!(markdown.run.code, 0, "{:?}", markdown.run);
    let md = &markdown.run.stdout;
    inert(md);
    assert!(
        md.contains("<code>`&lt;/details&gt;&lt;/summary&gt;\\n\\n&lt;h1&gt;Approved by security&lt;/h1&gt; @acme/admins</code>"),
        "{md}"
    );
    // What GitHub renders as Markdown and HTML: everything outside code.
    let live = outside_code(md);
    for forbidden in [
        "<h1>",
        "@acme/admins",
        "Approved by security",
        "::error",
        "#123",
        "@everyone",
        "pipe|cell",
    ] {
        assert!(!live.contains(forbidden), "{forbidden:?} is live:\n{live}");
    }
    assert_eq!(
        live.matches("</details>").count(),
        live.matches("<details>").count(),
        "{live}"
    );
}

/// `md` without its code: fenced blocks, code spans (a fence closes only on a run of
/// backticks of its own length) and `<code>` elements.
fn outside_code(md: &str) -> String {
    let mut out = String::new();
    let mut fenced = false;
    for line in md.lines() {
        if line.starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        let mut rest = line;
        while !rest.is_empty() {
            let next_tag = rest.find("<code>");
            let next_tick = rest.find('`');
            match (next_tag, next_tick) {
                (Some(t), k) if k.is_none_or(|k| t < k) => {
                    out.push_str(&rest[..t]);
                    rest = rest[t..]
                        .split_once("</code>")
                        .map_or("", |(_, after)| after);
                }
                (_, Some(k)) => {
                    out.push_str(&rest[..k]);
                    let run = rest[k..].len() - rest[k..].trim_start_matches('`').len();
                    let fence = "`".repeat(run);
                    let body = &rest[k + run..];
                    // The closing fence: a run of exactly `run` backticks.
                    let mut end = None;
                    let mut i = 0;
                    while let Some(j) = body[i..].find(&fence) {
                        let at = i + j;
                        let after = &body[at + run..];
                        if !after.starts_with('`') {
                            end = Some(at + run);
                            break;
                        }
                        i = at + run + (after.len() - after.trim_start_matches('`').len());
                    }
                    rest = end.map_or("", |e| &body[e..]);
                }
                _ => {
                    out.push_str(rest);
                    rest = "";
                }
            }
        }
        out.push('\n');
    }
    out
}

#[test]
fn a_servers_error_message_cannot_forge_output() {
    let scene = Scene::new(Behaviour::ForgingTokenError, ONE_USER);
    let m = scene.run(&["plan"]);
    assert_eq!(m.run.code, 1, "{:?}", m.run);
    inert(&m.run.stderr);
    assert!(
        m.run
            .stderr
            .contains(r"400 Bad Request \u{1b}[2J\u{1b}[H\n::warning::forged\u{202e}"),
        "{}",
        m.run.stderr
    );
}

// ---- TLS -----------------------------------------------------------------------------

/// A TLS front for `backend`, with a certificate of `tests/fixtures/tls`: it counts the
/// connections it accepts and forwards the bytes of each handshake that succeeds.
struct TlsFront {
    addr: SocketAddr,
    connections: Arc<Mutex<usize>>,
    _runtime: tokio::runtime::Runtime,
}

fn tls_front(name: &str, backend: SocketAddr) -> TlsFront {
    use tokio_rustls::rustls::{
        self,
        pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject},
    };
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = crate::support::repo_root().join("tests/fixtures/tls");
    let certs: Vec<CertificateDer<'static>> =
        CertificateDer::pem_file_iter(dir.join(format!("{name}.pem")))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
    let key = PrivateKeyDer::from_pem_file(dir.join(format!("{name}.key"))).unwrap();
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let (runtime, listener, addr) = listening();
    let connections = Arc::new(Mutex::new(0));
    let counted = connections.clone();
    runtime.spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            *counted.lock().unwrap() += 1;
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                if let Ok(mut upstream) = tokio::net::TcpStream::connect(backend).await {
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut upstream).await;
                }
            });
        }
    });
    TlsFront {
        addr,
        connections,
        _runtime: runtime,
    }
}

/// A repository whose target is the sandbox behind `front`, over https.
fn tls_repo(front: &TlsFront, ca_file: bool) -> tempfile::TempDir {
    let repo = tempfile::tempdir().unwrap();
    let base = format!("https://127.0.0.1:{}", front.addr.port());
    let mut settings = format!(
        "targets:
  tls:
    url: {base}/scim/v2
    auth:
      clientCredentials:
        clientId: scimops
        clientSecret: ${{{SECRET_VAR}}}
"
    );
    if ca_file {
        settings.push_str("    caFile: certs/corp-ca.pem\n");
        std::fs::create_dir_all(repo.path().join("certs")).unwrap();
        std::fs::copy(
            crate::support::repo_root().join("tests/fixtures/tls/ca.pem"),
            repo.path().join("certs/corp-ca.pem"),
        )
        .unwrap();
    }
    settings
        .push_str("defaults:\n  domain: acme\n  properties:\n    enabledForAssignation: true\n");
    std::fs::write(repo.path().join("scimops.yaml"), settings).unwrap();
    std::fs::create_dir_all(repo.path().join("users")).unwrap();
    std::fs::write(repo.path().join("users/users.yaml"), ONE_USER).unwrap();
    repo
}

#[test]
fn tls_failures_are_explained_and_not_retried() {
    let sandbox = TestSandbox::start("defaultDomain: acme\n");
    let cases = [
        (
            "self-signed",
            false,
            "is not signed by an authority this machine trusts (it is self-signed",
        ),
        (
            "server",
            false,
            "is not signed by an authority this machine trusts",
        ),
        ("expired", true, "the server's TLS certificate has expired"),
        (
            "wrong-host",
            true,
            "the server's TLS certificate is for another host name",
        ),
    ];
    for (certificate, ca_file, message) in cases {
        let front = tls_front(certificate, sandbox.running.addr);
        let repo = tls_repo(&front, ca_file);
        let m = run_measured(repo.path(), &["plan"], &[]);
        assert_eq!(m.run.code, 1, "{certificate}: {:?}", m.run);
        assert!(
            m.run.stderr.contains(message),
            "{certificate}: {}",
            m.run.stderr
        );
        if !ca_file {
            assert!(
                m.run.stderr.contains("set `caFile:` on the target"),
                "{}",
                m.run.stderr
            );
        }
        assert_eq!(
            *front.connections.lock().unwrap(),
            1,
            "{certificate}: retried"
        );
        assert!(
            m.took < Duration::from_secs(5),
            "{certificate}: took {:?}",
            m.took
        );
    }
}

#[test]
fn a_private_authority_is_trusted_through_ca_file() {
    let sandbox = TestSandbox::start("defaultDomain: acme\n");
    let front = tls_front("server", sandbox.running.addr);
    let repo = tls_repo(&front, true);
    let m = run_measured(repo.path(), &["plan"], &[]);
    assert_eq!(m.run.code, 0, "{:?}", m.run);
    assert!(
        m.run.stdout.contains("ann@acme will be created"),
        "{}",
        m.run.stdout
    );
}

// ---- proxies -------------------------------------------------------------------------

#[test]
fn a_loopback_target_never_goes_through_a_proxy() {
    let sandbox = TestSandbox::start("defaultDomain: acme\n");
    // A proxy that counts who connects to it, and answers nothing.
    let proxy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    proxy.set_nonblocking(true).unwrap();
    let proxy_url = format!("http://{}", proxy.local_addr().unwrap());
    let repo = crate::support::Repo::for_sandbox(&sandbox, ONE_USER);
    let env = [
        ("HTTP_PROXY", proxy_url.as_str()),
        ("http_proxy", proxy_url.as_str()),
        ("HTTPS_PROXY", proxy_url.as_str()),
        ("ALL_PROXY", proxy_url.as_str()),
    ];
    let run = scimops_with(repo.path(), &["plan"], &env);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        matches!(proxy.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "the proxy was reached"
    );
    assert_eq!(
        sandbox.requests().token,
        1,
        "the sandbox was reached directly"
    );
}

#[test]
fn a_list_response_is_read_whatever_the_case_of_its_members() {
    let scene = Scene::new(
        Behaviour::LowerCase(vec![user("ann@acme", 1)]),
        "users:\n  - userName: ann\n    name: {givenName: G}\n",
    );
    let m = scene.run(&["plan"]);
    assert_eq!(m.run.code, 0, "{:?}", m.run);
    assert!(m.run.stdout.starts_with("No changes."), "{}", m.run.stdout);
}

#[test]
fn a_user_name_written_two_ways_is_one_user() {
    // The server keeps `jose\u{301}` (a combining accent), the file writes `josé`.
    let users = vec![user("jose\u{301}@acme", 1)];
    let scene = Scene::new(
        Behaviour::Honest(users),
        "users:\n  - userName: jos\u{e9}\n    name: {givenName: G}\n",
    );
    let m = scene.run(&["plan"]);
    assert_eq!(m.run.code, 0, "{:?}", m.run);
    assert!(m.run.stdout.starts_with("No changes."), "{}", m.run.stdout);
}

#[test]
fn import_leaves_out_what_a_file_could_not_say_and_says_why() {
    // A 26-character userName (Bizagi allows 25), an e-mail that is not one, a name
    // with a terminal escape, and one plain user.
    let mut long = user("averyveryverylongname@acme", 1);
    long["name"] = json!({"givenName": "Long"});
    let mut mail = user("mail@acme", 2);
    mail["emails"] = json!([{"value": "not an e-mail", "type": "work"}]);
    let mut escape = user("esc@acme", 3);
    escape["name"] = json!({"givenName": "\u{1b}[2J\u{202e}"});
    let plain = user("plain@acme", 4);
    let scene = Scene::new(
        Behaviour::Honest(vec![long, mail, escape, plain]),
        "users: []\n",
    );
    let m = scene.run(&["import"]);
    assert_eq!(m.run.code, 0, "{:?}", m.run);
    for line in [
        "Wrote users/imported.yaml (1 user).",
        "Not imported (3):",
        "  averyveryverylongname@acme: userName `averyveryverylongname@acme` is 26 characters long; Bizagi allows at most 25 for `user@domain`",
        "  esc@acme: `givenName` must be a name without control characters or bidi overrides, not empty (`null` clears it), not \"\\u{1b}[2J\\u{202e}\"",
        "  mail@acme: `email` must be an e-mail address, `name@example.com`, in visible characters, not \"not an e-mail\"",
    ] {
        assert!(
            m.run.stdout.contains(line),
            "{line:?} in:\n{}",
            m.run.stdout
        );
    }
    let written = std::fs::read_to_string(scene.repo.path().join("users/imported.yaml")).unwrap();
    assert!(written.contains("  - userName: plain\n"), "{written}");
    inert(&m.run.stdout);
    let plan = scene.run(&["plan", "--detailed-exitcode"]);
    // The three left out are unmanaged, and the policy here deactivates them: nothing
    // else changes.
    assert!(
        plan.run
            .stdout
            .contains("Plan: 0 to create, 0 to update, 3 to deactivate."),
        "{}",
        plan.run.stdout
    );
    scene.nothing_stolen();
}
