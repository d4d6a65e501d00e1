//! Test helpers: an in-process edge on a free 127.0.0.1 port, a raw HTTP/1.1 client (full
//! control over headers, so missing/odd content types can be sent), and a webhook receiver that
//! verifies Standard Webhooks signatures.
#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use nps_edge::{app, Edge, Options};
use nps_edge_core::webhook::WebhookSecret;
use nps_edge_core::Config;

pub const ORIGIN: &str = "http://localhost:3000";
pub const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
/// Tokens of the tests, as the environment holds them (`env:TEST_*` in the configs).
pub const ADMIN: &str = "adm_test_0123456789abcdef";
pub const READ: &str = "read_test_0123456789abcdef";
pub const METRICS: &str = "metrics_test_0123456789ab";
/// The identity secret of the `signed` site.
pub const IDENTITY: &str = "identity-test-secret-0123";

/// The link secret of the sites with survey links.
pub const LINK_SECRET: &str = "link-test-secret-0123456789abcdefgh";

/// The test environment's secrets.
pub fn test_secret(name: &str) -> Option<String> {
    match name {
        "TEST_ADMIN_TOKEN" => Some(ADMIN.into()),
        "TEST_READ_TOKEN" => Some(READ.into()),
        "TEST_METRICS_TOKEN" => Some(METRICS.into()),
        "TEST_IDENTITY_SECRET" => Some(IDENTITY.into()),
        "TEST_LINK_SECRET" => Some(LINK_SECRET.into()),
        _ => None,
    }
}

/// `[[tokens]]` entries: an admin and a reader of every site.
pub fn admin_and_read_tokens() -> String {
    "[[tokens]]\nname = \"ops\"\nrole = \"admin\"\nsites = [\"*\"]\nsecret = \"env:TEST_ADMIN_TOKEN\"\n\n\
     [[tokens]]\nname = \"cx\"\nrole = \"read\"\nsites = [\"*\"]\nsecret = \"env:TEST_READ_TOKEN\"\n"
        .to_string()
}

/// A fresh scratch directory for one test.
pub fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("nps-edge-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("scratch dir");
    d
}

/// A free loopback port (bound then released; fine for tests).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port")
}

/// The edge running in this process.
pub struct Server {
    pub addr: SocketAddr,
    pub db: PathBuf,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    edge: Option<Edge>,
}

impl Server {
    pub fn start(config: Config, db: PathBuf, assets: Option<PathBuf>) -> Server {
        Server::start_with_console(config, db, assets, None)
    }

    /// With the console's build directory (`--console DIR`).
    pub fn start_with_console(
        config: Config,
        db: PathBuf,
        assets: Option<PathBuf>,
        console: Option<PathBuf>,
    ) -> Server {
        let edge = Edge::start(
            config,
            Options {
                assets,
                console,
                db_path: Some(db.to_string_lossy().into_owned()),
            },
        )
        .expect("edge starts");
        let router = app(edge.state.clone());
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("addr");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let l = tokio::net::TcpListener::from_std(listener).expect("listener");
                let _ = axum::serve(
                    l,
                    router.into_make_service_with_connect_info::<SocketAddr>(),
                )
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
            });
        });
        Server {
            addr,
            db,
            shutdown: Some(tx),
            thread: Some(thread),
            edge: Some(edge),
        }
    }

    /// The application (to run what the runtime schedules, e.g. the retention sweep).
    pub fn app(&self) -> &nps_edge::EdgeApp {
        self.edge.as_ref().expect("running").state.app()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Metric value of one series line (`name{labels}`).
    pub fn metric(&self, series: &str) -> f64 {
        let auth = format!("Bearer {METRICS}");
        let r = request(
            self.addr,
            "GET",
            "/metrics",
            &[("authorization", &auth)],
            b"",
        );
        r.body
            .lines()
            .find_map(|l| l.strip_prefix(series).and_then(|v| v.trim().parse().ok()))
            .unwrap_or_else(|| panic!("no series {series} in\n{}", r.body))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        if let Some(e) = self.edge.take() {
            e.shutdown();
        }
    }
}

/// A parsed HTTP response.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: BTreeMap<String, String>,
    pub body: String,
}

impl Resp {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
    pub fn header(&self, k: &str) -> Option<&str> {
        self.headers.get(k).map(String::as_str)
    }
}

