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
/// parameters: their answers, the webhooks about their cases (whose `data.id` is the answer's),
/// and the overdue alerts of their cases (chat messages, known by their id).
pub const ERASE_OUTBOX: &str = concat!(
    "DELETE FROM outbox WHERE (",
    names_person!(),
    ") OR msg_id IN (SELECT 'case-overdue.' || ?1 || '.' || value FROM json_each(?2))"
);

/// Erases the worker's dead letters of a person (D1), with [`names_person`]'s parameters.
pub const ERASE_DEAD_LETTERS: &str = concat!("DELETE FROM dead_letters WHERE ", names_person!());

/// Erases cases: site `?1`, ids `?2` (a JSON array of response ids).
pub const ERASE_CASES: &str =
    "DELETE FROM cases WHERE site = ?1 AND id IN (SELECT value FROM json_each(?2))";

/// Erases the notes of those cases: site `?1`, ids `?2`.
pub const ERASE_CASE_NOTES: &str =
    "DELETE FROM case_notes WHERE site = ?1 AND case_id IN (SELECT value FROM json_each(?2))";

/// Deletes cases opened before `?2` ms on site `?1`, with their notes (retention).
pub const PURGE_CASES: &str = "DELETE FROM cases WHERE site = ?1 AND opened_ms < ?2";

/// The notes of cases that no longer exist on site `?1` (after [`PURGE_CASES`]).
pub const PURGE_CASE_NOTES: &str = "DELETE FROM case_notes WHERE site = ?1 AND NOT EXISTS \
(SELECT 1 FROM cases c WHERE c.site = case_notes.site AND c.id = case_notes.case_id)";

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

// ---- Cases ------------------------------------------------------------------------------------

/// Opens a case for an accepted rev in the case segments, or updates it (score, comment, who) when
/// this rev is newer; a withdrawn case that comes back into the segments opens again. Parameters:
/// [`case_params`] + `?14` the first-touch deadline.
pub const UPSERT_CASE: &str = "INSERT INTO cases (site, id, rev, survey, respondent, user_id, \
account, order_id, email, score, first_score, comment, contact_ok, status, opened_ms, due_ms, \
updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, ?11, ?12, 'open', ?13, ?14, ?13) \
ON CONFLICT (site, id) DO UPDATE SET rev = excluded.rev, score = excluded.score, \
comment = excluded.comment, contact_ok = excluded.contact_ok, \
user_id = coalesce(excluded.user_id, cases.user_id), account = coalesce(excluded.account, \
cases.account), order_id = coalesce(excluded.order_id, cases.order_id), \
email = coalesce(excluded.email, cases.email), updated_ms = excluded.updated_ms, \
status = CASE WHEN cases.status = 'withdrawn' THEN 'open' ELSE cases.status END \
WHERE excluded.rev > cases.rev";

/// A newer rev left the case segments: an active case is withdrawn. Parameters:
/// [`case_params`] (`?14` unused, bound as NULL).
pub const WITHDRAW_CASE: &str = "UPDATE cases SET status = 'withdrawn', rev = ?3, score = ?10, \
comment = ?11, updated_ms = ?13 WHERE site = ?1 AND id = ?2 AND rev < ?3 AND ?14 IS NULL \
AND status IN ('open', 'in_progress', 'reopened')";

/// Parameters of [`UPSERT_CASE`] / [`WITHDRAW_CASE`]: the rev, received at `now_ms`; `due_ms`
/// for an opening (None for a withdrawal).
pub fn case_params(r: &Response, now_ms: u64, due_ms: Option<u64>) -> Vec<SqlValue> {
    let u = r.user.as_ref();
    vec![
        text(&r.site),
        text(&r.id),
        SqlValue::Int(r.rev.into()),
        text(&r.survey),
        text(r.respondent()),
        SqlValue::opt_text(u.and_then(|u| u.id.as_deref())),
        SqlValue::opt_text(u.and_then(|u| u.account.as_deref())),
        SqlValue::opt_text(u.and_then(|u| u.order.as_deref())),
        SqlValue::opt_text(u.and_then(|u| u.email.as_deref())),
        SqlValue::Int(r.score.into()),
        SqlValue::opt_text(r.comment.as_deref()),
        flag(r.contact_ok),
        SqlValue::Int(now_ms as i64),
        SqlValue::opt_int(due_ms.map(|d| d as i64)),
    ]
}

