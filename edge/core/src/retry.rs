//! Delivery outcomes and the retry schedule, as pure functions (jitter is passed in).

use crate::config::RetryPolicy;

/// Longest `Retry-After` we honour, so a receiver cannot park a delivery for days.
pub const MAX_RETRY_AFTER_MS: u64 = 3_600_000;

/// What one delivery attempt came to, as seen by the sink.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// HTTP status received, with `Retry-After` in seconds when sent.
    Status(u16, Option<u64>),
    /// No answer (connection refused, timeout, DNS…).
    NoResponse,
}

/// What to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Delivered (2xx).
    Done,
    /// Try again in this many ms.
    RetryIn(u64),
    /// Give up on this message: keep it as a dead letter.
    DeadLetter,
    /// The receiver said 410 Gone: disable the whole sink (its messages stay pending).
    DisableSink,
}

/// Delay before attempt `attempt + 1` after `attempt` failures (attempt ≥ 1): exponential from
/// `base_ms`, capped at `max_ms`, scaled by `0.5 + jitter / 2` with `jitter` in `[0, 1)` so
/// retries of many messages spread out instead of arriving together ("equal jitter").
pub fn backoff_ms(policy: &RetryPolicy, attempt: u32, jitter: f64) -> u64 {
    let exp = attempt.saturating_sub(1).min(40);
    let raw = policy
        .base_ms
        .saturating_mul(1u64 << exp)
        .min(policy.max_ms);
    let j = if jitter.is_finite() {
        jitter.clamp(0.0, 1.0)
    } else {
        0.0
    };
    ((raw as f64) * (0.5 + j / 2.0)).round() as u64
}

/// Classifies an attempt. `attempts` counts attempts made so far, this one included.
pub fn next(policy: &RetryPolicy, outcome: Attempt, attempts: u32, jitter: f64) -> Next {
    let retry_after_ms = match outcome {
        Attempt::Status(s, _) if (200..300).contains(&s) => return Next::Done,
        Attempt::Status(410, _) => return Next::DisableSink,
        Attempt::Status(_, ra) => ra.map(|s| s.saturating_mul(1000).min(MAX_RETRY_AFTER_MS)),
        Attempt::NoResponse => None,
    };
    if attempts >= policy.max_attempts {
        return Next::DeadLetter;
    }
    let delay = backoff_ms(policy, attempts, jitter);
    Next::RetryIn(retry_after_ms.map_or(delay, |ra| ra.max(delay)))
}

/// A delay in whole seconds, rounded up and at least 1: the unit of Cloudflare Queues
/// `message.retry({ delaySeconds })`, for a [`Next::RetryIn`] computed by [`next`].
pub fn delay_secs(delay_ms: u64) -> u32 {
    u32::try_from(delay_ms.div_ceil(1000))
        .unwrap_or(u32::MAX)
        .max(1)
}

/// Parses a `Retry-After` header: delta-seconds only (an HTTP-date needs a clock; treated as
/// absent, so normal backoff applies).
pub fn parse_retry_after(v: &str) -> Option<u64> {
    v.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: RetryPolicy = RetryPolicy {
        base_ms: 1000,
        max_ms: 60_000,
        max_attempts: 5,
    };

    #[test]
    fn schedule_grows_and_caps() {
        assert_eq!(backoff_ms(&P, 1, 1.0), 1000);
        assert_eq!(backoff_ms(&P, 1, 0.0), 500);
        assert_eq!(backoff_ms(&P, 3, 1.0), 4000);
        assert_eq!(backoff_ms(&P, 30, 1.0), 60_000);
        assert_eq!(backoff_ms(&P, u32::MAX, f64::NAN), 30_000);
    }

    #[test]
    fn outcomes() {
        assert_eq!(next(&P, Attempt::Status(204, None), 1, 0.5), Next::Done);
        assert_eq!(
            next(&P, Attempt::Status(410, None), 1, 0.5),
            Next::DisableSink
        );
        assert_eq!(
            next(&P, Attempt::Status(503, None), 1, 1.0),
            Next::RetryIn(1000)
        );
        assert_eq!(
            next(&P, Attempt::Status(429, Some(30)), 1, 1.0),
            Next::RetryIn(30_000)
        );
        assert_eq!(
            next(&P, Attempt::Status(429, Some(999_999)), 1, 1.0),
            Next::RetryIn(MAX_RETRY_AFTER_MS)
        );
        assert_eq!(next(&P, Attempt::NoResponse, 5, 1.0), Next::DeadLetter);
        assert_eq!(parse_retry_after(" 12 "), Some(12));
    }

    #[test]
    fn whole_seconds_round_up() {
        assert_eq!(delay_secs(0), 1);
        assert_eq!(delay_secs(500), 1);
        assert_eq!(delay_secs(1000), 1);
        assert_eq!(delay_secs(1001), 2);
        assert_eq!(delay_secs(MAX_RETRY_AFTER_MS), 3600);
        assert_eq!(delay_secs(u64::MAX), u32::MAX);
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }
}
