//! The Queue consumer: delivers webhook messages (Standard Webhooks v1, signed per attempt) and
//! alert jobs, with the config's retry schedule (`retry`, the native server's), and keeps what
//! cannot be delivered in D1 `dead_letters`. Every count goes to the application's metrics.
//!
//! Retry accounting is the message's `attempts`: after `retry.max_attempts` the message becomes
//! a dead letter here; the queue's own `max_retries` → dead-letter queue (consumed here too) is
//! the backstop for a consumer that keeps failing. A message is acknowledged only once it was
//! delivered or its dead letter is stored.

use std::sync::atomic::Ordering;

use nps_edge_app::backend::{BackendError, SqlValue};
use nps_edge_app::store::{response_of_row, ONE_RESPONSE};
use nps_edge_core::alert::ALERT_RETRY;
use nps_edge_core::case_notice::OVERDUE_PREFIX;
use nps_edge_core::config::SinkConfig;
use nps_edge_core::retry::{self, Attempt, Next};
use nps_edge_core::time::rfc3339_ms;
use nps_edge_core::webhook::{headers as signed_headers, WebhookSecret};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use worker::{Env, Fetch, Headers, Method, Request, RequestInit};

use crate::js::JsError;
use crate::loaded::{self, Loaded};
use crate::ops::{Claim, Op};

#[wasm_bindgen]
extern "C" {
    /// A Queues `MessageBatch`.
    pub type QueueBatch;
    #[wasm_bindgen(method, getter)]
    fn queue(this: &QueueBatch) -> String;
    #[wasm_bindgen(method, getter)]
    fn messages(this: &QueueBatch) -> js_sys::Array;

    /// A Queues `Message`.
    type QueueMessage;
    #[wasm_bindgen(method, getter)]
    fn body(this: &QueueMessage) -> JsValue;
    #[wasm_bindgen(method, getter)]
    fn attempts(this: &QueueMessage) -> f64;
    #[wasm_bindgen(method)]
    fn ack(this: &QueueMessage);
    #[wasm_bindgen(method)]
    fn retry(this: &QueueMessage, options: &JsValue);

    #[wasm_bindgen(js_namespace = AbortSignal, js_name = timeout)]
    fn abort_signal_timeout(ms: f64) -> worker::worker_sys::web_sys::AbortSignal;
}

/// How long a dead letter that could not be stored waits before it is tried again.
const DEAD_LETTER_RETRY_SECONDS: u32 = 300;

const DEAD_LETTER: &str = "INSERT INTO dead_letters (webhook_id, sink, payload, attempts, reason, failed_at) \
VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(webhook_id) DO UPDATE SET attempts = excluded.attempts, \
reason = excluded.reason, failed_at = excluded.failed_at";

fn field(obj: &JsValue, k: &str) -> Option<String> {
    js_sys::Reflect::get(obj, &JsValue::from_str(k))
        .ok()?
        .as_string()
}

fn retry_opts(delay_seconds: u32) -> JsValue {
    let o = js_sys::Object::new();
    let _ = js_sys::Reflect::set(
        &o,
        &JsValue::from_str("delaySeconds"),
        &JsValue::from_f64(delay_seconds.into()),
    );
    o.into()
}

/// Handles one batch from the delivery queue or its dead-letter queue.
pub(crate) async fn handle_batch(batch: QueueBatch, env: Env) {
    let l = match loaded::get(&env) {
        Ok(l) => l,
        Err(e) => {
            tracing::error!(error = %e, "queue batch kept for later: the config does not load");
            // Keep the messages: retry later, once the config is fixed.
            for m in batch.messages().iter() {
                m.unchecked_into::<QueueMessage>().retry(&retry_opts(60));
            }
            return;
        }
    };
    let is_dlq = batch.queue() == l.config().worker.dead_letter_queue;
    for m in batch.messages().iter() {
        let m: QueueMessage = m.unchecked_into();
        let body = m.body();
        if field(&body, "kind").as_deref() == Some("alert") {
            handle_alert(&l, &m, &body, is_dlq).await;
        } else {
            handle_delivery(&l, &m, &body, is_dlq).await;
        }
    }
}

