//! The `Deduper` Durable Object: strongly consistent dedup by id (+ rev) and per respondent.
//!
//! One object per site (or per site + survey, see `dedup.shard`). The object keeps its records
//! in its own SQLite database (SQLite-backed Durable Object), whose API is synchronous, so each
//! check-and-set runs start to finish without yielding: two concurrent posts of one id can never
//! both be accepted. Writes are not awaited: the runtime's output gate holds the answer until
//! they are durable. An alarm deletes expired records.
//!
//! Wire protocol (internal, worker → object): one RPC call `check(line)` (the shim's
//! `Deduper extends DurableObject` forwards it here) with newline-separated fields
//! `op\nid\nrev\nsurvey\nrespondent\nid_window_ms\nrespondent_window_ms`, `op` = `check`|`undo`;
//! the answer is the status word (`accepted`, `updated`, `duplicate`) or `ok`. RPC instead of
//! `fetch` saves a Request, a Response and two body streams per call, and the synchronous SQL
//! API saves every future: those were the largest costs measured on this path. `fetch` with the
//! same body is kept for tools, and `fetch` with the body `sweep` runs the expiry sweep now.

use std::cell::{Cell, OnceCell};

use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use worker::{durable_object, DurableObject, Env, Request, Response, Result, State};

use nps_edge_core::dedup::{decide, SeenId, SeenRespondent};
use nps_protocol::Response as NpsResponse;

/// How late after the earliest expiry the cleanup alarm may run (batches deletions).
const ALARM_SLACK_MS: f64 = 60_000.0;

const SCHEMA: [&str; 6] = [
    "CREATE TABLE IF NOT EXISTS seen_id (id TEXT PRIMARY KEY, rev INTEGER NOT NULL, until REAL NOT NULL) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS seen_respondent (k TEXT PRIMARY KEY, id TEXT NOT NULL, rev INTEGER NOT NULL, until REAL NOT NULL) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS seen_id_until ON seen_id (until)",
    "CREATE INDEX IF NOT EXISTS seen_respondent_until ON seen_respondent (until)",
    // Close the loop (see `close_loop`): suppressions of this site (user or account id) and the
    // alert state of each response id per alert sink (0 due, 1 sent, 2 given up).
    "CREATE TABLE IF NOT EXISTS suppressions (subject TEXT PRIMARY KEY, expires_ms REAL, reason TEXT, created_ms REAL NOT NULL) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS alerts (sink TEXT NOT NULL, id TEXT NOT NULL, state INTEGER NOT NULL DEFAULT 0, due_ms REAL NOT NULL, lease_until REAL NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0, sent_rev INTEGER, created_ms REAL NOT NULL, PRIMARY KEY (sink, id)) WITHOUT ROWID",
];

/// Both records as ONE text value (`rev|until` newline `rev|until|id`, each part empty when
/// absent): one statement, one value across the boundary.
const LOAD: &str =
    "SELECT coalesce((SELECT rev || '|' || until FROM seen_id WHERE id = ?1), '') || char(10) || \
coalesce((SELECT rev || '|' || until || '|' || id FROM seen_respondent WHERE k = ?2), '') AS v";

#[wasm_bindgen]
extern "C" {
    /// `ctx.storage.sql`, bound directly: the calls used here with the fewest boundary crossings.
    #[derive(Clone)]
    type Sql;
    #[wasm_bindgen(method, catch, variadic, js_name = exec)]
    fn exec(
        this: &Sql,
        query: &str,
        bindings: js_sys::Array,
    ) -> std::result::Result<SqlCursor, JsValue>;
    /// A `SqlStorageCursor`.
    type SqlCursor;
    #[wasm_bindgen(method, catch)]
    fn one(this: &SqlCursor) -> std::result::Result<JsValue, JsValue>;
    #[wasm_bindgen(method, catch, js_name = toArray)]
    fn to_array(this: &SqlCursor) -> std::result::Result<js_sys::Array, JsValue>;
}

/// Dedup state of one site (or site + survey).
#[durable_object]
pub struct Deduper {
    state: State,
    /// Time of the pending cleanup alarm this instance set (0 = none yet).
    alarm_at: Cell<f64>,
    /// `ctx.storage.sql`, fetched once (schema created) on first use.
    sql: OnceCell<Sql>,
}

struct Check<'a> {
    op: &'a str,
    id: &'a str,
    rev: u32,
    survey: &'a str,
    respondent: &'a str,
    id_window_ms: f64,
    respondent_window_ms: f64,
}

