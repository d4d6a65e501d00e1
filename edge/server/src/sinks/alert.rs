//! `alert`: a chat message (Slack-compatible blocks, or plain JSON) once per response id.
//!
//! Two halves, both durable in the store file (table `alerts`):
//!
//! 1. [`AlertSink::deliver`] runs on the sink's deliverer thread for every outbox row routed to
//!    it (one per accepted rev). It reads the LATEST stored rev of that response, applies the
//!    timing rule of `nps_edge_core::alert::plan` (comment → due now; no comment → due after
//!    `grace_ms`; no longer routed → cancel; already sent → nothing) and records the plan. The
//!    outbox row is then done: the plan is on disk.
//! 2. A sender thread posts due alerts (built from the latest rev at send time) to the incoming
//!    webhook, retrying with backoff + jitter (`nps_edge_core::retry`); `2xx` marks the alert
//!    sent for good. It is woken by the sink when something becomes due, and otherwise sleeps
//!    until the next deadline (at most 1 s). It stops when the sink is dropped.
//!
//! A crash between the POST and the "sent" mark can repeat one alert (at-least-once); nothing
//! else ever sends a second alert for a response id.

use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use nps_edge_app::metrics::SinkCounters;
use nps_edge_core::alert::{self, AlertPlan, AlertSinkConfig, AlertState, ALERT_RETRY};
use nps_edge_core::case_notice::OVERDUE_PREFIX;
use nps_edge_core::retry::{self, Attempt, Next};
use nps_protocol::Response;
use rusqlite::{params, Connection, OptionalExtension};

use super::{http_agent, post_json, Sink, SinkError};
use crate::{now_ms, Rng};

/// Longest sleep of the sender when nothing is due.
const IDLE_MS: u64 = 1000;

const DUE: i64 = 0;
const SENT: i64 = 1;
const FAILED: i64 = 2;

/// The sink half (runs on the deliverer thread).
pub struct AlertSink {
    cfg: AlertSinkConfig,
    db_path: String,
    conn: Option<Connection>,
    wake: SyncSender<()>,
    /// Posts the messages written for this sink as they are (overdue cases).
    agent: ureq::Agent,
}

impl AlertSink {
    /// Starts the sender thread. `cfg.url` must be resolved (no `env:`).
    pub fn new(
        cfg: &AlertSinkConfig,
        db_path: &str,
        counters: Arc<SinkCounters>,
    ) -> Result<AlertSink, SinkError> {
        if cfg.url.starts_with("env:") {
            return Err(SinkError::Unresolved(cfg.url.clone()));
        }
        let (wake, rx) = mpsc::sync_channel(1);
        let sender = Sender::new(cfg.clone(), db_path.to_string(), rx, counters);
        thread::Builder::new()
            .name(format!("nps-alert-{}", cfg.name))
            .spawn(move || sender.run())?;
        Ok(AlertSink {
            cfg: cfg.clone(),
            db_path: db_path.to_string(),
            conn: None,
            wake,
            agent: http_agent(cfg.timeout_ms, "nps-edge-alert"),
        })
    }

