//! Counters for `/metrics` (Prometheus text format 0.0.4). Lock-free atomics on the request
//! path; outbox gauges (queue depth, dead letters) are read from the store when scraped, so
//! they are exact and survive restarts.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

use nps_edge_core::EdgeError;

/// Per-sink delivery counters.
#[derive(Default)]
pub struct SinkCounters {
    /// Successful deliveries.
    pub delivered: AtomicU64,
    /// Failed attempts that were rescheduled.
    pub retries: AtomicU64,
    /// Messages turned into dead letters by this process.
    pub dead_letters: AtomicU64,
}

/// All counters.
#[derive(Default)]
pub struct Metrics {
    /// Responses answered `accepted`.
    pub accepted: AtomicU64,
    /// Responses answered `updated`.
    pub updated: AtomicU64,
    /// Duplicates by id+rev.
    pub duplicate_id: AtomicU64,
    /// Duplicates by respondent.
    pub duplicate_respondent: AtomicU64,
    /// Events stored.
    pub events_accepted: AtomicU64,
    /// Events already stored.
    pub events_duplicate: AtomicU64,
    rejected: [AtomicU64; EdgeError::REASONS.len()],
    /// By sink name (fixed at start-up).
    pub sinks: BTreeMap<String, Arc<SinkCounters>>,
}

impl Metrics {
    /// Counters for these delivery sinks.
    pub fn new(sinks: &[String]) -> Metrics {
        Metrics {
            sinks: sinks.iter().map(|s| (s.clone(), Arc::default())).collect(),
            ..Default::default()
        }
    }

    /// Counts a refused request.
    pub fn reject(&self, e: &EdgeError) {
        if let Some(i) = EdgeError::REASONS.iter().position(|r| *r == e.reason()) {
            self.rejected[i].fetch_add(1, Relaxed);
        }
    }

    /// Renders the text format. `outbox` = (sink, pending, dead); `disabled` = sink names.
    pub fn render(&self, outbox: &[(String, i64, i64)], disabled: &[String]) -> String {
        let mut s = String::with_capacity(2048);
        let mut counter = |name: &str, help: &str, series: &[(String, u64)]| {
            let _ = writeln!(s, "# HELP {name} {help}\n# TYPE {name} counter");
            for (labels, v) in series {
                let _ = writeln!(s, "{name}{labels} {v}");
            }
        };
        let g = |a: &AtomicU64| a.load(Relaxed);
        counter(
            "nps_responses_total",
            "Responses answered 202, by status.",
            &[
                ("{status=\"accepted\"}".into(), g(&self.accepted)),
                ("{status=\"updated\"}".into(), g(&self.updated)),
                (
                    "{status=\"duplicate\"}".into(),
                    g(&self.duplicate_id) + g(&self.duplicate_respondent),
                ),
            ],
        );
        counter(
            "nps_duplicates_total",
            "Duplicate responses, by rule.",
            &[
                ("{kind=\"id\"}".into(), g(&self.duplicate_id)),
                (
                    "{kind=\"respondent\"}".into(),
                    g(&self.duplicate_respondent),
                ),
            ],
        );
        counter(
            "nps_events_total",
            "Events answered 202, by status.",
            &[
                ("{status=\"accepted\"}".into(), g(&self.events_accepted)),
                ("{status=\"duplicate\"}".into(), g(&self.events_duplicate)),
            ],
        );
        let rejected: Vec<_> = EdgeError::REASONS
            .iter()
            .zip(&self.rejected)
            .map(|(r, a)| (format!("{{reason=\"{r}\"}}"), g(a)))
            .collect();
        counter(
            "nps_rejected_total",
            "Requests refused, by reason.",
            &rejected,
        );
        let per_sink = |f: fn(&SinkCounters) -> &AtomicU64| -> Vec<(String, u64)> {
            self.sinks
                .iter()
                .map(|(n, c)| (format!("{{sink=\"{n}\"}}"), f(c).load(Relaxed)))
                .collect()
        };
        counter(
            "nps_sink_deliveries_total",
            "Successful sink deliveries.",
            &per_sink(|c| &c.delivered),
        );
        counter(
            "nps_sink_retries_total",
            "Failed delivery attempts rescheduled.",
            &per_sink(|c| &c.retries),
        );
        let mut gauge = |name: &str, help: &str, f: &dyn Fn(&str) -> i64| {
            let _ = writeln!(s, "# HELP {name} {help}\n# TYPE {name} gauge");
            for n in self.sinks.keys() {
                let _ = writeln!(s, "{name}{{sink=\"{n}\"}} {}", f(n));
            }
        };
        let find = |n: &str| outbox.iter().find(|(s, _, _)| s == n);
        gauge("nps_queue_depth", "Messages waiting in the outbox.", &|n| {
            find(n).map_or(0, |r| r.1)
        });
        gauge(
            "nps_dead_letters",
            "Dead letters kept in the store.",
            &|n| find(n).map_or(0, |r| r.2),
        );
        gauge(
            "nps_sink_disabled",
            "1 when a sink was disabled by a 410.",
            &|n| i64::from(disabled.iter().any(|d| d == n)),
        );
        s
    }
}
