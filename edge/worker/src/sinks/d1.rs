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

// ---- reads (report API, alerts) -----------------------------------------------------------

const RESPONSE_COLUMNS: &str =
    "id, rev, site, survey, score, comment, locale, visitor, page, contact_ok, \
review_clicked, user_id, user_account, user_order, user_email, properties, sent_at, received_at";

/// One `responses` row as D1 returns it (numbers are JS numbers).
#[derive(serde::Deserialize)]
struct ResponseRow {
    id: String,
    rev: f64,
    site: String,
    survey: String,
    score: f64,
    comment: Option<String>,
    locale: Option<String>,
    visitor: String,
    page: Option<String>,
    contact_ok: Option<f64>,
    review_clicked: Option<f64>,
    user_id: Option<String>,
    user_account: Option<String>,
    user_order: Option<String>,
    user_email: Option<String>,
    properties: Option<String>,
    sent_at: Option<String>,
    received_at: String,
}

impl ResponseRow {
    /// The stored response (its latest rev) and the receive time of its first rev.
    fn into_response(self) -> (Response, u64) {
        let user = nps_protocol::User {
            id: self.user_id,
            account: self.user_account,
            order: self.user_order,
            email: self.user_email,
        };
        let properties = self
            .properties
            .and_then(|p| serde_json::from_str(&p).ok())
            .unwrap_or_default();
        let received = nps_edge_core::suppression::parse_rfc3339_ms(&self.received_at).unwrap_or(0);
        let r = Response {
            id: self.id,
            rev: self.rev.max(0.0) as u32,
            site: self.site,
            survey: self.survey,
            score: self.score.clamp(0.0, 10.0) as u8,
            comment: self.comment,
            locale: self.locale,
            visitor: self.visitor,
            page: self.page,
            contact_ok: self.contact_ok.map(|v| v != 0.0),
            review_clicked: self.review_clicked.map(|v| v != 0.0),
            user: (!user.is_empty()).then_some(user),
            properties,
            sent_at: self.sent_at,
        };
        (r, received)
    }
}

/// Filter of a responses page (bounds are stored `received_at` text).
pub(crate) struct ResponsesFilter<'a> {
    pub(crate) site: &'a str,
    pub(crate) survey: Option<&'a str>,
    pub(crate) scores: (u8, u8),
    pub(crate) start: String,
    pub(crate) end: String,
    /// Strictly before this (`received_at`, id).
    pub(crate) cursor: Option<(String, String)>,
    /// `None` = every row (CSV).
    pub(crate) limit: Option<u32>,
}

/// Newest first (`received_at DESC, id DESC`), keyset-paginated: pages never skip or repeat.
pub(crate) async fn responses_page(
    db: &D1Database,
    f: &ResponsesFilter<'_>,
) -> Result<Vec<(Response, u64)>> {
    let q = format!(
        "SELECT {RESPONSE_COLUMNS} FROM responses WHERE site = ?1 AND (?2 IS NULL OR survey = ?2) \
AND score BETWEEN ?3 AND ?4 AND received_at >= ?5 AND received_at < ?6 \
AND (?7 IS NULL OR received_at < ?7 OR (received_at = ?7 AND id < ?8)) \
ORDER BY received_at DESC, id DESC LIMIT ?9"
    );
    let (cur_at, cur_id) = match &f.cursor {
        Some((a, i)) => (s(a), s(i)),
        None => (JsValue::NULL, JsValue::NULL),
    };
    let rows: Vec<ResponseRow> = db
        .prepare(q)
        .bind(&[
            s(f.site),
            opt(f.survey),
            JsValue::from_f64(f.scores.0.into()),
            JsValue::from_f64(f.scores.1.into()),
            s(&f.start),
            s(&f.end),
            cur_at,
            cur_id,
            JsValue::from_f64(f.limit.map_or(-1.0, f64::from)),
        ])?
        .all()
        .await?
        .results()?;
    Ok(rows.into_iter().map(ResponseRow::into_response).collect())
}

/// The latest stored rev of one response.
pub(crate) async fn latest_response(
    db: &D1Database,
    site: &str,
    id: &str,
) -> Result<Option<(Response, u64)>> {
    let row: Option<ResponseRow> = db
        .prepare(format!(
            "SELECT {RESPONSE_COLUMNS} FROM responses WHERE site = ?1 AND id = ?2"
        ))
        .bind(&[s(site), s(id)])?
        .first(None)
        .await?;
    Ok(row.map(ResponseRow::into_response))
}

/// Surveys that have responses (the report's pickers).
pub(crate) async fn surveys(db: &D1Database, site: &str) -> Result<Vec<String>> {
    #[derive(serde::Deserialize)]
    struct R {
        survey: String,
    }
    let rows: Vec<R> = db
        .prepare("SELECT DISTINCT survey FROM responses WHERE site = ?1 ORDER BY survey LIMIT 200")
        .bind(&[s(site)])?
        .all()
        .await?
        .results()?;
    Ok(rows.into_iter().map(|r| r.survey).collect())
}

/// Counts per (UTC day, kind, score) in `[start, end)`: responses (latest rev, on the day of their
/// first rev) and shown/dismissed events. Exact input for `report::summarize`, whose buckets are
/// whole UTC days or weeks.
#[derive(serde::Deserialize)]
pub(crate) struct DayCount {
    pub(crate) day: String,
    pub(crate) kind: String,
    pub(crate) score: Option<f64>,
    pub(crate) n: f64,
}

pub(crate) async fn day_counts(
    db: &D1Database,
    site: &str,
    survey: Option<&str>,
    start: &str,
    end: &str,
) -> Result<Vec<DayCount>> {
    let q = "SELECT substr(received_at, 1, 10) AS day, 'response' AS kind, score, count(*) AS n FROM responses \
WHERE site = ?1 AND (?2 IS NULL OR survey = ?2) AND received_at >= ?3 AND received_at < ?4 GROUP BY day, score \
UNION ALL SELECT substr(received_at, 1, 10) AS day, type AS kind, NULL AS score, count(*) AS n FROM events \
WHERE site = ?1 AND (?2 IS NULL OR survey = ?2) AND received_at >= ?3 AND received_at < ?4 GROUP BY day, type";
    db.prepare(q)
        .bind(&[s(site), opt(survey), s(start), s(end)])?
        .all()
        .await?
        .results()
}
