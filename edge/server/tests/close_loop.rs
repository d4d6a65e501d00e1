//! Close the loop over real HTTP on 127.0.0.1: detractor alerts (content, latency, routing, once per
//! response id, grace period), suppressions + eligibility + refused `shown`, the summary against
//! a hand-checked dataset, paginated responses and CSV escaping, token auth, the report page.

mod common;

use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use common::*;

fn tokens() -> String {
    admin_and_read_tokens()
}

fn bearer(t: &str) -> String {
    format!("Bearer {t}")
}

fn get(s: &Server, path: &str, token: Option<&str>) -> Resp {
    let auth = token.map(bearer);
    let mut h: Vec<(&str, &str)> = Vec::new();
    if let Some(a) = auth.as_deref() {
        h.push(("authorization", a));
    }
    request(s.addr, "GET", path, &h, b"")
}

fn admin(s: &Server, method: &str, path: &str, body: &str) -> Resp {
    let auth = bearer(ADMIN);
    request(
        s.addr,
        method,
        path,
        &[
            ("authorization", &auth),
            ("content-type", "application/json"),
        ],
        body.as_bytes(),
    )
}

fn post_event(s: &Server, id: &str, kind: &str, visitor: &str, user: Option<(&str, &str)>) -> Resp {
    let user = user.map_or(String::new(), |(u, a)| {
        format!(r#","user":{{"id":"{u}","account":"{a}"}}"#)
    });
    let b = format!(
        r#"{{"id":"{id}","site":"demo","survey":"checkout","visitor":"{visitor}","type":"{kind}"{user}}}"#
    );
    request(
        s.addr,
        "POST",
        "/v1/events",
        &[("content-type", "application/json"), ("origin", ORIGIN)],
        b.as_bytes(),
    )
}

/// A response body with every optional field, JSON-escaped by serde.
fn full_body(
    id: &str,
    rev: u32,
    score: u8,
    visitor: &str,
    survey: &str,
    comment: Option<&str>,
) -> String {
    let mut v = serde_json::json!({
        "id": id, "rev": rev, "site": "demo", "survey": survey, "score": score, "visitor": visitor,
        "locale": "fr-FR", "page": "https://shop.example/checkout?step=2&x=<y>",
        "contact_ok": true,
        "user": {"id": format!("u-{visitor}"), "account": "acme", "order": "o-77", "email": "ann@example.com"},
    });
    if let Some(c) = comment {
        v["comment"] = serde_json::Value::String(c.to_string());
    }
    v.to_string()
}

// ---------------------------------------------------------------------------------------------
// A chat incoming-webhook receiver: records (arrival time, body).

#[derive(Clone, Default)]
struct Hits(Arc<Mutex<Vec<(Instant, String)>>>);

impl Hits {
    fn len(&self) -> usize {
        self.0.lock().unwrap().len()
    }
    fn get(&self, i: usize) -> (Instant, serde_json::Value) {
        let g = self.0.lock().unwrap();
        (g[i].0, serde_json::from_str(&g[i].1).unwrap())
    }
}

struct ChatReceiver {
    port: u16,
    hits: Hits,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

async fn chat_hook(State(h): State<Hits>, headers: HeaderMap, body: Bytes) -> StatusCode {
    assert_eq!(
        headers.get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/json")
    );
    h.0.lock()
        .unwrap()
        .push((Instant::now(), String::from_utf8_lossy(&body).into_owned()));
    StatusCode::OK
}

impl ChatReceiver {
    fn start() -> ChatReceiver {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let hits = Hits::default();
        let h2 = hits.clone();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let router = axum::Router::new()
                    .route("/chat", axum::routing::post(chat_hook))
                    .with_state(h2);
                let l = tokio::net::TcpListener::from_std(listener).unwrap();
                let _ = axum::serve(l, router)
                    .with_graceful_shutdown(async {
                        let _ = rx.await;
                    })
                    .await;
            });
        });
        ChatReceiver {
            port,
            hits,
            shutdown: Some(tx),
            thread: Some(thread),
        }
    }

    fn sink(&self, extra: &str) -> String {
        format!(
            "[[sinks]]\ntype = \"alert\"\nname = \"cx\"\nurl = \"http://127.0.0.1:{}/chat\"\nreport_url = \"https://nps.example/report\"\n{extra}\n",
            self.port
        )
    }
}