fn parse_check(body: &str) -> Option<Check<'_>> {
    let mut it = body.split('\n');
    Some(Check {
        op: it.next()?,
        id: it.next()?,
        rev: it.next()?.parse().ok()?,
        survey: it.next()?,
        respondent: it.next()?,
        id_window_ms: it.next()?.parse().ok()?,
        respondent_window_ms: it.next()?.parse().ok()?,
    })
}

fn js(s: &str) -> JsValue {
    JsValue::from_str(s)
}

impl Deduper {
    fn sql(&self, q: &str, args: js_sys::Array) -> Result<SqlCursor> {
        let sql = match self.sql.get() {
            Some(sql) => sql,
            None => {
                let sql: Sql = self.state.storage().sql().as_ref().clone().unchecked_into();
                for s in SCHEMA {
                    sql.exec(s, js_sys::Array::new())?;
                }
                self.sql.get_or_init(|| sql)
            }
        };
        Ok(sql.exec(q, args)?)
    }

    /// Runs a statement for its effect.
    pub(crate) fn exec_sql(&self, q: &str, args: js_sys::Array) -> Result<()> {
        self.sql(q, args).map(|_| ())
    }

    /// Every row of a statement (plain JS objects keyed by column).
    pub(crate) fn rows(&self, q: &str, args: js_sys::Array) -> Result<Vec<JsValue>> {
        Ok(self.sql(q, args)?.to_array()?.to_vec())
    }

    /// The `v` column of a one-row statement, as text.
    fn one_text(&self, q: &str, args: js_sys::Array) -> Result<Option<String>> {
        let row = self.sql(q, args)?.one()?;
        Ok(js_sys::Reflect::get(&row, &JsValue::from_str("v"))?.as_string())
    }

