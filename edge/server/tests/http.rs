//! API v1 over real HTTP on 127.0.0.1: every status code, CORS, rate limiting, dedup, revs,
//! events, metrics, static assets, the bad-input corpus and the example config.

mod common;

use common::*;
use nps_protocol::limits::MAX_BODY_BYTES;

fn server(name: &str) -> Server {
    Server::start(config(""), scratch(name).join("edge.sqlite"), None)
}

fn problem_shape(r: &Resp, status: u16) {
    assert_eq!(r.status, status, "{}", r.body);
    assert_eq!(
        r.header("content-type"),
        Some("application/problem+json"),
        "{r:?}"
    );
    let v = r.json();
    assert_eq!(v["status"], status);
    assert!(
        v["title"].is_string() && v["type"].is_string() && v["detail"].is_string(),
        "{v}"
    );
    assert!(v["errors"].is_array(), "{v}");
}

#[test]
fn accepted_then_duplicate_then_updated() {
    let s = server("statuses");
    let r = post_response(s.addr, &body("r-1", 1, 3, "v1"));
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(
        r.body,
        r#"{"id":"r-1","rev":1,"segment":"detractor","status":"accepted"}"#
    );
    assert_eq!(
        post_response(s.addr, &body("r-1", 1, 3, "v1")).json()["status"],
        "duplicate"
    );
    let up = post_response(s.addr, &body("r-1", 2, 9, "v1"));
    assert_eq!(
        (up.json()["status"].as_str(), up.json()["segment"].as_str()),
        (Some("updated"), Some("promoter"))
    );
    // text/plain (sendBeacon) is accepted too.
    let r = common::request(
        s.addr,
        "POST",
        "/v1/responses",
        &[
            ("content-type", "text/plain;charset=UTF-8"),
            ("origin", ORIGIN),
        ],
        body("r-2", 1, 8, "v2").as_bytes(),
    );
    assert_eq!(r.json()["status"], "accepted");
    assert_eq!(s.metric("nps_responses_total{status=\"accepted\"}"), 2.0);
    assert_eq!(s.metric("nps_responses_total{status=\"updated\"}"), 1.0);
    assert_eq!(s.metric("nps_duplicates_total{kind=\"id\"}"), 1.0);
    // Stored once, at the highest rev.
    let db = rusqlite::Connection::open(&s.db).unwrap();
    let (n, rev, score): (i64, i64, i64) = db
        .query_row(
            "SELECT count(*), max(rev), max(score) FROM responses WHERE id = 'r-1'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!((n, rev, score), (1, 2, 9));
}

#[test]
fn rev_two_before_rev_one() {
    let s = server("revs");
    assert_eq!(
        post_response(s.addr, &body("late", 2, 10, "v")).json()["status"],
        "accepted"
    );
    assert_eq!(
        post_response(s.addr, &body("late", 1, 0, "v")).json()["status"],
        "duplicate"
    );
    let db = rusqlite::Connection::open(&s.db).unwrap();
    let (rev, score): (i64, i64) = db
        .query_row(
            "SELECT rev, score FROM responses WHERE id = 'late'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((rev, score), (2, 10));
}

#[test]
fn one_answer_per_respondent_per_survey() {
    let s = server("respondent");
    assert_eq!(
        post_response(s.addr, &body("first", 1, 2, "same-visitor")).json()["status"],
        "accepted"
    );
    let second = post_response(s.addr, &body("second", 1, 10, "same-visitor"));
    assert_eq!(
        (second.status, second.json()["status"].as_str()),
        (202, Some("duplicate"))
    );
    // The first answer may still be revised.
    assert_eq!(
        post_response(s.addr, &body("first", 2, 3, "same-visitor")).json()["status"],
        "updated"
    );
    // A user id takes precedence over the visitor id.
    let with_user = |id: &str, visitor: &str| {
        format!(
            r#"{{"id":"{id}","rev":1,"site":"demo","survey":"checkout","score":5,"visitor":"{visitor}","user":{{"id":"u-7"}}}}"#
        )
    };
    assert_eq!(
        post_response(s.addr, &with_user("u-a", "device-1")).json()["status"],
        "accepted"
    );
    assert_eq!(
        post_response(s.addr, &with_user("u-b", "device-2")).json()["status"],
        "duplicate"
    );
    // Another survey is another question.
    let other = r#"{"id":"third","rev":1,"site":"demo","survey":"onboarding","score":9,"visitor":"same-visitor"}"#;
    assert_eq!(post_response(s.addr, other).json()["status"], "accepted");
    assert_eq!(s.metric("nps_duplicates_total{kind=\"respondent\"}"), 2.0);
    let db = rusqlite::Connection::open(&s.db).unwrap();
    let n: i64 = db
        .query_row(
            "SELECT count(*) FROM responses WHERE id IN ('second','u-b')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 0);
}

#[test]
fn every_error_status() {
    let s = server("errors");
    let a = s.addr;
    let ok = body("e-1", 1, 5, "v");
    // 400 broken JSON
    problem_shape(&post_response(a, "{\"id\":"), 400);
    // 403 unknown site
    problem_shape(&post_response(a, &ok.replace("\"demo\"", "\"nope\"")), 403);
    // 403 origin not on the site's list (allowed for another site: still refused)
    let r = common::request(
        a,
        "POST",
        "/v1/responses",
        &[
            ("content-type", "application/json"),
            ("origin", "https://strict.example"),
        ],
        ok.as_bytes(),
    );
    problem_shape(&r, 403);
    assert_eq!(r.json()["errors"][0]["field"], "origin");
    // 403 no origin at all
    problem_shape(
        &common::request(
            a,
            "POST",
            "/v1/responses",
            &[("content-type", "application/json")],
            ok.as_bytes(),
        ),
        403,
    );
    // 413 by content-length and by streamed bytes
    let big = format!("{ok}{}", " ".repeat(MAX_BODY_BYTES));
    problem_shape(&post_response(a, &big), 413);
    // 415 wrong or missing content type
    for ct in [
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/xml",
    ] {
        problem_shape(
            &common::request(
                a,
                "POST",
                "/v1/responses",
                &[("content-type", ct), ("origin", ORIGIN)],
                ok.as_bytes(),
            ),
            415,
        );
    }
    problem_shape(
        &common::request(
            a,
            "POST",
            "/v1/responses",
            &[("origin", ORIGIN)],
            ok.as_bytes(),
        ),
        415,
    );
    // 422 lists every bad field
    let r = post_response(
        a,
        r#"{"id":"x","rev":0,"site":"demo","survey":"s","score":11,"visitor":"v","nope":1}"#,
    );
    problem_shape(&r, 422);
    let mut fields: Vec<String> = r.json()["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_string())
        .collect();
    fields.sort();
    assert_eq!(fields, ["nope", "rev", "score"]);
    // 404 / 405
    problem_shape(&common::request(a, "GET", "/nope", &[], b""), 404);
    problem_shape(&common::request(a, "GET", "/v1/responses", &[], b""), 405);
    problem_shape(&common::request(a, "DELETE", "/v1/events", &[], b""), 405);
    // Nothing was stored, and every refusal was counted.
    assert_eq!(
        s.metric("nps_rejected_total{reason=\"unsupported_media_type\"}"),
        4.0
    );
    assert_eq!(
        s.metric("nps_rejected_total{reason=\"origin_not_allowed\"}"),
        2.0
    );
    let db = rusqlite::Connection::open(&s.db).unwrap();
    let n: i64 = db
        .query_row("SELECT count(*) FROM responses", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 0);
}

#[test]
fn rate_limit_answers_429_with_retry_after() {
    let s = server("ratelimit");
    let post = |i: u32| {
        let b = format!(
            r#"{{"id":"rl-{i}","rev":1,"site":"strict","survey":"s","score":9,"visitor":"v{i}"}}"#
        );
        common::request(
            s.addr,
            "POST",
            "/v1/responses",
            &[
                ("content-type", "application/json"),
                ("origin", "https://strict.example"),
            ],
            b.as_bytes(),
        )
    };
    for i in 0..3 {
        assert_eq!(post(i).status, 202);
    }
    let r = post(3);
    problem_shape(&r, 429);
    let ra: u64 = r
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .unwrap();
    assert!((1..=2).contains(&ra), "{ra}");
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("https://strict.example")
    );
    // The other site's bucket is independent.
    assert_eq!(
        post_response(s.addr, &body("rl-other", 1, 9, "x")).status,
        202
    );
    assert_eq!(s.metric("nps_rejected_total{reason=\"rate_limited\"}"), 1.0);
}

#[test]
fn cors_preflight_and_headers() {
    let s = server("cors");
    let pre = |origin: &str| {
        common::request(
            s.addr,
            "OPTIONS",
            "/v1/responses",
            &[
                ("origin", origin),
                ("access-control-request-method", "POST"),
                ("access-control-request-headers", "content-type"),
            ],
            b"",
        )
    };
    let r = pre(ORIGIN);
    assert_eq!(r.status, 204);
    assert_eq!(r.header("access-control-allow-origin"), Some(ORIGIN));
    assert!(r
        .header("access-control-allow-methods")
        .unwrap()
        .contains("POST"));
    assert_eq!(
        r.header("access-control-allow-headers"),
        Some("content-type")
    );
    assert_eq!(pre("http://127.0.0.1:5173").status, 204);
    problem_shape(&pre("https://evil.example"), 403);
    problem_shape(&pre("http://localhost:3000.evil.example"), 403);
    let ok = post_response(s.addr, &body("c-1", 1, 9, "v"));
    assert_eq!(ok.header("access-control-allow-origin"), Some(ORIGIN));
    assert_eq!(ok.header("vary"), Some("Origin"));
    let evil = common::request(
        s.addr,
        "POST",
        "/v1/responses",
        &[
            ("content-type", "text/plain"),
            ("origin", "https://evil.example"),
        ],
        body("c-2", 1, 9, "v2").as_bytes(),
    );
    problem_shape(&evil, 403);
    assert_eq!(evil.header("access-control-allow-origin"), None);
}

#[test]
fn events_health_metrics() {
    let s = server("events");
    let ev = r#"{"id":"ev-1","site":"demo","survey":"checkout","visitor":"v1","type":"shown"}"#;
    let post = |b: &str| {
        common::request(
            s.addr,
            "POST",
            "/v1/events",
            &[("content-type", "text/plain"), ("origin", ORIGIN)],
            b.as_bytes(),
        )
    };
    assert_eq!(post(ev).body, r#"{"id":"ev-1","status":"accepted"}"#);
    assert_eq!(post(ev).json()["status"], "duplicate");
    problem_shape(&post(&ev.replace("shown", "clicked")), 422);
    problem_shape(&post("[]"), 400);
    let h = common::request(s.addr, "GET", "/healthz", &[], b"");
    assert_eq!((h.status, h.body.as_str()), (200, r#"{"status":"ok"}"#));
    assert_eq!(
        common::request(s.addr, "GET", "/metrics", &[], b"").status,
        401
    );
    let auth = format!("Bearer {}", common::METRICS);
    let m = common::request(s.addr, "GET", "/metrics", &[("authorization", &auth)], b"");
    assert!(m
        .header("content-type")
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    assert!(m.body.contains("# TYPE nps_rejected_total counter"));
    assert_eq!(s.metric("nps_events_total{status=\"accepted\"}"), 1.0);
    let db = rusqlite::Connection::open(&s.db).unwrap();
    let t: String = db
        .query_row("SELECT type FROM events WHERE id = 'ev-1'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(t, "shown");
}

#[test]
fn static_assets() {
    let dir = scratch("assets-files");
    std::fs::write(dir.join("nps.js"), "console.log(1)").unwrap();
    std::fs::write(dir.join("nps-widget_bg.wasm"), b"\0asm\x01\0\0\0").unwrap();
    let s = Server::start(config(""), scratch("assets").join("edge.sqlite"), Some(dir));
    let r = common::request(s.addr, "GET", "/nps.js", &[], b"");
    assert_eq!((r.status, r.body.as_str()), (200, "console.log(1)"));
    assert_eq!(
        r.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    assert!(r.header("cache-control").is_some());
    let w = common::request(s.addr, "GET", "/nps-widget_bg.wasm", &[], b"");
    assert_eq!(
        (w.status, w.header("content-type")),
        (200, Some("application/wasm"))
    );
    problem_shape(
        &common::request(s.addr, "GET", "/../Cargo.toml", &[], b""),
        404,
    );
    problem_shape(
        &common::request(s.addr, "GET", "/missing.js", &[], b""),
        404,
    );
    // The API still wins over the files.
    assert_eq!(
        common::request(s.addr, "GET", "/healthz", &[], b"").status,
        200
    );
}

/// Every file in tests/corpus is `<status>-<name>.body`; each is answered with that status.
#[test]
fn bad_input_corpus() {
    let s = server("corpus");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut n = 0;
    let mut failures = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let want: u16 = name[..3].parse().unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let ct = if want == 415 {
            "application/x-www-form-urlencoded"
        } else {
            "application/json"
        };
        let r = common::request(
            s.addr,
            "POST",
            "/v1/responses",
            &[("content-type", ct), ("origin", ORIGIN)],
            &bytes,
        );
        if r.status != want || r.header("content-type") != Some("application/problem+json") {
            failures.push(format!("{name}: got {} {}", r.status, r.body));
        }
        n += 1;
    }
    assert!(n >= 60, "corpus has only {n} cases");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Nothing from the corpus reached the store.
    let db = rusqlite::Connection::open(&s.db).unwrap();
    let stored: i64 = db
        .query_row("SELECT count(*) FROM responses", [], |r| r.get(0))
        .unwrap();
    assert_eq!(stored, 0);
}

#[test]
fn example_config_parses_validates_and_starts() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../config.example.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut c = nps_edge_core::Config::load_text(&text)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    c.resolve_secrets(|name| {
        Some(if name.contains("TOKEN") || name.contains("IDENTITY") {
            format!("example-{name}-0123456789")
        } else {
            SECRET.to_string()
        })
    })
    .unwrap();
    assert_eq!(c.native.db, "/var/lib/nps-edge/nps.sqlite");
    assert_eq!(c.worker.d1.as_deref(), Some("DB"));
    let s = Server::start(c, scratch("example").join("edge.sqlite"), None);
    let r = request(s.addr, "GET", "/healthz", &[], b"");
    assert_eq!((r.status, r.body.as_str()), (200, "{\"status\":\"ok\"}"));
}

/// wrangler.toml's NPS_CONFIG is the same document `nps-edge --config` reads.
#[test]
fn the_wrangler_config_is_a_valid_document() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../worker/wrangler.toml");
    let wrangler: toml::Table = std::fs::read_to_string(&path).unwrap().parse().unwrap();
    let text = wrangler["vars"]["NPS_CONFIG"].as_str().unwrap();
    let c = nps_edge_core::Config::load_text(text).unwrap_or_else(|e| panic!("NPS_CONFIG: {e}"));
    assert_eq!(c.worker.state, "SITE_STATE");
    let bindings = |kind: &str, key: &str| -> Vec<String> {
        wrangler[kind]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|b| b[key].as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    assert!(bindings("d1_databases", "binding").contains(&"DB".to_string()));
    let dos = wrangler["durable_objects"]["bindings"].as_array().unwrap();
    assert!(dos.iter().any(|b| b["name"].as_str() == Some("SITE_STATE")
        && b["class_name"].as_str() == Some("SiteState")));
    let producers = wrangler["queues"]["producers"].as_array().unwrap();
    assert!(producers
        .iter()
        .any(|p| p["binding"].as_str() == Some(c.worker.queue.as_str())));
    let consumers = wrangler["queues"]["consumers"].as_array().unwrap();
    assert!(consumers
        .iter()
        .any(|q| q["queue"].as_str() == Some(c.worker.dead_letter_queue.as_str())));
}

/// The fuzz target's invariant (`nps_edge_core::fuzzing::check_body`) over the corpus: the short
/// smoke that runs in every `cargo test` (the long fuzz run does not).
#[test]
fn corpus_replays_through_the_fuzz_invariant() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    for e in std::fs::read_dir(&dir).unwrap().filter_map(Result::ok) {
        nps_edge_core::fuzzing::check_body(&std::fs::read(e.path()).unwrap());
    }
    for valid in [body("ok-1", 1, 0, "v"), body("ok-2", 3, 10, "w")] {
        nps_edge_core::fuzzing::check_body(valid.as_bytes());
    }
}

#[test]
fn the_console_comes_from_its_build_directory_or_says_how_to_deploy_it() {
    let dir = scratch("console");
    let build = dir.join("console-build");
    std::fs::create_dir_all(&build).unwrap();
    std::fs::write(
        build.join("index.html"),
        "<!doctype html><title>console</title>",
    )
    .unwrap();
    std::fs::write(build.join("boot.js"), "import './nps_console.js';").unwrap();
    let s = Server::start_with_console(
        config(""),
        dir.join("edge.sqlite"),
        None,
        Some(build.clone()),
    );
    let page = request(s.addr, "GET", "/console", &[], b"");
    assert_eq!(page.status, 200);
    assert_eq!(page.body, "<!doctype html><title>console</title>");
    assert!(page
        .header("content-security-policy")
        .unwrap()
        .contains("'wasm-unsafe-eval'"));
    assert_eq!(page.header("x-nps-static"), None);
    let js = request(s.addr, "GET", "/console/boot.js", &[], b"");
    assert_eq!(
        (js.status, js.header("content-type")),
        (200, Some("text/javascript; charset=utf-8"))
    );
    // Listed but not built: the operator is told what to do.
    let wasm = request(s.addr, "GET", "/console/nps_console_bg.wasm", &[], b"");
    assert_eq!(wasm.status, 503);
    assert!(wasm.body.contains("--console"), "{}", wasm.body);
    assert_eq!(
        request(s.addr, "GET", "/console/edge.sqlite", &[], b"").status,
        404
    );
    drop(s);
    let bare = Server::start(config(""), dir.join("edge2.sqlite"), None);
    let none = request(bare.addr, "GET", "/console", &[], b"");
    assert_eq!(none.status, 503);
    assert!(
        none.body.contains("nps-edge --console DIR"),
        "{}",
        none.body
    );
}
