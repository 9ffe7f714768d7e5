//! The continuous dispatcher `airlock serve` runs. It claims deliveries in batches (when
//! fewer than half a batch are left to start), reads what their calls need once per
//! batch (`known.rs`), runs each in a task of its own, and writes outcomes with their audit
//! lines in group commits (at once when no write is under way; while one is, every
//! [`FLUSH_AT`] outcomes or [`FLUSH_WITHIN`] after the first).
//!
//! Each installation has a lane: no more of its calls run at once than its `max_concurrent`,
//! the rest of its claims wait in the lane (never longer than its lease allows), and an
//! installation whose lane is full is left out of the next claims, as is one whose circuit
//! breaker is open. So one slow or failing provider holds its own slots, never the node's.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::task::{Id as TaskId, JoinSet};

use crate::db::audit::AuditEntry;
use crate::db::outbox::{Claimed, Outcome};
use crate::error::Error;
use crate::ids::InstallationId;
use crate::outbox::DeliveryState;

use super::Host;
use super::deliver::{DispatchOptions, Round};
use super::known::Known;
use super::lanes::{Lane, new_lane};
use crate::outbox::MerchantRates;

mod claimer;
mod writer;

use super::outcome::{BUSY_RETRY_MS, Schedules, Tried, busy, released, settle};
use claimer::{Fetched, claimed};
pub use writer::{FLUSH_AT, FLUSH_WITHIN};

/// How long a dispatcher keeps the retry schedules it read.
const SCHEDULES_FOR: Duration = Duration::from_secs(60);
/// How long what a batch read stays good for a claim still waiting in its lane; older, the
/// call reads its installation again.
const KNOWN_FOR: Duration = Duration::from_secs(1);