    fn record(&mut self, site: &str, id: &str) -> rusqlite::Result<()> {
        let conn = match self.conn.take() {
            Some(c) => self.conn.insert(c),
            None => self.conn.insert(crate::store::open_conn(&self.db_path)?),
        };
        let name = &self.cfg.name;
        let Some((r, _)) = latest(conn, site, id)? else {
            return Ok(()); // Not stored (cannot happen: the outbox row was written with it).
        };
        let (wants, has_comment, grace) =
            (self.cfg.wants(&r), r.comment.is_some(), self.cfg.grace_ms);
        let state: Option<AlertState> = conn
            .prepare_cached("SELECT state, due_ms FROM alerts WHERE sink = ?1 AND site = ?2 AND response_id = ?3")
            .and_then(|mut st| {
                st.query_row(params![name, site, id], |row| {
                    let (state, due): (i64, i64) = (row.get(0)?, row.get(1)?);
                    Ok(if state == DUE { AlertState::Due(due.max(0) as u64) } else { AlertState::Done })
                })
                .optional()
            })?;
        let now = now_ms();
        match alert::plan(state, wants, has_comment, now, grace) {
            AlertPlan::Keep => {}
            AlertPlan::Cancel => {
                conn.prepare_cached("DELETE FROM alerts WHERE sink = ?1 AND site = ?2 AND response_id = ?3 AND state = 0")
                    .and_then(|mut st| st.execute(params![name, site, id]))?;
            }
            AlertPlan::Due(ms) => {
                conn.prepare_cached(
                    "INSERT INTO alerts (sink, site, response_id, state, due_ms, created_ms) VALUES (?1, ?2, ?3, 0, ?4, ?5)
                     ON CONFLICT (sink, site, response_id) DO UPDATE SET due_ms = excluded.due_ms WHERE state = 0",
                )
                .and_then(|mut st| st.execute(params![name, site, id, ms as i64, now as i64]))?;
                let _ = self.wake.try_send(());
            }
        }
        Ok(())
    }
}

impl Sink for AlertSink {
    fn deliver(
        &mut self,
        msg_id: &str,
        payload: &str,
        _now_secs: u64,
    ) -> (Attempt, Option<String>) {
        if msg_id.starts_with(OVERDUE_PREFIX) {
            // An overdue case: the message is ready, the outbox retries it.
            return post_json(&self.agent, &self.cfg.url, &[], payload);
        }
        let v: serde_json::Value = match serde_json::from_str(payload) {
            Ok(v) => v,
            Err(e) => {
                return (
                    Attempt::Status(200, None),
                    Some(format!("{msg_id}: unreadable payload skipped: {e}")),
                )
            }
        };
        let (Some(site), Some(id)) = (v["data"]["site"].as_str(), v["data"]["id"].as_str()) else {
            // Events and anything else without a response: nothing to alert about.
            return (Attempt::Status(200, None), None);
        };
        match self.record(site, id) {
            Ok(()) => (Attempt::Status(200, None), None),
            Err(e) => {
                self.conn = None;
                (Attempt::NoResponse, Some(format!("alert state: {e}")))
            }
        }
    }
}