    /// Loads both records as the core's types. Rows keep their expiry (`until`, for the sweep);
    /// the core wants the start (`at_ms = until - window`), which is equivalent for "live".
    fn load(
        &self,
        c: &Check<'_>,
        resp_key: &str,
    ) -> Result<(Option<SeenId>, Option<SeenRespondent>)> {
        let id = c.id;
        let start = |until: f64, window: f64| (until - window).max(0.0) as u64;
        let v = self
            .one_text(LOAD, js_sys::Array::of2(&js(id), &js(resp_key)))?
            .unwrap_or_default();
        let (id_part, resp_part) = v.split_once('\n').unwrap_or(("", ""));
        let mut it = id_part.splitn(2, '|');
        let seen_id = match (
            it.next().and_then(|r| r.parse().ok()),
            it.next().and_then(|u| u.parse().ok()),
        ) {
            (Some(rev), Some(until)) => Some(SeenId {
                rev,
                at_ms: start(until, c.id_window_ms),
            }),
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
                at_ms: start(until, c.respondent_window_ms),
            }),
            _ => None,
        };
        Ok((seen_id, seen_resp))
    }

    /// Sets the cleanup alarm without awaiting (the output gate covers it).
    fn arm_alarm(&self, at: f64) {
        let want = at + ALARM_SLACK_MS;
        let pending = self.alarm_at.get();
        if pending > 0.0 && pending <= want {
            return;
        }
        self.alarm_at.set(want);
        let storage = self.state.storage();
        let _ = storage.as_raw().set_alarm(
            js_sys::Date::new(&JsValue::from_f64(want)),
            js_sys::Object::new(),
        );
    }

    /// Deletes expired records and re-arms the alarm at the next expiry (the alarm handler;
    /// also `fetch` with the body `sweep`, for operators and tests).
    fn sweep(&self) -> Result<()> {
        let now = JsValue::from_f64(js_sys::Date::now());
        self.alarm_at.set(0.0);
        self.sql(
            "DELETE FROM seen_id WHERE until <= ?",
            js_sys::Array::of1(&now),
        )?;
        self.sql(
            "DELETE FROM seen_respondent WHERE until <= ?",
            js_sys::Array::of1(&now),
        )?;
        // Settled alert states are kept 90 days (longer than any rev of a response arrives).
        self.sql(
            "DELETE FROM alerts WHERE state <> 0 AND created_ms <= ?",
            js_sys::Array::of1(&JsValue::from_f64(
                js_sys::Date::now() - 90.0 * 86_400_000.0,
            )),
        )?;
        let next = self.one_text(
            "SELECT CAST(MIN(m) AS TEXT) AS v FROM (SELECT MIN(until) AS m FROM seen_id UNION ALL SELECT MIN(until) FROM seen_respondent)",
            js_sys::Array::new(),
        )?;
        if let Some(next) = next.and_then(|v| v.parse::<f64>().ok()) {
            self.arm_alarm(next);
        }
        Ok(())
    }

    /// Runs one `check`/`undo` line synchronously; returns the status word.
    fn run(&self, line: &str) -> Result<&'static str> {
        let Some(c) = parse_check(line) else {
            return Err("bad dedup request".into());
        };
        let resp_key = format!("{}\n{}", c.survey, c.respondent);
        let (seen_id, seen_resp) = self.load(&c, &resp_key)?;
        if c.op == "undo" {
            if seen_id.as_ref().is_some_and(|s| s.rev == c.rev) {
                self.sql(
                    "DELETE FROM seen_id WHERE id = ?",
                    js_sys::Array::of1(&js(c.id)),
                )?;
            }
            if seen_resp
                .as_ref()
                .is_some_and(|s| s.rev == c.rev && s.response_id == c.id)
            {
                self.sql(
                    "DELETE FROM seen_respondent WHERE k = ?",
                    js_sys::Array::of1(&js(&resp_key)),
                )?;
            }
            return Ok("ok");
        }
        let now = js_sys::Date::now();
        // The core decides on the fields it reads (id, rev); the rest stays default.
        let r = NpsResponse {
            id: c.id.to_string(),
            rev: c.rev,
            ..Default::default()
        };
        let d = decide(
            seen_id,
            seen_resp.as_ref(),
            &r,
            now as u64,
            c.id_window_ms as u64,
            c.respondent_window_ms as u64,
        );
        let rev = JsValue::from_f64(c.rev.into());
        let mut earliest = f64::MAX;
        if d.store {
            let until = now + c.id_window_ms;
            earliest = earliest.min(until);
            self.sql(
                "INSERT OR REPLACE INTO seen_id (id, rev, until) VALUES (?, ?, ?)",
                js_sys::Array::of3(&js(c.id), &rev, &JsValue::from_f64(until)),
            )?;
        }
        if d.claim_respondent {
            let until = now + c.respondent_window_ms;
            earliest = earliest.min(until);
            self.sql(
                "INSERT OR REPLACE INTO seen_respondent (k, id, rev, until) VALUES (?, ?, ?, ?)",
                js_sys::Array::of4(&js(&resp_key), &js(c.id), &rev, &JsValue::from_f64(until)),
            )?;
        } else if d.store && c.respondent_window_ms > 0.0 {
            // The live respondent record names this id: same window, higher rev.
            self.sql(
                "UPDATE seen_respondent SET rev = ? WHERE k = ? AND id = ?",
                js_sys::Array::of3(&rev, &js(&resp_key), &js(c.id)),
            )?;
        }
        if earliest < f64::MAX {
            self.arm_alarm(earliest);
        }
        Ok(d.status.as_str())
    }
}

impl DurableObject for Deduper {
    fn new(state: State, _env: Env) -> Self {
        Deduper {
            state,
            alarm_at: Cell::new(0.0),
            sql: OnceCell::new(),
        }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let line = req.text().await?;
        if line == "sweep" {
            self.sweep()?;
            return Response::ok("ok");
        }
        match self.run(&line) {
            Ok(word) => Response::ok(word),
            Err(e) => Response::error(e.to_string(), 400),
        }
    }

    async fn alarm(&self) -> Result<Response> {
        self.sweep()?;
        Response::ok("ok")
    }
}

#[wasm_bindgen]
impl Deduper {
    /// RPC entry (called by the shim's `Deduper extends DurableObject`): one `check`/`undo` line
    /// in, the status word out. Synchronous: no future, no microtask.
    #[wasm_bindgen(js_name = check)]
    pub fn rpc_check(&self, line: &str) -> std::result::Result<String, JsValue> {
        self.run(line)
            .map(str::to_string)
            .map_err(|e| JsValue::from_str(&e.to_string()))
    }

    /// RPC entry of the close-the-loop operations (suppressions, eligibility, alert states):
    /// one JSON request in, one text answer out (see `close_loop`). Synchronous too.
    #[wasm_bindgen(js_name = call)]
    pub fn rpc_call(&self, request: &str) -> std::result::Result<String, JsValue> {
        crate::close_loop::object_call(self, request).map_err(|e| JsValue::from_str(&e))
    }
}
