//! Queue consumer: delivers queued responses to webhook receivers with Standard Webhooks v1
//! signatures, retries with exponential backoff + jitter (honouring `Retry-After`), and keeps
//! what the queue gives up on (dead-letter queue) in D1 `dead_letters`.
//!
//! Retry accounting is the queue's: `max_retries` and `dead_letter_queue` in wrangler.toml. A
//! message that exhausts its retries is moved by the platform to the dead-letter queue, which
//! this same worker consumes into D1 — nothing accepted is dropped.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsValue;
use worker::{Env, Fetch, Headers, Method, Request, RequestInit};

use crate::local_core::config::{Delivery, Sink};
use nps_edge_core::time::rfc3339_ms;
use nps_edge_core::webhook::{headers as signed_headers, WebhookSecret};

use crate::metrics::{inc, Metric};
use crate::sinks::alert;
use crate::sinks::d1::store_dead_letter;
use crate::state;
use nps_edge_core::config::RetryPolicy;
use nps_edge_core::retry::{self, Attempt, Next};

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

fn field(obj: &JsValue, k: &str) -> Option<String> {
    js_sys::Reflect::get(obj, &JsValue::from_str(k))
        .ok()?
        .as_string()
}

/// Handles one batch from the delivery queue or the dead-letter queue.
pub(crate) async fn handle_batch(batch: QueueBatch, env: Env) {
    let loaded = match state::get(&env) {
        Ok(l) => l,
        Err(e) => {
            worker::console_error!("nps-worker queue: {e}");
            // Keep the messages: retry later, once the config is fixed.
            for m in batch.messages().iter() {
                m.unchecked_into::<QueueMessage>().retry(&retry_opts(60));
            }
            return;
        }
    };
    let delivery = &loaded.config.delivery;
    let is_dlq = batch.queue() == delivery.dead_letter_queue;
    let db = loaded.config.sinks.iter().find_map(|s| match s {
        Sink::D1 { binding } => env.d1(binding).ok(),
        _ => None,
    });
    for m in batch.messages().iter() {
        let m: QueueMessage = m.unchecked_into();
        let body = m.body();
        if field(&body, "kind").as_deref() == Some("alert") {
            handle_alert(&env, &loaded, db.as_ref(), &m, &body, is_dlq).await;
            continue;
        }
        let (Some(sink), Some(id), Some(payload)) = (
            field(&body, "sink"),
            field(&body, "id"),
            field(&body, "payload"),
        ) else {
            worker::console_error!("nps-worker queue: malformed message dropped");
            m.ack();
            continue;
        };
        let attempts = m.attempts().max(1.0) as u32;
        let now = rfc3339_ms(js_sys::Date::now() as u64);
        if is_dlq {
            let kept = match &db {
                Some(db) => store_dead_letter(
                    db,
                    &id,
                    &sink,
                    &payload,
                    attempts,
                    "retries_exhausted",
                    &now,
                )
                .await
                .is_ok(),
                None => {
                    worker::console_error!("nps-worker dead letter (no D1 sink): {id}");
                    true
                }
            };
            if kept {
                inc(Metric::DeadLetter);
                m.ack();
            } else {
                m.retry(&retry_opts(30));
            }
            continue;
        }
        let (Some(url), Some(key)) = (
            webhook_url(&loaded.config.sinks, &sink),
            loaded.webhook_key(&sink),
        ) else {
            worker::console_error!("nps-worker queue: unknown sink {sink}, retrying later");
            m.retry(&retry_opts(delivery.backoff_max_seconds));
            continue;
        };
        let (status, retry_after) =
            attempt(url, Some((key, &id)), &payload, delivery.timeout_ms).await;
        match next(delivery, status, retry_after, attempts) {
            Next::Done => {
                inc(Metric::Delivered);
                m.ack();
            }
            Next::DisableSink | Next::DeadLetter => {
                // 410: the receiver asked us to stop; keep the delivery as a dead letter.
                if let Some(db) = &db {
                    let _ = store_dead_letter(db, &id, &sink, &payload, attempts, "gone_410", &now)
                        .await;
                }
                inc(Metric::DeadLetter);
                m.ack();
            }
            Next::RetryIn(ms) => {
                inc(Metric::Retry);
                m.retry(&retry_opts(retry::delay_secs(ms)));
            }
        }
    }
}

