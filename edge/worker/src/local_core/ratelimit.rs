//! Token bucket, state in → state out (SHOULD MOVE TO CORE: `nps_edge_core::ratelimit`).

use super::config::RateLimit;

/// A bucket's stored state.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bucket {
    /// Tokens left (fractional).
    pub tokens: f64,
    /// When `tokens` was computed, ms since the epoch.
    pub at_ms: f64,
}

/// Takes one token. `Ok(new state)` when allowed; `Err((new state, retry_after_secs))` otherwise.
pub fn take(prev: Option<Bucket>, now_ms: f64, limit: &RateLimit) -> Result<Bucket, (Bucket, u64)> {
    let burst = f64::from(limit.burst);
    let per_ms = f64::from(limit.per_minute) / 60_000.0;
    let mut b = prev.unwrap_or(Bucket {
        tokens: burst,
        at_ms: now_ms,
    });
    let elapsed = (now_ms - b.at_ms).max(0.0);
    b.tokens = (b.tokens + elapsed * per_ms).min(burst);
    b.at_ms = now_ms;
    if b.tokens >= 1.0 {
        b.tokens -= 1.0;
        Ok(b)
    } else {
        let wait_ms = (1.0 - b.tokens) / per_ms;
        Err((b, (wait_ms / 1000.0).ceil().max(1.0) as u64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refill() {
        let l = RateLimit {
            burst: 2,
            per_minute: 60,
        };
        let b = take(None, 0.0, &l).unwrap();
        let b = take(Some(b), 0.0, &l).unwrap();
        let (b, retry) = take(Some(b), 0.0, &l).unwrap_err();
        assert_eq!(retry, 1);
        assert!(take(Some(b), 1000.0, &l).is_ok());
    }
}
