//! The response store's statements, written once for both runtimes: the native SQLite file and
//! D1 share the `responses` and `events` tables column for column (their migrations are tested
//! to produce the same tables, columns, keys and indexes), so the writes of an answer and every
//! read of the report API are the same SQL on both.
//!
//! `responses` holds one row per `(site, id)`: its latest rev (the `body` is its wire JSON) and
//! `received_ms`, when its FIRST rev arrived (reports count an answer on that day).

use nps_protocol::{Event, Response};

use crate::backend::SqlValue;

/// Stores a rev of an answer: a new `(site, id)` is inserted; a known one is replaced only by a
/// higher rev of the same visitor, so a late or replayed lower rev can never downgrade a stored
/// answer, and nobody else's rev can rewrite it (the dedup decision refuses those first; this
/// holds even where its records have expired).
/// Parameters: [`response_params`].
pub const UPSERT_RESPONSE: &str = "INSERT INTO responses (site, id, rev, survey, score, segment, \
respondent, visitor, user_id, account, comment, locale, page, contact_ok, review_clicked, body, \
received_ms, updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, \
?16, ?17, ?17) ON CONFLICT (site, id) DO UPDATE SET rev = excluded.rev, survey = excluded.survey, \
score = excluded.score, segment = excluded.segment, respondent = excluded.respondent, \
visitor = excluded.visitor, user_id = excluded.user_id, account = excluded.account, \
comment = excluded.comment, locale = excluded.locale, page = excluded.page, \
contact_ok = excluded.contact_ok, review_clicked = excluded.review_clicked, body = excluded.body, \
updated_ms = excluded.updated_ms WHERE excluded.rev > responses.rev \
AND excluded.visitor = responses.visitor";

/// Stores an event once per `(site, id)`. Parameters: [`event_params`].
pub const INSERT_EVENT: &str = "INSERT OR IGNORE INTO events (site, id, survey, visitor, type, \
user_id, received_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";

/// Surveys that have answers (the report's pickers). `?1` site.
pub const SURVEYS: &str =
    "SELECT DISTINCT survey FROM responses WHERE site = ?1 ORDER BY survey LIMIT 200";

/// Counts per (UTC day, score) of answers and per (day, type) of events in `[?3, ?4)` ms, for
/// site `?1` and survey `?2` (NULL = all): the exact input of `report::summarize`, whose buckets
/// are whole UTC days or weeks. Columns: day, kind, score, n.
pub const DAY_COUNTS: &str = "SELECT received_ms / 86400000 AS day, 'response' AS kind, score, \
count(*) AS n FROM responses WHERE site = ?1 AND (?2 IS NULL OR survey = ?2) AND received_ms >= ?3 \
AND received_ms < ?4 GROUP BY day, score UNION ALL SELECT received_ms / 86400000 AS day, \
type AS kind, NULL AS score, count(*) AS n FROM events WHERE site = ?1 AND (?2 IS NULL OR \
survey = ?2) AND received_ms >= ?3 AND received_ms < ?4 GROUP BY day, type";

/// A page of answers, newest first, strictly after the keyset cursor `(?7, ?8)`; `?9` = limit
/// (-1 = all). Columns: body, received_ms.
pub const RESPONSES_PAGE: &str = "SELECT body, received_ms FROM responses WHERE site = ?1 \
AND (?2 IS NULL OR survey = ?2) AND score BETWEEN ?3 AND ?4 AND received_ms >= ?5 \
AND received_ms < ?6 AND (?7 IS NULL OR received_ms < ?7 OR (received_ms = ?7 AND id < ?8)) \
ORDER BY received_ms DESC, id DESC LIMIT ?9";

/// One answer. `?1` site, `?2` id. Columns: body, received_ms.
pub const ONE_RESPONSE: &str =
    "SELECT body, received_ms FROM responses WHERE site = ?1 AND id = ?2";

fn text(s: &str) -> SqlValue {
    SqlValue::Text(s.to_string())
}

fn flag(v: Option<bool>) -> SqlValue {
    SqlValue::opt_int(v.map(i64::from))
}

/// Parameters of [`UPSERT_RESPONSE`] for a rev received at `now_ms` (`body` = its wire JSON).
pub fn response_params(r: &Response, body: &str, now_ms: u64) -> Vec<SqlValue> {
    let u = r.user.as_ref();
    vec![
        text(&r.site),
        text(&r.id),
        SqlValue::Int(r.rev.into()),
        text(&r.survey),
        SqlValue::Int(r.score.into()),
        text(r.segment().map(|s| s.as_str()).unwrap_or("")),
        text(r.respondent()),
        text(&r.visitor),
        SqlValue::opt_text(u.and_then(|u| u.id.as_deref())),
        SqlValue::opt_text(u.and_then(|u| u.account.as_deref())),
        SqlValue::opt_text(r.comment.as_deref()),
        SqlValue::opt_text(r.locale.as_deref()),
        SqlValue::opt_text(r.page.as_deref()),
        flag(r.contact_ok),
        flag(r.review_clicked),
        text(body),
        SqlValue::Int(now_ms as i64),
    ]
}

/// Parameters of [`INSERT_EVENT`].
pub fn event_params(e: &Event, now_ms: u64) -> Vec<SqlValue> {
    vec![
        text(&e.site),
        text(&e.id),
        text(&e.survey),
        text(&e.visitor),
        text(e.kind.as_str()),
        SqlValue::opt_text(e.user.as_ref().and_then(|u| u.id.as_deref())),
        SqlValue::Int(now_ms as i64),
    ]
}

/// A stored answer from a `(body, received_ms)` row; `None` for a body that no longer parses.
pub fn response_of_row(row: &[SqlValue]) -> Option<(Response, u64)> {
    let body = row.first()?.as_str()?;
    let ms = row.get(1)?.as_i64()?.max(0) as u64;
    let r = nps_protocol::parse::parse_response(body.as_bytes()).ok()?;
    Some((r, ms))
}
