//! `SiteState`: the Durable Object holding a site's strongly consistent state — the dedup records
//! (ids + revs, respondents), the durable record of every accepted answer until D1 and the Queue
//! have it (its outbox), suppressions and alert states. One object per site (or site + survey,
//! `worker.shard`).
//!
//! Why an outbox here: the dedup mark and the record of the answer must be ONE atomic step. The
//! object's SQL API is synchronous, so everything [`Inner::record`] writes before its first
//! `await` — the mark, the respondent claim, the outbox rows (the answer for D1, one delivery per
//! routed sink, the alert plan) — commits together, and the output gate holds the answer until
//! it is durable. D1 and the Queue are then fed from those rows: at once, in the same call, and
//! again from the alarm while a write fails. A crash, a cancelled request or a D1/Queue outage
//! can delay a row, never lose it, and never leaves a mark without its answer. A row is deleted
//! only after its write succeeded, so at worst a crash between the two sends one message twice
//! (receivers dedupe on `webhook-id`; the D1 write is idempotent).
//!
//! The schema is versioned: [`MIGRATIONS`], applied in order at first use, the version kept in
//! `_nps_schema`.

use std::cell::{Cell, OnceCell};
use std::rc::Rc;

use js_sys::Promise;
use nps_edge_app::backend::SqlValue;
use nps_edge_app::store::{case_of_row, case_write, response_params, ONE_CASE, UPSERT_RESPONSE};
use nps_edge_core::alert::{plan, AlertPlan, AlertState};
use nps_edge_core::case_notice::{case_msg_id, case_payload, notice_sinks, CaseEvent};
use nps_edge_core::config::SinkConfig;
use nps_edge_core::dedup::{decide, Owner, SeenId, SeenRespondent};
use nps_edge_core::erasure::response_of_message;
use nps_edge_core::retry;
use nps_edge_core::webhook::message_id;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;
use worker::Env;

use crate::js::{binding, JsError, ObjectContext, QueueProducer, Sql, D1};
use crate::loaded::{self, InvalidConfig, Loaded};
use crate::ops::{
    Claim, Erased as ErasedHere, Op, Record, Recorded, SuppressionRow, VisitorAnswer,
};

/// The object's schema, in order; version `n` is `MIGRATIONS[n - 1]`. Append, never edit.
pub(crate) const MIGRATIONS: &[&[&str]] = &[
    // 1: the records of the first release (its object was called `Deduper`).
    &[
        "CREATE TABLE IF NOT EXISTS seen_id (id TEXT PRIMARY KEY, rev INTEGER NOT NULL, until REAL NOT NULL) WITHOUT ROWID",
        "CREATE TABLE IF NOT EXISTS seen_respondent (k TEXT PRIMARY KEY, id TEXT NOT NULL, rev INTEGER NOT NULL, until REAL NOT NULL) WITHOUT ROWID",
        "CREATE INDEX IF NOT EXISTS seen_id_until ON seen_id (until)",
        "CREATE INDEX IF NOT EXISTS seen_respondent_until ON seen_respondent (until)",
        "CREATE TABLE IF NOT EXISTS suppressions (subject TEXT PRIMARY KEY, expires_ms REAL, reason TEXT, created_ms REAL NOT NULL) WITHOUT ROWID",
        "CREATE TABLE IF NOT EXISTS alerts (sink TEXT NOT NULL, id TEXT NOT NULL, state INTEGER NOT NULL DEFAULT 0, due_ms REAL NOT NULL, lease_until REAL NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0, sent_rev INTEGER, created_ms REAL NOT NULL, PRIMARY KEY (sink, id)) WITHOUT ROWID",
    ],
    // 2: the durable record of each accepted answer until D1 and the Queue have it.
    //    kind: `store` (the answer for D1), `deliver` (a sink's message for the Queue),
    //    `alert` (an alert job: `payload` is "site\nsurvey", `due_ms` when it is due).
    &[
        "CREATE TABLE outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, sink TEXT NOT NULL, msg_id TEXT NOT NULL, payload TEXT NOT NULL, due_ms REAL NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0, next_ms REAL NOT NULL, created_ms REAL NOT NULL, last_error TEXT)",
        "CREATE INDEX outbox_next ON outbox (next_ms)",
    ],
    // 3: the owner of each id (the visitor, and the user when named, of its first rev).
    &[
        "ALTER TABLE seen_id ADD COLUMN visitor TEXT",
        "ALTER TABLE seen_id ADD COLUMN user_id TEXT",
    ],
];

/// How late after the earliest expiry the sweep may run (batches deletions).
const SWEEP_SLACK_MS: f64 = 60_000.0;
/// An outbox row being written is left to its writer this long before the alarm retries it.
const LEASE_MS: f64 = 30_000.0;
/// Rows the alarm feeds per run.
const ALARM_BATCH: i64 = 100;
/// Settled alert states are kept this long (longer than any rev of an answer arrives).
const ALERT_KEEP_MS: f64 = 90.0 * 86_400_000.0;

