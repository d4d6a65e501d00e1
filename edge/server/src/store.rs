//! The embedded store (the `sqlite` sink) and the durable outbox, owned by ONE writer thread.
//!
//! Why one thread: SQLite has one writer at a time anyway; giving it a dedicated thread lets it
//! group-commit — every request that arrived while the previous transaction was committing goes
//! into the next one, so one fsync covers hundreds of responses. Each request gets its answer
//! only after the transaction holding it has committed: the 202 means "on disk".
//!
//! The dedup state lives in the same tables (`responses.rev/updated_ms`, `respondents`), read
//! inside the writer's transaction, so decisions are consistent even for concurrent duplicates
//! and survive restarts. The outbox holds one row per (sink, message) with the exact payload to
//! send; delivered rows are deleted, dead letters are kept with `state = 2`.
//!
//! The schema is versioned: numbered migrations (`edge/server/migrations/NNNN_*.sql`) applied in
//! order at start, keyed on SQLite's `user_version` (see [`migrate`]).

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use nps_edge_app::backend::{NewEvent, NewResponse};
use nps_edge_app::store::{
    case_of_row, case_write, event_params, response_params, INSERT_EVENT, ONE_CASE, UPSERT_RESPONSE,
};
use nps_edge_core::dedup::{self, Decision, Owner, SeenId, SeenRespondent};
use nps_edge_core::retry::Next;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension};

use crate::backend::Sql;
use tokio::sync::oneshot;

/// Requests allowed to wait for the writer; beyond, the edge answers 503 (backpressure).
const QUEUE_CAPACITY: usize = 65_536;
/// Most commands in one transaction.
const MAX_BATCH: usize = 4096;
/// Interval of the background WAL checkpoint.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);
/// Interval of the writer's own (short) checkpoint, which lets the next commit restart the WAL.
/// Each one delays one batch by the frames the background thread has not copied yet (measured: a
/// few tens of ms under full load); the WAL is cut back to `WAL_SIZE_LIMIT` at each restart.
const WRITER_CHECKPOINT_EVERY: Duration = Duration::from_secs(1);
/// WAL file size kept after a restart of the log.
const WAL_SIZE_LIMIT: i64 = 64 * 1024 * 1024;

/// Outbox row states.
pub const PENDING: i64 = 0;
/// A message that exhausted its retries.
pub const DEAD: i64 = 2;

/// The schema, in order: migration `n` brings a database from `user_version = n - 1` to `n`.
/// Append new files; never edit one that has shipped.
pub const MIGRATIONS: &[(&str, &str)] = &[
    (
        "0001_initial",
        include_str!("../migrations/0001_initial.sql"),
    ),
    (
        "0002_events_by_time",
        include_str!("../migrations/0002_events_by_time.sql"),
    ),
    ("0003_cases", include_str!("../migrations/0003_cases.sql")),
    (
        "0004_resurvey",
        include_str!("../migrations/0004_resurvey.sql"),
    ),
    (
        "0005_helpdesk",
        include_str!("../migrations/0005_helpdesk.sql"),
    ),
    (
        "0006_invitations",
        include_str!("../migrations/0006_invitations.sql"),
    ),
    (
        "0007_helpdesk_events",
        include_str!("../migrations/0007_helpdesk_events.sql"),
    ),
    (
        "0008_case_notices",
        include_str!("../migrations/0008_case_notices.sql"),
    ),
];

/// Applies the migrations a database has not seen, each in its own transaction with its
/// `user_version` bump, so an interrupted upgrade resumes where it stopped. A database newer
/// than this binary is refused (its schema may mean things this code does not know).
pub fn migrate(conn: &mut Connection) -> Result<u32, MigrateError> {
    let current: u32 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(MigrateError::Version)?;
    if current as usize > MIGRATIONS.len() {
        return Err(MigrateError::Newer {
            found: current,
            known: MIGRATIONS.len(),
        });
    }
    for (i, (name, sql)) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let version = i + 1;
        let step = |source| MigrateError::Step { name, source };
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(step)?;
        tx.execute_batch(sql)
            .and_then(|_| tx.pragma_update(None, "user_version", version as u32))
            .and_then(|_| tx.commit())
            .map_err(step)?;
        tracing::info!(migration = name, version, "store schema upgraded");
    }
    Ok(MIGRATIONS.len() as u32)
}

