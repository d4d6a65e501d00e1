//! Sinks: one trait, one file per sink. Adding a sink = a file here, one `mod` line, one arm in
//! [`build`] and one variant in `nps_edge_core::config::SinkConfig`.
//!
//! The embedded store (`sqlite`) is not delivered to: it is written before the 2xx by the store
//! writer (see `sqlite.rs`). Every other sink is fed from the durable outbox by its own deliverer
//! thread (`crate::delivery`).

pub mod alert;
pub mod sqlite;
pub mod stdout;
pub mod webhook;

use nps_edge_core::config::SinkConfig;
use nps_edge_core::retry::Attempt;

/// A delivery sink. Blocking: it runs on its own thread, never on a request path.
pub trait Sink: Send {
    /// One attempt at delivering `payload` (the exact bytes; `msg_id` is the stable
    /// `webhook-id`). `now_secs` is the attempt time.
    fn deliver(&mut self, msg_id: &str, payload: &str, now_secs: u64) -> (Attempt, Option<String>);
}

/// Builds the delivery sink for a config entry (`None` for the store).
pub fn build(cfg: &SinkConfig, db_path: &str) -> Result<Option<Box<dyn Sink>>, String> {
    Ok(match cfg {
        SinkConfig::Sqlite { .. } => None,
        SinkConfig::Webhook {
            url,
            secret,
            timeout_ms,
            ..
        } => Some(Box::new(webhook::WebhookSink::new(
            url,
            secret,
            *timeout_ms,
        )?)),
        SinkConfig::Stdout { .. } => Some(Box::new(stdout::StdoutSink)),
        // Keeps its own state next to the store (`db_path`), see alert.rs.
        SinkConfig::Alert(a) => Some(Box::new(alert::AlertSink::new(a, db_path)?)),
    })
}
