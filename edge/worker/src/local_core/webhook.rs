//! The queue consumer's retry schedule (SHOULD MOVE TO CORE: `nps_edge_core::retry` has a
//! `RetryPolicy` in ms with its own outcome type; the Queue wants whole seconds and classifies a
//! 410 as "stop and keep a dead letter"). The payload and Standard Webhooks signing come from
//! `nps_edge_core::{payload, webhook}`.

/// What to do after one delivery attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// 2xx: done.
    Delivered,
    /// 410: the receiver is gone; stop (dead-letter it).
    Gone,
    /// Anything else: retry after this many seconds.
    Retry(u32),
}

/// Classifies an attempt (`status` 0 = network error/timeout) and picks the next delay:
/// exponential from `base`, capped at `max`, with `jitter` in [0,1) adding up to +25 %, and at
/// least `Retry-After` when the receiver sent one.
pub fn outcome(
    status: u16,
    retry_after: Option<u32>,
    attempt: u32,
    base: u32,
    max: u32,
    jitter: f64,
) -> Outcome {
    match status {
        200..=299 => Outcome::Delivered,
        410 => Outcome::Gone,
        _ => {
            let exp = u64::from(base) << attempt.saturating_sub(1).min(20);
            let capped = exp.min(u64::from(max)) as f64;
            let delay = (capped * (1.0 + 0.25 * jitter.clamp(0.0, 1.0))).round() as u32;
            Outcome::Retry(delay.max(retry_after.unwrap_or(0)).min(max.max(1)).max(1))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff() {
        assert_eq!(outcome(204, None, 1, 2, 600, 0.0), Outcome::Delivered);
        assert_eq!(outcome(410, None, 1, 2, 600, 0.0), Outcome::Gone);
        assert_eq!(outcome(500, None, 1, 2, 600, 0.0), Outcome::Retry(2));
        assert_eq!(outcome(500, None, 4, 2, 600, 0.0), Outcome::Retry(16));
        assert_eq!(outcome(503, Some(30), 1, 2, 600, 0.0), Outcome::Retry(30));
        assert_eq!(outcome(0, None, 30, 2, 600, 0.99), Outcome::Retry(600));
    }
}