/// Why the schema could not be brought up to date.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    /// The database was written by a newer release.
    #[error("the database is at schema version {found}, newer than this nps-edge ({known}): upgrade nps-edge")]
    Newer {
        /// Its `user_version`.
        found: u32,
        /// The migrations this binary knows.
        known: usize,
    },
    /// Its version cannot be read.
    #[error("user_version: {0}")]
    Version(#[source] rusqlite::Error),
    /// A migration failed (rolled back: the next start resumes there).
    #[error("migration {name}: {source}")]
    Step {
        /// The migration's name.
        name: &'static str,
        /// What SQLite said.
        #[source]
        source: rusqlite::Error,
    },
}

/// Why the store could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// SQLite cannot open or set up the file.
    #[error("{path}: {source}")]
    Sqlite {
        /// The database path.
        path: String,
        /// What SQLite said.
        #[source]
        source: rusqlite::Error,
    },
    /// Its schema cannot be brought up to date.
    #[error("{path}: {source}")]
    Schema {
        /// The database path.
        path: String,
        /// Why.
        #[source]
        source: MigrateError,
    },
    /// The writer or checkpoint thread cannot be started.
    #[error("store thread: {0}")]
    Thread(#[from] std::io::Error),
}

/// Result of one delivery attempt, to record.
pub struct DeliveryResult {
    /// Outbox row.
    pub seq: i64,
    /// Its `webhook-id` (an invitation's marks it delivered when done).
    pub msg_id: String,
    /// Attempts made, this one included.
    pub attempts: u32,
    /// What to do.
    pub next: Next,
    /// Error text for the row (status or transport error).
    pub error: Option<String>,
}

/// What the writer answers: its transaction's error is shared by every request of the batch.
type Written<T> = Result<T, Arc<rusqlite::Error>>;

enum Cmd {
    Response(Box<NewResponse>, oneshot::Sender<Written<Decision>>),
    Event(Box<NewEvent>, oneshot::Sender<Written<bool>>),
    Delivered(
        String,
        Vec<DeliveryResult>,
        u64,
        oneshot::Sender<Written<()>>,
    ),
    Notify(Box<Notice>, oneshot::Sender<Written<()>>),
}

/// A message for delivery sinks that is not an answer's (a case's webhook, an overdue alert).
pub struct Notice {
    /// Sinks that get it.
    pub sinks: Vec<String>,
    /// Its `webhook-id`.
    pub msg_id: String,
    /// Its exact bytes.
    pub payload: String,
    /// Now.
    pub now_ms: u64,
}

/// Cheap handle to the writer thread.
#[derive(Clone)]
pub struct Store {
    tx: SyncSender<Cmd>,
    path: String,
}

/// Why the store could not take a request.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Queue full or writer gone: retry later (503).
    #[error("the store's writer is busy or stopped")]
    Busy,
    /// The transaction failed.
    #[error(transparent)]
    Failed(#[from] Arc<rusqlite::Error>),
}

