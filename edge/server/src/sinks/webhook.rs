//! `webhook`: POST per message, signed with Standard Webhooks v1 (`nps_edge_core::webhook`).
//! The signature is recomputed per attempt (fresh `webhook-timestamp`), the `webhook-id` and body
//! never change, so receivers dedupe on `webhook-id`.

use std::time::Duration;

use nps_edge_core::retry::{parse_retry_after, Attempt};
use nps_edge_core::webhook::{headers, WebhookSecret};

use super::Sink;

/// A webhook receiver.
pub struct WebhookSink {
    url: String,
    secret: WebhookSecret,
    agent: ureq::Agent,
}

impl WebhookSink {
    /// `secret` must already be resolved (`whsec_…`).
    pub fn new(url: &str, secret: &str, timeout_ms: u64) -> Result<WebhookSink, String> {
        let secret = WebhookSecret::parse(secret)?;
        let agent: ureq::Agent = ureq::Agent::config_builder()
            // Statuses are data here (410 disables, 429 has Retry-After), not errors.
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_millis(timeout_ms)))
            .user_agent("nps-edge")
            .build()
            .into();
        Ok(WebhookSink {
            url: url.to_string(),
            secret,
            agent,
        })
    }
}

impl Sink for WebhookSink {
    fn deliver(&mut self, msg_id: &str, payload: &str, now_secs: u64) -> (Attempt, Option<String>) {
        let mut req = self
            .agent
            .post(&self.url)
            .header("content-type", "application/json");
        for (k, v) in headers(&self.secret, msg_id, now_secs, payload.as_bytes()) {
            req = req.header(k, &v);
        }
        match req.send(payload) {
            Ok(resp) => {
                let status = resp.status().as_u16();
                let ra = resp
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(parse_retry_after);
                let err = (!(200..300).contains(&status)).then(|| format!("HTTP {status}"));
                (Attempt::Status(status, ra), err)
            }
            Err(e) => (Attempt::NoResponse, Some(e.to_string())),
        }
    }
}
