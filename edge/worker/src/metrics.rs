//! Prometheus counters of this isolate (a Worker has no shared memory across isolates: scrape
//! several times or sum in your metrics pipeline; durable totals live in D1).

use std::cell::RefCell;

use nps_edge_core::error::EdgeError;

#[derive(Default)]
struct Counters {
    accepted: u64,
    updated: u64,
    duplicates: u64,
    events: u64,
    rejected: [u64; EdgeError::REASONS.len()],
    deliveries: u64,
    retries: u64,
    dead_letters: u64,
    queue_sent: u64,
    alerts_sent: u64,
}

thread_local! {
    static C: RefCell<Counters> = RefCell::new(Counters::default());
}

/// Which counter to bump.
#[derive(Clone, Copy)]
pub(crate) enum Metric {
    Accepted,
    Updated,
    Duplicate,
    Event,
    Delivered,
    Retry,
    DeadLetter,
    QueueSent,
    AlertSent,
}

pub(crate) fn inc(m: Metric) {
    C.with(|c| {
        let mut c = c.borrow_mut();
        match m {
            Metric::Accepted => c.accepted += 1,
            Metric::Updated => c.updated += 1,
            Metric::Duplicate => c.duplicates += 1,
            Metric::Event => c.events += 1,
            Metric::Delivered => c.deliveries += 1,
            Metric::Retry => c.retries += 1,
            Metric::DeadLetter => c.dead_letters += 1,
            Metric::QueueSent => c.queue_sent += 1,
            Metric::AlertSent => c.alerts_sent += 1,
        }
    });
}

pub(crate) fn rejected(reason: &str) {
    if let Some(i) = EdgeError::REASONS.iter().position(|r| *r == reason) {
        C.with(|c| c.borrow_mut().rejected[i] += 1);
    }
}

/// Prometheus text exposition.
pub(crate) fn render() -> String {
    C.with(|c| {
        let c = c.borrow();
        let mut s = String::with_capacity(1024);
        let mut line = |name: &str, help: &str, v: u64| {
            s.push_str("# HELP ");
            s.push_str(name);
            s.push(' ');
            s.push_str(help);
            s.push_str("\n# TYPE ");
            s.push_str(name);
            s.push_str(" counter\n");
            s.push_str(name);
            s.push(' ');
            s.push_str(&v.to_string());
            s.push('\n');
        };
        line("nps_responses_accepted_total", "New responses accepted.", c.accepted);
        line("nps_responses_updated_total", "Higher revs of known responses accepted.", c.updated);
        line("nps_responses_duplicate_total", "Duplicates answered 202 and not stored.", c.duplicates);
        line("nps_events_accepted_total", "Events accepted.", c.events);
        line("nps_queue_sent_total", "Responses handed to the delivery queue.", c.queue_sent);
        line("nps_sink_deliveries_total", "Webhook deliveries that got a 2xx.", c.deliveries);
        line("nps_sink_retries_total", "Webhook attempts that will be retried.", c.retries);
        line("nps_alerts_sent_total", "Chat alerts delivered (2xx).", c.alerts_sent);
        line("nps_dead_letters_total", "Deliveries moved to the dead-letter store.", c.dead_letters);
        s.push_str("# HELP nps_requests_rejected_total Refused requests by reason.\n# TYPE nps_requests_rejected_total counter\n");
        for (i, r) in EdgeError::REASONS.iter().enumerate() {
            s.push_str("nps_requests_rejected_total{reason=\"");
            s.push_str(r);
            s.push_str("\"} ");
            s.push_str(&c.rejected[i].to_string());
            s.push('\n');
        }
        s
    })
}
