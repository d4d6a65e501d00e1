//! Privacy on the native store: an erasure cancels the person's deliveries still waiting (a
//! receiver that is down gets only the erasure notice once it is back), and a site's retention
//! deletes what is older than it, nothing younger. (The erasure's HTTP contract runs on both
//! runtimes in tests/security/privacy.test.mjs.)

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use rusqlite::Connection;

fn count(db: &Connection, sql: &str) -> i64 {
    db.query_row(sql, [], |r| r.get(0)).expect(sql)
}

fn erase(s: &Server, key: &str) -> serde_json::Value {
    let auth = format!("Bearer {ADMIN}");
    let r = request(
        s.addr,
        "DELETE",
        &format!("/v1/sites/demo/people/{key}"),
        &[("authorization", &auth)],
        b"",
    );
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

#[test]
fn erasure_cancels_deliveries_waiting_for_a_receiver_that_is_down() {
    let received = Arc::new(Mutex::new(Received::default()));
    let rx = Receiver::start(0, received.clone());
    rx.set_mode(Mode::Fail503);
    let sinks = format!(
        "{}\n{}",
        webhook_sink("crm", rx.port, ""),
        admin_and_read_tokens()
    );
    let s = Server::start(
        config(&sinks),
        scratch("erase-pending").join("edge.sqlite"),
        None,
    );
    let person = r#"{"id":"er-1","rev":1,"site":"demo","survey":"checkout","score":2,"visitor":"v1","user":{"id":"u-gone","email":"gone@example.com"}}"#;
    let kept = r#"{"id":"er-2","rev":1,"site":"demo","survey":"checkout","score":9,"visitor":"v2","user":{"id":"u-stays"}}"#;
    for b in [person, kept] {
        assert_eq!(post_response(s.addr, b).status, 202);
    }
    assert!(
        wait_for(Duration::from_secs(5), || received.lock().unwrap().requests
            >= 2),
        "the receiver refused both"
    );
    let db = Connection::open(&s.db).unwrap();
    assert_eq!(
        count(&db, "SELECT count(*) FROM outbox"),
        3,
        "both answers and the case of the detractor waiting"
    );
    // An overdue alert of their case waiting too (a chat message: no `data` to find it by).
    db.execute(
        "INSERT INTO outbox (sink, msg_id, payload, next_ms, created_ms) VALUES ('crm', 'case-overdue.demo.er-1', '{\"text\":\"u-gone\"}', 9e15, 0)",
        [],
    )
    .unwrap();

    let out = erase(&s, "gone%40example.com");
    assert_eq!(out["responses"], 1);
    assert_eq!(
        out["deliveries"], 3,
        "its waiting delivery, its case's webhook and overdue alert were cancelled"
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM outbox WHERE payload LIKE '%u-gone%'"
        ),
        0
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM outbox WHERE msg_id LIKE 'erasure.demo.%'"
        ),
        1,
        "the notice waits with the rest"
    );

    rx.set_mode(Mode::Ok);
    assert!(wait_for(Duration::from_secs(10), || received
        .lock()
        .unwrap()
        .messages
        .len()
        == 2));
    std::thread::sleep(Duration::from_millis(500));
    let r = received.lock().unwrap();
    assert!(r.case_messages.is_empty(), "nothing about the erased case");
    let kinds: Vec<(&str, &str)> = r
        .messages
        .values()
        .map(|m| {
            (
                m["type"].as_str().unwrap_or(""),
                m["data"]["id"]
                    .as_str()
                    .or(m["data"]["key"].as_str())
                    .unwrap_or(""),
            )
        })
        .collect();
    assert!(kinds.contains(&("nps.response", "er-2")), "{kinds:?}");
    assert!(
        kinds.contains(&("nps.person.erased", "gone@example.com")),
        "{kinds:?}"
    );
    assert_eq!(r.messages.len(), 2, "the erased answer never went out");
    assert_eq!(r.bad_signatures, 0);
}

#[test]
fn retention_deletes_what_is_older_than_the_site_keeps() {
    let extra = "[[sites]]\nid = \"brief\"\norigins = [\"http://localhost:3000\"]\nretention_days = 30\nrate_limit = { per_minute = 100000, burst = 1000 }\n";
    let s = Server::start(
        config(extra),
        scratch("retention").join("edge.sqlite"),
        None,
    );
    for (id, site) in [("old-1", "brief"), ("new-1", "brief"), ("old-2", "demo")] {
        let b = format!(
            r#"{{"id":"{id}","rev":1,"site":"{site}","survey":"s","score":5,"visitor":"v-{id}"}}"#
        );
        assert_eq!(post_response(s.addr, &b).status, 202);
        let e = format!(
            r#"{{"id":"e-{id}","site":"{site}","survey":"s","visitor":"v-{id}","type":"shown"}}"#
        );
        let r = request(
            s.addr,
            "POST",
            "/v1/events",
            &[("content-type", "application/json"), ("origin", ORIGIN)],
            e.as_bytes(),
        );
        assert_eq!(r.status, 202);
    }
    // Forty days ago, for the `old-*` rows.
    let db = Connection::open(&s.db).unwrap();
    let then = nps_edge::now_ms() as i64 - 40 * 86_400_000;
    db.execute(
        "UPDATE responses SET received_ms = ?1 WHERE id LIKE 'old-%'",
        [then],
    )
    .unwrap();
    db.execute(
        "UPDATE events SET received_ms = ?1 WHERE id LIKE 'e-old-%'",
        [then],
    )
    .unwrap();
    db.execute(
        "UPDATE respondents SET at_ms = ?1 WHERE response_id LIKE 'old-%'",
        [then],
    )
    .unwrap();
    // Applied helpdesk events are remembered a week, whatever the site's retention.
    let day = 86_400_000;
    let now = nps_edge::now_ms() as i64;
    for (id, at) in [("msg-8d", now - 8 * day), ("msg-6d", now - 6 * day)] {
        db.execute(
            "INSERT INTO helpdesk_events (site, id, received_ms) VALUES ('demo', ?1, ?2)",
            rusqlite::params![id, at],
        )
        .unwrap();
    }

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let swept = rt.block_on(s.app().sweep_retention()).unwrap();
    assert_eq!(swept.len(), 1, "only the site with a retention: {swept:?}");
    let (site, purged) = &swept[0];
    assert_eq!(site, "brief");
    assert_eq!((purged.responses, purged.events), (1, 1));
    assert!(purged.other >= 1, "its respondent record too");

    let ids = |sql: &str| -> Vec<String> {
        let mut st = db.prepare(sql).unwrap();
        let rows = st.query_map([], |r| r.get(0)).unwrap();
        let mut v: Vec<String> = rows.map(Result::unwrap).collect();
        v.sort();
        v
    };
    assert_eq!(ids("SELECT id FROM responses"), ["new-1", "old-2"]);
    assert_eq!(ids("SELECT id FROM events"), ["e-new-1", "e-old-2"]);
    assert_eq!(
        ids("SELECT response_id FROM respondents"),
        ["new-1", "old-2"]
    );
    assert_eq!(ids("SELECT id FROM helpdesk_events"), ["msg-6d"]);
    // Nothing more to do on a second run.
    let again = rt.block_on(s.app().sweep_retention()).unwrap();
    assert_eq!(again[0].1, Default::default());
}