/// Keeps a message that will not be retried any more; `true` when it is stored.
async fn dead_letter(
    l: &Loaded,
    id: &str,
    sink: &str,
    payload: &str,
    attempts: u32,
    reason: &str,
) -> bool {
    // Without a store the message stays on its queue (the dead-letter queue keeps retrying
    // it, slowly): nothing accepted is dropped by this worker.
    let Some(d1) = l.app.backend().d1() else {
        tracing::error!(
            sink,
            id,
            reason,
            "dead letter kept on the queue: no D1 store is configured"
        );
        return false;
    };
    let params = [
        SqlValue::Text(id.into()),
        SqlValue::Text(sink.into()),
        SqlValue::Text(payload.into()),
        SqlValue::Int(attempts.into()),
        SqlValue::Text(reason.into()),
        SqlValue::Text(rfc3339_ms(js_sys::Date::now() as u64)),
    ];
    match d1.execute(DEAD_LETTER, &params).await {
        Ok(_) => {
            l.app
                .metrics()
                .sink(sink)
                .dead_letters
                .fetch_add(1, Ordering::Relaxed);
            true
        }
        Err(e) => {
            tracing::error!(id, error = %e, "dead letter not stored, message kept");
            false
        }
    }
}

/// Whether the answer a message is about was erased since it was queued (a first attempt goes
/// out within moments of the answer, so only retries are checked): an answer's or a case's
/// webhook names it in `data`, an overdue alert (a chat message) in its id.
async fn erased(l: &Loaded, msg_id: &str, payload: &str) -> bool {
    let Some(d1) = l.app.backend().d1() else {
        return false;
    };
    let v = serde_json::from_str::<serde_json::Value>(payload).unwrap_or_default();
    let named = match (v["data"]["site"].as_str(), v["data"]["id"].as_str()) {
        (Some(site), Some(id)) => Some((site.to_string(), id.to_string())),
        _ => overdue_alert_of(l, msg_id),
    };
    let Some((site, id)) = named else {
        return false;
    };
    let params = [SqlValue::Text(site), SqlValue::Text(id)];
    match d1
        .rows("SELECT 1 FROM erased WHERE site = ?1 AND id = ?2", &params)
        .await
    {
        Ok(rows) => !rows.is_empty(),
        // Not knowing is not a reason to drop a delivery.
        Err(_) => false,
    }
}

/// The site and case of an overdue alert's message id (`case-overdue.{site}.{case}`).
fn overdue_alert_of(l: &Loaded, msg_id: &str) -> Option<(String, String)> {
    let rest = msg_id.strip_prefix(OVERDUE_PREFIX)?;
    // Site ids may hold dots: the longest configured site that prefixes the rest.
    l.config()
        .sites
        .iter()
        .filter_map(|s| {
            let case = rest.strip_prefix(s.id.as_str())?.strip_prefix('.')?;
            Some((s.id.clone(), case.to_string()))
        })
        .max_by_key(|(site, _)| site.len())
}

async fn handle_delivery(l: &Loaded, m: &QueueMessage, body: &JsValue, is_dlq: bool) {
    let (Some(sink), Some(id), Some(payload)) = (
        field(body, "sink"),
        field(body, "id"),
        field(body, "payload"),
    ) else {
        tracing::error!("malformed queue message dropped");
        m.ack();
        return;
    };
    let attempts = m.attempts().max(1.0) as u32;
    if (attempts > 1 || is_dlq) && erased(l, &id, &payload).await {
        tracing::info!(sink, id, "delivery dropped: its answer was erased");
        m.ack();
        return;
    }
    match still_wanted(l, &id).await {
        Ok(true) => {}
        Ok(false) => {
            tracing::info!(sink, "delivery dropped: its invitation was erased");
            m.ack();
            return;
        }
        // Not known: tried again later, never sent without the check.
        Err(e) => {
            tracing::warn!(sink, error = %e.0, "cannot check an invitation");
            m.retry(&retry_opts(DEAD_LETTER_RETRY_SECONDS));
            return;
        }
    }
    if is_dlq {
        if dead_letter(l, &id, &sink, &payload, attempts, "retries_exhausted").await {
            m.ack();
        } else {
            m.retry(&retry_opts(DEAD_LETTER_RETRY_SECONDS));
        }
        return;
    }
    // Webhooks are signed; a chat sink takes the messages the application wrote for it (an
    // overdue case) as they are.
    let target = l.config().sinks.iter().find_map(|s| match s {
        SinkConfig::Webhook {
            name,
            url,
            timeout_ms,
            ..
        } if *name == sink => Some((url.as_str(), *timeout_ms, l.webhook_key(&sink).map(Some))),
        SinkConfig::Alert(a) if a.name == sink && id.starts_with(OVERDUE_PREFIX) => {
            Some((a.url.as_str(), a.timeout_ms, Some(None)))
        }
        _ => None,
    });
    let Some((url, timeout_ms, Some(key))) = target else {
        tracing::error!(sink, "queue message for an unknown sink kept for later");
        m.retry(&retry_opts(600));
        return;
    };
    let counters = l.app.metrics().sink(&sink);
    let outcome = attempt(url, key.map(|k| (k, id.as_str())), &payload, timeout_ms).await;
    match retry::next(&l.config().retry, outcome, attempts, js_sys::Math::random()) {
        Next::Done => {
            counters.delivered.fetch_add(1, Ordering::Relaxed);
            mark_delivered(l, &id).await;
            m.ack();
        }
        next @ (Next::DisableSink | Next::DeadLetter) => {
            let reason = if next == Next::DisableSink {
                "gone_410"
            } else {
                "retries_exhausted"
            };
            if dead_letter(l, &id, &sink, &payload, attempts, reason).await {
                m.ack();
            } else {
                m.retry(&retry_opts(DEAD_LETTER_RETRY_SECONDS));
            }
        }
        Next::RetryIn(ms) => {
            counters.retries.fetch_add(1, Ordering::Relaxed);
            m.retry(&retry_opts(retry::delay_secs(ms)));
        }
    }
}