/// Why the object could not do what it was asked (the caller gets it as a rejected call).
#[derive(Debug, thiserror::Error)]
enum ObjectError {
    /// Its SQL storage (or another binding) refused.
    #[error(transparent)]
    Storage(#[from] JsError),
    /// The isolate's config is invalid (the error names the key).
    #[error(transparent)]
    Config(Rc<InvalidConfig>),
    /// Not an operation this object knows.
    #[error("bad request: {0}")]
    BadRequest(#[source] serde_json::Error),
}

impl ObjectError {
    fn into_js(self) -> JsValue {
        js_sys::Error::new(&self.to_string()).into()
    }
}

/// What a call still has to do after its synchronous part.
enum Step {
    /// Answered.
    Done(String),
    /// Answered once these outbox rows are fed (best effort: the alarm retries them).
    Feed(String, Vec<i64>),
    /// Run the alarm's work.
    Maintain,
}

/// The object (exported to JS; the shim's `SiteState extends DurableObject` wraps it).
#[wasm_bindgen]
pub struct SiteState {
    inner: Rc<Inner>,
}

struct Inner {
    ctx: ObjectContext,
    env: Env,
    sql: OnceCell<Sql>,
    /// Time of the pending alarm this instance set (0 = none known).
    alarm_at: Cell<f64>,
}

fn text(s: &str) -> SqlValue {
    SqlValue::Text(s.to_string())
}

fn real(v: f64) -> SqlValue {
    SqlValue::Real(v)
}

fn int_of(v: Option<&SqlValue>) -> Option<i64> {
    match v? {
        SqlValue::Int(i) => Some(*i),
        SqlValue::Real(f) => Some(*f as i64),
        _ => None,
    }
}

fn real_of(v: Option<&SqlValue>) -> Option<f64> {
    match v? {
        SqlValue::Int(i) => Some(*i as f64),
        SqlValue::Real(f) => Some(*f),
        _ => None,
    }
}

fn str_of(v: Option<&SqlValue>) -> Option<String> {
    v?.as_str().map(str::to_string)
}

#[wasm_bindgen]
impl SiteState {
    /// Called by the shim's constructor.
    #[wasm_bindgen(constructor)]
    pub fn new(ctx: ObjectContext, env: Env) -> SiteState {
        SiteState {
            inner: Rc::new(Inner {
                ctx,
                env,
                sql: OnceCell::new(),
                alarm_at: Cell::new(0.0),
            }),
        }
    }

    /// RPC: one JSON request ([`Op`]) in, a JSON answer out — the text itself when the work
    /// was synchronous (no future, no microtask), a promise of it when rows must be fed to D1
    /// or the Queue first.
    pub fn call(&self, request: String) -> JsValue {
        let reject = |e: ObjectError| Promise::reject(&e.into_js()).into();
        let step = match self.inner.step(&request) {
            Ok(s) => s,
            Err(e) => return reject(e),
        };
        let inner = self.inner.clone();
        match step {
            Step::Done(answer) => JsValue::from_str(&answer),
            Step::Feed(answer, seqs) => future_to_promise(async move {
                // Durable already: feeding D1 and the Queue now only saves the alarm's delay.
                let l = inner.loaded().map_err(ObjectError::into_js)?;
                let sql = inner.sql().map_err(|e| ObjectError::from(e).into_js())?;
                inner.feed(sql, &l, &seqs).await;
                Ok(JsValue::from_str(&answer))
            })
            .into(),
            Step::Maintain => future_to_promise(async move {
                inner
                    .maintain()
                    .await
                    .map(|s| JsValue::from_str(&s))
                    .map_err(ObjectError::into_js)
            })
            .into(),
        }
    }

    /// The alarm: sweeps expired records and feeds due outbox rows to D1 and the Queue.
    pub fn alarm(&self) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            inner
                .on_alarm()
                .await
                .map(|_| JsValue::UNDEFINED)
                .map_err(ObjectError::into_js)
        })
    }
}

impl Inner {
    /// The object's SQL storage, migrated on first use (and the alarm re-armed for what a
    /// previous instance left behind).
    fn sql(&self) -> Result<&Sql, JsError> {
        if let Some(sql) = self.sql.get() {
            return Ok(sql);
        }
        let sql = self.ctx.sql();
        sql.run(
            "CREATE TABLE IF NOT EXISTS _nps_schema (version INTEGER NOT NULL)",
            &[],
        )?;
        let version = int_of(
            sql.rows("SELECT max(version) FROM _nps_schema", &[])?
                .first()
                .and_then(|r| r.first()),
        )
        .unwrap_or(0)
        .max(0) as usize;
        for (i, statements) in MIGRATIONS.iter().enumerate().skip(version) {
            for s in *statements {
                sql.run(s, &[])?;
            }
            sql.run(
                "INSERT INTO _nps_schema (version) VALUES (?)",
                &[SqlValue::Int(i as i64 + 1)],
            )?;
        }
        let sql = self.sql.get_or_init(|| sql);
        if let Some(next) = self.next_wakeup(sql)? {
            self.arm(next);
        }
        Ok(sql)
    }

