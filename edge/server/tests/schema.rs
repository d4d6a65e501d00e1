//! One schema, versioned: the native store and D1 build the same `responses` and `events`
//! tables (columns, keys, indexes) from their numbered migrations; a store written by the first
//! release upgrades in place and keeps serving; a D1 database of the first release is rebuilt
//! with the (site, id) keys and its answers read back field for field.

mod common;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use nps_edge_app::backend::SqlValue;
use nps_edge_app::store;
use rusqlite::Connection;

/// `(name, type, notnull, pk position)` of every column, the `WITHOUT ROWID` flag, and every
/// index as `(unique, origin, columns)`; names of automatic indexes are left out (SQLite derives
/// them from the table's name at creation).
fn shape(c: &Connection, table: &str) -> String {
    let cols: Vec<(String, String, bool, i64)> = c
        .prepare(&format!("PRAGMA table_info({table})"))
        .unwrap()
        .query_map([], |r| Ok((r.get(1)?, r.get(2)?, r.get(3)?, r.get(5)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let sql: String = c
        .query_row(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?1",
            [table],
            |r| r.get(0),
        )
        .unwrap();
    let mut indexes: Vec<(String, bool, String, Vec<String>)> = c
        .prepare(&format!("PRAGMA index_list({table})"))
        .unwrap()
        .query_map([], |r| Ok((r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .map(|(name, unique, origin): (String, bool, String)| {
            let cols: Vec<String> = c
                .prepare(&format!("PRAGMA index_info({name})"))
                .unwrap()
                .query_map([], |r| r.get(2))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            let name = if origin == "pk" { String::new() } else { name };
            (name, unique, origin, cols)
        })
        .collect();
    indexes.sort();
    format!(
        "{cols:?}\nwithout rowid: {}\n{indexes:?}",
        sql.contains("WITHOUT ROWID")
    )
}

fn d1_migrations() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../worker/migrations");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect()
}

#[test]
fn native_and_d1_migrations_build_the_same_response_store() {
    let mut native = Connection::open_in_memory().unwrap();
    nps_edge::store::migrate(&mut native).unwrap();
    let d1 = Connection::open_in_memory().unwrap();
    for (_, sql) in d1_migrations() {
        d1.execute_batch(&sql).unwrap();
    }
    for table in ["responses", "events", "cases", "case_notes", "invitations"] {
        assert_eq!(shape(&native, table), shape(&d1, table), "table {table}");
    }
    // The statements the application shares run on both.
    for c in [&native, &d1] {
        let st = c.prepare(store::RESPONSES_PAGE).unwrap();
        assert_eq!(st.column_count(), 2);
        c.prepare(store::DAY_COUNTS).unwrap();
        c.prepare(store::UPSERT_RESPONSE).unwrap();
        c.prepare(store::INSERT_EVENT).unwrap();
        for sql in [
            store::UPSERT_CASE,
            store::WITHDRAW_CASE,
            store::LIST_CASES,
            store::ONE_CASE,
            store::CASE_NOTES,
            store::INSERT_NOTE,
            store::TOUCH_CASE,
            store::PATCH_CASE,
            store::ACTIVE_CASE_OF,
            store::ERASE_CASES,
            store::ERASE_CASE_NOTES,
            store::PURGE_CASES,
            store::PURGE_CASE_NOTES,
            store::PERSON_RESPONSES,
            store::ERASE_RESPONSES,
            store::ERASE_EVENTS,
            store::PURGE_RESPONSES,
            store::PURGE_EVENTS,
            store::INSERT_INVITATIONS,
            store::MARK_OPENED,
            store::MARK_SENT,
            store::MARK_DELIVERED,
            store::INVITATION_FUNNEL,
            store::NON_RESPONDENTS,
            store::ERASE_INVITATIONS,
            store::PURGE_INVITATIONS,
            store::UNMARK_SENT,
            store::DUE_REMINDERS,
            store::MARK_REMINDED,
            store::UNMARK_REMINDED,
        ] {
            c.prepare(sql).unwrap_or_else(|e| panic!("{e}: {sql}"));
        }
    }
}

#[test]
fn migrations_are_idempotent_and_refuse_a_newer_store() {
    let dir = scratch("migrate");
    let path = dir.join("s.sqlite");
    let mut c = Connection::open(&path).unwrap();
    let v = nps_edge::store::migrate(&mut c).unwrap();
    assert_eq!(v as usize, nps_edge::store::MIGRATIONS.len());
    assert_eq!(nps_edge::store::migrate(&mut c).unwrap(), v);
    c.pragma_update(None, "user_version", v + 1).unwrap();
    let e = nps_edge::store::migrate(&mut c).unwrap_err();
    assert!(e.to_string().contains("newer than this nps-edge"), "{e}");
}

#[test]
fn a_store_of_the_first_release_upgrades_in_place() {
    let dir = scratch("upgrade");
    let db = dir.join("store.sqlite");
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/store-first-release.sqlite");
    std::fs::copy(&fixture, &db).unwrap();
    // The release had tried two deliveries and rescheduled them an hour later: keep that
    // schedule an hour ahead of now, whenever the test runs.
    Connection::open(&db)
        .unwrap()
        .execute(
            "UPDATE outbox SET next_ms = ?1 WHERE attempts > 0",
            [nps_edge::now_ms() as i64 + 3_600_000],
        )
        .unwrap();
    let received = Arc::new(Mutex::new(Received::default()));
    let rc = Receiver::start(0, received.clone());
    let cfg = format!(
        r#"
[[sites]]
id = "shop"
origins = ["https://shop.example"]
[[sites]]
id = "demo"
origins = ["https://demo.example"]
[[tokens]]
name = "reader"
role = "read"
sites = ["*"]
secret = "env:TEST_READ_TOKEN"
[retry]
base_ms = 50
max_ms = 200
{}"#,
        webhook_sink("hook", rc.port, "")
    );
    let mut config = nps_edge_core::Config::load_toml(&cfg).unwrap();
    config.resolve_secrets(test_secret).unwrap();
    let s = Server::start(config, db.clone(), None);

    let c = Connection::open(&db).unwrap();
    let version: u32 = c
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version as usize, nps_edge::store::MIGRATIONS.len());
    let index: i64 = c
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name = 'events_by_time'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(index, 1);

    let bearer = format!("Bearer {READ}");
    let read = [("authorization", bearer.as_str())];
    let page = request(
        s.addr,
        "GET",
        "/v1/sites/shop/responses?from=2026-01-01",
        &read,
        b"",
    )
    .json();
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 3, "{page}");
    let old1 = items.iter().find(|i| i["id"] == "old-1").unwrap();
    assert_eq!(
        (old1["rev"].as_u64(), old1["comment"].as_str()),
        (Some(2), Some("Livraison trop lente"))
    );
    assert_eq!(old1["contact_ok"], true);
    let old2 = items.iter().find(|i| i["id"] == "old-2").unwrap();
    assert_eq!(old2["user"]["account"], "acme");
    assert_eq!(old2["properties"]["plan"], "pro");
    let other = request(s.addr, "GET", "/v1/sites/demo/responses/old-1", &read, b"").json();
    assert_eq!(
        other["score"], 9,
        "the same id on another site is its own answer"
    );
    let sum = request(
        s.addr,
        "GET",
        "/v1/sites/shop/summary?from=2026-01-01",
        &read,
        b"",
    )
    .json();
    assert_eq!(
        (
            sum["responses"].as_u64(),
            sum["shown"].as_u64(),
            sum["dismissed"].as_u64()
        ),
        (Some(3), Some(2), Some(1))
    );

    // Dedup records, suppressions and respondents of the old release still count.
    let post = |site: &str, body: &str| {
        request(
            s.addr,
            "POST",
            "/v1/responses",
            &[
                ("content-type", "application/json"),
                ("origin", &format!("https://{site}.example")),
            ],
            body.as_bytes(),
        )
        .json()
    };
    let rev2 =
        r#"{"id":"old-1","rev":2,"site":"shop","survey":"checkout","score":3,"visitor":"v-1"}"#;
    assert_eq!(post("shop", rev2)["status"], "duplicate");
    let rev1 =
        r#"{"id":"old-1","rev":1,"site":"shop","survey":"checkout","score":9,"visitor":"v-1"}"#;
    assert_eq!(post("shop", rev1)["status"], "duplicate");
    let rev3 =
        r#"{"id":"old-1","rev":3,"site":"shop","survey":"checkout","score":6,"visitor":"v-1"}"#;
    assert_eq!(post("shop", rev3)["status"], "updated");
    let elig = |q: &str| {
        request(
            s.addr,
            "GET",
            &format!("/v1/sites/shop/eligibility?{q}"),
            &[],
            b"",
        )
        .json()["show"]
            .clone()
    };
    assert_eq!(elig("survey=checkout&user=u-2"), false, "u-2 answered");
    assert_eq!(
        elig("survey=checkout&user=u-7&account=acme"),
        false,
        "acme is suppressed"
    );
    assert_eq!(elig("survey=checkout&user=u-7"), true);

    // The deliveries the old release left pending reach the receiver; the two it had already
    // tried (and rescheduled an hour later) keep their place and schedule in the outbox.
    assert!(
        wait_for(Duration::from_secs(15), || received
            .lock()
            .unwrap()
            .requests
            >= 5),
        "pending deliveries: {}",
        received.lock().unwrap().requests
    );
    std::thread::sleep(Duration::from_millis(300));
    let r = received.lock().unwrap();
    let ids: Vec<&str> = r.messages.keys().map(String::as_str).collect();
    assert_eq!(ids, ["old-1.1", "old-1.3", "old-2.1", "old-3.1"]);
    // Its rev 3 made old-1 a detractor's answer: a case opened (the old release had none).
    let cases: Vec<&str> = r
        .case_messages
        .values()
        .map(|m| m["type"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(cases, ["nps.case.opened"]);
    assert_eq!((r.requests, r.bad_signatures), (5, 0));
    let waiting: Vec<(String, i64)> = c
        .prepare("SELECT msg_id, attempts FROM outbox WHERE state = 0 ORDER BY seq")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        waiting,
        [("old-1.1".to_string(), 1), ("old-1.2".to_string(), 1)]
    );
}

#[test]
fn a_d1_store_of_the_first_release_is_rebuilt_with_site_keys() {
    let c = Connection::open_in_memory().unwrap();
    let migrations = d1_migrations();
    c.execute_batch(&migrations[0].1).unwrap();
    c.execute_batch(
        r#"INSERT INTO responses (id, rev, site, survey, score, segment, comment, locale, visitor, page,
             contact_ok, review_clicked, user_id, user_account, user_order, user_email, properties, sent_at,
             received_at, updated_at)
           VALUES ('a1', 2, 'shop', 'checkout', 3, 'detractor', 'Trop "lent"', 'fr-FR', 'v1', 'https://shop.example/x',
             1, 0, 'u1', 'acme', 'o1', 'ana@example.com', '{"plan":"pro"}', '2026-11-20T10:00:00Z',
             '2026-11-20T10:00:01.250Z', '2026-11-20T10:00:09.000Z'),
                  ('a2', 1, 'shop', 'checkout', 10, 'promoter', NULL, NULL, 'v2', NULL,
             NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '2026-11-21T00:00:00.000Z', NULL);
           INSERT INTO events (id, site, survey, visitor, type, user_id, received_at)
           VALUES ('e1', 'shop', 'checkout', 'v1', 'shown', 'u1', '2026-11-20T09:59:59.999Z');"#,
    )
    .unwrap();
    for (_, sql) in &migrations[1..] {
        c.execute_batch(sql).unwrap();
    }
    let one = |id: &str| {
        let row: Vec<SqlValue> = c
            .query_row(store::ONE_RESPONSE, ["shop", id], |r| {
                Ok(vec![SqlValue::Text(r.get(0)?), SqlValue::Int(r.get(1)?)])
            })
            .unwrap();
        store::response_of_row(&row).unwrap()
    };
    let (a1, ms) = one("a1");
    assert_eq!(ms, 1_795_168_801_250);
    let want = nps_protocol::parse::parse_response(
        br#"{"id":"a1","rev":2,"site":"shop","survey":"checkout","score":3,"comment":"Trop \"lent\"","locale":"fr-FR",
             "visitor":"v1","page":"https://shop.example/x","contact_ok":true,"review_clicked":false,
             "user":{"id":"u1","account":"acme","order":"o1","email":"ana@example.com"},"properties":{"plan":"pro"},
             "sent_at":"2026-11-20T10:00:00Z"}"#,
    )
    .unwrap();
    assert_eq!(a1, want);
    let (a2, _) = one("a2");
    assert_eq!((a2.score, a2.user, a2.comment), (10, None, None));
    let (respondent, updated): (String, i64) = c
        .query_row(
            "SELECT respondent, updated_ms FROM responses WHERE id = 'a1'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((respondent.as_str(), updated), ("u1", 1_795_168_809_000));
    let ev: i64 = c
        .query_row(
            "SELECT received_ms FROM events WHERE site = 'shop' AND id = 'e1'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(ev, 1_795_168_799_999);
}
