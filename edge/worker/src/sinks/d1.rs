//! D1 sink: responses (upserted by id, highest rev wins), events and dead letters.
//! Tables: `migrations/0001_init.sql`.

use nps_protocol::json::ObjectWriter;
use nps_protocol::{Event, Response, Segment};
use wasm_bindgen::JsValue;
use worker::{D1Database, Result};

const UPSERT_RESPONSE: &str = "INSERT INTO responses (id, rev, site, survey, score, segment, comment, locale, visitor, page, \
contact_ok, review_clicked, user_id, user_account, user_order, user_email, properties, sent_at, received_at) \
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19) \
ON CONFLICT(id) DO UPDATE SET rev = excluded.rev, score = excluded.score, segment = excluded.segment, \
comment = excluded.comment, locale = excluded.locale, page = excluded.page, contact_ok = excluded.contact_ok, \
review_clicked = excluded.review_clicked, user_id = excluded.user_id, user_account = excluded.user_account, \
user_order = excluded.user_order, user_email = excluded.user_email, properties = excluded.properties, \
sent_at = excluded.sent_at, updated_at = excluded.received_at WHERE excluded.rev > responses.rev";

const INSERT_EVENT: &str =
    "INSERT OR IGNORE INTO events (id, site, survey, visitor, type, user_id, received_at) \
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";

const INSERT_DEAD_LETTER: &str = "INSERT INTO dead_letters (webhook_id, sink, payload, attempts, reason, failed_at) \
VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(webhook_id) DO UPDATE SET attempts = excluded.attempts, \
reason = excluded.reason, failed_at = excluded.failed_at";

fn s(v: &str) -> JsValue {
    JsValue::from_str(v)
}

fn opt(v: Option<&str>) -> JsValue {
    v.map_or(JsValue::NULL, JsValue::from_str)
}

fn opt_bool(v: Option<bool>) -> JsValue {
    v.map_or(JsValue::NULL, |b| {
        JsValue::from_f64(if b { 1.0 } else { 0.0 })
    })
}

/// Stores a response (insert, or replace a lower rev).
pub(crate) async fn store_response(
    db: &D1Database,
    r: &Response,
    seg: Segment,
    received: &str,
) -> Result<()> {
    let u = r.user.as_ref();
    let props = if r.properties.is_empty() {
        JsValue::NULL
    } else {
        let mut p = String::new();
        let mut w = ObjectWriter::new(&mut p);
        for (k, v) in &r.properties {
            w.str(k, v);
        }
        w.end();
        JsValue::from_str(&p)
    };
    db.prepare(UPSERT_RESPONSE)
        .bind(&[
            s(&r.id),
            JsValue::from_f64(r.rev.into()),
            s(&r.site),
            s(&r.survey),
            JsValue::from_f64(r.score.into()),
            s(seg.as_str()),
            opt(r.comment.as_deref()),
            opt(r.locale.as_deref()),
            s(&r.visitor),
            opt(r.page.as_deref()),
            opt_bool(r.contact_ok),
            opt_bool(r.review_clicked),
            opt(u.and_then(|u| u.id.as_deref())),
            opt(u.and_then(|u| u.account.as_deref())),
            opt(u.and_then(|u| u.order.as_deref())),
            opt(u.and_then(|u| u.email.as_deref())),
            props,
            opt(r.sent_at.as_deref()),
            s(received),
        ])?
        .run()
        .await?;
    Ok(())
}

/// Stores an event once per id.
pub(crate) async fn store_event(db: &D1Database, e: &Event, received: &str) -> Result<()> {
    db.prepare(INSERT_EVENT)
        .bind(&[
            s(&e.id),
            s(&e.site),
            s(&e.survey),
            s(&e.visitor),
            s(e.kind.as_str()),
            opt(e.user.as_ref().and_then(|u| u.id.as_deref())),
            s(received),
        ])?
        .run()
        .await?;
    Ok(())
}

/// Keeps a delivery that will not be retried any more.
pub(crate) async fn store_dead_letter(
    db: &D1Database,
    webhook_id: &str,
    sink: &str,
    payload: &str,
    attempts: u32,
    reason: &str,
    failed_at: &str,
) -> Result<()> {
    db.prepare(INSERT_DEAD_LETTER)
        .bind(&[
            s(webhook_id),
            s(sink),
            s(payload),
            JsValue::from_f64(attempts.into()),
            s(reason),
            s(failed_at),
        ])?
        .run()
        .await?;
    Ok(())
}