impl Drop for ChatReceiver {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn edge(name: &str, extra: &str) -> Server {
    Server::start(
        config(&format!("{}{extra}", tokens())),
        scratch(name).join("edge.sqlite"),
        None,
    )
}

fn all_text(v: &serde_json::Value) -> String {
    let mut out = String::new();
    fn walk(v: &serde_json::Value, out: &mut String) {
        match v {
            serde_json::Value::String(s) => {
                out.push_str(s);
                out.push('\n');
            }
            serde_json::Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            serde_json::Value::Object(o) => o.values().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    walk(v, &mut out);
    out
}

// ---------------------------------------------------------------------------------------------
// Alerts

#[test]
fn detractor_comment_alert_content_and_latency() {
    let chat = ChatReceiver::start();
    // Default grace (20 s): only the comment can make this alert arrive within the test.
    let s = edge("alert-latency", &chat.sink(""));
    let r = post_response(s.addr, &full_body("det-1", 1, 3, "v1", "checkout", None));
    assert_eq!(r.status, 202, "{}", r.body);
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(
        chat.hits.len(),
        0,
        "no alert for a score without comment before the grace period"
    );

    let comment = "Charged twice <!channel> & refund <https://evil.example|here> > now";
    let sent = Instant::now();
    let r = post_response(
        s.addr,
        &full_body("det-1", 2, 3, "v1", "checkout", Some(comment)),
    );
    assert_eq!(r.json()["status"], "updated");
    assert!(
        wait_for(Duration::from_secs(5), || chat.hits.len() == 1),
        "alert within 5 s"
    );
    let (at, msg) = chat.hits.get(0);
    let latency = at.duration_since(sent);
    println!("ALERT_LATENCY_MS={:.1}", latency.as_secs_f64() * 1000.0);
    eprintln!("detractor comment → alert receiver: {latency:?}");
    assert!(latency < Duration::from_secs(5));

    let text = all_text(&msg);
    for want in [
        "Detractor 3/10 · checkout · u-v1",
        "*E-mail*\n—",
        ">Charged twice &lt;!channel&gt; &amp; refund &lt;https://evil.example|here&gt; &gt; now",
        "*User*\nu-v1",
        "*Account*\nacme",
        "*Order*\no-77",
        "*Locale*\nfr-FR",
        "*Contact opt-in*\nyes: follow up",
        "*Page*\nhttps://shop.example/checkout?step=2&amp;x=&lt;y&gt;",
        "https://nps.example/report#site=demo&response=det-1",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
    assert!(!text.contains("<!channel>"), "mention must be escaped");
    assert!(
        !text.contains("ann@example.com"),
        "no e-mail in the chat unless the sink asks"
    );
    assert_eq!(msg["blocks"][0]["type"], "header");

    // Once per response id: a later rev with another comment sends nothing more.
    post_response(
        s.addr,
        &full_body("det-1", 3, 2, "v1", "checkout", Some("still angry")),
    );
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(chat.hits.len(), 1, "one alert per response id");
    let db = rusqlite::Connection::open(&s.db).unwrap();
    let (state, rev): (i64, i64) = db
        .query_row(
            "SELECT state, sent_rev FROM alerts WHERE response_id = 'det-1'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((state, rev), (1, 2));
}

#[test]
fn grace_period_alert_without_comment_in_plain_json() {
    let chat = ChatReceiver::start();
    let s = edge(
        "alert-grace",
        &chat.sink("format = \"json\"\ngrace_ms = 1500"),
    );
    let sent = Instant::now();
    assert_eq!(
        post_response(s.addr, &full_body("det-2", 1, 0, "v2", "checkout", None)).status,
        202
    );
    assert!(
        wait_for(Duration::from_secs(5), || chat.hits.len() == 1),
        "alert after the grace period"
    );
    let (at, msg) = chat.hits.get(0);
    let waited = at.duration_since(sent);
    eprintln!("no comment → alert after {waited:?} (grace 1.5 s)");
    assert!(waited >= Duration::from_millis(1400), "{waited:?}");
    assert_eq!(msg["type"], "nps.alert");
    assert_eq!(msg["score"], 0);
    assert_eq!(msg["segment"], "detractor");
    assert_eq!(msg["contact_ok"], true);
    assert_eq!(msg["user"]["id"], "u-v2");
    assert!(
        msg["user"].get("email").is_none(),
        "no e-mail in the chat unless the sink asks"
    );
    assert_eq!(msg["page"], "https://shop.example/checkout?step=2&x=<y>");
    assert_eq!(
        msg["report_link"],
        "https://nps.example/report#site=demo&response=det-2"
    );
    assert!(msg.get("comment").is_none());
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(chat.hits.len(), 1);
}

#[test]
fn routing_promoters_and_passives_do_not_alert() {
    let chat = ChatReceiver::start();
    let extra =
        "grace_ms = 700\n[sinks.survey_segments]\nonboarding = [\"detractor\", \"passive\"]";
    let s = edge("alert-routing", &chat.sink(extra));
    for (id, score, v) in [
        ("p-10", 10, "a"),
        ("p-9", 9, "b"),
        ("n-8", 8, "c"),
        ("n-7", 7, "d"),
    ] {
        assert_eq!(
            post_response(
                s.addr,
                &full_body(id, 1, score, v, "checkout", Some("fine"))
            )
            .status,
            202
        );
    }
    // A detractor who changes their mind (3 → 9) before the grace period ends: cancelled.
    post_response(s.addr, &full_body("flip", 1, 3, "e", "checkout", None));
    post_response(s.addr, &full_body("flip", 2, 9, "e", "checkout", None));
    std::thread::sleep(Duration::from_millis(2000));
    assert_eq!(
        chat.hits.len(),
        0,
        "promoters/passives/changed minds do not alert"
    );
    // Per-survey routing: passives alert on `onboarding`.
    post_response(
        s.addr,
        &full_body("n-onb", 1, 8, "f", "onboarding", Some("ok-ish")),
    );
    assert!(wait_for(Duration::from_secs(5), || chat.hits.len() == 1));
    assert!(all_text(&chat.hits.get(0).1).contains("Passive 8/10 · onboarding"));
}

// ---------------------------------------------------------------------------------------------
// Suppressions

#[test]
fn suppression_end_to_end() {
    let s = edge("suppress", "");
    let path = "/v1/sites/demo/suppressions/u-42";
    // Token auth on the admin API.
    let r = request(s.addr, "PUT", path, &[], b"");
    assert_eq!(r.status, 401, "{}", r.body);
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
    assert_eq!(
        request(
            s.addr,
            "PUT",
            path,
            &[("authorization", "Bearer nope-nope-nope-nope")],
            b""
        )
        .status,
        403
    );
    assert_eq!(
        request(
            s.addr,
            "PUT",
            path,
            &[("authorization", &bearer(READ))],
            b""
        )
        .status,
        403,
        "read token cannot admin"
    );
    assert_eq!(
        request(s.addr, "PUT", path, &[("authorization", "Basic YTpi")], b"").status,
        401
    );

    let elig = |q: &str, origin: Option<&str>| {
        let mut h = vec![];
        if let Some(o) = origin {
            h.push(("origin", o));
        }
        request(
            s.addr,
            "GET",
            &format!("/v1/sites/demo/eligibility?{q}"),
            &h,
            b"",
        )
    };
    let r = elig("survey=checkout&user=u-42&account=acme", Some(ORIGIN));
    assert_eq!((r.status, r.body.as_str()), (200, r#"{"show":true}"#));
    assert_eq!(r.header("cache-control"), Some("private, max-age=60"));
    assert_eq!(r.header("access-control-allow-origin"), Some(ORIGIN));

    // Suppress the user: not eligible, `shown` refused; other users fine.
    let r = admin(&s, "PUT", path, r#"{"reason":"ticket #123"}"#);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        (r.json()["subject"].as_str(), r.json()["active"].as_bool()),
        (Some("u-42"), Some(true))
    );
    let r = elig("survey=checkout&user=u-42&account=acme", Some(ORIGIN));
    assert_eq!(r.body, r#"{"show":false}"#);
    assert_eq!(
        elig("survey=checkout&user=u-43&account=other", Some(ORIGIN)).body,
        r#"{"show":true}"#
    );
    let r = post_event(&s, "ev-1", "shown", "v42", Some(("u-42", "acme")));
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
    assert_eq!(r.json()["type"], "https://nps.dev/problems/suppressed");
    assert_eq!(
        post_event(&s, "ev-2", "dismissed", "v42", Some(("u-42", "acme"))).status,
        202,
        "only `shown` is refused"
    );
    assert_eq!(
        post_event(&s, "ev-3", "shown", "v43", Some(("u-43", "other"))).status,
        202
    );
    assert_eq!(admin(&s, "GET", path, "").json()["reason"], "ticket #123");
    assert_eq!(
        admin(&s, "GET", "/v1/sites/demo/suppressions", "").json()["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // Delete: eligible again, `shown` accepted.
    assert_eq!(admin(&s, "DELETE", path, "").status, 204);
    assert_eq!(admin(&s, "DELETE", path, "").status, 404);
    assert_eq!(
        elig("survey=checkout&user=u-42&account=acme", Some(ORIGIN)).body,
        r#"{"show":true}"#
    );
    assert_eq!(
        post_event(&s, "ev-4", "shown", "v42", Some(("u-42", "acme"))).status,
        202
    );

    // Account-wide suppression with an expiry: everyone in `acme` until it expires.
    let r = admin(
        &s,
        "PUT",
        "/v1/sites/demo/suppressions/acme",
        r#"{"ttl_seconds":1}"#,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        elig("user=u-99&account=acme", None).body,
        r#"{"show":false}"#
    );
    assert_eq!(
        post_event(&s, "ev-5", "shown", "v99", Some(("u-99", "acme"))).status,
        403
    );
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(
        elig("user=u-99&account=acme", None).body,
        r#"{"show":true}"#,
        "expired"
    );
    assert_eq!(
        post_event(&s, "ev-6", "shown", "v99", Some(("u-99", "acme"))).status,
        202
    );

    // Bad input and foreign origins.
    assert_eq!(
        admin(&s, "PUT", path, r#"{"expires_at":"2001-01-01T00:00:00Z"}"#).status,
        422
    );
    assert_eq!(admin(&s, "PUT", path, "{").status, 400);
    assert_eq!(
        admin(&s, "PUT", "/v1/sites/nope/suppressions/u-1", "").status,
        404
    );
    assert_eq!(elig("user=u-1", Some("https://evil.example")).status, 403);
    assert_eq!(elig("user=%3Cx%3E", None).status, 422);
    assert_eq!(
        request(s.addr, "GET", "/v1/sites/nope/eligibility?user=u", &[], b"").status,
        403
    );
}

#[test]
fn eligibility_false_after_answering_within_the_window() {
    let s = edge("elig-answered", "");
    assert_eq!(
        post_response(s.addr, &full_body("ans-1", 1, 9, "zz", "checkout", None)).status,
        202
    );
    let r = request(
        s.addr,
        "GET",
        "/v1/sites/demo/eligibility?survey=checkout&user=u-zz",
        &[],
        b"",
    );
    assert_eq!(r.body, r#"{"show":false}"#);
    let r = request(
        s.addr,
        "GET",
        "/v1/sites/demo/eligibility?survey=onboarding&user=u-zz",
        &[],
        b"",
    );
    assert_eq!(r.body, r#"{"show":true}"#);
}

// ---------------------------------------------------------------------------------------------
// Report

/// 12 answers today: scores 10 10 9 9 9 8 7 6 5 3 0 0 → 5 promoters, 2 passives, 5 detractors,
/// NPS = (5 − 5) / 12 = 0; on survey `checkout` only (the first 8): 10 10 9 9 9 8 7 6 → 5 P,
/// 2 Pa, 1 D → NPS = 400/8 = 50. Shown 16, dismissed 3 → response rate 12/16 = 0.75.
fn seed(s: &Server) {
    let scores = [10, 10, 9, 9, 9, 8, 7, 6, 5, 3, 0, 0];
    for (i, score) in scores.iter().enumerate() {
        let survey = if i < 8 { "checkout" } else { "onboarding" };
        let b = full_body(
            &format!("s-{i:02}"),
            1,
            *score,
            &format!("sv{i}"),
            survey,
            Some("ok"),
        );
        assert_eq!(post_response(s.addr, &b).status, 202);
    }
    for i in 0..16 {
        assert_eq!(
            post_event(s, &format!("sh-{i}"), "shown", &format!("sv{i}"), None).status,
            202
        );
    }
    for i in 0..3 {
        assert_eq!(
            post_event(s, &format!("di-{i}"), "dismissed", &format!("sv{i}"), None).status,
            202
        );
    }
}

fn today() -> String {
    let day = nps_edge::now_ms() / 86_400_000;
    nps_edge_core::report::date_of_day(day as i64)
}

#[test]
fn summary_matches_the_hand_checked_dataset() {
    let s = edge("summary", "");
    seed(&s);
    let t = today();
    let r = get(&s, &format!("/v1/sites/demo/summary?to={t}"), Some(READ));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let v = r.json();
    assert_eq!(v["responses"], 12);
    assert_eq!(v["nps"].as_f64(), Some(0.0));
    assert_eq!(
        v["by_segment"],
        serde_json::json!({"detractor": 5, "passive": 2, "promoter": 5})
    );
    assert_eq!(
        v["by_score"],
        serde_json::json!([2, 0, 0, 1, 0, 1, 1, 1, 1, 3, 2])
    );
    assert_eq!(
        (v["shown"].as_u64(), v["dismissed"].as_u64()),
        (Some(16), Some(3))
    );
    assert_eq!(v["response_rate"].as_f64(), Some(0.75));
    let series = v["series"].as_array().unwrap();
    assert_eq!(series.len(), 30, "30 days by default, empty ones included");
    assert_eq!(series[29]["start"].as_str(), Some(t.as_str()));
    assert_eq!(series[29]["responses"], 12);
    assert_eq!(series[28]["responses"], 0);
    assert_eq!(series[28]["nps"], serde_json::Value::Null);

    let v = get(
        &s,
        &format!("/v1/sites/demo/summary?survey=checkout&interval=week&to={t}"),
        Some(READ),
    )
    .json();
    assert_eq!(v["responses"], 8);
    assert_eq!(v["nps"].as_f64(), Some(50.0));
    assert_eq!(v["interval"], "week");
    assert_eq!(
        v["series"].as_array().unwrap().len(),
        13,
        "12 weeks back + the current one"
    );
    assert_eq!(v["series"][12]["nps"].as_f64(), Some(50.0));

    let v = get(
        &s,
        "/v1/sites/demo/summary?from=2020-01-01&to=2020-01-03",
        Some(READ),
    )
    .json();
    assert_eq!(
        (
            v["responses"].as_u64(),
            v["nps"].is_null(),
            v["response_rate"].is_null()
        ),
        (Some(0), true, true)
    );
    assert_eq!(
        get(&s, "/v1/sites/demo/summary?interval=month", Some(READ)).status,
        422
    );
    assert_eq!(
        get(
            &s,
            "/v1/sites/demo/summary?from=2026-12-01&to=2026-11-01",
            Some(READ)
        )
        .status,
        422
    );

    let v = get(&s, "/v1/sites", Some(READ)).json();
    assert_eq!(v["sites"][0]["id"], "demo");
    assert_eq!(
        v["sites"][0]["surveys"],
        serde_json::json!(["checkout", "onboarding"])
    );
}

#[test]
fn token_auth_on_the_report_api() {
    let s = edge("auth", "");
    for path in [
        "/v1/sites/demo/summary",
        "/v1/sites/demo/responses",
        "/v1/sites",
        "/v1/sites/demo/responses/x",
    ] {
        let r = get(&s, path, None);
        assert_eq!(r.status, 401, "{path}: {}", r.body);
        assert_eq!(r.header("www-authenticate"), Some("Bearer"));
        assert_eq!(r.json()["status"], 401);
        let r = get(&s, path, Some("wrong-token-wrong-token"));
        assert_eq!(r.status, 403, "{path}");
        assert_eq!(r.header("content-type"), Some("application/problem+json"));
        let r = request(s.addr, "GET", path, &[("authorization", "Token abc")], b"");
        assert_eq!(r.status, 401, "{path}");
    }
    assert_eq!(get(&s, "/v1/sites/demo/summary", Some(READ)).status, 200);
    assert_eq!(
        get(&s, "/v1/sites/demo/summary", Some(ADMIN)).status,
        200,
        "admin may read"
    );
    assert_eq!(get(&s, "/v1/sites/nope/summary", Some(READ)).status, 404);
    // Without any token configured, everything is refused.
    let bare = Server::start(config(""), scratch("auth-bare").join("edge.sqlite"), None);
    assert_eq!(get(&bare, "/v1/sites/demo/summary", Some(READ)).status, 403);
}

/// Minimal RFC 4180 reader for the test (quotes, doubled quotes, CRLF records).
fn parse_csv(s: &str) -> Vec<Vec<String>> {
    let (mut rows, mut row, mut cell) = (Vec::new(), Vec::new(), String::new());
    let mut chars = s.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut cell)),
            (false, '\r') if chars.peek() == Some(&'\n') => {
                chars.next();
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => cell.push(c),
        }
    }
    assert!(cell.is_empty() && row.is_empty(), "CSV ends with CRLF");
    rows
}

#[test]
fn responses_pages_and_csv_escaping() {
    let s = edge("csv", "");
    let nasty = [
        ("c-1", 2, "She said \"never again\", twice"),
        ("c-2", 4, "line one\nline two"),
        ("c-3", 9, "=HYPERLINK(\"http://evil.example\",\"click\")"),
        ("c-4", 10, "+1 great"),
        ("c-5", 6, "-5 stars"),
        ("c-6", 7, "@SUM(A1:A2)"),
        ("c-7", 8, "<img src=x onerror=alert(1)>"),
    ];
    for (i, (id, score, comment)) in nasty.iter().enumerate() {
        let b = full_body(id, 1, *score, &format!("cv{i}"), "checkout", Some(comment));
        assert_eq!(post_response(s.addr, &b).status, 202, "{id}");
        std::thread::sleep(Duration::from_millis(3)); // distinct receive times
    }
    // JSON pages by cursor, newest first, no duplicates or gaps.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..10 {
        let q = match &cursor {
            Some(c) => format!("/v1/sites/demo/responses?limit=3&cursor={c}"),
            None => "/v1/sites/demo/responses?limit=3".into(),
        };
        let v = get(&s, &q, Some(READ)).json();
        for it in v["items"].as_array().unwrap() {
            seen.push(it["id"].as_str().unwrap().to_string());
        }
        match v["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(seen, ["c-7", "c-6", "c-5", "c-4", "c-3", "c-2", "c-1"]);
    let v = get(&s, "/v1/sites/demo/responses?segment=detractor", Some(READ)).json();
    let ids: Vec<&str> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["c-5", "c-2", "c-1"]);
    assert_eq!(v["items"][0]["segment"], "detractor");
    assert_eq!(v["items"][0]["user"]["account"], "acme");
    assert_eq!(
        get(&s, "/v1/sites/demo/responses/c-7", Some(READ)).json()["comment"],
        "<img src=x onerror=alert(1)>"
    );
    assert_eq!(
        get(&s, "/v1/sites/demo/responses?segment=fans", Some(READ)).status,
        422
    );

    // CSV: by format=csv and by Accept.
    let r = get(&s, "/v1/sites/demo/responses?format=csv", Some(READ));
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type"),
        Some("text/csv; charset=utf-8; header=present")
    );
    assert!(r
        .header("content-disposition")
        .unwrap()
        .starts_with("attachment; filename=\"nps-demo-"));
    let auth = bearer(READ);
    let r2 = request(
        s.addr,
        "GET",
        "/v1/sites/demo/responses",
        &[("authorization", &auth), ("accept", "text/csv")],
        b"",
    );
    assert_eq!(r2.body, r.body);
    let rows = parse_csv(&r.body);
    assert_eq!(
        rows[0],
        nps_edge_core::csv::RESPONSE_COLUMNS
            .map(String::from)
            .to_vec()
    );
    assert_eq!(rows.len(), 8);
    let col = |name: &str| rows[0].iter().position(|c| c == name).unwrap();
    let comment_of =
        |id: &str| rows.iter().find(|r| r[col("id")] == id).unwrap()[col("comment")].clone();
    assert_eq!(comment_of("c-1"), "She said \"never again\", twice");
    assert_eq!(comment_of("c-2"), "line one\nline two");
    assert_eq!(
        comment_of("c-3"),
        "'=HYPERLINK(\"http://evil.example\",\"click\")"
    );
    assert_eq!(comment_of("c-4"), "'+1 great");
    assert_eq!(comment_of("c-5"), "'-5 stars");
    assert_eq!(comment_of("c-6"), "'@SUM(A1:A2)");
    assert_eq!(comment_of("c-7"), "<img src=x onerror=alert(1)>");
    // The raw bytes: quotes doubled, the multi-line cell quoted, records end with CRLF.
    assert!(r.body.contains(",\"She said \"\"never again\"\", twice\","));
    assert!(r.body.contains(",\"line one\nline two\","));
    assert!(r.body.ends_with("\r\n"));
    let row1 = rows.iter().find(|r| r[col("id")] == "c-1").unwrap();
    assert_eq!(
        (
            row1[col("segment")].as_str(),
            row1[col("contact_ok")].as_str()
        ),
        ("detractor", "true")
    );
    assert_eq!(
        row1[col("page")],
        "https://shop.example/checkout?step=2&x=<y>"
    );
}

#[test]
fn the_former_report_page_redirects_to_the_consoles_report() {
    let s = edge("page", "");
    for path in ["/report", "/report/", "/report?site=demo"] {
        let r = request(s.addr, "GET", path, &[], b"");
        assert_eq!(r.status, 302, "{path}");
        // Fixed, same-origin: nothing of the request is reflected into it.
        assert_eq!(r.header("location"), Some("/console?view=report"), "{path}");
        assert_eq!(r.header("cache-control"), Some("no-cache"));
        assert_eq!(r.header("x-frame-options"), Some("DENY"));
        assert_eq!(r.header("referrer-policy"), Some("no-referrer"));
        let csp = r.header("content-security-policy").unwrap();
        assert!(csp.contains("default-src 'none'"), "{csp}");
    }
    assert_eq!(request(s.addr, "POST", "/report", &[], b"").status, 405);
    for gone in [
        "/report/report.js",
        "/report/report.css",
        "/report/index.html",
    ] {
        assert_eq!(request(s.addr, "GET", gone, &[], b"").status, 404, "{gone}");
    }
}

#[test]
fn scheduled_alert_survives_a_restart_and_is_sent_once() {
    let chat = ChatReceiver::start();
    let dir = scratch("alert-restart");
    let cfg = || config(&format!("{}{}", tokens(), chat.sink("grace_ms = 1500")));
    let s = Server::start(cfg(), dir.join("edge.sqlite"), None);
    assert_eq!(
        post_response(s.addr, &full_body("det-r", 1, 1, "vr", "checkout", None)).status,
        202
    );
    // Wait until the plan is on disk, then stop before it is due.
    let db = rusqlite::Connection::open(dir.join("edge.sqlite")).unwrap();
    assert!(wait_for(Duration::from_secs(3), || {
        db.query_row(
            "SELECT count(*) FROM alerts WHERE response_id = 'det-r' AND state = 0",
            [],
            |r| r.get::<_, i64>(0),
        )
        .unwrap_or(0)
            == 1
    }));
    drop(s);
    assert_eq!(chat.hits.len(), 0);
    let s = Server::start(cfg(), dir.join("edge.sqlite"), None);
    assert!(
        wait_for(Duration::from_secs(5), || chat.hits.len() == 1),
        "sent after the restart"
    );
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(chat.hits.len(), 1, "exactly once");
    drop(s);
}