    fn loaded(&self) -> Result<Rc<Loaded>, ObjectError> {
        loaded::get(&self.env).map_err(ObjectError::Config)
    }

    /// Sets the alarm for `at` unless one this instance set fires earlier.
    fn arm(&self, at: f64) {
        let pending = self.alarm_at.get();
        if pending > 0.0 && pending <= at {
            return;
        }
        self.alarm_at.set(at);
        self.ctx.set_alarm_at(at);
    }

    /// When the alarm must next run: the earliest outbox row, or the earliest expiry (+ slack).
    fn next_wakeup(&self, sql: &Sql) -> Result<Option<f64>, JsError> {
        let rows = sql.rows(
            "SELECT (SELECT min(next_ms) FROM outbox), (SELECT min(m) FROM (SELECT min(until) AS m FROM seen_id UNION ALL SELECT min(until) FROM seen_respondent))",
            &[],
        )?;
        let row = rows.first();
        let outbox = real_of(row.and_then(|r| r.first()));
        let expiry = real_of(row.and_then(|r| r.get(1))).map(|t| t + SWEEP_SLACK_MS);
        Ok(match (outbox, expiry) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        })
    }

    /// The synchronous part of a call: everything but feeding D1 and the Queue.
    fn step(&self, request: &str) -> Result<Step, ObjectError> {
        let sql = self.sql()?;
        if let Some(rec) = Record::from_line(request) {
            let l = self.loaded()?;
            let (recorded, seqs) = self.record(sql, &l, &rec)?;
            let answer = recorded.to_line();
            return Ok(if seqs.is_empty() {
                Step::Done(answer)
            } else {
                Step::Feed(answer, seqs)
            });
        }
        let op: Op = serde_json::from_str(request).map_err(ObjectError::BadRequest)?;
        let now = js_sys::Date::now();
        let done = |s: String| Ok(Step::Done(s));
        match op {
            Op::Visitor {
                subjects,
                respondent,
            } => {
                let mut out = VisitorAnswer {
                    suppressions: self.suppressions(sql, Some(&subjects))?,
                    answered_ms: None,
                };
                if let Some((survey, who, window)) = respondent {
                    let rows = sql.rows(
                        "SELECT until FROM seen_respondent WHERE k = ? AND until > ?",
                        &[text(&format!("{survey}\n{who}")), real(now)],
                    )?;
                    out.answered_ms = real_of(rows.first().and_then(|r| r.first()))
                        .map(|until| (until - window as f64).max(0.0) as u64);
                }
                done(to_json(&out))
            }
            Op::SupPut {
                subject,
                expires_ms,
                reason,
                created_ms,
            } => {
                sql.run(
                    "INSERT OR REPLACE INTO suppressions (subject, expires_ms, reason, created_ms) VALUES (?, ?, ?, ?)",
                    &[
                        text(&subject),
                        expires_ms.map_or(SqlValue::Null, |v| real(v as f64)),
                        SqlValue::opt_text(reason.as_deref()),
                        real(created_ms as f64),
                    ],
                )?;
                done("true".into())
            }
            Op::SupDel { subject } => {
                let n = sql
                    .rows(
                        "DELETE FROM suppressions WHERE subject = ? RETURNING subject",
                        &[text(&subject)],
                    )?
                    .len();
                done(if n > 0 { "true" } else { "false" }.into())
            }
            Op::SupList => done(to_json(&self.suppressions(sql, None)?)),
            Op::Maintain => Ok(Step::Maintain),
            Op::Erase {
                response_ids,
                user_ids,
                email,
            } => done(to_json(&self.erase(
                sql,
                response_ids,
                user_ids,
                email.as_deref(),
            )?)),
            Op::Notify {
                sinks,
                msg_id,
                payload,
            } => {
                let seqs = deliver_rows(sql, &sinks, &msg_id, &payload, now)?;
                self.arm(now + LEASE_MS);
                Ok(Step::Feed("true".into(), seqs))
            }
            Op::Purge {
                before_ms,
                respondent_window_ms,
            } => {
                // A record's `until` is its answer time plus the window.
                let n = sql
                    .rows(
                        "DELETE FROM seen_respondent WHERE until < ? RETURNING k",
                        &[real(before_ms as f64 + respondent_window_ms as f64)],
                    )?
                    .len();
                done(n.to_string())
            }
            Op::AlertClaim { sink, id, lease_ms } => {
                done(to_json(&self.alert_claim(sql, &sink, &id, lease_ms, now)?))
            }
            Op::AlertDone {
                sink,
                id,
                result,
                rev,
            } => {
                let key = [text(&sink), text(&id)];
                let (q, args): (&str, Vec<SqlValue>) = match result.as_str() {
                    "sent" => (
                        "UPDATE alerts SET state = 1, lease_until = 0, sent_rev = ? WHERE sink = ? AND id = ?",
                        vec![SqlValue::Int(rev.into()), key[0].clone(), key[1].clone()],
                    ),
                    "failed" => (
                        "UPDATE alerts SET state = 2, lease_until = 0 WHERE sink = ? AND id = ?",
                        key.to_vec(),
                    ),
                    "cancel" => (
                        "DELETE FROM alerts WHERE sink = ? AND id = ? AND state = 0",
                        key.to_vec(),
                    ),
                    _ => (
                        "UPDATE alerts SET lease_until = 0 WHERE sink = ? AND id = ?",
                        key.to_vec(),
                    ),
                };
                sql.run(q, &args)?;
                done("true".into())
            }
        }
    }

    /// The atomic step: synchronous SQL only, so nothing interleaves and everything commits
    /// together. Returns the decision and the outbox rows it wrote.
    fn record(&self, sql: &Sql, l: &Loaded, rec: &Record) -> Result<(Recorded, Vec<i64>), JsError> {
        let (id_window_ms, respondent_window_ms, now_ms) =
            (rec.id_window_ms, rec.respondent_window_ms, rec.now_ms);
        let now = now_ms as f64;
        let resp_key = format!("{}\n{}", rec.survey, rec.respondent);
        let (seen_id, mut seen_resp) =
            load_seen(sql, &rec.id, &resp_key, id_window_ms, respondent_window_ms)?;
        if rec.fresh {
            seen_resp = None;
        }
        // The decision reads the id, the rev and who sends it.
        let probe = nps_protocol::Response {
            id: rec.id.clone(),
            rev: rec.rev,
            visitor: rec.visitor.clone(),
            user: (!rec.user.is_empty()).then(|| nps_protocol::User {
                id: Some(rec.user.clone()),
                ..Default::default()
            }),
            ..Default::default()
        };
        // A record written before owners were kept names none: the id's first visitor is then
        // unknown, and the store's own guard (same visitor) still protects the answer.
        let owner = seen_id
            .as_ref()
            .filter(|(_, visitor, _)| !visitor.is_empty())
            .map(|(_, visitor, user)| Owner {
                visitor,
                user: user.as_deref(),
            });
        let d = decide(
            seen_id.as_ref().map(|s| s.0),
            seen_resp.as_ref(),
            owner,
            &probe,
            now_ms,
            id_window_ms,
            respondent_window_ms,
        );
        let rev = SqlValue::Int(rec.rev.into());
        if d.store {
            sql.run(
                "INSERT OR REPLACE INTO seen_id (id, rev, until, visitor, user_id) VALUES (?, ?, ?, ?, ?)",
                &[
                    text(&rec.id),
                    rev.clone(),
                    real(now + id_window_ms as f64),
                    text(&rec.visitor),
                    SqlValue::opt_text(Some(rec.user.as_str()).filter(|u| !u.is_empty())),
                ],
            )?;
        }
        if d.claim_respondent {
            sql.run(
                "INSERT OR REPLACE INTO seen_respondent (k, id, rev, until) VALUES (?, ?, ?, ?)",
                &[
                    text(&resp_key),
                    text(&rec.id),
                    rev.clone(),
                    real(now + respondent_window_ms as f64),
                ],
            )?;
        } else if d.store && respondent_window_ms > 0 {
            // The live respondent record names this id: same window, higher rev.
            sql.run(
                "UPDATE seen_respondent SET rev = ? WHERE k = ? AND id = ?",
                &[rev.clone(), text(&resp_key), text(&rec.id)],
            )?;
        }
        let (body, sinks, payload) = (&rec.body, &rec.sinks, rec.payload.as_deref());
        let mut seqs = Vec::new();
        let mut outbox = |kind: &str, sink: &str, msg_id: &str, payload: &str, due: f64| {
            let rows = sql.rows(
                "INSERT INTO outbox (kind, sink, msg_id, payload, due_ms, next_ms, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING seq",
                &[
                    text(kind),
                    text(sink),
                    text(msg_id),
                    text(payload),
                    real(due),
                    real(now + LEASE_MS),
                    real(now),
                ],
            )?;
            if let Some(seq) = int_of(rows.first().and_then(|r| r.first())) {
                seqs.push(seq);
            }
            Ok::<_, JsError>(())
        };
        let config = l.config();
        if d.store && config.worker.d1.is_some() {
            outbox("store", "", &rec.id, body, now)?;
            if !rec.case.is_empty() {
                // Its own row: the D1 write is conditional on the rev, so order does not matter.
                outbox("case", &rec.case, &rec.id, body, now)?;
            }
        }
        if d.forward {
            let msg_id = message_id(&rec.id, rec.rev);
            // Parsed only when an alert sink needs the answer itself (segment, comment).
            let mut parsed: Option<nps_protocol::Response> = None;
            for s in &config.sinks {
                match s {
                    SinkConfig::Alert(a) => {
                        if parsed.is_none() {
                            parsed = Some(
                                nps_protocol::parse::parse_response(body.as_bytes()).map_err(
                                    |e| JsError(format!("answer does not parse: {e:?}")),
                                )?,
                            );
                        }
                        let Some(r) = parsed.as_ref() else { continue };
                        let wanted = a.wants(r);
                        if !wanted && r.rev <= 1 {
                            continue; // nothing can be scheduled for a first rev
                        }
                        let state = sql
                            .rows(
                                "SELECT state, due_ms FROM alerts WHERE sink = ? AND id = ?",
                                &[text(&a.name), text(&r.id)],
                            )?
                            .first()
                            .map(|row| match int_of(row.first()) {
                                Some(0) => AlertState::Due(
                                    real_of(row.get(1)).unwrap_or(0.0).max(0.0) as u64,
                                ),
                                _ => AlertState::Done,
                            });
                        match plan(state, wanted, r.comment.is_some(), now_ms, a.grace_ms) {
                            AlertPlan::Keep => {}
                            AlertPlan::Cancel => {
                                sql.run(
                                    "DELETE FROM alerts WHERE sink = ? AND id = ? AND state = 0",
                                    &[text(&a.name), text(&r.id)],
                                )?;
                            }
                            AlertPlan::Due(ms) => {
                                sql.run(
                                    "INSERT INTO alerts (sink, id, state, due_ms, created_ms) VALUES (?, ?, 0, ?, ?) ON CONFLICT (sink, id) DO UPDATE SET due_ms = excluded.due_ms WHERE state = 0",
                                    &[text(&a.name), text(&r.id), real(ms as f64), real(now)],
                                )?;
                                let at = format!("{}\n{}", r.site, r.survey);
                                outbox("alert", &a.name, &r.id, &at, ms as f64)?;
                            }
                        }
                    }
                    SinkConfig::Webhook { name, .. } | SinkConfig::Stdout { name, .. } => {
                        if let (true, Some(p)) = (sinks.contains(name), payload) {
                            outbox("deliver", name, &msg_id, p, now)?;
                        }
                    }
                    SinkConfig::Sqlite { .. } | SinkConfig::Smtp { .. } => {}
                }
            }
        }
        let expiry = [
            d.store.then_some(now + id_window_ms as f64),
            d.claim_respondent
                .then_some(now + respondent_window_ms as f64),
        ]
        .into_iter()
        .flatten()
        .fold(f64::MAX, f64::min);
        if !seqs.is_empty() {
            self.arm(now + LEASE_MS);
        }
        if expiry < f64::MAX {
            self.arm(expiry + SWEEP_SLACK_MS);
        }
        Ok((
            Recorded {
                status: d.status.as_str().to_string(),
                duplicate: d.duplicate.map(|k| k.as_str().to_string()),
                store: d.store,
                forward: d.forward,
                claim_respondent: d.claim_respondent,
                conflict: d.conflict,
            },
            seqs,
        ))
    }

    /// Writes outbox rows to D1 / the Queue; a row is deleted once written, rescheduled with
    /// backoff when the write fails (the alarm retries it).
    async fn feed(&self, sql: &Sql, l: &Loaded, seqs: &[i64]) {
        let mut todo: std::collections::VecDeque<i64> = seqs.iter().copied().collect();
        while let Some(seq) = todo.pop_front() {
            let row = match sql.rows(
                "SELECT kind, sink, msg_id, payload, due_ms, attempts, created_ms FROM outbox WHERE seq = ?",
                &[SqlValue::Int(seq)],
            ) {
                Ok(rows) => rows.into_iter().next(),
                Err(e) => {
                    tracing::error!(error = %e, "outbox row cannot be read");
                    None
                }
            };
            let Some(row) = row else { continue };
            let kind = str_of(row.first()).unwrap_or_default();
            let sink = str_of(row.get(1)).unwrap_or_default();
            let msg_id = str_of(row.get(2)).unwrap_or_default();
            let payload = str_of(row.get(3)).unwrap_or_default();
            let due = real_of(row.get(4)).unwrap_or(0.0);
            let attempts = int_of(row.get(5)).unwrap_or(0).max(0) as u32;
            let created = real_of(row.get(6)).unwrap_or(0.0);
            let written = self
                .write(l, &kind, &sink, &msg_id, &payload, due, created)
                .await;
            let now = js_sys::Date::now();
            let done = match written {
                // The announcement's rows and the deletion of the row that carried it are written
                // with no await in between: one atomic step of the object.
                Ok(then) => then
                    .map_or(Ok(Vec::new()), |a| {
                        deliver_rows(sql, &a.sinks, &a.msg_id, &a.payload, now)
                    })
                    .and_then(|more| {
                        todo.extend(more);
                        sql.run("DELETE FROM outbox WHERE seq = ?", &[SqlValue::Int(seq)])
                    }),
                Err(e) => {
                    let attempts = attempts.saturating_add(1);
                    let wait =
                        retry::backoff_ms(&l.config().retry, attempts, js_sys::Math::random());
                    tracing::warn!(kind, msg_id, attempts, retry_in_ms = wait, error = %e, "outbox write failed");
                    let next = now + wait as f64;
                    self.arm(next);
                    sql.run(
                        "UPDATE outbox SET attempts = ?, next_ms = ?, last_error = ? WHERE seq = ?",
                        &[
                            SqlValue::Int(attempts.into()),
                            real(next),
                            text(&e.0),
                            SqlValue::Int(seq),
                        ],
                    )
                }
            };
            if let Err(e) = done {
                tracing::error!(seq, error = %e, "outbox row cannot be updated");
            }
        }
    }

    /// One outbox row's write; for a case row, the case's announcement to hand to the sinks next.
    #[allow(clippy::too_many_arguments)]
    async fn write(
        &self,
        l: &Loaded,
        kind: &str,
        sink: &str,
        msg_id: &str,
        payload: &str,
        due: f64,
        created: f64,
    ) -> Result<Option<Announcement>, JsError> {
        let w = &l.config().worker;
        match kind {
            "store" => {
                let d1 = l
                    .app
                    .backend()
                    .d1()
                    .ok_or_else(|| JsError("no D1 binding".into()))?;
                let r = nps_protocol::parse::parse_response(payload.as_bytes())
                    .map_err(|e| JsError(format!("stored answer does not parse: {e:?}")))?;
                d1.execute(
                    UPSERT_RESPONSE,
                    &response_params(&r, payload, created as u64),
                )
                .await
                .map(|_| None)
            }
            "case" => {
                let d1 = l
                    .app
                    .backend()
                    .d1()
                    .ok_or_else(|| JsError("no D1 binding".into()))?;
                let r = nps_protocol::parse::parse_response(payload.as_bytes())
                    .map_err(|e| JsError(format!("stored answer does not parse: {e:?}")))?;
                let action = match sink.strip_prefix('o') {
                    Some(due) => nps_edge_core::cases::Action::Open {
                        due_ms: due.parse().unwrap_or(created as u64),
                    },
                    None => nps_edge_core::cases::Action::Withdraw,
                };
                if let Some((sql, params)) = case_write(Some(action), &r, created as u64) {
                    d1.execute(sql, &params).await?;
                }
                case_announcement(l, d1, &r, created as u64).await
            }
            "deliver" => {
                if matches!(
                    l.config().sinks.iter().find(|s| s.name() == sink),
                    Some(SinkConfig::Stdout { .. })
                ) {
                    worker::console_log!("{payload}");
                    return Ok(None);
                }
                let q: QueueProducer = binding(&self.env, &w.queue)
                    .ok_or_else(|| JsError(format!("no queue binding {}", w.queue)))?;
                let msg = serde_json::json!({ "sink": sink, "id": msg_id, "payload": payload });
                q.send_json(&msg.to_string(), 0).await.map(|_| None)
            }
            "alert" => {
                let q: QueueProducer = binding(&self.env, &w.queue)
                    .ok_or_else(|| JsError(format!("no queue binding {}", w.queue)))?;
                // `payload` holds the site and survey; the job names this object for its claim.
                let (site, survey) = payload.split_once('\n').unwrap_or((payload, ""));
                let job = serde_json::json!({
                    "kind": "alert", "sink": sink, "site": site, "id": msg_id,
                    "object": l.app.backend().object_for(site, survey),
                });
                let delay = ((due - js_sys::Date::now()).max(0.0) / 1000.0).ceil() as u32;
                q.send_json(&job.to_string(), delay).await.map(|_| None)
            }
            other => Err(JsError(format!("unknown outbox row kind {other:?}"))),
        }
    }

    /// A person's records in this object (see [`Op::Erase`]); synchronous, so atomic.
    fn erase(
        &self,
        sql: &Sql,
        mut ids: Vec<String>,
        mut users: Vec<String>,
        email: Option<&str>,
    ) -> Result<ErasedHere, JsError> {
        let mut out = ErasedHere::default();
        // Their answers still waiting for D1 here (found by who gave them).
        for row in sql.rows(
            "SELECT msg_id, payload FROM outbox WHERE kind = 'store'",
            &[],
        )? {
            let (Some(id), Some(body)) = (str_of(row.first()), str_of(row.get(1))) else {
                continue;
            };
            let Ok(r) = nps_protocol::parse::parse_response(body.as_bytes()) else {
                continue;
            };
            let user = r.user.as_ref();
            let uid = user.and_then(|u| u.id.clone());
            let by_user = uid.as_ref().is_some_and(|u| users.contains(u));
            let by_email = matches!(
                (user.and_then(|u| u.email.as_deref()), email),
                (Some(a), Some(b)) if a.eq_ignore_ascii_case(b)
            );
            if (by_user || by_email) && !ids.contains(&id) {
                out.pending_ids.push(id.clone());
                ids.push(id);
            }
            if let (true, Some(u)) = (by_email, uid) {
                if !users.contains(&u) {
                    users.push(u);
                }
            }
        }
        // Every waiting row of those answers: their D1 write, queue records and alert jobs.
        for row in sql.rows("SELECT seq, kind, msg_id FROM outbox", &[])? {
            let (Some(seq), Some(kind), Some(msg)) =
                (int_of(row.first()), str_of(row.get(1)), str_of(row.get(2)))
            else {
                continue;
            };
            let id = if kind == "deliver" {
                response_of_message(&msg)
            } else {
                msg.as_str()
            };
            if ids.iter().any(|x| x == id) {
                sql.run("DELETE FROM outbox WHERE seq = ?", &[SqlValue::Int(seq)])?;
                if kind != "store" && kind != "case" {
                    out.deliveries += 1;
                }
            }
        }
        for id in &ids {
            for q in [
                "DELETE FROM seen_id WHERE id = ?",
                "DELETE FROM seen_respondent WHERE id = ?",
                "DELETE FROM alerts WHERE id = ?",
            ] {
                sql.run(q, &[text(id)])?;
            }
        }
        for u in &users {
            sql.run("DELETE FROM seen_id WHERE user_id = ?", &[text(u)])?;
            // The respondent key is `survey` newline `respondent`.
            sql.run(
                "DELETE FROM seen_respondent WHERE substr(k, instr(k, char(10)) + 1) = ?",
                &[text(u)],
            )?;
            out.suppressions += sql
                .rows(
                    "DELETE FROM suppressions WHERE subject = ? RETURNING subject",
                    &[text(u)],
                )?
                .len() as u64;
        }
        out.user_ids = users;
        Ok(out)
    }

    /// Suppressions of some subjects (all when `None`).
    fn suppressions(
        &self,
        sql: &Sql,
        subjects: Option<&[String]>,
    ) -> Result<Vec<SuppressionRow>, JsError> {
        let rows = match subjects {
            None => sql.rows(
                "SELECT subject, expires_ms, reason, created_ms FROM suppressions ORDER BY subject LIMIT 10000",
                &[],
            )?,
            Some(subs) => {
                let mut rows = Vec::new();
                for s in subs {
                    rows.extend(sql.rows(
                        "SELECT subject, expires_ms, reason, created_ms FROM suppressions WHERE subject = ?",
                        &[text(s)],
                    )?);
                }
                rows
            }
        };
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                Some(SuppressionRow {
                    subject: str_of(r.first())?,
                    expires_ms: real_of(r.get(1)).map(|v| v.max(0.0) as u64),
                    reason: str_of(r.get(2)),
                    created_ms: real_of(r.get(3)).unwrap_or(0.0).max(0.0) as u64,
                })
            })
            .collect())
    }

    fn alert_claim(
        &self,
        sql: &Sql,
        sink: &str,
        id: &str,
        lease_ms: u64,
        now: f64,
    ) -> Result<Claim, JsError> {
        let skip = Claim {
            claim: "skip".into(),
            n: 0,
        };
        let Some(r) = sql
            .rows(
                "SELECT state, due_ms, lease_until, attempts FROM alerts WHERE sink = ? AND id = ?",
                &[text(sink), text(id)],
            )?
            .into_iter()
            .next()
        else {
            return Ok(skip);
        };
        if int_of(r.first()) != Some(0) {
            return Ok(skip);
        }
        let due = real_of(r.get(1)).unwrap_or(0.0);
        let lease = real_of(r.get(2)).unwrap_or(0.0);
        let wait = (due - now).max(lease - now);
        if wait > 0.0 {
            return Ok(Claim {
                claim: "wait".into(),
                n: wait.ceil() as u64,
            });
        }
        let attempts = int_of(r.get(3)).unwrap_or(0) + 1;
        sql.run(
            "UPDATE alerts SET lease_until = ?, attempts = ? WHERE sink = ? AND id = ?",
            &[
                real(now + lease_ms as f64),
                SqlValue::Int(attempts),
                text(sink),
                text(id),
            ],
        )?;
        Ok(Claim {
            claim: "send".into(),
            n: attempts.max(0) as u64,
        })
    }

    /// The alarm's work, on request; the rows still waiting.
    async fn maintain(&self) -> Result<String, ObjectError> {
        self.on_alarm().await?;
        let sql = self.sql()?;
        let pending = sql.rows("SELECT count(*) FROM outbox", &[])?;
        Ok(format!(
            "{{\"outbox\":{}}}",
            int_of(pending.first().and_then(|r| r.first())).unwrap_or(0)
        ))
    }

    async fn on_alarm(&self) -> Result<(), ObjectError> {
        self.alarm_at.set(0.0);
        let sql = self.sql()?;
        let now = js_sys::Date::now();
        for q in [
            "DELETE FROM seen_id WHERE until <= ?",
            "DELETE FROM seen_respondent WHERE until <= ?",
        ] {
            sql.run(q, &[real(now)])?;
        }
        sql.run(
            "DELETE FROM alerts WHERE state <> 0 AND created_ms <= ?",
            &[real(now - ALERT_KEEP_MS)],
        )?;
        // Claim the due rows (a lease, so a concurrent request does not write them too), then
        // feed them.
        let due: Vec<i64> = sql
            .rows(
                "UPDATE outbox SET next_ms = ? WHERE seq IN (SELECT seq FROM outbox WHERE next_ms <= ? ORDER BY seq LIMIT ?) RETURNING seq",
                &[real(now + LEASE_MS), real(now), SqlValue::Int(ALARM_BATCH)],
            )
            ?
            .iter()
            .filter_map(|r| int_of(r.first()))
            .collect();
        if !due.is_empty() {
            let l = self.loaded()?;
            let mut due = due;
            due.sort_unstable();
            self.feed(sql, &l, &due).await;
        }
        if let Some(next) = self.next_wakeup(sql)? {
            self.arm(next.max(now + 1.0));
        }
        Ok(())
    }
}

