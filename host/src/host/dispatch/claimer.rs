//! The dispatcher's claims, made in a task of their own: fan out new events, claim a batch
//! (none of an installation whose lane is full or whose breaker is open), read what the
//! batch's calls need. The dispatcher's loop meanwhile goes on taking in ended calls and
//! starting waiting ones: a claim is several database round trips, and with the cores busy
//! running calls, an installation's lane would otherwise stand idle for all of them.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::task::{JoinError, JoinHandle};

use super::Run;
use crate::db::outbox::ClaimAsk;
use crate::db::outbox::Claimed;
use crate::error::Error;
use crate::host::Host;
use crate::host::deliver::DispatchOptions;
use crate::host::known::KnownSet;
use crate::host::lanes::lane_size;
use crate::host::outcome::{bounced, released};
use crate::ids::{InstallationId, MerchantId};
use crate::outbox::{Admit, MerchantCaps};

/// What one claim brought.
pub(super) struct Fetched {
    /// Deliveries written for new events.
    fanned_out: u64,
    /// The deliveries claimed.
    claimed: Vec<Claimed>,
    /// What their calls need, read once.
    known: KnownSet,
    /// Fewer than asked: nothing more was due.
    drained: bool,
    /// Some installations were left out of it: it cannot show that nothing is due.
    partial: bool,
    /// The merchants' caps it was made under, if any.
    caps: Option<MerchantCaps>,
}

/// What a claim is to do, decided by the loop.
struct Job {
    fan_out: bool,
    limit: u32,
    skip: Vec<InstallationId>,
    /// How many more the installations this node holds claims of may take.
    room: HashMap<InstallationId, u32>,
    per_installation: u32,
    rescue: bool,
    partial: bool,
    /// Each merchant's room under its rate.
    caps: Option<MerchantCaps>,
}

/// The claim under way, when there is one (never completes when there is none).
pub(super) async fn claimed(
    claiming: &mut Option<JoinHandle<Result<Fetched, Error>>>,
) -> Result<Result<Fetched, Error>, JoinError> {
    match claiming {
        Some(handle) => handle.await,
        None => std::future::pending().await,
    }
}

impl Run {
    /// Start claiming up to `room` deliveries in a task of its own.
    pub(super) fn start_claim(&mut self, options: &DispatchOptions, room: usize) {
        let host = Arc::clone(&self.host);
        let batch = options.batch.max(1);
        // New events: written here (the host notes it), or elsewhere (looked for each poll).
        // And once a limited merchant's bucket has refilled: its new events were left for
        // then.
        let refill_passed = self.refill_at.is_some_and(|at| at <= Instant::now());
        self.refill_at = None;
        let fan_out = host.maybe_unfanned()
            || self.fanned_at.elapsed() >= self.poll
            || std::mem::take(&mut self.refill_due)
            || refill_passed;
        if fan_out {
            self.fanned_at = Instant::now();
        }
        let now = host.clock.now_ms();
        // Full lanes are left out; the others may take up to their room.
        let (mut skip, mut lane_room) = (Vec::new(), HashMap::new());
        for (id, lane) in &self.lanes {
            if lane.full() {
                skip.push(id.clone());
            } else {
                lane_room.insert(id.clone(), u32::try_from(lane.room()).unwrap_or(u32::MAX));
            }
        }
        // Left out for a full lane here: such a claim cannot show that nothing is due. (One
        // left out for its open breaker is not due.)
        let partial = !skip.is_empty();
        if let Ok(breakers) = host.breakers.lock() {
            skip.extend(breakers.shut(now));
        }
        // Leases run out in tens of seconds: looking for them once a second is soon enough.
        let rescue = self
            .rescued_at
            .is_none_or(|at| at.elapsed() >= Duration::from_secs(1));
        if rescue {
            self.rescued_at = Some(Instant::now());
        }
        self.claimed_at = Instant::now();
        let caps = self.rates.as_mut().map(|r| r.caps(Instant::now()));
        let job = Job {
            caps,
            fan_out,
            limit: u32::try_from(room).unwrap_or(u32::MAX).min(batch),
            skip,
            room: lane_room,
            // No more of one installation than a lane of the host's default limits holds.
            per_installation: lane_size(host.limits(), options.lease),
            rescue,
            partial,
        };
        let options = options.clone();
        self.claiming = Some(tokio::spawn(
            async move { fetch(&host, &options, job).await },
        ));
    }