/// One request over a fresh connection (`Connection: close`).
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Resp {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).ok();
    let mut head = format!("{method} {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() || method == "POST" {
        head.push_str(&format!("content-length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).expect("write head");
    // The server may answer (413) before reading a large body; ignore a reset while writing.
    let _ = s.write_all(body);
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    parse_response(&raw)
}

fn parse_response(raw: &[u8]) -> Resp {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no response: {text:?}"));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Resp {
        status,
        headers,
        body: body.to_string(),
    }
}

/// POST a body to /v1/responses from the allowed origin as application/json.
pub fn post_response(addr: SocketAddr, body: &str) -> Resp {
    request(
        addr,
        "POST",
        "/v1/responses",
        &[("content-type", "application/json"), ("origin", ORIGIN)],
        body.as_bytes(),
    )
}

/// A valid response body.
pub fn body(id: &str, rev: u32, score: u8, visitor: &str) -> String {
    format!(
        r#"{{"id":"{id}","rev":{rev},"site":"demo","survey":"checkout","score":{score},"visitor":"{visitor}","comment":"c{rev}"}}"#
    )
}

/// Config: site `demo` (origin http://localhost:3000), a generous rate limit, plus `extra` TOML.
pub fn config(extra: &str) -> Config {
    let src = format!(
        r#"
[[sites]]
id = "demo"
origins = ["http://localhost:3000", "http://127.0.0.1:*"]
rate_limit = {{ per_minute = 1000000, burst = 100000 }}

[[sites]]
id = "strict"
origins = ["https://strict.example"]
rate_limit = {{ per_minute = 60, burst = 3 }}

[retry]
base_ms = 50
max_ms = 400
max_attempts = 1000

[[tokens]]
name = "scrape"
role = "metrics"
sites = ["*"]
secret = "env:TEST_METRICS_TOKEN"
{extra}
"#
    );
    let mut c = Config::load_toml(&src).unwrap_or_else(|e| panic!("test config: {e}\n{src}"));
    c.resolve_secrets(test_secret)
        .unwrap_or_else(|e| panic!("test secrets: {e}"));
    c
}

/// What the receiver saw.
#[derive(Default)]
pub struct Received {
    /// webhook-id → payload of answers (verified signatures only).
    pub messages: BTreeMap<String, serde_json::Value>,
    /// webhook-id → payload of `nps.case.*` messages (the cases that detractors open).
    pub case_messages: BTreeMap<String, serde_json::Value>,
    /// Deliveries of an already-seen webhook-id.
    pub redeliveries: usize,
    /// Requests with a bad or missing signature.
    pub bad_signatures: usize,
    /// Total requests.
    pub requests: usize,
}

/// How the receiver answers.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Ok,
    Fail503,
    Gone410,
}

#[derive(Clone)]
struct RecvState {
    received: Arc<Mutex<Received>>,
    mode: Arc<Mutex<Mode>>,
    secret: Arc<WebhookSecret>,
}

/// A webhook receiver on a loopback port that verifies every signature.
pub struct Receiver {
    pub port: u16,
    pub received: Arc<Mutex<Received>>,
    pub mode: Arc<Mutex<Mode>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Receiver {
    /// Listens on `port` (0 = any).
    pub fn start(port: u16, received: Arc<Mutex<Received>>) -> Receiver {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("receiver bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("addr").port();
        let mode = Arc::new(Mutex::new(Mode::Ok));
        let st = RecvState {
            received: received.clone(),
            mode: mode.clone(),
            secret: Arc::new(WebhookSecret::parse(SECRET).expect("secret")),
        };
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("rt");
            rt.block_on(async move {
                let router = axum::Router::new()
                    .route("/hook", axum::routing::post(hook))
                    .with_state(st);
                let l = tokio::net::TcpListener::from_std(listener).expect("listener");
                let _ = axum::serve(l, router)
                    .with_graceful_shutdown(async {
                        let _ = rx.await;
                    })
                    .await;
            });
        });
        Receiver {
            port,
            received,
            mode,
            shutdown: Some(tx),
            thread: Some(thread),
        }
    }

    pub fn set_mode(&self, m: Mode) {
        *self.mode.lock().expect("mode") = m;
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn hook(State(st): State<RecvState>, headers: HeaderMap, body: Bytes) -> impl IntoResponse {
    let h = |k: &str| {
        headers
            .get(k)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let (id, ts, sig) = (
        h("webhook-id"),
        h("webhook-timestamp"),
        h("webhook-signature"),
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let ok = ts
        .parse::<u64>()
        .map(|t| st.secret.verify(&id, t, &body, &sig, now, 300))
        .unwrap_or(false);
    let mode = *st.mode.lock().expect("mode");
    let mut r = st.received.lock().expect("received");
    r.requests += 1;
    if !ok {
        r.bad_signatures += 1;
        return StatusCode::UNAUTHORIZED;
    }
    match mode {
        Mode::Fail503 => return StatusCode::SERVICE_UNAVAILABLE,
        Mode::Gone410 => return StatusCode::GONE,
        Mode::Ok => {}
    }
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let into = if id.starts_with("case.") {
        &mut r.case_messages
    } else {
        &mut r.messages
    };
    if into.insert(id, v).is_some() {
        r.redeliveries += 1;
    }
    StatusCode::NO_CONTENT
}

/// Polls `f` until it is true or `timeout` passes.
pub fn wait_for(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    f()
}

/// TOML for a webhook sink posting to `port`.
pub fn webhook_sink(name: &str, port: u16, extra: &str) -> String {
    format!(
        "[[sinks]]\ntype = \"webhook\"\nname = \"{name}\"\nurl = \"http://127.0.0.1:{port}/hook\"\nsecret = \"{SECRET}\"\ntimeout_ms = 2000\n{extra}\n"
    )
}
