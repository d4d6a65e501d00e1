//! Webhook sink, producer side: the payload (the native server's, from the core) is built once at
//! acceptance, so every retry sends the same bytes; what goes to the queue is the sink name, the
//! stable `webhook-id` and the payload. Signing happens per attempt (fresh timestamp).

use nps_edge_core::payload::response_payload;
use nps_edge_core::webhook::message_id;
use nps_protocol::Response;
use serde::Serialize;
use worker::{Queue, Result};

/// One queued delivery.
#[derive(Serialize)]
pub(crate) struct Delivery<'a> {
    /// Webhook sink name from the config.
    pub(crate) sink: &'a str,
    /// `webhook-id` header (stable across retries).
    pub(crate) id: String,
    /// JSON body to POST.
    pub(crate) payload: String,
}

/// Puts the response on the delivery queue (durable before the 202 is sent).
pub(crate) async fn enqueue(
    queue: &Queue,
    sink: &str,
    r: &Response,
    received_ms: u64,
) -> Result<()> {
    let msg = Delivery {
        sink,
        id: message_id(&r.id, r.rev),
        payload: response_payload(r, received_ms),
    };
    queue.send(&msg).await
}