/// The statement and parameters of a case action, when there is one.
pub fn case_write(
    action: Option<nps_edge_core::cases::Action>,
    r: &Response,
    now_ms: u64,
) -> Option<(&'static str, Vec<SqlValue>)> {
    use nps_edge_core::cases::Action;
    match action? {
        Action::Open { due_ms } => Some((UPSERT_CASE, case_params(r, now_ms, Some(due_ms)))),
        Action::Withdraw => Some((WITHDRAW_CASE, case_params(r, now_ms, None))),
    }
}

/// The columns of a case, in [`case_of_row`]'s order.
macro_rules! case_columns {
    () => {
        "id, survey, respondent, user_id, account, order_id, email, score, first_score, comment, \
contact_ok, status, owner, opened_ms, due_ms, first_touch_ms, resolved_ms, resurvey_ms, \
resurvey_score, updated_ms, resurvey_id, external_ref"
    };
}

/// The overdue condition at `?6` ms (no first touch, still open, past due).
macro_rules! overdue {
    () => {
        "(first_touch_ms IS NULL AND status IN ('open', 'reopened') AND due_ms < ?6)"
    };
}

/// A page of a site's cases: site `?1`, status `?2`, owner `?3`, survey `?4`, overdue only `?5`
/// (0/1) at `?6` ms, segment `?7`, limit `?8`, offset `?9` (NULL = no filter). Overdue cases
/// first, then newest.
pub const LIST_CASES: &str = concat!(
    "SELECT ",
    case_columns!(),
    " FROM cases WHERE site = ?1 AND (?2 IS NULL OR status = ?2) AND (?3 IS NULL OR owner = ?3) \
AND (?4 IS NULL OR survey = ?4) AND (?5 = 0 OR ",
    overdue!(),
    ") AND (?7 IS NULL OR (?7 = 'detractor' AND score <= 6) OR (?7 = 'passive' AND score \
BETWEEN 7 AND 8) OR (?7 = 'promoter' AND score >= 9)) ORDER BY ",
    overdue!(),
    " DESC, opened_ms DESC, id DESC LIMIT ?8 OFFSET ?9"
);

/// One case: site `?1`, id `?2`.
pub const ONE_CASE: &str = concat!(
    "SELECT ",
    case_columns!(),
    " FROM cases WHERE site = ?1 AND id = ?2"
);

/// The notes of a case, in order: site `?1`, case `?2`. Columns: seq, at_ms, author, text.
pub const CASE_NOTES: &str = "SELECT seq, at_ms, author, text FROM case_notes WHERE site = ?1 \
AND case_id = ?2 ORDER BY seq";

/// Adds a note (the next number, in the same statement: two notes at once both land) to a case
/// that exists: site `?1`, case `?2`, at `?3`, author `?4`, text `?5`. Changes 0 rows for an
/// unknown case.
pub const INSERT_NOTE: &str = "INSERT INTO case_notes (site, case_id, seq, at_ms, author, text) \
SELECT ?1, ?2, coalesce((SELECT max(seq) FROM case_notes WHERE site = ?1 AND case_id = ?2), 0) \
+ 1, ?3, ?4, ?5 WHERE EXISTS (SELECT 1 FROM cases WHERE site = ?1 AND id = ?2)";

/// A note is a touch: the first one sets `first_touch_ms`. Site `?1`, case `?2`, at `?3`.
pub const TOUCH_CASE: &str = "UPDATE cases SET first_touch_ms = coalesce(first_touch_ms, ?3), \
updated_ms = ?3 WHERE site = ?1 AND id = ?2";

/// In [`PATCH_CASE`], against the row as it was: the change resolves the case.
macro_rules! resolving {
    () => {
        "(?4 = 'resolved' AND status <> 'resolved')"
    };
}

/// In [`PATCH_CASE`], against the row as it was: the change changes the status, the owner or the
/// external ref (what its `nps.case.*` message is about).
macro_rules! case_changes {
    () => {
        "((?4 IS NOT NULL AND ?4 <> status) OR (?5 = 1 AND ?6 IS NOT owner) \
OR (?9 = 1 AND ?10 IS NOT external_ref))"
    };
}