impl Store {
    /// Opens (creating) the database, migrates its schema and starts the writer thread.
    /// `pokes` are notified (per sink name) when outbox rows are added.
    /// `synchronous` is the PRAGMA value (`FULL` or `NORMAL`).
    pub fn open(
        path: &str,
        synchronous: &str,
        pokes: Vec<(String, SyncSender<()>)>,
    ) -> Result<Store, OpenError> {
        let sqlite = |source| OpenError::Sqlite {
            path: path.to_string(),
            source,
        };
        let mut conn = open_conn(path).map_err(sqlite)?;
        migrate(&mut conn).map_err(|source| OpenError::Schema {
            path: path.to_string(),
            source,
        })?;
        conn.pragma_update(None, "synchronous", synchronous)
            .map_err(sqlite)?;
        // Checkpoints: a background thread copies WAL frames into the database continuously
        // (PASSIVE, never blocking the writer), and every few seconds the writer itself checkpoints
        // the few frames left — quick, since the copying is done — so that its next commit can
        // restart the log. Without that last step the WAL would grow without bound under constant
        // load (a checkpoint racing the writer never catches up with it).
        conn.pragma_update(None, "wal_autocheckpoint", 0)
            .map_err(sqlite)?;
        conn.pragma_update(None, "journal_size_limit", WAL_SIZE_LIMIT)
            .map_err(sqlite)?;
        // Page cache size in KiB (negative = KiB in SQLite's convention).
        conn.pragma_update(None, "cache_size", cache_kib())
            .map_err(sqlite)?;
        let checkpointer = open_conn(path).map_err(sqlite)?;
        let alive = Arc::new(AtomicBool::new(true));
        let (tx, rx) = mpsc::sync_channel(QUEUE_CAPACITY);
        let writer_alive = alive.clone();
        thread::Builder::new()
            .name("nps-store-writer".into())
            .spawn(move || {
                writer_loop(conn, rx, pokes);
                writer_alive.store(false, Ordering::Relaxed);
            })?;
        thread::Builder::new()
            .name("nps-store-checkpoint".into())
            .spawn(move || {
                while alive.load(Ordering::Relaxed) {
                    thread::sleep(CHECKPOINT_EVERY);
                    // PASSIVE never blocks the writer; it copies what it can.
                    let _ =
                        checkpointer.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
                }
                let _ = checkpointer.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
            })?;
        Ok(Store {
            tx,
            path: path.to_string(),
        })
    }

    /// Database path.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// A new read connection (deliverers, metrics, tests).
    pub fn reader(&self) -> rusqlite::Result<Connection> {
        open_conn(&self.path)
    }

    fn send(&self, cmd: Cmd) -> Result<(), StoreError> {
        match self.tx.try_send(cmd) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                Err(StoreError::Busy)
            }
        }
    }

    /// Decides dedup, stores and enqueues deliveries; resolves after the commit.
    pub async fn put_response(&self, r: NewResponse) -> Result<Decision, StoreError> {
        let (tx, rx) = oneshot::channel();
        self.send(Cmd::Response(Box::new(r), tx))?;
        rx.await
            .map_err(|_| StoreError::Busy)?
            .map_err(StoreError::from)
    }

    /// Stores an event; `Ok(true)` when it was a duplicate id.
    pub async fn put_event(&self, e: NewEvent) -> Result<bool, StoreError> {
        let (tx, rx) = oneshot::channel();
        self.send(Cmd::Event(Box::new(e), tx))?;
        rx.await
            .map_err(|_| StoreError::Busy)?
            .map_err(StoreError::from)
    }

    /// Adds a message's outbox rows, in the writer's next group commit (a write from another
    /// connection would fight the writer for SQLite's lock at every detractor's answer).
    pub async fn put_notice(&self, n: Notice) -> Result<(), StoreError> {
        let (tx, rx) = oneshot::channel();
        self.send(Cmd::Notify(Box::new(n), tx))?;
        rx.await
            .map_err(|_| StoreError::Busy)?
            .map_err(StoreError::from)
    }

    /// Records delivery results (blocking; called from deliverer threads).
    pub fn record_deliveries(
        &self,
        sink: &str,
        results: Vec<DeliveryResult>,
        now_ms: u64,
    ) -> Result<(), StoreError> {
        let (tx, rx) = oneshot::channel();
        // Blocking send: a deliverer may wait for room, it is not on a request path.
        self.tx
            .send(Cmd::Delivered(sink.to_string(), results, now_ms, tx))
            .map_err(|_| StoreError::Busy)?;
        Ok(rx.blocking_recv().map_err(|_| StoreError::Busy)??)
    }
}

