//! Token bucket, as a pure function: the runtime stores the [`Bucket`] (memory natively, a
//! Durable Object or an isolate-local map on Cloudflare) and passes it back in with the time.

use crate::config::RateLimit;
use crate::error::EdgeError;

/// Stored state of one bucket.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    /// Tokens left (fractional: refills continuously).
    pub tokens: f64,
    /// When `tokens` was computed, ms since the epoch.
    pub updated_ms: u64,
}

impl Bucket {
    /// A full bucket at `now_ms`.
    pub fn full(limit: &RateLimit, now_ms: u64) -> Bucket {
        Bucket {
            tokens: f64::from(limit.burst),
            updated_ms: now_ms,
        }
    }

    /// True when the bucket would be full at `now_ms`: it can be forgotten (memory bound).
    pub fn is_idle(&self, limit: &RateLimit, now_ms: u64) -> bool {
        refill(self, limit, now_ms).tokens >= f64::from(limit.burst)
    }
}

fn refill(b: &Bucket, limit: &RateLimit, now_ms: u64) -> Bucket {
    // A clock that went backwards refills nothing rather than underflowing.
    let elapsed = now_ms.saturating_sub(b.updated_ms) as f64;
    let per_ms = f64::from(limit.per_minute) / 60_000.0;
    Bucket {
        tokens: (b.tokens + elapsed * per_ms).min(f64::from(limit.burst)),
        updated_ms: now_ms.max(b.updated_ms),
    }
}

/// Takes one token. Returns the new state to store and `Ok(())`, or the state and
/// [`EdgeError::RateLimited`] with the whole seconds until a token is available (≥ 1).
/// `None` = no bucket yet (starts full).
pub fn take(
    bucket: Option<Bucket>,
    now_ms: u64,
    limit: &RateLimit,
) -> (Bucket, Result<(), EdgeError>) {
    let b = refill(
        &bucket.unwrap_or_else(|| Bucket::full(limit, now_ms)),
        limit,
        now_ms,
    );
    if b.tokens >= 1.0 {
        (
            Bucket {
                tokens: b.tokens - 1.0,
                ..b
            },
            Ok(()),
        )
    } else {
        let per_ms = f64::from(limit.per_minute) / 60_000.0;
        let wait_ms = ((1.0 - b.tokens) / per_ms).ceil();
        let secs = ((wait_ms / 1000.0).ceil() as u64).max(1);
        (b, Err(EdgeError::RateLimited(secs)))
    }
}

/// Bucket key for a site and a hashed client ([`crate::iphash`]).
pub fn key(site: &str, client_hash: &str) -> String {
    format!("{site}|{client_hash}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refill() {
        let lim = RateLimit {
            per_minute: 60,
            burst: 3,
        };
        let mut b = None;
        for _ in 0..3 {
            let (nb, r) = take(b, 1_000, &lim);
            assert!(r.is_ok());
            b = Some(nb);
        }
        let (nb, r) = take(b, 1_000, &lim);
        assert_eq!(r, Err(EdgeError::RateLimited(1)));
        // One token per second at 60/min.
        let (nb, r) = take(Some(nb), 2_000, &lim);
        assert!(r.is_ok());
        assert!(!nb.is_idle(&lim, 2_000));
        assert!(nb.is_idle(&lim, 10_000));
    }

    #[test]
    fn retry_after_rounds_up() {
        let lim = RateLimit {
            per_minute: 1,
            burst: 1,
        };
        let (b, _) = take(None, 0, &lim);
        let (_, r) = take(Some(b), 0, &lim);
        assert_eq!(r, Err(EdgeError::RateLimited(60)));
    }

    #[test]
    fn clock_going_back_is_harmless() {
        let lim = RateLimit {
            per_minute: 60,
            burst: 1,
        };
        let (b, _) = take(None, 10_000, &lim);
        let (b2, r) = take(Some(b), 5_000, &lim);
        assert!(r.is_err());
        assert_eq!(b2.updated_ms, 10_000);
    }
}
