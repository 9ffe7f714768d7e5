//! What one try of a delivery comes to: the outcome written for it (delivered, retried on the
//! merchant's schedule, held for the merchant, dead, given back as busy or behind an open
//! circuit breaker), counted into the dispatch's [`Round`].

use std::collections::HashMap;

use crate::db::audit::AuditEntry;
use crate::db::outbox::{Claimed, Outcome};
use crate::error::Error;
use crate::ids::MerchantId;
use crate::outbox::{DeliveryState, Disposition, Hold, RetrySchedule, jitter_unit};
use crate::report::InvocationReport;

use super::Host;
use super::deliver::Round;

/// A claimed delivery and how its try went (`None`: not subscribed or granted any more),
/// with the audit lines of its call, to be written with its outcome.
pub(super) struct Tried {
    /// The claim.
    pub claim: Claimed,
    /// The call's report, or why it could not run.
    pub result: Result<Option<InvocationReport>, Error>,
    /// The call's audit lines.
    pub audit: Vec<AuditEntry>,
}

/// The retry schedule of each merchant met in a dispatch, read once.
#[derive(Default)]
pub(super) struct Schedules(HashMap<MerchantId, RetrySchedule>);

impl Schedules {
    /// Read `merchant`'s schedule unless it is known.
    pub(super) async fn load(&mut self, host: &Host, merchant: &MerchantId) -> Result<(), Error> {
        if !self.0.contains_key(merchant) {
            let schedule = host.schedule_for(merchant).await?;
            self.0.insert(merchant.clone(), schedule);
        }
        Ok(())
    }

    /// `merchant`'s schedule (the standard one if it was never loaded).
    pub(super) fn of(&self, merchant: &MerchantId) -> &RetrySchedule {
        static STANDARD: std::sync::OnceLock<RetrySchedule> = std::sync::OnceLock::new();
        self.0
            .get(merchant)
            .unwrap_or_else(|| STANDARD.get_or_init(RetrySchedule::standard))
    }
}

/// The outcome of one try, counted into `round`.
pub(super) fn settle(
    claim: &Claimed,
    result: &Result<Option<InvocationReport>, Error>,
    schedule: &RetrySchedule,
    now: i64,
    round: &mut Round,
) -> Outcome {
    match result {
        Ok(Some(report)) => outcome(claim, &Disposition::of(report), schedule, now, round),
        Ok(None) => {
            round.skipped += 1;
            finished(claim, DeliveryState::Skipped, now, None)
        }
        Err(err) => {
            tracing::warn!(delivery = %claim.id, error = %err, "a delivery could not run");
            let host_error = Disposition::Retry {
                code: "host-error".to_owned(),
                detail: err.to_string(),
                retry_after: None,
            };
            outcome(claim, &host_error, schedule, now, round)
        }
    }
}

/// A claimed delivery given back untried, due at `until` (its installation's circuit
/// breaker is open): the try is not counted.
pub(super) fn bounced(claim: &Claimed, until: i64, now: i64) -> Outcome {
    let mut o = finished(
        claim,
        DeliveryState::Queued,
        now,
        Some((
            "circuit-open".to_owned(),
            "the provider failed repeatedly; waiting before the next try".to_owned(),
        )),
    );
    o.next_at = until;
    o.uncount = true;
    o
}

/// A claimed delivery given back untried because its installation is running as many
/// calls as it may here: due again in a moment, the try not counted.
pub(super) fn busy(claim: &Claimed, now: i64, round: &mut Round) -> Outcome {
    round.busy += 1;
    let mut o = finished(claim, DeliveryState::Queued, now, None);
    o.next_at = now.saturating_add(BUSY_RETRY_MS);
    o.uncount = true;
    o
}

/// A claimed delivery given back untried because this dispatcher is stopping: due at once,
/// for whichever node runs next.
pub(super) fn released(claim: &Claimed, now: i64) -> Outcome {
    let mut o = finished(claim, DeliveryState::Queued, now, None);
    o.uncount = true;
    o
}

/// The outcome of one try, counted into `round`.
fn outcome(
    claim: &Claimed,
    disposition: &Disposition,
    schedule: &RetrySchedule,
    now: i64,
    round: &mut Round,
) -> Outcome {
    match disposition {
        Disposition::Delivered => {
            round.delivered += 1;
            finished(claim, DeliveryState::Delivered, now, None)
        }
        Disposition::Retry {
            code,
            detail,
            retry_after,
        } => {
            let failed = Some((code.clone(), detail.clone()));
            match schedule.next_try(claim.attempts, now, jitter_unit(), *retry_after) {
                Some(next_at) => {
                    round.retried += 1;
                    let mut o = finished(claim, DeliveryState::Queued, now, failed);
                    o.next_at = next_at;
                    o
                }
                None => {
                    round.dead += 1;
                    finished(claim, DeliveryState::Dead, now, failed)
                }
            }
        }
        Disposition::Pause { code, detail } => {
            round.held += 1;
            let mut o = finished(
                claim,
                DeliveryState::Queued,
                now,
                Some((code.clone(), detail.clone())),
            );
            o.uncount = true;
            o.hold = Some((
                claim.installation.clone(),
                Hold {
                    cause: code.clone(),
                    detail: detail.clone(),
                    since: now,
                },
            ));
            o
        }
        Disposition::Busy => busy(claim, now, round),
    }
}

/// How long a delivery that found its installation busy waits before it is claimed again:
/// long enough not to spin on the claim, short enough that a busy connector's queue moves
/// as fast as its slots free up.
pub(super) const BUSY_RETRY_MS: i64 = 50;

fn finished(
    claim: &Claimed,
    state: DeliveryState,
    now: i64,
    failed: Option<(String, String)>,
) -> Outcome {
    let (code, detail) = failed.unzip();
    Outcome {
        id: claim.id.clone(),
        fence: claim.fence,
        state,
        next_at: now,
        uncount: false,
        code,
        detail,
        hold: None,
    }
}
