//! Close the loop (issue 7) — the strongly consistent half: suppressions, the "already answered"
//! check of eligibility, and the once-per-response alert state, all kept in the `Deduper`
//! Durable Object's own SQLite database, next to the respondent records they are checked against.
//!
//! Why the Durable Object and not D1: eligibility needs the suppression AND the respondent record
//! (which already lives in the object), so one synchronous call answers both; check-and-set of an
//! alert state (plan, claim, done) must never run twice concurrently for one response id, which
//! the object's single-threaded synchronous SQL gives for free; and it works without a D1 sink
//! (the workerd self-host config has none). Suppressions of a site live in the object named by
//! the site id (the dedup object itself with `dedup.shard = "site"`); alert states live in the
//! response's dedup object.
//!
//! Wire protocol (worker → object): RPC `call(json)` with `{"op": …}`; answers are short text.
//! The decisions themselves come from the core (`suppression::is_suppressed`, `alert::plan`).

use nps_edge_core::alert::{plan, AlertPlan, AlertState};
use nps_edge_core::suppression::{is_suppressed, subjects, Suppression};
use nps_edge_core::EdgeError;
use serde_json::{json, Value};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use worker::Env;

use crate::dedup_object::Deduper;
use crate::local_core::config::Shard;
use crate::state::Loaded;

#[wasm_bindgen]
extern "C" {
    /// RPC view of a `Deduper` stub: the close-the-loop entry point.
    type CloseLoopRpc;
    #[wasm_bindgen(method, catch)]
    fn call(this: &CloseLoopRpc, request: &str) -> Result<js_sys::Promise, JsValue>;
}

/// Name of the object holding a site's suppressions.
pub(crate) fn site_object(site: &str) -> String {
    site.to_string()
}

/// Name of the dedup object of a response (holds its respondent record and alert state).
pub(crate) fn response_object(l: &Loaded, site: &str, survey: &str) -> String {
    match l.config.dedup.shard {
        Shard::Site => site.to_string(),
        Shard::SiteSurvey => format!("{site}/{survey}"),
    }
}

/// Calls `op` on the named object; strongly consistent.
pub(crate) async fn call(
    env: &Env,
    l: &Loaded,
    object: &str,
    request: &Value,
) -> Result<String, EdgeError> {
    let unavailable = |e: String| EdgeError::Unavailable(format!("close-loop store: {e}"));
    let ns = env
        .durable_object(&l.config.dedup.binding)
        .map_err(|e| unavailable(e.to_string()))?;
    let stub = ns
        .get_by_name(object)
        .map_err(|e| unavailable(e.to_string()))?;
    let rpc: CloseLoopRpc = stub.into_rpc();
    let promise = rpc
        .call(&request.to_string())
        .map_err(|e| unavailable(format!("{e:?}")))?;
    let v = JsFuture::from(promise)
        .await
        .map_err(|e| unavailable(format!("{e:?}")))?;
    Ok(v.as_string().unwrap_or_default())
}

/// Parses the records answered by `sup_get`.
pub(crate) fn parse_records(text: &str) -> Vec<Suppression> {
    let v: Value = serde_json::from_str(text).unwrap_or(Value::Null);
    v.as_array()
        .map(|a| a.iter().filter_map(record_of).collect())
        .unwrap_or_default()
}

fn record_of(v: &Value) -> Option<Suppression> {
    Some(Suppression {
        subject: v["subject"].as_str()?.to_string(),
        expires_ms: v["expires_ms"].as_f64().map(|x| x.max(0.0) as u64),
        reason: v["reason"].as_str().map(str::to_string),
        created_ms: v["created_ms"].as_f64().unwrap_or(0.0).max(0.0) as u64,
    })
}

// ---- object side -------------------------------------------------------------------------

fn js(s: &str) -> JsValue {
    JsValue::from_str(s)
}

fn num(x: f64) -> JsValue {
    JsValue::from_f64(x)
}

fn field(row: &JsValue, k: &str) -> JsValue {
    js_sys::Reflect::get(row, &JsValue::from_str(k)).unwrap_or(JsValue::NULL)
}

fn args(v: &[JsValue]) -> js_sys::Array {
    v.iter().collect()
}

fn load_records(d: &Deduper, subs: &[&str]) -> worker::Result<Vec<Value>> {
    let mut out = Vec::new();
    let rows = if subs.is_empty() {
        d.rows(
            "SELECT subject, expires_ms, reason, created_ms FROM suppressions ORDER BY subject LIMIT 10000",
            js_sys::Array::new(),
        )?
    } else {
        let mut rows = Vec::new();
        for s in subs {
            rows.extend(d.rows(
                "SELECT subject, expires_ms, reason, created_ms FROM suppressions WHERE subject = ?",
                args(&[js(s)]),
            )?);
        }
        rows
    };
    for r in rows {
        out.push(json!({
            "subject": field(&r, "subject").as_string(),
            "expires_ms": field(&r, "expires_ms").as_f64(),
            "reason": field(&r, "reason").as_string(),
            "created_ms": field(&r, "created_ms").as_f64(),
        }));
    }
    Ok(out)
}

