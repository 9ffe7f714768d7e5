//! Per-installation circuit breakers: after repeated failures an installation's deliveries
//! stop taking dispatcher slots for a cool-down, then one probe is let through (half-open);
//! its success closes the breaker, its failure opens it again for twice as long. Plain data
//! driven by the caller's clock; each node keeps its own.

use std::collections::HashMap;

use crate::ids::InstallationId;

/// Failures in a row that open a breaker.
pub const OPEN_AFTER: u32 = 5;
/// The first cool-down, in milliseconds; it doubles on each failed probe.
pub const FIRST_COOL_DOWN_MS: i64 = 30_000;
/// The longest cool-down, in milliseconds.
pub const MAX_COOL_DOWN_MS: i64 = 10 * 60_000;

/// Whether a claimed delivery of an installation may run now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admit {
    /// Closed: run it.
    Run,
    /// Half-open: run it as the one probe.
    Probe,
    /// Open (or a probe is out): give it back, due at this time.
    Wait(i64),
}

#[derive(Debug, Clone, Default)]
struct Breaker {
    failures: u32,
    open_until: Option<i64>,
    cool_down: i64,
    probing: bool,
}

/// Every installation's breaker on this node.
#[derive(Debug, Default)]
pub struct Breakers {
    map: HashMap<InstallationId, Breaker>,
}

impl Breakers {
    /// May a delivery of `id` run at `now`?
    pub fn admit(&mut self, id: &InstallationId, now: i64) -> Admit {
        let Some(b) = self.map.get_mut(id) else {
            return Admit::Run;
        };
        match b.open_until {
            None => Admit::Run,
            Some(until) if now < until => Admit::Wait(until),
            Some(_) if b.probing => Admit::Wait(now.saturating_add(1_000)),
            Some(_) => {
                b.probing = true;
                Admit::Probe
            }
        }
    }

    /// A try of `id` ended: `ok` when it was delivered (or failed for a reason retrying
    /// cannot help, which the hold takes care of), not when it is to be retried.
    pub fn record(&mut self, id: &InstallationId, ok: bool, now: i64) {
        if ok {
            self.map.remove(id);
            return;
        }
        let b = self.map.entry(id.clone()).or_default();
        b.failures = b.failures.saturating_add(1);
        if b.probing || b.open_until.is_some() {
            // A failed probe (or a failure of a try admitted before the breaker opened).
            b.probing = false;
            b.cool_down =
                (b.cool_down.saturating_mul(2)).clamp(FIRST_COOL_DOWN_MS, MAX_COOL_DOWN_MS);
            b.open_until = Some(now.saturating_add(b.cool_down));
        } else if b.failures >= OPEN_AFTER {
            b.cool_down = FIRST_COOL_DOWN_MS;
            b.open_until = Some(now.saturating_add(b.cool_down));
            tracing::info!(installation = %id, failures = b.failures, "circuit breaker open");
        }
    }

    /// The installations whose deliveries would be given back at `now` (open, or with their
    /// probe out): a dispatcher does not claim them.
    pub fn shut(&self, now: i64) -> Vec<InstallationId> {
        self.map
            .iter()
            .filter(|(_, b)| b.probing || b.open_until.is_some_and(|until| now < until))
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// Whether `id`'s breaker is open (or half-open) at `now`.
    pub fn is_open(&self, id: &InstallationId) -> bool {
        self.map.get(id).is_some_and(|b| b.open_until.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_failures_open_it_one_probe_goes_through_and_a_success_closes_it() {
        let mut b = Breakers::default();
        let id = InstallationId::new("inst_a");
        for _ in 0..OPEN_AFTER - 1 {
            b.record(&id, false, 0);
            assert_eq!(b.admit(&id, 0), Admit::Run);
        }
        b.record(&id, false, 0);
        assert_eq!(b.admit(&id, 1), Admit::Wait(FIRST_COOL_DOWN_MS));
        assert_eq!(b.admit(&id, FIRST_COOL_DOWN_MS), Admit::Probe);
        assert!(
            matches!(b.admit(&id, FIRST_COOL_DOWN_MS), Admit::Wait(_)),
            "one probe at a time"
        );
        b.record(&id, true, FIRST_COOL_DOWN_MS);
        assert_eq!(b.admit(&id, FIRST_COOL_DOWN_MS), Admit::Run);
        assert!(!b.is_open(&id));
    }

    #[test]
    fn a_failed_probe_doubles_the_cool_down_up_to_the_cap() {
        let mut b = Breakers::default();
        let id = InstallationId::new("inst_a");
        for _ in 0..OPEN_AFTER {
            b.record(&id, false, 0);
        }
        let mut now = FIRST_COOL_DOWN_MS;
        let mut expected = FIRST_COOL_DOWN_MS;
        for _ in 0..8 {
            assert_eq!(b.admit(&id, now), Admit::Probe);
            b.record(&id, false, now);
            expected = (expected * 2).min(MAX_COOL_DOWN_MS);
            assert_eq!(b.admit(&id, now), Admit::Wait(now + expected));
            now += expected;
        }
        let other = InstallationId::new("inst_b");
        assert_eq!(
            b.admit(&other, now),
            Admit::Run,
            "breakers are per installation"
        );
    }
}