/// Applies a checked change, only if the case is still in the status it was read in (`?3`): a
/// concurrent change makes it change nothing, and the caller reads again. Site `?1`, id `?2`, new
/// status `?4` (NULL = unchanged), owner given `?5` (0/1) and its value `?6`, now `?7`, re-survey
/// time `?8` (used when it becomes resolved), external ref given `?9` (0/1) and its value `?10`.
/// A change that changes something also records, in the same statement, the message it owes
/// (`notice`, `notice_ms`: see [`ONE_CASE_NOTICE`]), so that no crash can lose that message.
pub const PATCH_CASE: &str = concat!(
    "UPDATE cases SET status = coalesce(?4, status), \
owner = CASE WHEN ?5 = 1 THEN ?6 ELSE owner END, \
external_ref = CASE WHEN ?9 = 1 THEN ?10 ELSE external_ref END, \
first_touch_ms = CASE WHEN ?4 IS NOT NULL AND ?4 <> status THEN coalesce(first_touch_ms, ?7) \
ELSE first_touch_ms END, resolved_ms = CASE WHEN ",
    resolving!(),
    " THEN ?7 ELSE resolved_ms END, resurvey_ms = CASE WHEN ",
    resolving!(),
    " THEN ?8 WHEN ?4 = 'reopened' THEN NULL ELSE resurvey_ms END, updated_ms = ?7, \
notice = CASE WHEN ",
    resolving!(),
    " THEN 'nps.case.resolved' WHEN ",
    case_changes!(),
    " THEN 'nps.case.updated' ELSE notice END, notice_ms = CASE WHEN ",
    case_changes!(),
    " THEN ?7 ELSE notice_ms END WHERE site = ?1 AND id = ?2 AND status = ?3"
);

/// One case with the message it is owed: [`ONE_CASE`]'s columns, then `notice` (the
/// `nps.case.*` type of a change not yet handed to the sinks, or NULL) and `notice_ms`.
pub const ONE_CASE_NOTICE: &str = concat!(
    "SELECT ",
    case_columns!(),
    ", notice, notice_ms FROM cases WHERE site = ?1 AND id = ?2"
);

/// Cases owed a message for a change made before `?2` ms (its handing-on failed or never
/// happened): site `?1`, at most `?3`, oldest first. Columns as [`ONE_CASE_NOTICE`].
pub const OWED_NOTICES: &str = concat!(
    "SELECT ",
    case_columns!(),
    ", notice, notice_ms FROM cases WHERE site = ?1 AND notice IS NOT NULL AND notice_ms < ?2 \
ORDER BY notice_ms LIMIT ?3"
);

/// The message of the change made at `?3` ms is in the sinks' hands: site `?1`, case `?2` (a
/// later change keeps its own).
pub const NOTICE_GIVEN: &str = "UPDATE cases SET notice = NULL, notice_ms = NULL \
WHERE site = ?1 AND id = ?2 AND notice_ms = ?3";

/// The message a case is owed, from the last two columns of a [`ONE_CASE_NOTICE`] row.
pub fn notice_of_row(row: &[SqlValue]) -> Option<(nps_edge_core::case_notice::CaseEvent, i64)> {
    let n = row.len();
    let event = row.get(n.checked_sub(2)?)?.as_str()?;
    let at = row.get(n - 1)?.as_i64()?;
    Some((nps_edge_core::case_notice::CaseEvent::parse(event)?, at))
}

/// Whether site `?1`'s helpdesk event `?2` (its `webhook-id`) was applied already.
pub const HELPDESK_EVENT_SEEN: &str = "SELECT id FROM helpdesk_events WHERE site = ?1 AND id = ?2";

/// Records site `?1`'s helpdesk event `?2` as applied at `?3` ms.
pub const RECORD_HELPDESK_EVENT: &str = "INSERT INTO helpdesk_events (site, id, received_ms) \
VALUES (?1, ?2, ?3) ON CONFLICT (site, id) DO NOTHING";