/// Writer page cache: `NPS_EDGE_CACHE_KIB` (default 8 MiB; larger caches make SQLite's cache
/// truncation at transaction ends costlier without saving reads at these table sizes).
fn cache_kib() -> i64 {
    -std::env::var("NPS_EDGE_CACHE_KIB")
        .ok()
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(8192)
        .clamp(512, 4_194_304)
}

/// Opens the store file (creating its folder). Every connection of the process goes through here.
pub(crate) fn open_conn(path: &str) -> rusqlite::Result<Connection> {
    if let Some(dir) = Path::new(path)
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
    {
        let _ = std::fs::create_dir_all(dir);
    }
    let conn = Connection::open(path)?;
    // The busy timeout first: switching to WAL takes a lock, and several connections (writer,
    // deliverers, alert sink, report API) open the same file at start-up.
    conn.busy_timeout(Duration::from_secs(5))?;
    // WAL: readers (deliverers, /metrics) never block the writer. The writer sets its own
    // `synchronous` level (FULL by default: a commit is fsynced before the 202 goes out; group
    // commit keeps that affordable).
    conn.pragma_update(None, "journal_mode", "WAL")?;
    Ok(conn)
}

fn writer_loop(mut conn: Connection, rx: Receiver<Cmd>, pokes: Vec<(String, SyncSender<()>)>) {
    let mut batch: Vec<Cmd> = Vec::with_capacity(MAX_BATCH);
    let mut last_checkpoint = std::time::Instant::now();
    loop {
        match rx.recv_timeout(Duration::from_secs(3600)) {
            Ok(cmd) => batch.push(cmd),
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => return,
        }
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(cmd) => batch.push(cmd),
                Err(_) => break,
            }
        }
        let mut replies: Vec<Reply> = Vec::with_capacity(batch.len());
        let mut poked: Vec<String> = Vec::new();
        let outcome = apply_batch(&mut conn, batch.drain(..), &mut replies, &mut poked);
        match outcome {
            Ok(()) => replies.into_iter().for_each(Reply::ok),
            Err(e) => {
                let e = Arc::new(e);
                replies.into_iter().for_each(|r| r.fail(&e));
            }
        }
        // After the replies: the checkpoint delays the next batch, never an answered one.
        if last_checkpoint.elapsed() >= WRITER_CHECKPOINT_EVERY {
            let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
            last_checkpoint = std::time::Instant::now();
        }
        for (name, tx) in &pokes {
            if poked.iter().any(|p| p == name) {
                let _ = tx.try_send(());
            }
        }
    }
}

/// An answer held back until the commit.
enum Reply {
    Response(oneshot::Sender<Written<Decision>>, Written<Decision>),
    Event(oneshot::Sender<Written<bool>>, Written<bool>),
    Delivered(oneshot::Sender<Written<()>>, Written<()>),
}

impl Reply {
    fn ok(self) {
        match self {
            Reply::Response(tx, v) => drop(tx.send(v)),
            Reply::Event(tx, v) => drop(tx.send(v)),
            Reply::Delivered(tx, v) => drop(tx.send(v)),
        }
    }

    fn fail(self, e: &Arc<rusqlite::Error>) {
        match self {
            Reply::Response(tx, _) => drop(tx.send(Err(e.clone()))),
            Reply::Event(tx, _) => drop(tx.send(Err(e.clone()))),
            Reply::Delivered(tx, _) => drop(tx.send(Err(e.clone()))),
        }
    }
}

/// One message's outbox rows, one per sink, due now; the sinks' deliverers are woken after the
/// commit.
pub(crate) fn enqueue(
    conn: &Connection,
    sinks: &[String],
    msg_id: &str,
    payload: &str,
    now_ms: u64,
    poked: &mut Vec<String>,
) -> rusqlite::Result<()> {
    let mut ins = conn.prepare_cached(
        "INSERT INTO outbox (sink, msg_id, payload, next_ms, created_ms) VALUES (?1, ?2, ?3, ?4, ?4)",
    )?;
    for s in sinks {
        ins.execute(params![s, msg_id, payload, now_ms as i64])?;
        if !poked.contains(s) {
            poked.push(s.clone());
        }
    }
    Ok(())
}

