//! Per-token rate limits: a token bucket per token, in this node's memory. A node enforces
//! its own budget; with several nodes behind a balancer a token's total is at most the sum.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use axum::http::StatusCode;

use crate::error::ApiError;

/// How many requests a token may make: `per_second` on average, `burst` at once.
#[derive(Debug, Clone, Copy)]
pub struct RateLimit {
    /// Sustained requests per second.
    pub per_second: f64,
    /// Requests allowed back to back after a quiet spell.
    pub burst: u32,
}

/// Most tokens tracked at once; past it, full buckets are forgotten (a full bucket is the
/// same as no bucket).
const MAX_TRACKED: usize = 100_000;

/// Buckets by token key.
pub(crate) struct Limiter {
    limit: RateLimit,
    buckets: Mutex<HashMap<String, Bucket>>,
}

/// One token's bucket.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Limiter {
    /// A limiter allowing `limit` per token.
    pub(crate) fn new(limit: RateLimit) -> Self {
        Limiter {
            limit,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Take one request from `key`'s bucket, or say how long to wait.
    pub(crate) fn charge(&self, key: &str) -> Result<(), ApiError> {
        self.charge_at(key, Instant::now())
    }

    fn charge_at(&self, key: &str, now: Instant) -> Result<(), ApiError> {
        let burst = f64::from(self.limit.burst.max(1));
        let rate = self.limit.per_second.max(0.001);
        // A poisoned lock only means another request panicked mid-update; the map is still
        // a valid map.
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() >= MAX_TRACKED {
            buckets.retain(|_, b| b.tokens + now.duration_since(b.at).as_secs_f64() * rate < burst);
        }
        let bucket = buckets.entry(key.to_owned()).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        let refilled = now.duration_since(bucket.at).as_secs_f64() * rate;
        bucket.tokens = (bucket.tokens + refilled).min(burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            return Ok(());
        }
        let wait = ((1.0 - bucket.tokens) / rate).ceil().max(1.0) as u64;
        let mut err = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate-limited",
            format!(
                "this token made more than {} requests a second; try again in {wait} s",
                self.limit.per_second
            ),
        );
        err.retry_after = Some(wait);
        Err(err)
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::{Limiter, RateLimit};

    #[test]
    fn a_token_past_its_burst_waits_and_others_do_not() {
        let limiter = Limiter::new(RateLimit {
            per_second: 2.0,
            burst: 3,
        });
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(limiter.charge_at("a", t0).is_ok());
        }
        let refused = limiter.charge_at("a", t0).err();
        assert_eq!(refused.map(|e| e.status.as_u16()), Some(429));
        assert!(
            limiter.charge_at("b", t0).is_ok(),
            "another token has its own bucket"
        );
        assert!(
            limiter
                .charge_at("a", t0 + Duration::from_millis(600))
                .is_ok()
        );
    }
}
