//! `webhook`: POST per message, signed with Standard Webhooks v1 (`nps_edge_core::webhook`).
//! The signature is recomputed per attempt (fresh `webhook-timestamp`), the `webhook-id` and body
//! never change, so receivers dedupe on `webhook-id`.

use nps_edge_core::retry::Attempt;
use nps_edge_core::webhook::{headers, WebhookSecret};

use super::{http_agent, post_json, Sink, SinkError};

/// A webhook receiver.
pub struct WebhookSink {
    url: String,
    secret: WebhookSecret,
    agent: ureq::Agent,
}

impl WebhookSink {
    /// `secret` must already be resolved (`whsec_…`).
    pub fn new(url: &str, secret: &str, timeout_ms: u64) -> Result<WebhookSink, SinkError> {
        let secret = WebhookSecret::parse(secret).map_err(SinkError::Secret)?;
        let agent = http_agent(timeout_ms, "nps-edge");
        Ok(WebhookSink {
            url: url.to_string(),
            secret,
            agent,
        })
    }
}

impl Sink for WebhookSink {
    fn deliver(&mut self, msg_id: &str, payload: &str, now_secs: u64) -> (Attempt, Option<String>) {
        let headers = headers(&self.secret, msg_id, now_secs, payload.as_bytes());
        post_json(&self.agent, &self.url, &headers, payload)
    }
}