/// Completes at `at` (never, when there is none).
async fn refilled(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

/// A task that is aborted when this is dropped.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

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

/// The dispatcher's state between its loop's turns.
struct Run {
    host: Arc<Host>,
    /// How often to look for events written by other processes.
    poll: Duration,
    /// When this run last looked for new events.
    fanned_at: Instant,
    /// When this run last claimed.
    claimed_at: Instant,
    /// When this run last queued again deliveries whose lease ran out.
    rescued_at: Option<Instant>,
    /// The last claim took all that was due (fewer than asked).
    drained: bool,
    /// Calls running at once, at most.
    concurrency: usize,
    totals: Round,
    schedules: Schedules,
    in_flight: JoinSet<Tried>,
    /// Which installation each running task is for.
    tasks: HashMap<TaskId, InstallationId>,
    lanes: HashMap<InstallationId, Lane>,
    waiting: usize,
    outcomes: Vec<Outcome>,
    audit: Vec<AuditEntry>,
    /// The group commit being written.
    writing: Option<tokio::task::JoinHandle<Result<usize, Error>>>,
    /// The claim being made.
    claiming: Option<tokio::task::JoinHandle<Result<Fetched, Error>>>,
    /// The last claim left some installations out.
    partial: bool,
    /// Each merchant's rate on this node, when it has one.
    rates: Option<MerchantRates>,
    /// A merchant was given all its rate allowed: claim again at this time even if the
    /// outbox looked drained, since it may have more due. Each claim sets it afresh: while
    /// claims come often anyway (other merchants' events), a limited merchant's share rides
    /// on them, and fewer claims made for it alone measured better for its neighbours'
    /// latency (BENCHMARKS.md); the timer is what moves it on when nothing else does.
    refill_at: Option<Instant>,
    /// The next claim is the one after a refill: it fans out too (a merchant over its rate
    /// had its new events left for then).
    refill_due: bool,
}

impl Host {
    /// Deliver the outbox continuously until `until` says stop; returns what was done. An
    /// error (the database went away) ends the run: the caller waits and runs it again, and
    /// claims left running are rescued when their lease ends (or at once by this node).
    ///
    /// Each delivery runs in a task of its own, so deliveries in flight keep going (and let go
    /// of the database) while this loop claims and writes: on SQLite, a claim waiting for a
    /// call's unfinished storage write that nobody polls would wait for the busy timeout.
    ///
    /// The loop itself runs in a task too, on the runtime's worker threads: a caller's
    /// `block_on` (or `#[tokio::main]`) polls on a thread of its own, and then every call
    /// that ends and every call that starts is a wake-up across threads (a futex and a
    /// context switch each); on a worker, tasks it spawns and tasks it waits for mostly stay
    /// on that worker. Measured 1.3x the deliveries a second (BENCHMARKS.md, issue 12, fifth
    /// session). Dropping the returned future stops the loop at once, as before.
    pub async fn dispatch(
        self: &Arc<Self>,
        options: &DispatchOptions,
        poll: Duration,
        until: Until,
        stop: impl Future<Output = ()>,
    ) -> Result<Round, Error> {
        let (stopped, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let host = Arc::clone(self);
        let options = options.clone();
        let run = tokio::spawn(async move {
            // The sender gone (the caller's future dropped, which aborts this task anyway)
            // is a stop too.
            let stop = async {
                let _ = stop_rx.await;
            };
            host.dispatch_here(&options, poll, until, stop).await
        });
        let mut run = AbortOnDrop(run);
        tokio::pin!(stop);
        let joined = tokio::select! {
            joined = &mut run.0 => joined,
            () = &mut stop => {
                let _ = stopped.send(());
                (&mut run.0).await
            }
        };
        joined.map_err(|e| Error::Engine(format!("the dispatcher stopped: {e}")))?
    }

    /// [`Host::dispatch`]'s loop, on the task it runs in.
    async fn dispatch_here(
        self: &Arc<Self>,
        options: &DispatchOptions,
        poll: Duration,
        until: Until,
        stop: impl Future<Output = ()>,
    ) -> Result<Round, Error> {
        tokio::pin!(stop);
        let concurrency = options.concurrency.max(1);
        let batch = usize::try_from(options.batch.max(1)).unwrap_or(usize::MAX);
        let mut run = Run {
            poll,
            fanned_at: Instant::now(),
            claimed_at: Instant::now(),
            rescued_at: None,
            drained: false,
            concurrency,
            host: Arc::clone(self),
            totals: Round::default(),
            schedules: Schedules::default(),
            in_flight: JoinSet::new(),
            tasks: HashMap::new(),
            lanes: HashMap::new(),
            waiting: 0,
            outcomes: Vec::new(),
            audit: Vec::new(),
            writing: None,
            claiming: None,
            partial: false,
            rates: options
                .merchant_rate
                .filter(|r| *r > 0)
                .map(MerchantRates::new),
            refill_at: None,
            refill_due: false,
        };
        let mut stopping = false;
        let (mut busy_seen, mut not_idle_before) = (0, Instant::now());
        let grace = match until {
            Until::Stopped { grace } => grace,
            Until::Idle => Duration::ZERO,
        };
        let far = Duration::from_secs(1 << 40);
        let grace_over = tokio::time::sleep(far);
        tokio::pin!(grace_over);
        let flush_due = tokio::time::sleep(far);
        tokio::pin!(flush_due);
        let mut flush_armed = false;
        let mut schedules_read = Instant::now();
        let mut claimed_now = 0;
        loop {
            // A plan's schedule set while this runs (for days, in `serve`) applies within a
            // minute: the schedules read are forgotten every minute.
            if schedules_read.elapsed() > SCHEDULES_FOR {
                run.schedules = Schedules::default();
                schedules_read = Instant::now();
            }
            // Claim another batch once fewer than half a batch could start when a slot frees
            // (claims waiting behind their own installation's full lane do not count: a slow
            // provider's backlog must not stop this node claiming everyone else's). The claim
            // runs in a task of its own: calls keep ending and starting meanwhile.
            let startable = run.in_flight.len() + run.startable();
            let wants = !stopping && startable < concurrency + batch / 2;
            if run.claiming.is_none() {
                if wants && run.may_claim() {
                    let room = (concurrency + batch - startable).min(batch);
                    run.start_claim(options, room);
                } else if wants && run.in_flight.is_empty() {
                    // Nothing runs: look once more before waiting or calling it idle.
                    run.drained = false;
                    continue;
                }
            }
            if run.in_flight.is_empty() {
                // Nothing runs: wait here for the claim under way, if any.
                if let Some(claiming) = run.claiming.take() {
                    claimed_now = run.take_in(claiming.await, options, stopping).await?;
                    if claimed_now > 0 {
                        continue;
                    }
                }
                if claimed_now == 0 && run.partial && !stopping {
                    // That claim left out installations busy then: look again before
                    // calling it idle.
                    run.drained = false;
                    run.partial = false;
                    continue;
                }
                run.flush().await?;
                // Idle or stopping: everything written before waiting or returning.
                run.written().await?;
                // Deliveries given back as busy are due again in a moment: not idle before.
                if run.totals.busy > busy_seen {
                    busy_seen = run.totals.busy;
                    not_idle_before =
                        Instant::now() + Duration::from_millis(2 * BUSY_RETRY_MS.unsigned_abs());
                }
                // (Events not fanned out yet are work too.)
                let idle = claimed_now == 0
                    && Instant::now() >= not_idle_before
                    && run.refill_at.is_none()
                    && !self.maybe_unfanned();
                if stopping || (until == Until::Idle && idle) {
                    break;
                }
                if claimed_now == 0 && !self.maybe_unfanned() {
                    tokio::select! {
                        () = self.wait_for_work(poll) => {}
                        () = refilled(run.refill_at) => run.refilled(),
                        () = &mut stop, if !stopping => stopping = true,
                    }
                }
                continue;
            }
            // The group commit is due FLUSH_WITHIN after its first outcome.
            if run.outcomes.is_empty() {
                flush_armed = false;
            } else if !flush_armed {
                flush_due
                    .as_mut()
                    .reset(tokio::time::Instant::now() + FLUSH_WITHIN);
                flush_armed = true;
            }
            tokio::select! {
                Some(joined) = run.in_flight.join_next_with_id() => {
                    run.finished(joined);
                    // Everything else already finished goes into the same group.
                    while let Some(more) = run.in_flight.try_join_next_with_id() {
                        run.finished(more);
                    }
                    run.start_waiting();
                    // With no write under way, write at once: waiting out FLUSH_WITHIN then
                    // only adds to the latency (outcomes gather while a write is under way,
                    // which is what makes the groups under load).
                    if run.outcomes.len() >= FLUSH_AT || run.writer_idle() {
                        run.flush().await?;
                    }
                }
                fetched = claimed(&mut run.claiming), if run.claiming.is_some() => {
                    run.claiming = None;
                    claimed_now = run.take_in(fetched, options, stopping).await?;
                }
                () = &mut flush_due, if flush_armed => run.flush().await?,
                // An event written here, or a poll passing, while calls run: claim it now,
                // not when a (perhaps slow) call ends.
                () = self.wait_for_work(poll), if !stopping => run.drained = false,
                // A merchant held back by its rate may be given more now.
                () = refilled(run.refill_at), if !stopping => run.refilled(),
                () = &mut stop, if !stopping => {
                    stopping = true;
                    run.release_waiting();
                    tracing::info!(running = run.in_flight.len(), grace_secs = grace.as_secs(),
                        "stopping: letting running deliveries finish");
                    grace_over.as_mut().reset(tokio::time::Instant::now() + grace);
                }
                () = &mut grace_over, if stopping => {
                    let cut = run.in_flight.len();
                    run.in_flight.abort_all();
                    while let Some(joined) = run.in_flight.join_next_with_id().await {
                        run.finished(joined);
                    }
                    if let Some(claiming) = run.claiming.take() {
                        run.take_in(claiming.await, options, true).await?;
                    }
                    run.flush().await?;
                    run.written().await?;
                    let released = self.rescue_claims(options).await?;
                    tracing::warn!(cut, released, "deliveries still running at the end of the grace period were released");
                    break;
                }
            }
        }
        Ok(run.totals)
    }
}

impl Run {
    /// Start a claim if its installation has a free slot here, else queue it in its lane,
    /// else (the lane is as deep as the lease allows) give it back as busy.
    fn enqueue(&mut self, claim: Claimed, known: Option<Arc<Known>>, lease: Duration, now: i64) {
        let lane = self
            .lanes
            .entry(claim.installation.clone())
            .or_insert_with(|| new_lane(known.as_deref(), lease));
        if lane.running < lane.cap && self.in_flight.len() < self.concurrency {
            lane.running += 1;
            self.spawn(claim, known);
        } else if lane.waiting.len() < lane.depth {
            lane.waiting.push_back((claim, known, Instant::now()));
            self.waiting += 1;
        } else {
            self.outcomes.push(busy(&claim, now, &mut self.totals));
        }
    }

    /// Take in a finished task: settle its outcome, feed its breaker, and start the next
    /// claim waiting in its lane.
    fn finished(&mut self, joined: Result<(TaskId, Tried), tokio::task::JoinError>) {
        let task = match &joined {
            Ok((id, _)) => *id,
            Err(err) => err.id(),
        };
        let Some(installation) = self.tasks.remove(&task) else {
            return;
        };
        if let Ok((_, tried)) = joined {
            self.settle(tried);
        } else if let Err(err) = joined {
            // Its claim is tried again when its lease runs out (a panic is a bug; an abort
            // is the end of the grace period).
            if !err.is_cancelled() {
                tracing::error!(error = %err, "a delivery task ended without an outcome; its claim will be tried again when its lease runs out");
            }
        }
        self.next_in_lane(&installation);
    }

    /// Write down a finished try's outcome and feed its installation's breaker.
    fn settle(&mut self, tried: Tried) {
        let now = self.host.clock.now_ms();
        let Tried {
            claim,
            result,
            audit,
        } = tried;
        let schedule = self.schedules.of(&claim.merchant);
        let outcome = settle(&claim, &result, schedule, now, &mut self.totals);
        // A try to retry (or out of tries) is a failure; delivered, skipped or held (the hold
        // stops the tries) is not; a busy refusal was no try.
        let was_busy = outcome.uncount && outcome.hold.is_none();
        let failed = matches!(outcome.state, DeliveryState::Queued | DeliveryState::Dead)
            && outcome.hold.is_none();
        if !was_busy && let Ok(mut b) = self.host.breakers.lock() {
            b.record(&claim.installation, !failed, now);
        }
        self.outcomes.push(outcome);
        self.audit.extend(audit);
        // A call that changed stock wrote an `inventory.changed` event in the same commit.
        if let Ok(Some(report)) = &result
            && report
                .accesses
                .iter()
                .any(|a| a.operation == "inventory.adjust" && a.allowed > 0)
        {
            self.host.note_unfanned();
        }
    }

    /// One of `installation`'s calls ended: free its slot, and drop its lane when nothing of
    /// it is left here.
    fn next_in_lane(&mut self, installation: &InstallationId) {
        if let Some(lane) = self.lanes.get_mut(installation) {
            let was_full = lane.full();
            lane.running = lane.running.saturating_sub(1);
            if was_full && !lane.full() {
                // It was left out of claims; it is not any more.
                self.drained = false;
            }
            if lane.running == 0 && lane.waiting.is_empty() {
                self.lanes.remove(installation);
            }
        }
    }

    /// A merchant's bucket has refilled: the next claim may give it more.
    fn refilled(&mut self) {
        self.refill_at = None;
        self.refill_due = true;
        self.drained = false;
    }

    /// Whether a claim may find something: not after one that took everything due, until
    /// an event is written here, a lane of a left-out installation frees up, or a poll
    /// passes (work written elsewhere, or come due).
    fn may_claim(&self) -> bool {
        !self.drained || self.host.maybe_unfanned() || self.claimed_at.elapsed() >= self.poll
    }

    /// Claims waiting only for this node's room, not for their installation's slots.
    fn startable(&self) -> usize {
        if self.waiting == 0 {
            return 0;
        }
        self.lanes
            .values()
            .filter(|lane| lane.running < lane.cap)
            .map(|lane| lane.waiting.len())
            .sum()
    }

    /// Start waiting claims while this node has room and their installations have a free
    /// slot, taking lanes in turn.
    fn start_waiting(&mut self) {
        if self.waiting == 0 {
            return;
        }
        let mut started = Vec::new();
        let mut room = self.concurrency.saturating_sub(self.in_flight.len());
        'lanes: for lane in self.lanes.values_mut() {
            while lane.running < lane.cap && room > 0 {
                let Some((claim, known, queued)) = lane.waiting.pop_front() else {
                    continue 'lanes;
                };
                lane.running += 1;
                room -= 1;
                started.push((claim, known.filter(|_| queued.elapsed() < KNOWN_FOR)));
            }
            if room == 0 {
                break;
            }
        }
        self.waiting -= started.len();
        for (claim, known) in started {
            self.spawn(claim, known);
        }
    }

    /// Run a claim in a task of its own.
    fn spawn(&mut self, claim: Claimed, known: Option<Arc<Known>>) {
        let host = Arc::clone(&self.host);
        let installation = claim.installation.clone();
        let handle = self
            .in_flight
            .spawn(async move { host.try_claimed(claim, known).await });
        self.tasks.insert(handle.id(), installation);
    }

    /// Give every claim still waiting in a lane back, due at once (stopping).
    fn release_waiting(&mut self) {
        let now = self.host.clock.now_ms();
        for lane in self.lanes.values_mut() {
            for (claim, _, _) in lane.waiting.drain(..) {
                self.outcomes.push(released(&claim, now));
            }
        }
        self.waiting = 0;
    }
}