/// Forgets the helpdesk events applied before `?1` ms (a helpdesk stops retrying long before).
pub const PURGE_HELPDESK_EVENTS: &str = "DELETE FROM helpdesk_events WHERE received_ms < ?1";

/// How long an applied helpdesk event is remembered.
pub const HELPDESK_EVENT_KEEP_MS: u64 = 7 * 86_400_000;

/// The cases a helpdesk ticket follows: site `?1`, ticket `?2`. Column: id. At most 100.
pub const CASES_OF_TICKET: &str = "SELECT id FROM cases WHERE site = ?1 AND external_ref = ?2 \
AND external_ref IS NOT NULL ORDER BY opened_ms LIMIT 100";

/// An active case of a user (eligibility): site `?1`, user `?2`. Column: id. (The condition is
/// the partial index's, so the lookup uses it.)
pub const ACTIVE_CASE_OF: &str = "SELECT id FROM cases WHERE site = ?1 AND user_id = ?2 \
AND user_id IS NOT NULL AND status IN ('open', 'in_progress', 'reopened') LIMIT 1";

/// A resolved case of a user whose re-survey is due and not answered yet: site `?1`, user `?2`,
/// now `?3`. Column: id. (The condition is the partial index's.)
pub const DUE_RESURVEY_OF: &str = "SELECT id FROM cases WHERE site = ?1 AND user_id = ?2 \
AND user_id IS NOT NULL AND status = 'resolved' AND resurvey_id IS NULL \
AND resurvey_ms <= ?3 ORDER BY resurvey_ms LIMIT 1";

/// The case a re-survey answer follows up: site `?1`, response id `?2`. Column: id.
pub const CASE_OF_RESURVEY: &str =
    "SELECT id FROM cases WHERE site = ?1 AND resurvey_id = ?2 AND resurvey_id IS NOT NULL";

/// Records a re-survey rev on its case: the first claims the case for its answer, later revs of
/// that answer update the score. Site `?1`, case `?2`, response id `?3`, score `?4`, now `?5`.
pub const RECORD_RESURVEY: &str = "UPDATE cases SET resurvey_id = ?3, resurvey_score = ?4, \
updated_ms = ?5 WHERE site = ?1 AND id = ?2 AND coalesce(resurvey_id, ?3) = ?3";

/// Overdue cases the chat has not heard about: site `?1`, now `?2`, at most `?3`, oldest due
/// first. Columns as [`ONE_CASE`].
pub const OVERDUE_UNALERTED: &str = concat!(
    "SELECT ",
    case_columns!(),
    " FROM cases WHERE site = ?1 AND overdue_alerted_ms IS NULL AND first_touch_ms IS NULL \
AND status IN ('open', 'reopened') AND due_ms < ?2 ORDER BY due_ms LIMIT ?3"
);

/// The chat heard that the case is overdue: site `?1`, case `?2`, at `?3`.
pub const MARK_OVERDUE_ALERTED: &str = "UPDATE cases SET overdue_alerted_ms = ?3 \
WHERE site = ?1 AND id = ?2 AND overdue_alerted_ms IS NULL";

/// A case from a row of [`LIST_CASES`] / [`ONE_CASE`].
pub fn case_of_row(row: &[SqlValue]) -> Option<nps_edge_core::cases::Case> {
    let s = |i: usize| row.get(i).and_then(SqlValue::as_str).map(str::to_string);
    let n = |i: usize| row.get(i).and_then(SqlValue::as_i64);
    let ms = |i: usize| n(i).map(|v| v.max(0) as u64);
    Some(nps_edge_core::cases::Case {
        id: s(0)?,
        survey: s(1)?,
        respondent: s(2)?,
        user_id: s(3),
        account: s(4),
        order: s(5),
        email: s(6),
        score: n(7)?.clamp(0, 10) as u8,
        first_score: n(8)?.clamp(0, 10) as u8,
        comment: s(9),
        contact_ok: n(10).map(|v| v != 0),
        status: s(11)?,
        owner: s(12),
        opened_ms: ms(13)?,
        due_ms: ms(14)?,
        first_touch_ms: ms(15),
        resolved_ms: ms(16),
        resurvey_ms: ms(17),
        resurvey_score: n(18).map(|v| v.clamp(0, 10) as u8),
        updated_ms: ms(19)?,
        resurvey_id: s(20),
        external_ref: s(21),
    })
}