/// The core's retry schedule over the `delivery` settings (whole seconds, from the config) for
/// one attempt (`status` 0 = network error/timeout). Retry accounting is the queue's
/// (`max_retries`, then the dead-letter queue), so the core schedule never dead-letters here;
/// a 410 stops (`DisableSink`: the caller keeps a dead letter).
fn next(delivery: &Delivery, status: u16, retry_after: Option<u64>, attempts: u32) -> Next {
    let policy = RetryPolicy {
        base_ms: u64::from(delivery.backoff_base_seconds).saturating_mul(1000),
        max_ms: u64::from(delivery.backoff_max_seconds).saturating_mul(1000),
        max_attempts: u32::MAX,
    };
    let outcome = match status {
        0 => Attempt::NoResponse,
        s => Attempt::Status(s, retry_after),
    };
    retry::next(&policy, outcome, attempts, js_sys::Math::random())
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

fn webhook_url<'a>(sinks: &'a [Sink], name: &str) -> Option<&'a str> {
    sinks.iter().find_map(|s| match s {
        Sink::Webhook { name: n, url, .. } if n == name => Some(url.as_str()),
        _ => None,
    })
}

/// One signed POST. Returns (status, Retry-After seconds); status 0 = network error/timeout.
async fn attempt(
    url: &str,
    signing: Option<(&WebhookSecret, &str)>,
    payload: &str,
    timeout_ms: u32,
) -> (u16, Option<u64>) {
    let ts = (js_sys::Date::now() / 1000.0) as u64;
    let id = signing.map_or("alert", |(_, id)| id);
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
        return (0, None);
    }
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_body(Some(JsValue::from_str(payload)));
    let Ok(req) = Request::new_with_init(url, &init) else {
        return (0, None);
    };
    let signal = worker::AbortSignal::from(abort_signal_timeout(timeout_ms.into()));
    match Fetch::Request(req).send_with_signal(&signal).await {
        Ok(res) => {
            let retry_after = res
                .headers()
                .get("retry-after")
                .ok()
                .flatten()
                .and_then(|v| retry::parse_retry_after(&v));
            (res.status_code(), retry_after)
        }
        Err(e) => {
            worker::console_log!("nps-worker delivery {id}: {e}");
            (0, None)
        }
    }
}

/// One alert job (see `sinks::alert`): claim, build from the latest rev, post, record.
async fn handle_alert(
    env: &Env,
    l: &state::Loaded,
    db: Option<&worker::D1Database>,
    m: &QueueMessage,
    body: &JsValue,
    is_dlq: bool,
) {
    let (Some(sink), Some(site), Some(id), Some(object)) = (
        field(body, "sink"),
        field(body, "site"),
        field(body, "id"),
        field(body, "object"),
    ) else {
        worker::console_error!("nps-worker queue: malformed alert job dropped");
        m.ack();
        return;
    };
    let attempts = m.attempts().max(1.0) as u32;
    if is_dlq {
        // The queue gave up: mark it given up (never sent twice) and keep a dead letter.
        let _ = alert::finish(env, l, &sink, &id, &object, "failed", 0).await;
        if let Some(db) = db {
            let now = rfc3339_ms(js_sys::Date::now() as u64);
            let job = js_sys::JSON::stringify(body)
                .ok()
                .and_then(|s| s.as_string())
                .unwrap_or_default();
            let key = format!("alert:{sink}:{id}");
            let _ =
                store_dead_letter(db, &key, &sink, &job, attempts, "retries_exhausted", &now).await;
        }
        inc(Metric::DeadLetter);
        m.ack();
        return;
    }
    match alert::prepare(env, l, db, &sink, &site, &id, &object).await {
        alert::Action::Ack => m.ack(),
        alert::Action::Retry(s) => m.retry(&retry_opts(s)),
        alert::Action::Send {
            url,
            body,
            timeout_ms,
            rev,
        } => {
            let (status, retry_after) = attempt(&url, None, &body, timeout_ms).await;
            match next(&l.config.delivery, status, retry_after, attempts) {
                Next::Done => {
                    let _ = alert::finish(env, l, &sink, &id, &object, "sent", rev).await;
                    inc(Metric::AlertSent);
                    m.ack();
                }
                Next::DisableSink | Next::DeadLetter => {
                    let _ = alert::finish(env, l, &sink, &id, &object, "failed", rev).await;
                    worker::console_error!("nps-worker alert {id}: 410 Gone, given up");
                    inc(Metric::DeadLetter);
                    m.ack();
                }
                Next::RetryIn(ms) => {
                    let _ = alert::finish(env, l, &sink, &id, &object, "release", rev).await;
                    inc(Metric::Retry);
                    m.retry(&retry_opts(retry::delay_secs(ms)));
                }
            }
        }
    }
}
