//! Sinks over real HTTP: signed webhooks verified by a receiver, routing, a receiver that is down
//! then up (0 lost), 410 disabling a sink, dead letters, and a crash + restart of the real binary
//! mid-way (0 lost).

mod common;

use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;

#[test]
fn signed_webhook_with_routing() {
    let received = Arc::new(Mutex::new(Received::default()));
    let rx = Receiver::start(0, received.clone());
    let sinks = format!(
        "{}\n[[sinks]]\ntype = \"stdout\"\nname = \"promoters-out\"\nsegments = [\"promoter\"]\nsurveys = [\"nowhere\"]\n",
        webhook_sink("detractors", rx.port, "segments = [\"detractor\"]\nsurveys = [\"checkout\"]")
    );
    let s = Server::start(config(&sinks), scratch("routing").join("edge.sqlite"), None);
    for (i, score) in [0u8, 3, 6, 7, 8, 9, 10].iter().enumerate() {
        let r = post_response(
            s.addr,
            &body(&format!("rt-{i}"), 1, *score, &format!("v{i}")),
        );
        assert_eq!(r.status, 202);
    }
    // Another survey: not routed even for a detractor.
    let other =
        r#"{"id":"rt-x","rev":1,"site":"demo","survey":"onboarding","score":1,"visitor":"vx"}"#;
    assert_eq!(post_response(s.addr, other).status, 202);
    // A new rev of a detractor: a new message `{id}.{rev}`.
    assert_eq!(
        post_response(s.addr, &body("rt-0", 2, 1, "v0")).json()["status"],
        "updated"
    );
    assert!(wait_for(Duration::from_secs(10), || received
        .lock()
        .unwrap()
        .messages
        .len()
        >= 4));
    assert!(wait_for(Duration::from_secs(10), || received
        .lock()
        .unwrap()
        .case_messages
        .len()
        >= 4));
    std::thread::sleep(Duration::from_millis(300));
    let r = received.lock().unwrap();
    let ids: Vec<&str> = r.messages.keys().map(String::as_str).collect();
    assert_eq!(ids, ["rt-0.1", "rt-0.2", "rt-1.1", "rt-2.1"]);
    assert_eq!(r.bad_signatures, 0);
    // Each routed detractor opened a case, announced to the same sink; its rev 2 updated it.
    let mut cases: Vec<(&str, &str)> = r
        .case_messages
        .values()
        .map(|p| {
            (
                p["data"]["id"].as_str().unwrap(),
                p["type"].as_str().unwrap(),
            )
        })
        .collect();
    cases.sort();
    assert_eq!(
        cases,
        [
            ("rt-0", "nps.case.opened"),
            ("rt-0", "nps.case.updated"),
            ("rt-1", "nps.case.opened"),
            ("rt-2", "nps.case.opened"),
        ]
    );
    let p = &r.messages["rt-0.2"];
    assert_eq!(p["type"], "nps.response");
    assert_eq!(p["data"]["segment"], "detractor");
    assert_eq!(
        (p["data"]["id"].as_str(), p["data"]["rev"].as_u64()),
        (Some("rt-0"), Some(2))
    );
    assert!(p["timestamp"].as_str().unwrap().ends_with('Z'));
    drop(r);
    assert_eq!(
        s.metric("nps_sink_deliveries_total{sink=\"detractors\"}"),
        8.0
    );
    assert_eq!(s.metric("nps_queue_depth{sink=\"detractors\"}"), 0.0);
}

#[test]
fn receiver_down_then_up_loses_nothing() {
    let received = Arc::new(Mutex::new(Received::default()));
    let port = free_port();
    // Phase 1: nobody listens (connection refused).
    let s = Server::start(
        config(&webhook_sink("hook", port, "")),
        scratch("downup").join("edge.sqlite"),
        None,
    );
    let mut ids = Vec::new();
    for i in 0..40 {
        let id = format!("du-{i}");
        assert_eq!(
            post_response(s.addr, &body(&id, 1, (i % 11) as u8, &format!("v{i}"))).status,
            202
        );
        ids.push(format!("{id}.1"));
    }
    std::thread::sleep(Duration::from_millis(500));
    assert!(s.metric("nps_queue_depth{sink=\"hook\"}") > 0.0);
    // Phase 2: up, but failing with 503.
    let rx = Receiver::start(port, received.clone());
    rx.set_mode(Mode::Fail503);
    for i in 40..60 {
        let id = format!("du-{i}");
        assert_eq!(
            post_response(s.addr, &body(&id, 1, 5, &format!("v{i}"))).status,
            202
        );
        ids.push(format!("{id}.1"));
    }
    std::thread::sleep(Duration::from_millis(500));
    assert!(s.metric("nps_sink_retries_total{sink=\"hook\"}") > 0.0);
    // Phase 3: healthy. Everything accepted arrives, signed.
    rx.set_mode(Mode::Ok);
    assert!(
        wait_for(Duration::from_secs(20), || received
            .lock()
            .unwrap()
            .messages
            .len()
            == ids.len()),
        "got {} of {}",
        received.lock().unwrap().messages.len(),
        ids.len()
    );
    let r = received.lock().unwrap();
    for id in &ids {
        assert!(r.messages.contains_key(id), "{id} lost");
    }
    assert_eq!(r.bad_signatures, 0);
    drop(r);
    assert!(wait_for(Duration::from_secs(5), || s
        .metric("nps_queue_depth{sink=\"hook\"}")
        == 0.0));
}

