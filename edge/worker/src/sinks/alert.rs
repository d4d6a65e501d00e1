//! `alert` sink: a chat message (Slack-compatible blocks, or plain JSON; built by
//! `nps_edge_core::alert::message`) once per response id, with the native server's timing rule
//! (`nps_edge_core::alert::plan`):
//!
//! - producer side ([`plan_and_enqueue`], before the 202): the response's Durable Object applies
//!   `plan` to the stored alert state; "due now" (an alerting rev carrying a comment) puts an
//!   alert job on the delivery Queue at once, "due later" (no comment yet) puts it there with
//!   `delaySeconds` = the grace period, "cancel" (the score changed to a non-alerting one)
//!   removes the state, so the delayed job finds nothing to send.
//! - consumer side ([`deliver`], in the Queue consumer): the job claims the alert in the object
//!   (a lease: two jobs for one id never both send; "not due yet" re-queues the job for the
//!   remaining time), reads the LATEST rev from D1, re-checks the routing, posts, and marks it
//!   sent (never again for this id), released for a retry (backoff + jitter, `Retry-After`), or
//!   given up (410; or the queue's `max_retries` → dead-letter queue → D1 `dead_letters`).

use nps_edge_core::alert::{message, AlertSinkConfig};
use nps_protocol::Response;
use serde::Serialize;
use serde_json::json;
use worker::{Env, MessageBuilder};

use crate::close_loop::{self, response_object};
use crate::state::Loaded;
use nps_edge_core::error::EdgeError;

/// One queued alert job (same queue as webhook deliveries; `kind` tells them apart).
#[derive(Serialize)]
struct AlertJob<'a> {
    kind: &'static str,
    sink: &'a str,
    site: &'a str,
    id: &'a str,
    object: &'a str,
}

/// Applies the timing rule to an accepted rev and queues the job when one is due.
pub(crate) async fn plan_and_enqueue(
    env: &Env,
    l: &Loaded,
    a: &AlertSinkConfig,
    r: &Response,
) -> Result<(), EdgeError> {
    let wanted = a.wants(r);
    if !wanted && r.rev <= 1 {
        return Ok(()); // nothing can be scheduled for a response seen for the first time
    }
    let object = response_object(l, &r.site, &r.survey);
    let answer = close_loop::call(
        env,
        l,
        &object,
        &json!({
            "op": "alert_plan", "sink": a.name, "id": r.id, "wanted": wanted,
            "comment": r.comment.is_some(), "grace_ms": a.grace_ms,
        }),
    )
    .await?;
    let Some(delay_ms) = answer
        .strip_prefix("due:")
        .and_then(|d| d.parse::<u64>().ok())
    else {
        return Ok(());
    };
    let job = AlertJob {
        kind: "alert",
        sink: &a.name,
        site: &r.site,
        id: &r.id,
        object: &object,
    };
    let delay_s = delay_ms.div_ceil(1000) as u32;
    let unavailable = |e: worker::Error| EdgeError::Unavailable(format!("alert queue: {e}"));
    let q = env.queue(&l.config.delivery.queue).map_err(unavailable)?;
    let msg = MessageBuilder::new(job);
    let msg = if delay_s > 0 {
        msg.delay_seconds(delay_s)
    } else {
        msg
    };
    q.send(msg.build()).await.map_err(unavailable)
}

/// What the consumer does with an alert job.
pub(crate) enum Action {
    /// Done (sent, nothing to send, or given up).
    Ack,
    /// Try again in this many seconds.
    Retry(u32),
    /// POST this body to `url` (the claim is held); report the result with [`finish`].
    Send {
        /// Incoming-webhook URL.
        url: String,
        /// Message body.
        body: String,
        /// Per-attempt timeout.
        timeout_ms: u32,
        /// Rev the message was built from.
        rev: u32,
    },
}

fn sink<'a>(l: &'a Loaded, name: &str) -> Option<&'a AlertSinkConfig> {
    l.config.sinks.iter().find_map(|s| match s {
        crate::local_core::config::Sink::Alert(a) if a.name == name => Some(a),
        _ => None,
    })
}

/// Claims the alert and builds the message from the latest stored rev.
pub(crate) async fn prepare(
    env: &Env,
    l: &Loaded,
    db: Option<&worker::D1Database>,
    sink_name: &str,
    site: &str,
    id: &str,
    object: &str,
) -> Action {
    let Some(a) = sink(l, sink_name) else {
        worker::console_error!("nps-worker alert: unknown sink {sink_name}, job dropped");
        return Action::Ack;
    };
    let claim =
        json!({"op": "alert_claim", "sink": a.name, "id": id, "lease_ms": a.timeout_ms + 5000});
    let answer = match close_loop::call(env, l, object, &claim).await {
        Ok(v) => v,
        Err(e) => {
            worker::console_error!("nps-worker alert {id}: {e}");
            return Action::Retry(5);
        }
    };
    if let Some(ms) = answer
        .strip_prefix("wait:")
        .and_then(|m| m.parse::<u64>().ok())
    {
        return Action::Retry(ms.div_ceil(1000).max(1) as u32);
    }
    if !answer.starts_with("send:") {
        return Action::Ack; // already sent, given up or cancelled
    }
    let latest = match db {
        Some(db) => crate::sinks::d1::latest_response(db, site, id).await,
        None => Ok(None),
    };
    let (r, received_ms) = match latest {
        Ok(Some(x)) => x,
        Ok(None) => {
            let _ = finish(env, l, sink_name, id, object, "cancel", 0).await;
            return Action::Ack;
        }
        Err(e) => {
            worker::console_error!("nps-worker alert {id}: d1: {e}");
            let _ = finish(env, l, sink_name, id, object, "release", 0).await;
            return Action::Retry(5);
        }
    };
    if !a.wants(&r) {
        // Changed to a score this sink does not alert on, after the plan was made.
        let _ = finish(env, l, sink_name, id, object, "cancel", 0).await;
        return Action::Ack;
    }
    Action::Send {
        url: a.url.clone(),
        body: message(a.format, &r, received_ms, a.report_url.as_deref()),
        timeout_ms: a.timeout_ms.min(u64::from(u32::MAX)) as u32,
        rev: r.rev,
    }
}

/// Records the outcome of a claimed alert: `sent`, `failed`, `release` or `cancel`.
pub(crate) async fn finish(
    env: &Env,
    l: &Loaded,
    sink: &str,
    id: &str,
    object: &str,
    result: &str,
    rev: u32,
) -> Result<(), EdgeError> {
    close_loop::call(
        env,
        l,
        object,
        &json!({"op": "alert_done", "sink": sink, "id": id, "result": result, "rev": rev}),
    )
    .await
    .map(|_| ())
}
