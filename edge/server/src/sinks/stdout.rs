//! `stdout`: one JSON line per message, for piping into anything (`nps-edge | jq`, vector…).

use std::io::Write;

use nps_edge_core::retry::Attempt;

use super::Sink;

/// Writes payloads to standard output.
pub struct StdoutSink;

impl Sink for StdoutSink {
    fn deliver(
        &mut self,
        _msg_id: &str,
        payload: &str,
        _now_secs: u64,
    ) -> (Attempt, Option<String>) {
        let mut out = std::io::stdout().lock();
        // A closed pipe is a failed attempt (retried), not a crash.
        match writeln!(out, "{payload}").and_then(|_| out.flush()) {
            Ok(()) => (Attempt::Status(200, None), None),
            Err(e) => (Attempt::NoResponse, Some(e.to_string())),
        }
    }
}
