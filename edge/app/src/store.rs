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

/// The answers of a person on site `?1`: by user id (`?2`, a JSON array of ids) or by e-mail
/// (`?3`, compared without regard to ASCII case; NULL when the key is not one). Columns: id,
/// visitor, user_id, survey.
pub const PERSON_RESPONSES: &str = "SELECT id, visitor, user_id, survey FROM responses \
WHERE site = ?1 AND (user_id IN (SELECT value FROM json_each(?2)) OR (?3 IS NOT NULL AND \
lower(json_extract(body, '$.user.email')) = lower(?3)))";

/// Erases answers: site `?1`, ids `?2` (a JSON array).
pub const ERASE_RESPONSES: &str =
    "DELETE FROM responses WHERE site = ?1 AND id IN (SELECT value FROM json_each(?2))";

/// Erases events: site `?1`, by user id (`?2`) or by the visitors of the person's answers
/// (`?3`), JSON arrays.
pub const ERASE_EVENTS: &str = "DELETE FROM events WHERE site = ?1 AND (user_id IN \
(SELECT value FROM json_each(?2)) OR visitor IN (SELECT value FROM json_each(?3)))";

/// The condition, on a sink payload column `payload`, that it carries the person's data: an
/// answer of site `?1` among ids `?2`, or an event or answer of user ids `?3`.
macro_rules! names_person {
    () => {
        "json_extract(payload, '$.data.site') = ?1 AND (json_extract(payload, '$.data.id') IN \
(SELECT value FROM json_each(?2)) OR json_extract(payload, '$.data.user.id') IN \
(SELECT value FROM json_each(?3)))"
    };
}

/// Erases the native store's deliveries of a person (pending and dead), with [`names_person`]'s
/// parameters.
pub const ERASE_OUTBOX: &str = concat!("DELETE FROM outbox WHERE ", names_person!());

/// Erases the worker's dead letters of a person (D1), with [`names_person`]'s parameters.
pub const ERASE_DEAD_LETTERS: &str = concat!("DELETE FROM dead_letters WHERE ", names_person!());

/// Deletes answers received before `?2` ms on site `?1` (retention).
pub const PURGE_RESPONSES: &str = "DELETE FROM responses WHERE site = ?1 AND received_ms < ?2";

/// Deletes events received before `?2` ms on site `?1` (retention).
pub const PURGE_EVENTS: &str = "DELETE FROM events WHERE site = ?1 AND received_ms < ?2";

/// What is known of a person once their answers are found: the rows to erase on every store.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Found {
    /// Their answers' ids.
    pub response_ids: Vec<String>,
    /// Their user ids (the key itself for a user id).
    pub user_ids: Vec<String>,
    /// The visitors (browsers) of their answers.
    pub visitors: Vec<String>,
    /// The surveys they answered.
    pub surveys: Vec<String>,
}

impl Found {
    /// Adds the rows of [`PERSON_RESPONSES`]; `true` when a new user id turned up.
    pub fn add_rows(&mut self, rows: &[Vec<SqlValue>]) -> bool {
        let mut new_user = false;
        for row in rows {
            let col = |i: usize| row.get(i).and_then(SqlValue::as_str).map(str::to_string);
            if let Some(id) = col(0) {
                push_new(&mut self.response_ids, id);
            }
            if let Some(v) = col(1) {
                push_new(&mut self.visitors, v);
            }
            if let Some(u) = col(2) {
                new_user |= push_new(&mut self.user_ids, u);
            }
            if let Some(s) = col(3) {
                push_new(&mut self.surveys, s);
            }
        }
        new_user
    }

    /// Sorted lists (stable answers and messages).
    pub fn sort(&mut self) {
        for l in [
            &mut self.response_ids,
            &mut self.user_ids,
            &mut self.visitors,
            &mut self.surveys,
        ] {
            l.sort();
        }
    }
}

fn push_new(list: &mut Vec<String>, v: String) -> bool {
    if list.contains(&v) {
        false
    } else {
        list.push(v);
        true
    }
}

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