fn put_notice(tx: &Connection, n: &Notice, poked: &mut Vec<String>) -> rusqlite::Result<()> {
    enqueue(tx, &n.sinks, &n.msg_id, &n.payload, n.now_ms, poked)
}

fn apply_batch(
    conn: &mut Connection,
    batch: impl Iterator<Item = Cmd>,
    replies: &mut Vec<Reply>,
    poked: &mut Vec<String>,
) -> rusqlite::Result<()> {
    // IMMEDIATE: take the write lock up front (waiting on busy_timeout), so a write from another
    // connection (suppressions, alert states) can never fail the read-then-write upgrade.
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    for cmd in batch {
        match cmd {
            Cmd::Response(r, reply) => {
                // A failing statement fails this request only; a SAVEPOINT keeps the batch going.
                // Cached statements rather than `Transaction::savepoint`, which re-parses its SQL
                // each time (measurable at tens of thousands of responses per second).
                let sp_result = (|| {
                    tx.prepare_cached("SAVEPOINT r")?.execute([])?;
                    match put_response(&tx, &r, poked) {
                        Ok(d) => {
                            tx.prepare_cached("RELEASE r")?.execute([])?;
                            Ok(d)
                        }
                        Err(e) => {
                            let _ = tx
                                .prepare_cached("ROLLBACK TO r")
                                .and_then(|mut st| st.execute([]));
                            let _ = tx
                                .prepare_cached("RELEASE r")
                                .and_then(|mut st| st.execute([]));
                            Err(e)
                        }
                    }
                })();
                replies.push(Reply::Response(reply, sp_result.map_err(Arc::new)));
            }
            Cmd::Event(e, reply) => {
                let res = put_event(&tx, &e).map_err(Arc::new);
                replies.push(Reply::Event(reply, res));
            }
            Cmd::Delivered(sink, results, now, reply) => {
                let res = record(&tx, &sink, &results, now).map_err(Arc::new);
                replies.push(Reply::Delivered(reply, res));
            }
            Cmd::Notify(n, reply) => {
                let res = put_notice(&tx, &n, poked).map_err(Arc::new);
                replies.push(Reply::Delivered(reply, res));
            }
        }
    }
    tx.commit()
}

fn put_response(
    conn: &Connection,
    n: &NewResponse,
    poked: &mut Vec<String>,
) -> rusqlite::Result<Decision> {
    let r = &n.response;
    let respondent = r.respondent();
    // The stored row is the id's record and names its owner (kept after the id window).
    let stored: Option<(SeenId, String, Option<String>)> = conn
        .prepare_cached(
            "SELECT rev, updated_ms, visitor, user_id FROM responses WHERE site = ?1 AND id = ?2",
        )?
        .query_row(params![r.site, r.id], |row| {
            Ok((
                SeenId {
                    rev: row.get(0)?,
                    at_ms: row.get::<_, i64>(1)? as u64,
                },
                row.get(2)?,
                row.get(3)?,
            ))
        })
        .optional()?;
    let seen_id = stored.as_ref().map(|s| s.0);
    let owner = stored.as_ref().map(|(_, visitor, user)| Owner {
        visitor,
        user: user.as_deref(),
    });
    let seen_resp = if n.respondent_window_ms > 0 && !n.fresh_respondent {
        // The claiming id's rev comes from its stored row (kept after the id window).
        conn.prepare_cached("SELECT p.response_id, p.at_ms, coalesce((SELECT rev FROM responses WHERE site = p.site AND id = p.response_id), 0) FROM respondents p WHERE p.site = ?1 AND p.survey = ?2 AND p.respondent = ?3")?
            .query_row(params![r.site, r.survey, respondent], |row| {
                Ok(SeenRespondent {
                    response_id: row.get(0)?,
                    at_ms: row.get::<_, i64>(1)? as u64,
                    rev: row.get(2)?,
                })
            })
            .optional()?
    } else {
        None
    };
    let d = dedup::decide(
        seen_id,
        seen_resp.as_ref(),
        owner,
        r,
        n.now_ms,
        n.id_window_ms,
        n.respondent_window_ms,
    );
    let now = n.now_ms as i64;
    if d.store {
        conn.prepare_cached(UPSERT_RESPONSE)?
            .execute(params_from_iter(
                response_params(r, &n.body, n.now_ms).into_iter().map(Sql),
            ))?;
        if let Some((sql, params)) = case_write(n.case, r, n.now_ms) {
            conn.prepare_cached(sql)?
                .execute(params_from_iter(params.into_iter().map(Sql)))?;
            announce_case(conn, n, poked)?;
        }
    }
    if d.claim_respondent {
        conn.prepare_cached(
            "INSERT INTO respondents (site, survey, respondent, response_id, at_ms) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (site, survey, respondent) DO UPDATE SET response_id = excluded.response_id, at_ms = excluded.at_ms",
        )?
        .execute(params![r.site, r.survey, respondent, r.id, now])?;
    }
    if d.forward {
        if let Some(payload) = &n.payload {
            let msg_id = nps_edge_core::webhook::message_id(&r.id, r.rev);
            enqueue(conn, &n.sinks, &msg_id, payload, n.now_ms, poked)?;
        }
    }
    Ok(d)
}