/// Both dedup records of an answer in ONE statement and one text value (`rev|until|visitor|user`
/// newline `rev|until|id`, a part empty when absent): the fewest crossings on the hot path. Ids
/// never contain `|`.
const LOAD_SEEN: &str = "SELECT coalesce((SELECT rev || '|' || until || '|' || \
coalesce(visitor, '') || '|' || coalesce(user_id, '') FROM seen_id WHERE id = ?1), '') || \
char(10) || coalesce((SELECT rev || '|' || until || '|' || id FROM seen_respondent WHERE k = ?2), '')";

/// What is stored about an id: its record and its owner (visitor, user).
type SeenOwned = (SeenId, String, Option<String>);

/// The stored dedup records of an id and a respondent, as the core's types. Rows keep their
/// expiry (`until`, for the sweep); the core wants the start (`until - window`).
/// A case's `nps.case.*` message and the sinks that hear it.
struct Announcement {
    sinks: Vec<String>,
    msg_id: String,
    payload: String,
}

/// The message of the case this rev just opened or changed, read back from D1 once the rev's
/// case write is there (the native store reads it in the answer's transaction); `None` when no
/// sink listens, or for the withdrawal of a case that never was. Built from the answer's receive
/// time, so a retried row announces the same message under the same id.
async fn case_announcement(
    l: &Loaded,
    d1: &D1,
    r: &nps_protocol::Response,
    at_ms: u64,
) -> Result<Option<Announcement>, JsError> {
    let sinks = notice_sinks(l.config(), &r.site, Some(&r.survey), r.segment());
    if sinks.is_empty() {
        return Ok(None);
    }
    let rows = d1.rows(ONE_CASE, &[text(&r.site), text(&r.id)]).await?;
    let Some(case) = rows.first().and_then(|row| case_of_row(row)) else {
        return Ok(None);
    };
    let event = CaseEvent::of_answer(&case, at_ms);
    Ok(Some(Announcement {
        msg_id: case_msg_id(event, &r.site, &case),
        payload: case_payload(event, &r.site, &case, at_ms),
        sinks,
    }))
}

