//! Deliverers: one thread per delivery sink, draining its outbox rows in order, recording each
//! outcome through the store writer (so the outbox has one writer). Retries follow
//! `nps_edge_core::retry`; a restart simply finds the pending rows again.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Receiver;
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use nps_edge_core::config::RetryPolicy;
use nps_edge_core::retry::{self, Attempt, Next};

use crate::sinks::Sink;
use crate::store::{self, DeliveryResult, Store};
use crate::{now_ms, Rng};
use nps_edge_app::metrics::SinkCounters;

/// Rows fetched per round.
const BATCH: usize = 64;
/// Longest sleep when idle (also the poll interval for a disabled sink).
const IDLE_MS: u64 = 1000;

/// Everything one deliverer needs.
pub struct Deliverer {
    /// Sink name (outbox key).
    pub name: String,
    /// The sink.
    pub sink: Box<dyn Sink>,
    /// Retry schedule.
    pub policy: RetryPolicy,
    /// Counters.
    pub counters: Arc<SinkCounters>,
    /// Woken when the writer adds rows for this sink.
    pub poke: Receiver<()>,
}

/// Starts the thread; it stops when `stop` is set (checked at least every second).
pub fn spawn(
    mut d: Deliverer,
    store: Store,
    stop: Arc<AtomicBool>,
) -> std::io::Result<JoinHandle<()>> {
    thread::Builder::new()
        .name(format!("nps-deliver-{}", d.name))
        .spawn(move || run(&mut d, &store, &stop))
}

fn run(d: &mut Deliverer, store: &Store, stop: &AtomicBool) {
    let mut rng = Rng::new();
    let conn = loop {
        match store.reader() {
            Ok(c) => break c,
            Err(e) => {
                tracing::error!(sink = %d.name, error = %e, "deliverer cannot open store");
                if stop.load(Ordering::Relaxed) {
                    return;
                }
                thread::sleep(Duration::from_millis(IDLE_MS));
            }
        }
    };
    while !stop.load(Ordering::Relaxed) {
        if store::is_disabled(&conn, &d.name).unwrap_or(false) {
            let _ = d.poke.recv_timeout(Duration::from_millis(IDLE_MS));
            continue;
        }
        let now = now_ms();
        let rows = store::due(&conn, &d.name, now, BATCH).unwrap_or_default();
        if rows.is_empty() {
            let wait = match store::next_due(&conn, &d.name) {
                Ok(Some(t)) => t.saturating_sub(now).clamp(1, IDLE_MS),
                _ => IDLE_MS,
            };
            let _ = d.poke.recv_timeout(Duration::from_millis(wait));
            continue;
        }
        let mut results = Vec::with_capacity(rows.len());
        let mut unreachable = false;
        for row in rows {
            let unsent = match store::still_wanted(&conn, &row.msg_id) {
                Ok(true) => None,
                // Its person was erased: the row goes, nothing is sent.
                Ok(false) => {
                    tracing::info!(sink = %d.name, "delivery dropped: its invitation was erased");
                    Some((Next::Done, None))
                }
                // Not known: sent on a later round, never without the check.
                Err(e) => {
                    tracing::warn!(sink = %d.name, error = %e, "cannot check an invitation");
                    Some((Next::RetryIn(IDLE_MS), Some(e.to_string())))
                }
            };
            if let Some((next, error)) = unsent {
                results.push(DeliveryResult {
                    seq: row.seq,
                    msg_id: row.msg_id.clone(),
                    attempts: row.attempts,
                    next,
                    error,
                });
                continue;
            }
            let (attempt, error) = d.sink.deliver(&row.msg_id, &row.payload, now_ms() / 1000);
            let attempts = row.attempts.saturating_add(1);
            let next = retry::next(&d.policy, attempt, attempts, rng.unit());
            match next {
                Next::Done => d.counters.delivered.fetch_add(1, Ordering::Relaxed),
                Next::RetryIn(_) => d.counters.retries.fetch_add(1, Ordering::Relaxed),
                Next::DeadLetter => d.counters.dead_letters.fetch_add(1, Ordering::Relaxed),
                Next::DisableSink => 0,
            };
            let disable = next == Next::DisableSink;
            if disable || matches!(next, Next::DeadLetter) {
                tracing::warn!(
                    sink = %d.name,
                    webhook_id = %row.msg_id,
                    error = error.as_deref().unwrap_or(""),
                    "{}",
                    if disable { "sink disabled by 410 Gone" } else { "dead letter" },
                );
            }
            results.push(DeliveryResult {
                seq: row.seq,
                msg_id: row.msg_id.clone(),
                attempts,
                next,
                error,
            });
            if disable {
                break;
            }
            // A receiver that does not answer at all is down for every row: stop this round
            // (the row is rescheduled with backoff) instead of waiting out a timeout per row.
            if attempt == Attempt::NoResponse {
                unreachable = true;
                break;
            }
        }
        if let Err(e) = store.record_deliveries(&d.name, results, now_ms()) {
            tracing::error!(sink = %d.name, error = %e, "cannot record deliveries");
            thread::sleep(Duration::from_millis(IDLE_MS));
        }
        if unreachable {
            // Probe a down receiver once per base delay, not once per row.
            thread::sleep(Duration::from_millis(d.policy.base_ms.min(IDLE_MS)));
        }
    }
}
