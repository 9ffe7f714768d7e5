//! The continuous dispatcher `airlock serve` runs: up to `concurrency` deliveries in flight,
//! topped up with new claims as each ends, so one slow provider holds one slot rather than
//! stalling a whole batch; outcomes that end together are written in one transaction. Each
//! installation has a circuit breaker: after repeated failures its deliveries are given back
//! untried for a cool-down instead of taking slots, then one probe goes through.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;

use crate::error::Error;
use crate::outbox::{Admit, DeliveryState};

use super::Host;
use super::deliver::{DispatchOptions, Round};
use super::outcome::{BUSY_RETRY_MS, Schedules, Tried, bounced, settle};

/// How long a dispatcher keeps the retry schedules it read.
const SCHEDULES_FOR: Duration = Duration::from_secs(60);

/// How a [`Host::dispatch`] run ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Until {
    /// When `stop` completes (SIGTERM): running deliveries get `grace` to finish, then their
    /// claims are released.
    Stopped {
        /// How long running deliveries may take to finish once stopped.
        grace: Duration,
    },
    /// As soon as nothing is due (scripts, tests), or when stopped.
    Idle,
}

impl Host {
    /// Deliver the outbox continuously until `until` says stop; returns what was done. An
    /// error (the database went away) ends the run: the caller waits and runs it again, and
    /// claims left running are rescued when their lease ends (or at once by this node).
    ///
    /// Each delivery runs in a task of its own, so deliveries in flight keep going (and let go
    /// of the database) while this loop claims and writes: on SQLite, a claim waiting for a
    /// call's unfinished storage write that nobody polls would wait for the busy timeout.
    pub async fn dispatch(
        self: &Arc<Self>,
        options: &DispatchOptions,
        poll: Duration,
        until: Until,
        stop: impl Future<Output = ()>,
    ) -> Result<Round, Error> {
        tokio::pin!(stop);
        let concurrency = options.concurrency.max(1);
        let mut totals = Round::default();
        let mut schedules = Schedules::default();
        let mut in_flight: JoinSet<Tried> = JoinSet::new();
        let mut pending = Vec::new();
        let mut stopping = false;
        let (mut busy_seen, mut not_idle_before) = (0, std::time::Instant::now());
        let grace = match until {
            Until::Stopped { grace } => grace,
            Until::Idle => Duration::ZERO,
        };
        let grace_over = tokio::time::sleep(Duration::MAX.min(Duration::from_secs(1 << 40)));
        tokio::pin!(grace_over);
        let mut schedules_read = std::time::Instant::now();
        loop {
            // A plan's schedule set while this runs (for days, in `serve`) applies within a
            // minute: the schedules read are forgotten every minute.
            if schedules_read.elapsed() > SCHEDULES_FOR {
                schedules = Schedules::default();
                schedules_read = std::time::Instant::now();
            }
            let mut claimed_now = 0;
            if !stopping && in_flight.len() < concurrency {
                totals.fanned_out += self.fan_out_pending(options.batch.max(1)).await?;
                let room = u32::try_from(concurrency - in_flight.len()).unwrap_or(u32::MAX);
                let claimed = self
                    .claim_up_to(options, room.min(options.batch.max(1)), None)
                    .await?;
                claimed_now = claimed.len();
                totals.claimed += claimed_now;
                let now = self.clock.now_ms();
                for claim in claimed {
                    schedules.load(self, &claim.merchant).await?;
                    let admit = match self.breakers.lock() {
                        Ok(mut b) => b.admit(&claim.installation, now),
                        Err(_) => Admit::Run,
                    };
                    match admit {
                        Admit::Wait(until) => {
                            totals.retried += 1;
                            pending.push(bounced(&claim, until, now));
                        }
                        Admit::Run | Admit::Probe => {
                            let host = Arc::clone(self);
                            in_flight.spawn(async move { host.try_claimed(claim).await });
                        }
                    }
                }
            }
            if in_flight.is_empty() {
                self.flush(&mut pending, &mut totals).await?;
                // Deliveries given back as busy are due again in a moment: not idle before.
                if totals.busy > busy_seen {
                    busy_seen = totals.busy;
                    not_idle_before = std::time::Instant::now()
                        + Duration::from_millis(2 * BUSY_RETRY_MS.unsigned_abs());
                }
                let idle = claimed_now == 0 && std::time::Instant::now() >= not_idle_before;
                if stopping || (until == Until::Idle && idle) {
                    break;
                }
                if claimed_now == 0 {
                    tokio::select! {
                        () = self.wait_for_work(poll) => {}
                        () = &mut stop, if !stopping => stopping = true,
                    }
                }
                continue;
            }
            tokio::select! {
                Some(joined) = in_flight.join_next() => {
                    let mut done = Vec::new();
                    done.extend(tried(joined));
                    // Everything else already finished goes into the same write.
                    while let Some(more) = in_flight.try_join_next() {
                        done.extend(tried(more));
                    }
                    let now = self.clock.now_ms();
                    for (claim, result) in done {
                        let outcome = settle(&claim, &result, schedules.of(&claim.merchant), now, &mut totals);
                        // A try to retry (or out of tries) is a failure; delivered, skipped or
                        // held (the hold stops the tries) is not; a busy refusal was no try.
                        let busy = outcome.uncount && outcome.hold.is_none();
                        let failed = matches!(outcome.state, DeliveryState::Queued | DeliveryState::Dead)
                            && outcome.hold.is_none();
                        if !busy && let Ok(mut b) = self.breakers.lock() {
                            b.record(&claim.installation, !failed, now);
                        }
                        pending.push(outcome);
                    }
                    self.flush(&mut pending, &mut totals).await?;
                }
                () = &mut stop, if !stopping => {
                    stopping = true;
                    tracing::info!(running = in_flight.len(), grace_secs = grace.as_secs(),
                        "stopping: letting running deliveries finish");
                    grace_over.as_mut().reset(tokio::time::Instant::now() + grace);
                }
                () = &mut grace_over, if stopping => {
                    let cut = in_flight.len();
                    in_flight.abort_all();
                    while in_flight.join_next().await.is_some() {}
                    self.flush(&mut pending, &mut totals).await?;
                    let released = self.rescue_claims(options).await?;
                    tracing::warn!(cut, released, "deliveries still running at the end of the grace period were released");
                    break;
                }
            }
        }
        Ok(totals)
    }

    /// Write the outcomes gathered so far in one transaction.
    async fn flush(
        &self,
        pending: &mut Vec<crate::db::outbox::Outcome>,
        totals: &mut Round,
    ) -> Result<(), Error> {
        if pending.is_empty() {
            return Ok(());
        }
        let now = self.clock.now_ms();
        let result = self.write_outcomes(pending, now, totals).await;
        pending.clear();
        result
    }
}

/// A finished delivery task's result; a task that panicked or was aborted leaves its claim to
/// run out and be tried again (logged).
fn tried(joined: Result<Tried, tokio::task::JoinError>) -> Option<Tried> {
    match joined {
        Ok(tried) => Some(tried),
        Err(err) => {
            tracing::error!(error = %err, "a delivery task ended without an outcome; its claim will be tried again when its lease runs out");
            None
        }
    }
}