/// Latest stored rev of a response and its first receive time.
fn latest(conn: &Connection, site: &str, id: &str) -> rusqlite::Result<Option<(Response, u64)>> {
    let row: Option<(String, i64)> = conn
        .prepare_cached("SELECT body, received_ms FROM responses WHERE site = ?1 AND id = ?2")?
        .query_row(params![site, id], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?;
    Ok(row.and_then(|(body, ms)| {
        nps_protocol::parse::parse_response(body.as_bytes())
            .ok()
            .map(|r| (r, ms.max(0) as u64))
    }))
}

/// The sender half (its own thread).
struct Sender {
    cfg: AlertSinkConfig,
    db_path: String,
    wake: Receiver<()>,
    agent: ureq::Agent,
    counters: Arc<SinkCounters>,
}

impl Sender {
    fn new(
        cfg: AlertSinkConfig,
        db_path: String,
        wake: Receiver<()>,
        counters: Arc<SinkCounters>,
    ) -> Sender {
        let agent = http_agent(cfg.timeout_ms, "nps-edge-alert");
        Sender {
            cfg,
            db_path,
            wake,
            agent,
            counters,
        }
    }

    fn run(self) {
        let mut rng = Rng::new();
        let mut conn: Option<Connection> = None;
        loop {
            let mut wait = IDLE_MS;
            if conn.is_none() {
                conn = crate::store::open_conn(&self.db_path).ok();
            }
            if let Some(c) = conn.as_ref() {
                match self.round(c, &mut rng) {
                    Ok(next) => wait = next,
                    Err(e) => {
                        // The store may not have its tables yet (first start) or be busy.
                        tracing::warn!(sink = %self.cfg.name, error = %e, "alert round failed");
                        conn = None;
                    }
                }
            }
            match self.wake.recv_timeout(Duration::from_millis(wait.max(1))) {
                Ok(()) | Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
    }

    /// Sends every due alert; returns how long to sleep.
    fn round(&self, conn: &Connection, rng: &mut Rng) -> rusqlite::Result<u64> {
        let now = now_ms();
        let due: Vec<(String, String, u32)> = conn
            .prepare_cached(
                "SELECT site, response_id, attempts FROM alerts WHERE sink = ?1 AND state = 0 AND due_ms <= ?2
                 ORDER BY due_ms LIMIT 32",
            )
            .and_then(|mut st| {
                st.query_map(params![self.cfg.name, now as i64], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                    .collect()
            })?;
        for (site, id, attempts) in due {
            self.send_one(conn, &site, &id, attempts, rng)?;
        }
        let next: Option<i64> = conn
            .prepare_cached("SELECT min(due_ms) FROM alerts WHERE sink = ?1 AND state = 0")
            .and_then(|mut st| st.query_row(params![self.cfg.name], |r| r.get(0)))?;
        Ok(next.map_or(IDLE_MS, |t| {
            (t.max(0) as u64).saturating_sub(now_ms()).clamp(1, IDLE_MS)
        }))
    }

    fn send_one(
        &self,
        conn: &Connection,
        site: &str,
        id: &str,
        attempts: u32,
        rng: &mut Rng,
    ) -> rusqlite::Result<()> {
        let key = params![self.cfg.name, site, id];
        let Some((r, received_ms)) = latest(conn, site, id)? else {
            conn.execute("DELETE FROM alerts WHERE sink = ?1 AND site = ?2 AND response_id = ?3 AND state = 0", key)?;
            return Ok(());
        };
        if !self.cfg.wants(&r) {
            // Changed to a score this sink does not alert on, after the plan was made.
            conn.execute("DELETE FROM alerts WHERE sink = ?1 AND site = ?2 AND response_id = ?3 AND state = 0", key)?;
            return Ok(());
        }
        let body = self.cfg.render(&r, received_ms);
        let (attempt, error) = post_json(&self.agent, &self.cfg.url, &[], &body);
        let attempts = attempts.saturating_add(1);
        let now = now_ms() as i64;
        match retry::next(&ALERT_RETRY, attempt, attempts, rng.unit()) {
            Next::Done => {
                conn.execute(
                    "UPDATE alerts SET state = ?4, sent_ms = ?5, sent_rev = ?6, attempts = ?7 WHERE sink = ?1 AND site = ?2 AND response_id = ?3",
                    params![self.cfg.name, site, id, SENT, now, r.rev, attempts],
                )?;
                self.counters.alerts_sent.fetch_add(1, Ordering::Relaxed);
                tracing::info!(sink = %self.cfg.name, response_id = id, "alert sent");
            }
            Next::RetryIn(ms) => {
                conn.execute(
                    "UPDATE alerts SET attempts = ?4, due_ms = ?5, last_error = ?6 WHERE sink = ?1 AND site = ?2 AND response_id = ?3 AND state = 0",
                    params![self.cfg.name, site, id, attempts, now + ms as i64, error],
                )?;
            }
            Next::DeadLetter | Next::DisableSink => {
                conn.execute(
                    "UPDATE alerts SET state = ?4, attempts = ?5, last_error = ?6 WHERE sink = ?1 AND site = ?2 AND response_id = ?3",
                    params![self.cfg.name, site, id, FAILED, attempts, error],
                )?;
                tracing::warn!(
                    sink = %self.cfg.name,
                    response_id = id,
                    error = error.as_deref().unwrap_or(""),
                    "alert given up"
                );
            }
        }
        Ok(())
    }
}