/// The `nps.case.*` message of the case this rev just opened or changed, as its outbox rows in
/// the answer's own transaction: the webhook cannot be lost, nor sent without its answer.
fn announce_case(
    conn: &Connection,
    n: &NewResponse,
    poked: &mut Vec<String>,
) -> rusqlite::Result<()> {
    use nps_edge_core::case_notice::{case_msg_id, case_payload, CaseEvent};
    if n.case_sinks.is_empty() {
        return Ok(());
    }
    let r = &n.response;
    let mut st = conn.prepare_cached(ONE_CASE)?;
    let width = st.column_count();
    let row = st
        .query_row(params![r.site, r.id], |row| {
            (0..width)
                .map(|i| row.get_ref(i).map(crate::backend::value_of))
                .collect::<rusqlite::Result<Vec<_>>>()
        })
        .optional()?;
    // No row: a withdrawal of a case that never was.
    let Some(case) = row.as_deref().and_then(case_of_row) else {
        return Ok(());
    };
    let event = CaseEvent::of_answer(&case, n.now_ms);
    enqueue(
        conn,
        &n.case_sinks,
        &case_msg_id(event, &r.site, &case),
        &case_payload(event, &r.site, &case, n.now_ms),
        n.now_ms,
        poked,
    )
}

fn put_event(conn: &Connection, e: &NewEvent) -> rusqlite::Result<bool> {
    let n = conn
        .prepare_cached(INSERT_EVENT)?
        .execute(params_from_iter(
            event_params(&e.event, e.now_ms).into_iter().map(Sql),
        ))?;
    Ok(n == 0)
}

