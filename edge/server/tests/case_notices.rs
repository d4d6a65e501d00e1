//! A team's change to a case owes its `nps.case.*` webhook from the moment it is made: when the
//! hand-off to the sinks fails after the change (here the outbox refuses every row, as a full
//! disk or a crash would leave it), the change still stands and the periodic sweep hands the
//! message on later, once.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use rusqlite::Connection;

fn patch(s: &Server, id: &str, body: &str) -> Resp {
    let auth = format!("Bearer {ADMIN}");
    request(
        s.addr,
        "PATCH",
        &format!("/v1/sites/demo/cases/{id}"),
        &[
            ("authorization", &auth),
            ("content-type", "application/json"),
        ],
        body.as_bytes(),
    )
}

/// The case messages the receiver verified, of one type.
fn seen(received: &Arc<Mutex<Received>>, kind: &str) -> Vec<serde_json::Value> {
    let r = received.lock().unwrap();
    r.case_messages
        .values()
        .filter(|m| m["type"] == kind)
        .cloned()
        .collect()
}

fn owed(db: &Connection, id: &str) -> (Option<String>, Option<i64>) {
    db.query_row(
        "SELECT notice, notice_ms FROM cases WHERE site = 'demo' AND id = ?1",
        [id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .unwrap()
}

#[test]
fn a_case_webhook_that_could_not_be_handed_on_is_sent_by_the_sweep() {
    let received = Arc::new(Mutex::new(Received::default()));
    let rx = Receiver::start(0, received.clone());
    // The sweeps' own thread waits an hour between runs: this test runs the sweep itself.
    let extra = format!(
        "{}{}\n[native]\nsweep_seconds = 3600\n",
        admin_and_read_tokens(),
        webhook_sink("hook", rx.port, "")
    );
    let s = Server::start(
        config(&extra),
        scratch("case-notices").join("edge.sqlite"),
        None,
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let sweep = || rt.block_on(s.app().sweep_case_notices()).unwrap();

    // A detractor opens a case; its message arrives.
    assert_eq!(post_response(s.addr, &body("c-1", 1, 2, "v-1")).status, 202);
    assert!(wait_for(Duration::from_secs(10), || !seen(
        &received,
        "nps.case.opened"
    )
    .is_empty()));

    // The outbox refuses every row from now on.
    let db = Connection::open(&s.db).unwrap();
    db.busy_timeout(Duration::from_secs(5)).unwrap();
    db.execute_batch(
        "CREATE TRIGGER outbox_down BEFORE INSERT ON outbox \
         BEGIN SELECT RAISE(ABORT, 'injected: the outbox is down'); END;",
    )
    .unwrap();
    let r = patch(&s, "c-1", r#"{"status":"resolved"}"#);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["status"], "resolved", "the change stands");
    let (notice, at) = owed(&db, "c-1");
    assert_eq!(
        notice.as_deref(),
        Some("nps.case.resolved"),
        "the message is owed"
    );
    assert_eq!(
        sweep(),
        0,
        "a change of a moment ago is left to its own request"
    );

    // The outbox is back; two minutes have passed.
    db.execute_batch("DROP TRIGGER outbox_down").unwrap();
    db.execute(
        "UPDATE cases SET notice_ms = notice_ms - 120000 WHERE site = 'demo' AND id = 'c-1'",
        [],
    )
    .unwrap();
    assert_eq!(sweep(), 1);
    assert!(wait_for(Duration::from_secs(10), || seen(
        &received,
        "nps.case.resolved"
    )
    .len()
        == 1));
    let resolved = &seen(&received, "nps.case.resolved")[0];
    assert_eq!(resolved["data"]["id"], "c-1");
    assert_eq!(resolved["data"]["status"], "resolved");
    assert_eq!(owed(&db, "c-1"), (None, None), "given");
    assert_eq!(sweep(), 0, "and given once");
    assert!(at.is_some());

    // A change handed on at once owes nothing afterwards; a change that changes nothing owes
    // nothing either.
    let r = patch(&s, "c-1", r#"{"owner":"ann@example.com"}"#);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(wait_for(Duration::from_secs(10), || seen(
        &received,
        "nps.case.updated"
    )
    .len()
        == 1));
    assert_eq!(owed(&db, "c-1"), (None, None));
    let r = patch(&s, "c-1", r#"{"owner":"ann@example.com"}"#);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(owed(&db, "c-1"), (None, None));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        seen(&received, "nps.case.updated").len(),
        1,
        "no message for no change"
    );
    let r = received.lock().unwrap();
    assert_eq!((r.redeliveries, r.bad_signatures), (0, 0));
}
