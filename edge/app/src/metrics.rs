//! `/metrics` (Prometheus text format 0.0.4): the same families, names and labels on both
//! runtimes. Counters are lock-free atomics in the application (per process natively, per
//! isolate on the worker); outbox gauges come from the backend when it can see them. Every
//! family is always declared (`# TYPE`), with or without samples.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

use nps_edge_core::config::SinkConfig;
use nps_edge_core::dedup::{Decision, DuplicateKind, Status};

use crate::backend::SinkGauge;

/// Every reason a request is refused, for pre-declared series: the API's and the token check's.
pub const REJECT_REASONS: [&str; 17] = [
    "bad_json",
    "not_object",
    "too_large",
    "unsupported_media_type",
    "invalid",
    "unknown_site",
    "origin_not_allowed",
    "rate_limited",
    "not_found",
    "method_not_allowed",
    "unavailable",
    "suppressed",
    "identity_not_verified",
    "conflict",
    "links_off",
    "unauthorized",
    "forbidden",
];

/// Per-sink delivery counters (incremented by the runtime's deliverers).
#[derive(Default)]
pub struct SinkCounters {
    /// Successful deliveries.
    pub delivered: AtomicU64,
    /// Failed attempts that were rescheduled.
    pub retries: AtomicU64,
    /// Messages turned into dead letters.
    pub dead_letters: AtomicU64,
    /// Chat alerts posted (alert sinks).
    pub alerts_sent: AtomicU64,
}

/// All counters.
#[derive(Default)]
pub struct Metrics {
    accepted: AtomicU64,
    updated: AtomicU64,
    duplicate_id: AtomicU64,
    duplicate_respondent: AtomicU64,
    events_accepted: AtomicU64,
    events_duplicate: AtomicU64,
    rejected: [AtomicU64; REJECT_REASONS.len()],
    sinks: BTreeMap<String, Arc<SinkCounters>>,
}

impl Metrics {
    /// Counters for the configured sinks.
    pub fn new(sinks: &[SinkConfig]) -> Metrics {
        Metrics {
            sinks: sinks
                .iter()
                .map(|s| (s.name().to_string(), Arc::default()))
                .collect(),
            ..Default::default()
        }
    }

    /// The counters of a sink (a new, unregistered set for an unknown name).
    pub fn sink(&self, name: &str) -> Arc<SinkCounters> {
        self.sinks.get(name).cloned().unwrap_or_default()
    }

    /// Counts a refused request.
    pub fn reject(&self, reason: &str) {
        if let Some(i) = REJECT_REASONS.iter().position(|r| *r == reason) {
            self.rejected[i].fetch_add(1, Relaxed);
        }
    }

    /// Counts an answered response.
    pub fn response(&self, d: &Decision) {
        match (d.status, d.duplicate) {
            (Status::Accepted, _) => &self.accepted,
            (Status::Updated, _) => &self.updated,
            (Status::Duplicate, Some(DuplicateKind::Respondent)) => &self.duplicate_respondent,
            (Status::Duplicate, _) => &self.duplicate_id,
        }
        .fetch_add(1, Relaxed);
    }

    /// Counts an answered event.
    pub fn event(&self, duplicate: bool) {
        if duplicate {
            &self.events_duplicate
        } else {
            &self.events_accepted
        }
        .fetch_add(1, Relaxed);
    }

    /// The text format; `gauges` as the backend sees them (`None`: it cannot).
    pub fn render(&self, gauges: Option<&[SinkGauge]>) -> String {
        let mut s = String::with_capacity(3072);
        let g = |a: &AtomicU64| a.load(Relaxed);
        let mut family = |kind: &str, name: &str, help: &str, series: &[(String, u64)]| {
            let _ = writeln!(s, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for (labels, v) in series {
                let _ = writeln!(s, "{name}{labels} {v}");
            }
        };
        family(
            "counter",
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
        family(
            "counter",
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
        family(
            "counter",
            "nps_events_total",
            "Events answered 202, by status.",
            &[
                ("{status=\"accepted\"}".into(), g(&self.events_accepted)),
                ("{status=\"duplicate\"}".into(), g(&self.events_duplicate)),
            ],
        );
        let rejected: Vec<_> = REJECT_REASONS
            .iter()
            .zip(&self.rejected)
            .map(|(r, a)| (format!("{{reason=\"{r}\"}}"), g(a)))
            .collect();
        family(
            "counter",
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
        family(
            "counter",
            "nps_sink_deliveries_total",
            "Successful sink deliveries.",
            &per_sink(|c| &c.delivered),
        );
        family(
            "counter",
            "nps_sink_retries_total",
            "Failed delivery attempts rescheduled.",
            &per_sink(|c| &c.retries),
        );
        family(
            "counter",
            "nps_sink_dead_letters_total",
            "Messages that exhausted their retries.",
            &per_sink(|c| &c.dead_letters),
        );
        family(
            "counter",
            "nps_alerts_sent_total",
            "Chat alerts posted.",
            &per_sink(|c| &c.alerts_sent),
        );
        // Gauges for every sink when the runtime sees its outbox; declared without samples
        // when it cannot (a Queue's depth is not observable from inside a worker).
        let gauge = |f: fn(&SinkGauge) -> i64| -> Vec<(String, u64)> {
            let Some(gauges) = gauges else {
                return Vec::new();
            };
            self.sinks
                .keys()
                .map(|n| {
                    let v = gauges.iter().find(|x| &x.sink == n).map_or(0, f);
                    (format!("{{sink=\"{n}\"}}"), v.max(0) as u64)
                })
                .collect()
        };
        family(
            "gauge",
            "nps_queue_depth",
            "Messages waiting in the outbox.",
            &gauge(|x| x.pending),
        );
        family(
            "gauge",
            "nps_dead_letters",
            "Dead letters kept in the store.",
            &gauge(|x| x.dead),
        );
        family(
            "gauge",
            "nps_sink_disabled",
            "1 when a sink was disabled by a 410.",
            &gauge(|x| i64::from(x.disabled)),
        );
        s
    }
}

/// Every `EdgeError` reason is a declared series.
#[cfg(test)]
#[test]
fn every_refusal_reason_is_declared() {
    for r in nps_edge_core::EdgeError::REASONS {
        assert!(REJECT_REASONS.contains(&r), "{r}");
    }
    let m = Metrics::default();
    m.reject("forbidden");
    assert!(m
        .render(None)
        .contains("nps_rejected_total{reason=\"forbidden\"} 1"));
}