/// Whether a delivery may still go: false for an invitation's e-mail (or reminder) whose
/// invitation is gone from D1 (erased, or purged by retention) while it waited.
async fn still_wanted(l: &Loaded, msg_id: &str) -> Result<bool, JsError> {
    let (Some((site, id)), Some(d1)) = (
        nps_edge_core::invitations::parse_message_id(msg_id),
        l.app.backend().d1(),
    ) else {
        return Ok(true);
    };
    let params = [SqlValue::Text(site.into()), SqlValue::Text(id.into())];
    let rows = d1
        .rows(nps_edge_app::store::INVITATION_EXISTS, &params)
        .await?;
    Ok(!rows.is_empty())
}

/// The site's mail service took an invitation: its funnel says delivered. A failure is logged
/// (the e-mail went; only the figure is late).
async fn mark_delivered(l: &Loaded, msg_id: &str) {
    let (Some((site, id)), Some(d1)) = (
        nps_edge_core::invitations::parse_message_id(msg_id),
        l.app.backend().d1(),
    ) else {
        return;
    };
    let params = [
        SqlValue::Text(site.into()),
        SqlValue::Text(id.into()),
        SqlValue::Int(js_sys::Date::now() as i64),
    ];
    if let Err(e) = d1
        .execute(nps_edge_app::store::MARK_DELIVERED, &params)
        .await
    {
        tracing::warn!(site, error = %e.0, "invitation delivered but not marked");
    }
}

/// One POST. The outcome for the retry schedule (no answer = network error or timeout).
async fn attempt(
    url: &str,
    signing: Option<(&WebhookSecret, &str)>,
    payload: &str,
    timeout_ms: u64,
) -> Attempt {
    let ts = (js_sys::Date::now() / 1000.0) as u64;
    let headers = Headers::new();
    let mut set = headers
        .set("content-type", "application/json")
        .and_then(|_| headers.set("user-agent", "nps-worker"));
    if let Some((key, id)) = signing {
        for (k, v) in signed_headers(key, id, ts, payload.as_bytes()) {
            set = set.and_then(|_| headers.set(k, &v));
        }
    }
    if set.is_err() {
        return Attempt::NoResponse;
    }
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_body(Some(JsValue::from_str(payload)));
    let Ok(req) = Request::new_with_init(url, &init) else {
        return Attempt::NoResponse;
    };
    let signal = worker::AbortSignal::from(abort_signal_timeout(timeout_ms as f64));
    match Fetch::Request(req).send_with_signal(&signal).await {
        Ok(res) => {
            let retry_after = res
                .headers()
                .get("retry-after")
                .ok()
                .flatten()
                .and_then(|v| retry::parse_retry_after(&v));
            Attempt::Status(res.status_code(), retry_after)
        }
        Err(e) => {
            tracing::info!(url, error = %e, "delivery attempt got no answer");
            Attempt::NoResponse
        }
    }
}