fn record(
    conn: &Connection,
    sink: &str,
    results: &[DeliveryResult],
    now_ms: u64,
) -> rusqlite::Result<()> {
    for res in results {
        match res.next {
            Next::Done => {
                conn.prepare_cached("DELETE FROM outbox WHERE seq = ?1")?
                    .execute(params![res.seq])?;
                if let Some((site, id)) = nps_edge_core::invitations::parse_message_id(&res.msg_id)
                {
                    conn.prepare_cached(nps_edge_app::store::MARK_DELIVERED)?
                        .execute(params![site, id, now_ms as i64])?;
                }
            }
            Next::RetryIn(ms) => {
                conn.prepare_cached(
                    "UPDATE outbox SET attempts = ?2, next_ms = ?3, last_error = ?4 WHERE seq = ?1",
                )?
                .execute(params![
                    res.seq,
                    res.attempts,
                    (now_ms + ms) as i64,
                    res.error
                ])?;
            }
            Next::DeadLetter => {
                conn.prepare_cached(
                    "UPDATE outbox SET attempts = ?2, state = ?3, last_error = ?4 WHERE seq = ?1",
                )?
                .execute(params![res.seq, res.attempts, DEAD, res.error])?;
            }
            Next::DisableSink => {
                // The message stays pending (not an attempt that counts): re-enabling the sink
                // (delete its sink_state row, restart) delivers everything it missed.
                conn.prepare_cached(
                    "INSERT INTO sink_state (sink, disabled_ms, reason) VALUES (?1, ?2, ?3)
                     ON CONFLICT (sink) DO UPDATE SET disabled_ms = excluded.disabled_ms, reason = excluded.reason",
                )?
                .execute(params![sink, now_ms as i64, res.error.as_deref().unwrap_or("410 Gone")])?;
            }
        }
    }
    Ok(())
}

/// A due outbox row.
pub struct DueRow {
    /// Row id.
    pub seq: i64,
    /// `webhook-id`.
    pub msg_id: String,
    /// Body to send.
    pub payload: String,
    /// Attempts so far.
    pub attempts: u32,
}

/// Up to `limit` pending rows of `sink` due at `now_ms`, oldest first.
pub fn due(
    conn: &Connection,
    sink: &str,
    now_ms: u64,
    limit: usize,
) -> rusqlite::Result<Vec<DueRow>> {
    let mut st = conn.prepare_cached(
        "SELECT seq, msg_id, payload, attempts FROM outbox WHERE sink = ?1 AND state = 0 AND next_ms <= ?2 ORDER BY seq LIMIT ?3",
    )?;
    let rows = st.query_map(params![sink, now_ms as i64, limit as i64], |row| {
        Ok(DueRow {
            seq: row.get(0)?,
            msg_id: row.get(1)?,
            payload: row.get(2)?,
            attempts: row.get(3)?,
        })
    })?;
    rows.collect()
}

/// Earliest `next_ms` of a pending row of `sink`.
pub fn next_due(conn: &Connection, sink: &str) -> rusqlite::Result<Option<u64>> {
    conn.prepare_cached("SELECT min(next_ms) FROM outbox WHERE sink = ?1 AND state = 0")?
        .query_row(params![sink], |row| row.get::<_, Option<i64>>(0))
        .map(|v| v.map(|v| v.max(0) as u64))
}

/// Whether a delivery may still go: false for an invitation's e-mail (or reminder) whose
/// invitation is gone (erased, or purged by retention) while it waited; true for every other
/// message.
pub fn still_wanted(conn: &Connection, msg_id: &str) -> rusqlite::Result<bool> {
    let Some((site, id)) = nps_edge_core::invitations::parse_message_id(msg_id) else {
        return Ok(true);
    };
    conn.prepare_cached(nps_edge_app::store::INVITATION_EXISTS)?
        .query_row(params![site, id], |_| Ok(()))
        .optional()
        .map(|o| o.is_some())
}

/// True when the sink was disabled by a 410.
pub fn is_disabled(conn: &Connection, sink: &str) -> rusqlite::Result<bool> {
    conn.prepare_cached("SELECT 1 FROM sink_state WHERE sink = ?1")?
        .query_row(params![sink], |_| Ok(()))
        .optional()
        .map(|o| o.is_some())
}

/// Per sink: (pending, dead) outbox counts.
pub fn outbox_counts(conn: &Connection) -> rusqlite::Result<Vec<(String, i64, i64)>> {
    let mut st = conn
        .prepare_cached("SELECT sink, sum(state = 0), sum(state = 2) FROM outbox GROUP BY sink")?;
    let rows = st.query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?;
    rows.collect()
}

/// Names of disabled sinks.
pub fn disabled_sinks(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut st = conn.prepare_cached("SELECT sink FROM sink_state")?;
    let rows = st.query_map([], |row| row.get(0))?;
    rows.collect()
}
