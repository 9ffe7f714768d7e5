//! Each merchant's delivery rate on one node: a token bucket per merchant, refilled at
//! `rate` deliveries a second and holding at most a tenth of a second's worth.
//!
//! Why a rate and not only fair shares: claims already share every batch out between
//! merchants, but sharing is work-conserving. When one merchant's flood is all that is due,
//! it gets every batch, the cores and the database's write lock fill with its deliveries, and
//! the next merchant's single event waits behind that load (measured: its p99 went to 33×
//! its quiet figure). A rate keeps headroom no flood can take, at the cost of a flood being
//! delivered no faster than the rate; its events wait, durably, in the outbox.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::ids::MerchantId;

/// How many deliveries each merchant may be given by the next claim.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MerchantCaps {
    /// For merchants not in `of` (a full bucket).
    pub default: u32,
    /// Merchants whose bucket is not full.
    pub of: HashMap<MerchantId, u32>,
}

impl MerchantCaps {
    /// How many deliveries of `merchant` a claim may take.
    pub fn of(&self, merchant: &MerchantId) -> u32 {
        self.of.get(merchant).copied().unwrap_or(self.default)
    }
}

/// One merchant's bucket.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// The token buckets of a node's dispatcher, one per merchant that used some lately.
#[derive(Debug)]
pub struct MerchantRates {
    /// Deliveries a second each merchant may start.
    rate: f64,
    /// Tokens a bucket holds at most (a burst).
    burst: f64,
    buckets: HashMap<MerchantId, Bucket>,
}

impl MerchantRates {
    /// Buckets refilled at `per_second` (at least 1), each holding a tenth of a second's worth
    /// (at least one delivery): a burst short enough that the cores are never all one
    /// merchant's for long.
    pub fn new(per_second: u32) -> Self {
        let rate = f64::from(per_second.max(1));
        MerchantRates {
            rate,
            burst: (rate / 10.0).max(1.0),
            buckets: HashMap::new(),
        }
    }

    /// The caps for a claim made at `now`.
    pub fn caps(&mut self, now: Instant) -> MerchantCaps {
        let (rate, burst) = (self.rate, self.burst);
        // A bucket full again is the same as none: forget it, so the map holds only the
        // merchants that sent lately.
        self.buckets.retain(|_, b| {
            b.tokens = refilled(b, rate, burst, now);
            b.at = now;
            b.tokens < burst
        });
        MerchantCaps {
            default: whole(burst),
            of: self
                .buckets
                .iter()
                .map(|(m, b)| (m.clone(), whole(b.tokens)))
                .collect(),
        }
    }

    /// `merchant` was given `n` deliveries at `now`.
    pub fn spend(&mut self, merchant: &MerchantId, n: usize, now: Instant) {
        let (rate, burst) = (self.rate, self.burst);
        let bucket = self.buckets.entry(merchant.clone()).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        bucket.tokens = refilled(bucket, rate, burst, now) - n as f64;
        bucket.at = now;
    }

    /// How long an emptied bucket takes to hold half a burst again: the wait before claiming
    /// for a capped merchant once more (claiming for one token at a time would be a database
    /// round trip per delivery).
    pub fn refill_wait(&self) -> Duration {
        Duration::from_secs_f64((self.burst / 2.0).max(1.0) / self.rate)
    }
}

fn refilled(b: &Bucket, rate: f64, burst: f64, now: Instant) -> f64 {
    let elapsed = now.saturating_duration_since(b.at).as_secs_f64();
    (b.tokens + elapsed * rate).min(burst)
}

fn whole(tokens: f64) -> u32 {
    if tokens < 1.0 {
        0
    } else {
        // At most `burst`, which is at most u32::MAX / 10.
        tokens.floor() as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_merchant_gets_a_burst_then_its_rate() {
        let mut rates = MerchantRates::new(1_000);
        let t0 = Instant::now();
        let flood = MerchantId::new("flood");
        let quiet = MerchantId::new("quiet");
        assert_eq!(rates.caps(t0).of(&flood), 100);
        rates.spend(&flood, 100, t0);
        let caps = rates.caps(t0);
        assert_eq!(caps.of(&flood), 0);
        // Another merchant's bucket is untouched.
        assert_eq!(caps.of(&quiet), 100);
        // 10 ms later: ten more.
        assert_eq!(rates.caps(t0 + Duration::from_millis(10)).of(&flood), 10);
        assert_eq!(rates.refill_wait(), Duration::from_millis(50));
        // A full bucket again is forgotten.
        let later = t0 + Duration::from_secs(5);
        assert_eq!(
            rates.caps(later),
            MerchantCaps {
                default: 100,
                of: HashMap::new()
            }
        );
        // Listed until full again.
        rates.spend(&quiet, 1, later);
        assert_eq!(rates.caps(later).of.get(&quiet), Some(&99));
        assert!(rates.caps(later + Duration::from_millis(1)).of.is_empty());
    }

    #[test]
    fn a_slow_rate_still_allows_one_delivery() {
        let mut rates = MerchantRates::new(1);
        let t0 = Instant::now();
        let m = MerchantId::new("m");
        assert_eq!(rates.caps(t0).of(&m), 1);
        rates.spend(&m, 1, t0);
        assert_eq!(rates.caps(t0 + Duration::from_millis(500)).of(&m), 0);
        assert_eq!(rates.caps(t0 + Duration::from_secs(1)).of(&m), 1);
        assert_eq!(rates.refill_wait(), Duration::from_secs(1));
    }
}