/// Why a call of the deliverer to a state object failed.
#[derive(Debug, thiserror::Error)]
enum StateCallError {
    /// The call itself.
    #[error("{0}")]
    Call(BackendError),
    /// Its answer is not what was asked for.
    #[error("unexpected answer: {0}")]
    Answer(#[source] serde_json::Error),
}

async fn state_call(l: &Loaded, object: &str, op: &Op) -> Result<String, StateCallError> {
    l.app
        .backend()
        .call(object, op)
        .await
        .map_err(StateCallError::Call)
}

async fn alert_done(l: &Loaded, object: &str, sink: &str, id: &str, result: &str, rev: u32) {
    let op = Op::AlertDone {
        sink: sink.into(),
        id: id.into(),
        result: result.into(),
        rev,
    };
    if let Err(e) = state_call(l, object, &op).await {
        tracing::error!(id, error = %e, "alert state call failed");
    }
}

/// One alert job: claim it in the response's state object (a lease: two jobs for one id never
/// both post), build the message from the latest stored rev, post, record the outcome.
async fn handle_alert(l: &Loaded, m: &QueueMessage, body: &JsValue, is_dlq: bool) {
    let (Some(sink), Some(site), Some(id), Some(object)) = (
        field(body, "sink"),
        field(body, "site"),
        field(body, "id"),
        field(body, "object"),
    ) else {
        tracing::error!("malformed alert job dropped");
        m.ack();
        return;
    };
    let attempts = m.attempts().max(1.0) as u32;
    let job = js_sys::JSON::stringify(body)
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_default();
    if is_dlq {
        // The queue gave up: mark it given up (never sent twice) and keep a dead letter.
        alert_done(l, &object, &sink, &id, "failed", 0).await;
        if dead_letter(
            l,
            &format!("alert:{sink}:{id}"),
            &sink,
            &job,
            attempts,
            "retries_exhausted",
        )
        .await
        {
            m.ack();
        } else {
            m.retry(&retry_opts(DEAD_LETTER_RETRY_SECONDS));
        }
        return;
    }
    let Some(a) = l.config().sinks.iter().find_map(|s| match s {
        SinkConfig::Alert(a) if a.name == sink => Some(a),
        _ => None,
    }) else {
        tracing::error!(sink, "alert job for an unknown sink dropped");
        m.ack();
        return;
    };
    let claim = Op::AlertClaim {
        sink: sink.clone(),
        id: id.clone(),
        lease_ms: a.timeout_ms + 5000,
    };
    let claim: Claim = match state_call(l, &object, &claim)
        .await
        .and_then(|t| serde_json::from_str(&t).map_err(StateCallError::Answer))
    {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(id, error = %e, "alert state call failed");
            m.retry(&retry_opts(5));
            return;
        }
    };
    match claim.claim.as_str() {
        "wait" => {
            m.retry(&retry_opts(claim.n.div_ceil(1000).max(1) as u32));
            return;
        }
        "send" => {}
        _ => {
            m.ack(); // already sent, given up or cancelled
            return;
        }
    }
    let latest = match l.app.backend().d1() {
        Some(d1) => d1
            .rows(
                ONE_RESPONSE,
                &[SqlValue::Text(site.clone()), SqlValue::Text(id.clone())],
            )
            .await
            .map(|rows| rows.first().and_then(|r| response_of_row(r))),
        None => Ok(None),
    };
    let (r, received_ms) = match latest {
        Ok(Some(x)) => x,
        Ok(None) => {
            // Not in D1 yet (its write is being retried): try again shortly.
            alert_done(l, &object, &sink, &id, "release", 0).await;
            m.retry(&retry_opts(5));
            return;
        }
        Err(e) => {
            tracing::error!(id, error = %e, "alert: the stored answer cannot be read");
            alert_done(l, &object, &sink, &id, "release", 0).await;
            m.retry(&retry_opts(5));
            return;
        }
    };
    if !a.wants(&r) {
        // Changed to a score this sink does not alert on, after the plan was made.
        alert_done(l, &object, &sink, &id, "cancel", 0).await;
        m.ack();
        return;
    }
    let text = a.render(&r, received_ms);
    let outcome = attempt(&a.url, None, &text, a.timeout_ms).await;
    let counters = l.app.metrics().sink(&sink);
    match retry::next(&ALERT_RETRY, outcome, attempts, js_sys::Math::random()) {
        Next::Done => {
            alert_done(l, &object, &sink, &id, "sent", r.rev).await;
            counters.alerts_sent.fetch_add(1, Ordering::Relaxed);
            m.ack();
        }
        Next::DisableSink | Next::DeadLetter => {
            alert_done(l, &object, &sink, &id, "failed", r.rev).await;
            tracing::warn!(id, sink, "alert given up");
            let _ = dead_letter(
                l,
                &format!("alert:{sink}:{id}"),
                &sink,
                &job,
                attempts,
                "gone_or_exhausted",
            )
            .await;
            m.ack();
        }
        Next::RetryIn(ms) => {
            alert_done(l, &object, &sink, &id, "release", r.rev).await;
            counters.retries.fetch_add(1, Ordering::Relaxed);
            m.retry(&retry_opts(retry::delay_secs(ms)));
        }
    }
}