    /// Take in a claim: start or queue each delivery (given back at once when stopping).
    /// Returns how many were claimed.
    pub(super) async fn take_in(
        &mut self,
        fetched: Result<Result<Fetched, Error>, JoinError>,
        options: &DispatchOptions,
        stopping: bool,
    ) -> Result<usize, Error> {
        let fetched = fetched.map_err(|e| Error::Engine(format!("claiming deliveries: {e}")))??;
        self.totals.fanned_out += fetched.fanned_out;
        // Fewer than asked: nothing more is due until something changes (see `may_claim`).
        self.drained = fetched.drained;
        self.partial = fetched.partial;
        let count = fetched.claimed.len();
        self.totals.claimed += count;
        if let (Some(rates), Some(caps)) = (self.rates.as_mut(), fetched.caps.as_ref()) {
            let mut given: HashMap<&MerchantId, usize> = HashMap::new();
            for claim in &fetched.claimed {
                *given.entry(&claim.merchant).or_default() += 1;
            }
            // Limited: given all its cap allowed (none, for a cap of 0), so it may have more
            // due than it got. Claim again once its bucket has refilled, rather than calling
            // the outbox drained.
            let limited = caps.of.keys().chain(given.keys().copied()).any(|m| {
                let cap = usize::try_from(caps.of(m)).unwrap_or(usize::MAX);
                given.get(m).copied().unwrap_or(0) >= cap
            });
            let at = Instant::now();
            for (merchant, n) in given {
                rates.spend(merchant, n, at);
            }
            if limited {
                let due = at + rates.refill_wait();
                self.refill_at = Some(due);
            }
        }
        let host = Arc::clone(&self.host);
        let now = host.clock.now_ms();
        for claim in fetched.claimed {
            if stopping {
                self.outcomes.push(released(&claim, now));
                continue;
            }
            self.schedules.load(&host, &claim.merchant).await?;
            let admit = match host.breakers.lock() {
                Ok(mut b) => b.admit(&claim.installation, now),
                Err(_) => Admit::Run,
            };
            if let Admit::Wait(until) = admit {
                self.totals.retried += 1;
                self.outcomes.push(bounced(&claim, until, now));
                continue;
            }
            let known = fetched.known.get(&claim.installation).cloned();
            self.enqueue(claim, known, options.lease, now);
        }
        Ok(count)
    }
}

/// Do a claim's database work.
async fn fetch(host: &Arc<Host>, options: &DispatchOptions, job: Job) -> Result<Fetched, Error> {
    let fanned_out = match job.fan_out {
        true => {
            host.fan_out_pending(options.batch.max(1), job.caps.as_ref())
                .await?
        }
        false => 0,
    };
    let claimed = host
        .claim_up_to(
            options,
            ClaimAsk {
                limit: job.limit,
                event: None,
                skip: &job.skip,
                per_installation: job.per_installation,
                room: Some(&job.room),
                rescue: job.rescue,
                caps: job.caps.as_ref(),
            },
        )
        .await?;
    let drained = claimed.len() < job.limit as usize;
    let caps = job.caps;
    let ids: Vec<InstallationId> = claimed.iter().map(|c| c.installation.clone()).collect();
    let known = match claimed.is_empty() {
        true => KnownSet::default(),
        false => host.known(&ids).await?,
    };
    Ok(Fetched {
        fanned_out,
        claimed,
        known,
        drained,
        partial: job.partial,
        caps,
    })
}