/// The cases opened in `[?3, ?4)` ms on site `?1`, survey `?2` (NULL = all), with what the
/// summary's figures need (`nps_edge_core::cases::Figures`). Columns: status, opened_ms, due_ms,
/// first_touch_ms, resolved_ms, resurvey_score.
pub const CASES_OPENED: &str = "SELECT status, opened_ms, due_ms, first_touch_ms, resolved_ms, \
resurvey_score FROM cases WHERE site = ?1 AND (?2 IS NULL OR survey = ?2) AND opened_ms >= ?3 \
AND opened_ms < ?4";

/// Records the invitations of one request: site `?1`, created `?2` ms, and `?3` a JSON array of
/// `[response_id, survey, batch, email, user_id, account, order_id, locale, nonce, expires_ms]`.
/// A link made again (same batch, same person) keeps its row: its funnel goes on.
pub const INSERT_INVITATIONS: &str = "INSERT OR IGNORE INTO invitations (site, response_id, \
survey, batch, email, user_id, account, order_id, locale, nonce, expires_ms, created_ms) \
SELECT ?1, json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'), \
json_extract(value, '$[3]'), json_extract(value, '$[4]'), json_extract(value, '$[5]'), \
json_extract(value, '$[6]'), json_extract(value, '$[7]'), json_extract(value, '$[8]'), \
json_extract(value, '$[9]'), ?2 FROM json_each(?3)";

/// The first opening of a link's page: site `?1`, response id `?2`, at `?3` ms.
pub const MARK_OPENED: &str = "UPDATE invitations SET opened_ms = ?3 \
WHERE site = ?1 AND response_id = ?2 AND opened_ms IS NULL";

/// An invitation handed to its delivery sink: site `?1`, response id `?2`, at `?3` ms. Changes
/// one row the first time only (so a batch made again sends nobody a second e-mail).
pub const MARK_SENT: &str = "UPDATE invitations SET sent_ms = ?3 \
WHERE site = ?1 AND response_id = ?2 AND sent_ms IS NULL";

/// Undoes [`MARK_SENT`] when the hand-over failed: site `?1`, response id `?2` (`?3` unused).
pub const UNMARK_SENT: &str = "UPDATE invitations SET sent_ms = NULL \
WHERE site = ?1 AND response_id = ?2 AND ?3 IS NULL";

/// A row when the invitation of site `?1` and answer id `?2` still exists: its e-mail (or its
/// reminder) is sent only then, so one erased or purged while its e-mail waited is never sent.
pub const INVITATION_EXISTS: &str =
    "SELECT 1 FROM invitations WHERE site = ?1 AND response_id = ?2";

/// An invitation the mail server accepted: site `?1`, response id `?2`, at `?3` ms.
pub const MARK_DELIVERED: &str = "UPDATE invitations SET delivered_ms = ?3 \
WHERE site = ?1 AND response_id = ?2 AND delivered_ms IS NULL";

/// The funnel per survey and batch of site `?1` (survey `?2`, batch `?3` when not NULL), newest
/// first. Columns: survey, batch, invited, sent, delivered, opened, answered, commented, first
/// invitation ms.
pub const INVITATION_FUNNEL: &str = "SELECT i.survey, i.batch, count(*), count(i.sent_ms), \
count(i.delivered_ms), count(i.opened_ms), count(r.id), \
count(CASE WHEN r.comment IS NOT NULL AND r.comment <> '' THEN 1 END), min(i.created_ms) \
FROM invitations i LEFT JOIN responses r ON r.site = i.site AND r.id = i.response_id \
WHERE i.site = ?1 AND (?2 IS NULL OR i.survey = ?2) AND (?3 IS NULL OR i.batch = ?3) \
GROUP BY i.survey, i.batch ORDER BY min(i.created_ms) DESC, i.batch LIMIT 200";

