//! Sinks: one trait, one file per sink. Adding a sink = a file here, one `mod` line, one arm in
//! [`build`] and one variant in `nps_edge_core::config::SinkConfig`.
//!
//! The embedded store is not a sink: it is written before the 2xx by the store writer (see
//! `sqlite.rs`). Every sink is fed from the durable outbox by its own deliverer thread
//! (`crate::delivery`).

pub mod alert;
pub mod smtp;
pub mod sqlite;
pub mod stdout;
pub mod webhook;

use std::sync::Arc;
use std::time::Duration;

use nps_edge_app::metrics::SinkCounters;
use nps_edge_core::config::SinkConfig;
use nps_edge_core::retry::{parse_retry_after, Attempt};

/// A delivery sink. Blocking: it runs on its own thread, never on a request path.
pub trait Sink: Send {
    /// One attempt at delivering `payload` (the exact bytes; `msg_id` is the stable
    /// `webhook-id`). `now_secs` is the attempt time.
    fn deliver(&mut self, msg_id: &str, payload: &str, now_secs: u64) -> (Attempt, Option<String>);
}

/// Why a sink cannot be built from its (validated, resolved) config entry.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// The `sqlite` entry is the store itself.
    #[error("the store is not a sink")]
    NotASink,
    /// A webhook's signing secret.
    #[error("secret: {0}")]
    Secret(String),
    /// A value still names its environment variable.
    #[error("url {0} is not resolved")]
    Unresolved(String),
    /// The SMTP server's URL.
    #[error("smtp url: {0}")]
    SmtpUrl(#[source] lettre::transport::smtp::Error),
    /// The SMTP sender's address.
    #[error("smtp from: {0}")]
    SmtpFrom(#[source] lettre::address::AddressError),
    /// The sink's thread cannot be started.
    #[error("thread: {0}")]
    Thread(#[from] std::io::Error),
}

/// Builds the delivery sink for a config entry.
pub fn build(
    cfg: &SinkConfig,
    db_path: &str,
    counters: Arc<SinkCounters>,
) -> Result<Box<dyn Sink>, SinkError> {
    Ok(match cfg {
        SinkConfig::Sqlite { .. } => return Err(SinkError::NotASink),
        SinkConfig::Webhook {
            url,
            secret,
            timeout_ms,
            ..
        } => Box::new(webhook::WebhookSink::new(url, secret, *timeout_ms)?),
        SinkConfig::Stdout { .. } => Box::new(stdout::StdoutSink),
        // Keeps its own state next to the store (`db_path`), see alert.rs.
        SinkConfig::Alert(a) => Box::new(alert::AlertSink::new(a, db_path, counters)?),
        SinkConfig::Smtp {
            url,
            from,
            per_minute,
            timeout_ms,
            ..
        } => Box::new(smtp::SmtpSink::new(url, from, *per_minute, *timeout_ms)?),
    })
}

/// The HTTP client of the sinks that POST (webhook, alert).
fn http_agent(timeout_ms: u64, user_agent: &str) -> ureq::Agent {
    ureq::Agent::config_builder()
        // Statuses are data here (410 disables, 429 has Retry-After), not errors.
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_millis(timeout_ms)))
        .user_agent(user_agent)
        .build()
        .into()
}

/// POSTs a JSON body and classifies the outcome for the retry policy: the status (with its
/// Retry-After) and an error text for non-2xx, or "no response".
fn post_json(
    agent: &ureq::Agent,
    url: &str,
    headers: &[(&str, String)],
    body: &str,
) -> (Attempt, Option<String>) {
    let mut req = agent.post(url).header("content-type", "application/json");
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    match req.send(body) {
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