/// Runs one close-the-loop operation inside the object (synchronous: never interleaved).
pub(crate) fn object_call(d: &Deduper, request: &str) -> Result<String, String> {
    let v: Value = serde_json::from_str(request).map_err(|e| format!("bad request: {e}"))?;
    let s = |k: &str| v[k].as_str().unwrap_or("").to_string();
    let now = js_sys::Date::now();
    let r: worker::Result<String> = (|| match v["op"].as_str().unwrap_or("") {
        "sup_put" => {
            d.exec_sql(
                "INSERT OR REPLACE INTO suppressions (subject, expires_ms, reason, created_ms) VALUES (?, ?, ?, ?)",
                args(&[
                    js(&s("subject")),
                    v["expires_ms"].as_f64().map_or(JsValue::NULL, num),
                    v["reason"].as_str().map_or(JsValue::NULL, js),
                    num(v["created_ms"].as_f64().unwrap_or(now)),
                ]),
            )?;
            Ok("ok".into())
        }
        "sup_del" => {
            let n = d
                .rows(
                    "DELETE FROM suppressions WHERE subject = ? RETURNING subject",
                    args(&[js(&s("subject"))]),
                )?
                .len();
            Ok(if n > 0 { "1" } else { "0" }.into())
        }
        "sup_get" => {
            let subs: Vec<String> = v["subjects"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            let refs: Vec<&str> = subs.iter().map(String::as_str).collect();
            Ok(Value::Array(load_records(d, &refs)?).to_string())
        }
        "blocked" => {
            let (user, account) = (v["user"].as_str(), v["account"].as_str());
            let subs = subjects(user, account);
            if !subs.is_empty() {
                let recs: Vec<Suppression> = load_records(d, &subs)?
                    .iter()
                    .filter_map(record_of)
                    .collect();
                if is_suppressed(&recs, user, account, now as u64) {
                    return Ok("suppressed".into());
                }
            }
            if let Some(k) = v["respondent_key"].as_str() {
                let hit = d.rows(
                    "SELECT 1 AS x FROM seen_respondent WHERE k = ? AND until > ?",
                    args(&[js(k), num(now)]),
                )?;
                if !hit.is_empty() {
                    return Ok("answered".into());
                }
            }
            Ok("ok".into())
        }
        "alert_plan" => {
            let (sink, id) = (s("sink"), s("id"));
            let row = d
                .rows(
                    "SELECT state, due_ms FROM alerts WHERE sink = ? AND id = ?",
                    args(&[js(&sink), js(&id)]),
                )?
                .into_iter()
                .next();
            let state = row.map(|r| {
                if field(&r, "state").as_f64() == Some(0.0) {
                    AlertState::Due(field(&r, "due_ms").as_f64().unwrap_or(0.0).max(0.0) as u64)
                } else {
                    AlertState::Done
                }
            });
            match plan(
                state,
                v["wanted"].as_bool().unwrap_or(false),
                v["comment"].as_bool().unwrap_or(false),
                now as u64,
                v["grace_ms"].as_u64().unwrap_or(0),
            ) {
                AlertPlan::Keep => Ok("keep".into()),
                AlertPlan::Cancel => {
                    d.exec_sql(
                        "DELETE FROM alerts WHERE sink = ? AND id = ? AND state = 0",
                        args(&[js(&sink), js(&id)]),
                    )?;
                    Ok("cancel".into())
                }
                AlertPlan::Due(ms) => {
                    d.exec_sql(
                        "INSERT INTO alerts (sink, id, state, due_ms, created_ms) VALUES (?, ?, 0, ?, ?) \
                         ON CONFLICT (sink, id) DO UPDATE SET due_ms = excluded.due_ms WHERE state = 0",
                        args(&[js(&sink), js(&id), num(ms as f64), num(now)]),
                    )?;
                    Ok(format!("due:{}", (ms as f64 - now).max(0.0) as u64))
                }
            }
        }
        "alert_claim" => {
            let (sink, id) = (s("sink"), s("id"));
            let Some(r) = d
                .rows(
                    "SELECT state, due_ms, lease_until, attempts FROM alerts WHERE sink = ? AND id = ?",
                    args(&[js(&sink), js(&id)]),
                )?
                .into_iter()
                .next()
            else {
                return Ok("skip".into());
            };
            if field(&r, "state").as_f64() != Some(0.0) {
                return Ok("skip".into());
            }
            let due = field(&r, "due_ms").as_f64().unwrap_or(0.0);
            let lease = field(&r, "lease_until").as_f64().unwrap_or(0.0);
            let wait = (due - now).max(lease - now);
            if wait > 0.0 {
                return Ok(format!("wait:{}", wait.ceil() as u64));
            }
            let attempts = field(&r, "attempts").as_f64().unwrap_or(0.0) + 1.0;
            d.exec_sql(
                "UPDATE alerts SET lease_until = ?, attempts = ? WHERE sink = ? AND id = ?",
                args(&[
                    num(now + v["lease_ms"].as_f64().unwrap_or(15_000.0)),
                    num(attempts),
                    js(&sink),
                    js(&id),
                ]),
            )?;
            Ok(format!("send:{attempts}"))
        }
        "alert_done" => {
            let (sink, id) = (s("sink"), s("id"));
            let key = [js(&sink), js(&id)];
            match v["result"].as_str().unwrap_or("") {
                "sent" => d.exec_sql(
                    "UPDATE alerts SET state = 1, lease_until = 0, sent_rev = ? WHERE sink = ? AND id = ?",
                    args(&[num(v["rev"].as_f64().unwrap_or(0.0)), key[0].clone(), key[1].clone()]),
                )?,
                "failed" => d.exec_sql(
                    "UPDATE alerts SET state = 2, lease_until = 0 WHERE sink = ? AND id = ?",
                    args(&key),
                )?,
                "cancel" => d.exec_sql(
                    "DELETE FROM alerts WHERE sink = ? AND id = ? AND state = 0",
                    args(&key),
                )?,
                _ => d.exec_sql(
                    "UPDATE alerts SET lease_until = 0 WHERE sink = ? AND id = ?",
                    args(&key),
                )?,
            }
            Ok("ok".into())
        }
        other => Err(format!("unknown op {other:?}").into()),
    })();
    r.map_err(|e| e.to_string())
}