/// Who was invited and did not answer, on site `?1` (survey `?2`, batch `?3` when not NULL),
/// newest first, at most 1,000. Columns: email, user_id, account, order_id, survey, batch,
/// created_ms, sent_ms, opened_ms, reminded_ms.
pub const NON_RESPONDENTS: &str = "SELECT i.email, i.user_id, i.account, i.order_id, i.survey, \
i.batch, i.created_ms, i.sent_ms, i.opened_ms, i.reminded_ms FROM invitations i \
WHERE i.site = ?1 AND (?2 IS NULL OR i.survey = ?2) AND (?3 IS NULL OR i.batch = ?3) \
AND NOT EXISTS (SELECT 1 FROM responses r WHERE r.site = i.site AND r.id = i.response_id) \
ORDER BY i.created_ms DESC, i.email LIMIT 1000";

/// Erases a person's invitations: site `?1`, user ids `?2` (a JSON array) or e-mail `?3`
/// (without regard to ASCII case; NULL when the key is not one).
pub const ERASE_INVITATIONS: &str = "DELETE FROM invitations WHERE site = ?1 AND (user_id IN \
(SELECT value FROM json_each(?2)) OR (?3 IS NOT NULL AND lower(email) = lower(?3)))";

/// Deletes invitations made before `?2` ms on site `?1` (retention).
pub const PURGE_INVITATIONS: &str = "DELETE FROM invitations WHERE site = ?1 AND created_ms < ?2";

/// Invitations of site `?1` due for their one reminder at `?3` ms: sent at least their survey's
/// delay ago (`?5`, a JSON object of survey → delay in ms; `?2` ms for the others), not reminded,
/// not expired, not answered; oldest first, at most `?4`. Columns: response_id, survey, batch,
/// email, user_id, account, order_id, locale, nonce, expires_ms.
pub const DUE_REMINDERS: &str = "SELECT i.response_id, i.survey, i.batch, i.email, i.user_id, \
i.account, i.order_id, i.locale, i.nonce, i.expires_ms FROM invitations i \
WHERE i.site = ?1 AND i.sent_ms IS NOT NULL AND i.reminded_ms IS NULL \
AND i.sent_ms <= ?3 - coalesce(json_extract(?5, '$.\"' || i.survey || '\"'), ?2) \
AND i.expires_ms > ?3 AND NOT EXISTS (SELECT 1 FROM responses r WHERE r.site = i.site \
AND r.id = i.response_id) ORDER BY i.sent_ms LIMIT ?4";

/// The one reminder of an invitation, the first time only: site `?1`, response id `?2`, at `?3`.
pub const MARK_REMINDED: &str = "UPDATE invitations SET reminded_ms = ?3 \
WHERE site = ?1 AND response_id = ?2 AND reminded_ms IS NULL";

/// Undoes [`MARK_REMINDED`] when the hand-over failed: site `?1`, response id `?2` (`?3` unused).
pub const UNMARK_REMINDED: &str = "UPDATE invitations SET reminded_ms = NULL \
WHERE site = ?1 AND response_id = ?2 AND ?3 IS NULL";

/// The touchpoints of site `?1`, survey `?2` (NULL = all), over `[?3, ?4)` ms: widget
/// impressions, answers not given through a link, invitations made, sent, and answered.
pub const TOUCHPOINTS: &str = "SELECT \
(SELECT count(*) FROM events WHERE site = ?1 AND (?2 IS NULL OR survey = ?2) AND type = 'shown' \
AND received_ms >= ?3 AND received_ms < ?4), \
(SELECT count(*) FROM responses WHERE site = ?1 AND (?2 IS NULL OR survey = ?2) \
AND received_ms >= ?3 AND received_ms < ?4 AND id NOT LIKE 'lnk-%'), \
(SELECT count(*) FROM invitations WHERE site = ?1 AND (?2 IS NULL OR survey = ?2) \
AND created_ms >= ?3 AND created_ms < ?4), \
(SELECT count(sent_ms) FROM invitations WHERE site = ?1 AND (?2 IS NULL OR survey = ?2) \
AND created_ms >= ?3 AND created_ms < ?4), \
(SELECT count(*) FROM invitations i JOIN responses r ON r.site = i.site AND r.id = i.response_id \
WHERE i.site = ?1 AND (?2 IS NULL OR i.survey = ?2) AND i.created_ms >= ?3 AND i.created_ms < ?4)";