#[test]
fn gone_disables_and_dead_letters_are_kept() {
    let received = Arc::new(Mutex::new(Received::default()));
    let rx = Receiver::start(0, received.clone());
    rx.set_mode(Mode::Gone410);
    let dead_port = free_port();
    let sinks = format!(
        "{}{}",
        webhook_sink("gone", rx.port, ""),
        webhook_sink("nowhere", dead_port, "")
    );
    let mut cfg = config(&sinks);
    cfg.retry.max_attempts = 3;
    cfg.retry.base_ms = 20;
    cfg.retry.max_ms = 40;
    let s = Server::start(cfg, scratch("gone").join("edge.sqlite"), None);
    for i in 0..3 {
        assert_eq!(
            post_response(s.addr, &body(&format!("g-{i}"), 1, 2, &format!("v{i}"))).status,
            202
        );
    }
    assert!(wait_for(Duration::from_secs(10), || s
        .metric("nps_sink_disabled{sink=\"gone\"}")
        == 1.0));
    assert!(wait_for(Duration::from_secs(10), || s
        .metric("nps_dead_letters{sink=\"nowhere\"}")
        == 6.0));
    // Disabled: its messages are kept pending (not lost), no more requests are made.
    let before = received.lock().unwrap().requests;
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(received.lock().unwrap().requests, before);
    // Three answers and the three cases they opened.
    assert_eq!(s.metric("nps_queue_depth{sink=\"gone\"}"), 6.0);
    let db = rusqlite::Connection::open(&s.db).unwrap();
    let dead: i64 = db
        .query_row(
            "SELECT count(*) FROM outbox WHERE sink = 'nowhere' AND state = 2 AND attempts = 3",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(dead, 6);
}

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn_binary(config: &std::path::Path, port: u16) -> Proc {
    let child = Command::new(env!("CARGO_BIN_EXE_nps-edge"))
        .args([
            "--config",
            &config.to_string_lossy(),
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn nps-edge");
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    assert!(
        wait_for(Duration::from_secs(10), || std::net::TcpStream::connect(
            addr
        )
        .is_ok()),
        "nps-edge did not start"
    );
    Proc(child)
}

#[test]
fn crash_and_restart_lose_nothing() {
    let dir = scratch("restart");
    let received = Arc::new(Mutex::new(Received::default()));
    let hook_port = free_port();
    let cfg_path = dir.join("edge.toml");
    std::fs::write(
        &cfg_path,
        format!(
            r#"
[[sites]]
id = "demo"
origins = ["http://localhost:3000"]
rate_limit = {{ per_minute = 1000000, burst = 100000 }}

[retry]
base_ms = 50
max_ms = 300
max_attempts = 1000

[native]
db = "{}"

{}"#,
            dir.join("edge.sqlite").display(),
            webhook_sink("hook", hook_port, "")
        ),
    )
    .unwrap();
    let port = free_port();
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let mut ids = Vec::new();
    let mut edge = spawn_binary(&cfg_path, port);
    // Receiver down: everything accepted sits in the outbox.
    for i in 0..30 {
        let id = format!("rs-{i}");
        assert_eq!(
            post_response(addr, &body(&id, 1, 4, &format!("v{i}"))).status,
            202
        );
        ids.push(format!("{id}.1"));
    }
    // Receiver up for a moment, then the edge is killed (SIGKILL) while delivering.
    let rx = Receiver::start(hook_port, received.clone());
    for i in 30..60 {
        let id = format!("rs-{i}");
        assert_eq!(
            post_response(addr, &body(&id, 1, 4, &format!("v{i}"))).status,
            202
        );
        ids.push(format!("{id}.1"));
    }
    let _ = edge.0.kill();
    let _ = edge.0.wait();
    drop(rx);
    // Restart on the same database; more traffic; receiver back.
    edge = spawn_binary(&cfg_path, port);
    for i in 60..80 {
        let id = format!("rs-{i}");
        assert_eq!(
            post_response(addr, &body(&id, 1, 4, &format!("v{i}"))).status,
            202
        );
        ids.push(format!("{id}.1"));
    }
    // Replays of already-accepted ids after the restart are still duplicates (state is on disk).
    assert_eq!(
        post_response(addr, &body("rs-0", 1, 4, "v0")).json()["status"],
        "duplicate"
    );
    let _rx = Receiver::start(hook_port, received.clone());
    assert!(
        wait_for(Duration::from_secs(30), || received
            .lock()
            .unwrap()
            .messages
            .len()
            == ids.len()),
        "got {} of {}",
        received.lock().unwrap().messages.len(),
        ids.len()
    );
    let r = received.lock().unwrap();
    for id in &ids {
        assert!(r.messages.contains_key(id), "{id} lost");
    }
    assert_eq!(r.bad_signatures, 0);
    drop(r);
    drop(edge);
}