/// One `deliver` row per sink, leased to the caller, which feeds them next (the alarm retries
/// them after the lease); their seqs.
fn deliver_rows(
    sql: &Sql,
    sinks: &[String],
    msg_id: &str,
    payload: &str,
    now: f64,
) -> Result<Vec<i64>, JsError> {
    let mut seqs = Vec::new();
    for sink in sinks {
        let rows = sql.rows(
            "INSERT INTO outbox (kind, sink, msg_id, payload, next_ms, created_ms) VALUES ('deliver', ?, ?, ?, ?, ?) RETURNING seq",
            &[text(sink), text(msg_id), text(payload), real(now + LEASE_MS), real(now)],
        )?;
        seqs.extend(int_of(rows.first().and_then(|r| r.first())));
    }
    Ok(seqs)
}

fn load_seen(
    sql: &Sql,
    id: &str,
    resp_key: &str,
    id_window_ms: u64,
    respondent_window_ms: u64,
) -> Result<(Option<SeenOwned>, Option<SeenRespondent>), JsError> {
    let v = sql
        .first_text2(LOAD_SEEN, id, resp_key)?
        .unwrap_or_default();
    let start = |until: f64, window: u64| (until - window as f64).max(0.0) as u64;
    let (id_part, resp_part) = v.split_once('\n').unwrap_or(("", ""));
    let mut it = id_part.splitn(4, '|');
    let seen_id = match (
        it.next().and_then(|r| r.parse().ok()),
        it.next().and_then(|u| u.parse().ok()),
    ) {
        (Some(rev), Some(until)) => Some((
            SeenId {
                rev,
                at_ms: start(until, id_window_ms),
            },
            it.next().unwrap_or("").to_string(),
            it.next().filter(|u| !u.is_empty()).map(str::to_string),
        )),
        _ => None,
    };
    let mut it = resp_part.splitn(3, '|');
    let seen_resp = match (
        it.next().and_then(|r| r.parse().ok()),
        it.next().and_then(|u| u.parse().ok()),
        it.next().filter(|i| !i.is_empty()),
    ) {
        (Some(rev), Some(until), Some(id)) => Some(SeenRespondent {
            response_id: id.to_string(),
            rev,
            at_ms: start(until, respondent_window_ms),
        }),
        _ => None,
    };
    Ok((seen_id, seen_resp))
}

/// A JSON answer of the object.
fn to_json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}
