//! The outbox from the host's side. [`Host::emit`] writes an event and returns; a dispatch
//! round ([`Host::dispatch_once`]) fans new events out to the installations subscribed and
//! granted for them, claims due deliveries under a lease, runs them through the one gate
//! every call takes, and writes each outcome (delivered, retried on the plan's schedule,
//! held for the merchant, dead) only while its claim is the newest.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use serde::Serialize;

use crate::db::audit::AuditEntry;
use crate::db::outbox::{self, ClaimAsk, ClaimRequest, Claimed, FanOut, Outcome};
use crate::db::registry;
use crate::error::Error;
use crate::ids::{InstallationId, MerchantId};
use crate::manifest::{Manifest, Topic};
use crate::outbox::{Delivery, DeliveryFilter, Hold, MerchantCaps, RetrySchedule};
use crate::report::{Event, InvocationReport};
use crate::status::InstallationStatus;
use crate::views::Emitted;

use super::Host;
use super::invoke::{Export, new_event};
use super::known::Known;
use super::outcome::{Schedules, Tried, settle};

/// How one dispatcher claims and runs deliveries.
#[derive(Debug, Clone)]
pub struct DispatchOptions {
    /// This node's name: its claims carry it, and a restarted node rescues its own claims at
    /// once instead of when their leases run out.
    pub node: String,
    /// Deliveries claimed per round.
    pub batch: u32,
    /// Calls run at once (each installation also at most its own `max_concurrent`).
    pub concurrency: usize,
    /// How long a claim is held before another dispatcher may take the delivery over. Longer
    /// than any call's deadline, so a live dispatcher never loses a claim it is running.
    pub lease: Duration,
    /// Deliveries a second one merchant may start on this node ([`crate::outbox::MerchantRates`]),
    /// so a flood leaves the others room; `None` or `Some(0)`: as fast as the node goes.
    /// [`Host::dispatch`] keeps it; a single round ([`Host::dispatch_once`]) and `emit --wait`
    /// ([`Host::emit_and_wait`]) do not.
    pub merchant_rate: Option<u32>,
}

/// Deliveries a second one merchant may start on one node unless told otherwise: about a
/// tenth of what a node does with no-op connectors on 2 cores (BENCHMARKS.md), and far more
/// than a store's orders, so only floods and replays meet it.
pub const DEFAULT_MERCHANT_RATE: u32 = 1_000;

impl Default for DispatchOptions {
    fn default() -> Self {
        DispatchOptions {
            node: "local".to_owned(),
            batch: 256,
            concurrency: 32,
            lease: Duration::from_secs(60),
            merchant_rate: Some(DEFAULT_MERCHANT_RATE),
        }
    }
}

/// What one dispatch round did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Round {
    /// Deliveries written for new events.
    pub fanned_out: u64,
    /// Deliveries claimed.
    pub claimed: usize,
    /// Handled by their connector.
    pub delivered: usize,
    /// Failed, to be tried again.
    pub retried: usize,
    /// Failed with a cause the merchant must fix: their installation's deliveries are held.
    pub held: usize,
    /// Out of tries.
    pub dead: usize,
    /// No longer subscribed or granted when their turn came.
    pub skipped: usize,
    /// Outcomes dropped because a newer claim owned the delivery.
    pub stale: usize,
    /// Claimed while their installation was at its concurrency limit: given back untried,
    /// due again in a moment.
    pub busy: usize,
}

impl Round {
    /// Whether the round found nothing to do.
    pub fn idle(&self) -> bool {
        self.fanned_out == 0 && self.claimed == 0
    }
}

impl Host {
    /// Write a new `topic` event about `subject_id` to `merchant`'s outbox and return it. The
    /// dispatcher (`airlock serve`, or [`Host::dispatch_once`]) delivers it to every active
    /// installation subscribed and granted for it, with retries; the event id stays the same
    /// on every try.
    pub async fn emit(
        &self,
        merchant: &MerchantId,
        topic: Topic,
        subject_id: &str,
    ) -> Result<Event, Error> {
        let event = new_event(topic, subject_id, self.clock.now_ms())?;
        if !outbox::write_event(&self.db, merchant, &event).await? {
            return Err(Error::UnknownMerchant(merchant.clone()));
        }
        self.event_written();
        Ok(event)
    }

    /// Emit an event and deliver it now, once, in this process (`airlock emit --wait`, the
    /// demo): returns each installation's report of the first try. A try that fails stays in
    /// the outbox on its retry schedule, for the dispatcher.
    pub async fn emit_and_wait(
        &self,
        merchant: &MerchantId,
        topic: Topic,
        subject_id: &str,
    ) -> Result<Emitted, Error> {
        let event = self.emit(merchant, topic, subject_id).await?;
        // Fan out until this event is (others' new events take turns with it).
        for _ in 0..64 {
            if self.fan_out_pending(256, None).await? == 0 || !self.maybe_unfanned() {
                break;
            }
        }
        let options = DispatchOptions {
            node: format!("wait-{}", std::process::id()),
            ..DispatchOptions::default()
        };
        let mut deliveries = Vec::new();
        loop {
            let claimed = self.claim(&options, Some(&event.id)).await?;
            if claimed.is_empty() {
                break;
            }
            let (_, reports) = self.run_claimed(&options, claimed).await?;
            deliveries.extend(reports);
        }
        Ok(Emitted { event, deliveries })
    }

    /// One dispatch round: fan out new events, claim up to a batch of due deliveries, run
    /// them (`concurrency` at once), write their outcomes.
    pub async fn dispatch_once(&self, options: &DispatchOptions) -> Result<Round, Error> {
        let fanned_out = self.fan_out_pending(options.batch.max(1), None).await?;
        let claimed = self.claim(options, None).await?;
        let (mut round, _) = self.run_claimed(options, claimed).await?;
        round.fanned_out = fanned_out;
        Ok(round)
    }

    /// Write the deliveries of up to `limit` new events (a dispatch does this itself first):
    /// returns how many deliveries were written.
    pub async fn fan_out(&self, limit: u32) -> Result<u64, Error> {
        self.fan_out_pending(limit, None).await
    }

    /// Rescue this node's claims from before a restart (they are due again at once).
    pub async fn rescue_claims(&self, options: &DispatchOptions) -> Result<u64, Error> {
        Ok(outbox::rescue_own(&self.db, &options.node, self.clock.now_ms()).await?)
    }

    /// Write deliveries for up to `limit` events not fanned out yet. Subscriptions and grants
    /// are read when the event is fanned out, and checked again when each delivery runs.
    pub(super) async fn fan_out_pending(
        &self,
        limit: u32,
        caps: Option<&MerchantCaps>,
    ) -> Result<u64, Error> {
        self.unfanned
            .store(false, std::sync::atomic::Ordering::Release);
        let (events, more) = outbox::unfanned(&self.db, limit, caps).await?;
        if more {
            // More may wait: look again at the next claim.
            self.note_unfanned();
        }
        if events.is_empty() {
            return Ok(0);
        }
        let mut subscribers: HashMap<
            MerchantId,
            Vec<(InstallationId, Arc<Manifest>, crate::grants::Grant)>,
        > = HashMap::new();
        for (merchant, _) in &events {
            if subscribers.contains_key(merchant) {
                continue;
            }
            let mut list = Vec::new();
            for row in registry::installations(&self.db, merchant).await? {
                if row.status == InstallationStatus::Active {
                    let manifest = self.cached_manifest(&row.digest, &row).await?;
                    let grant = self.grant(&manifest, &row);
                    list.push((row.id.clone(), manifest, grant));
                }
            }
            subscribers.insert(merchant.clone(), list);
        }
        let plans: Vec<FanOut<'_>> = events
            .iter()
            .map(|(merchant, event)| FanOut {
                merchant,
                event,
                to: subscribers
                    .get(merchant)
                    .into_iter()
                    .flatten()
                    .filter(|(_, manifest, grant)| {
                        manifest.events.contains(&event.topic)
                            && event.topic.allowed(|s| grant.allows(s))
                            // An app is never told about itself coming or going.
                            && !(event.topic.about_apps() && manifest.id == event.subject_id)
                    })
                    .map(|(id, _, _)| id.clone())
                    .collect(),
            })
            .collect();
        Ok(outbox::fan_out(&self.db, &plans, self.clock.now_ms()).await?)
    }

    /// An event was committed here: wake a dispatcher in this process to fan it out.
    pub(super) fn event_written(&self) {
        self.note_unfanned();
        self.wake.notify_one();
    }

    /// Note that an event may wait to be fanned out (written here, or more than one look
    /// took).
    pub(super) fn note_unfanned(&self) {
        self.unfanned
            .store(true, std::sync::atomic::Ordering::Release);
    }

    /// Whether this process wrote an event not fanned out yet.
    pub(super) fn maybe_unfanned(&self) -> bool {
        self.unfanned.load(std::sync::atomic::Ordering::Acquire)
    }

    /// An installation's manifest by artifact digest, parsed once per host.
    async fn cached_manifest(
        &self,
        digest: &str,
        row: &registry::InstallationRow,
    ) -> Result<Arc<Manifest>, Error> {
        if let Some(found) = self
            .manifests
            .lock()
            .ok()
            .and_then(|m| m.get(digest).cloned())
        {
            return Ok(found);
        }
        let manifest = Arc::new(self.manifest_of(row).await?);
        if let Ok(mut cache) = self.manifests.lock() {
            cache.insert(digest.to_owned(), manifest.clone());
        }
        Ok(manifest)
    }

    pub(super) async fn claim(
        &self,
        options: &DispatchOptions,
        event: Option<&str>,
    ) -> Result<Vec<Claimed>, Error> {
        let ask = ClaimAsk {
            limit: options.batch,
            event,
            skip: &[],
            per_installation: options.batch,
            room: None,
            rescue: true,
            caps: None,
        };
        self.claim_up_to(options, ask).await
    }

    /// Claim what `ask` says: up to its limit of due deliveries (of one event, when given),
    /// none of its `skip`'s, none beyond a merchant's cap.
    pub(super) async fn claim_up_to(
        &self,
        options: &DispatchOptions,
        ask: ClaimAsk<'_>,
    ) -> Result<Vec<Claimed>, Error> {
        let request = ClaimRequest {
            owner: &options.node,
            now: self.clock.now_ms(),
            lease_ms: i64::try_from(options.lease.as_millis()).unwrap_or(i64::MAX),
            ask: ClaimAsk {
                limit: ask.limit.max(1),
                ..ask
            },
        };
        Ok(outbox::claim(&self.db, request).await?)
    }

    /// Run claimed deliveries (`concurrency` at once) and write their outcomes and audit
    /// lines in one transaction.
    async fn run_claimed(
        &self,
        options: &DispatchOptions,
        claimed: Vec<Claimed>,
    ) -> Result<(Round, Vec<InvocationReport>), Error> {
        let mut round = Round {
            claimed: claimed.len(),
            ..Round::default()
        };
        if claimed.is_empty() {
            return Ok((round, Vec::new()));
        }
        let mut schedules = Schedules::default();
        for claim in &claimed {
            schedules.load(self, &claim.merchant).await?;
        }
        let ids: Vec<InstallationId> = claimed.iter().map(|c| c.installation.clone()).collect();
        let known = self.known(&ids).await?;
        let tries: Vec<Tried> = futures_util::stream::iter(claimed)
            .map(|claim| {
                let k = known.get(&claim.installation).cloned();
                self.try_claimed(claim, k)
            })
            .buffer_unordered(options.concurrency.max(1))
            .collect()
            .await;
        let now = self.clock.now_ms();
        let mut outcomes = Vec::with_capacity(tries.len());
        let mut audit = Vec::new();
        let mut reports = Vec::new();
        for tried in tries {
            let schedule = schedules.of(&tried.claim.merchant);
            outcomes.push(settle(
                &tried.claim,
                &tried.result,
                schedule,
                now,
                &mut round,
            ));
            audit.extend(tried.audit);
            if let Ok(Some(report)) = tried.result {
                reports.push(report);
            }
        }
        self.write_outcomes(&outcomes, &audit, now, &mut round)
            .await?;
        Ok((round, reports))
    }

    /// Run one claimed delivery through the call gate, on what its batch read (`known`).
    pub(super) async fn try_claimed(&self, claim: Claimed, known: Option<Arc<Known>>) -> Tried {
        let ran = self
            .run(
                &claim.merchant,
                &claim.installation,
                Export::Emitted(&claim.event),
                known.as_deref(),
            )
            .await;
        let (result, audit) = match ran {
            Ok(Some(ran)) => (Ok(Some(ran.report)), ran.audit),
            Ok(None) => (Ok(None), Vec::new()),
            Err(err) => (Err(err), Vec::new()),
        };
        Tried {
            claim,
            result,
            audit,
        }
    }

    /// Write outcomes with the audit lines of their calls; those a newer claim made stale
    /// are counted in `round`.
    pub(super) async fn write_outcomes(
        &self,
        outcomes: &[Outcome],
        audit: &[AuditEntry],
        now: i64,
        round: &mut Round,
    ) -> Result<(), Error> {
        let written = outbox::complete(&self.db, outcomes, audit, now).await?;
        round.stale += outcomes
            .len()
            .saturating_sub(usize::try_from(written).unwrap_or(0));
        Ok(())
    }

    /// The retry schedule of `merchant`'s plan, or the host's.
    pub(super) async fn schedule_for(&self, merchant: &MerchantId) -> Result<RetrySchedule, Error> {
        match outbox::retry_schedule(&self.db, merchant).await? {
            Some(text) => text.parse().map_err(|e: crate::outbox::ScheduleError| {
                crate::db::DbError::Corrupt(format!("plan retry schedule: {e}")).into()
            }),
            None => Ok(self.schedule.clone()),
        }
    }

    /// Set a plan's retry schedule (`None`: back to the host's default).
    pub async fn set_plan_retry_schedule(
        &self,
        plan: &str,
        schedule: Option<&RetrySchedule>,
    ) -> Result<(), Error> {
        let text = schedule.map(ToString::to_string);
        if outbox::set_retry_schedule(&self.db, plan, text.as_deref()).await? {
            Ok(())
        } else {
            Err(Error::UnknownPlan(plan.to_owned()))
        }
    }

    /// `merchant`'s deliveries matching `filter`, newest first.
    pub async fn deliveries(
        &self,
        merchant: &MerchantId,
        filter: &DeliveryFilter,
        limit: u32,
    ) -> Result<Vec<Delivery>, Error> {
        self.known_merchant(merchant).await?;
        Ok(outbox::list(&self.db, merchant, filter, limit).await?)
    }

    /// One delivery of `merchant`, by id.
    pub async fn delivery(&self, merchant: &MerchantId, id: &str) -> Result<Delivery, Error> {
        outbox::get_delivery(&self.db, merchant, id)
            .await?
            .ok_or_else(|| Error::UnknownDelivery(id.chars().take(64).collect()))
    }

    /// Queue finished deliveries again (dead ones, or delivered ones a connector must see
    /// again): one by id, or every one matching `filter`. The event id is unchanged, so a
    /// connector that deduplicates on it stays correct. Returns how many were queued.
    pub async fn replay(
        &self,
        merchant: &MerchantId,
        filter: &DeliveryFilter,
        id: Option<&str>,
    ) -> Result<u64, Error> {
        self.known_merchant(merchant).await?;
        let queued = outbox::replay(&self.db, merchant, filter, id, self.clock.now_ms()).await?;
        if queued > 0 {
            self.wake.notify_one();
        }
        Ok(queued)
    }

    /// Why an installation's deliveries wait for the merchant, if they do.
    pub async fn delivery_hold(
        &self,
        merchant: &MerchantId,
        key: &str,
    ) -> Result<Option<Hold>, Error> {
        let row = self.row(merchant, key).await?;
        Ok(outbox::hold_of(&self.db, &row.id).await?)
    }

    /// Let an installation's held deliveries go again (the merchant fixed the cause). Also
    /// done by a passing health check and by an approval. Returns whether it was held.
    pub async fn resume_deliveries(&self, merchant: &MerchantId, key: &str) -> Result<bool, Error> {
        let row = self.row(merchant, key).await?;
        self.lift_hold(&row.id).await
    }

    pub(super) async fn lift_hold(&self, id: &InstallationId) -> Result<bool, Error> {
        let lifted = outbox::lift_hold(&self.db, id).await?;
        if lifted {
            tracing::info!(installation = %id, "deliveries resumed");
            self.wake.notify_one();
        }
        Ok(lifted)
    }

    async fn known_merchant(&self, merchant: &MerchantId) -> Result<(), Error> {
        match registry::plan_of(&self.db, merchant).await? {
            Some(_) => Ok(()),
            None => Err(Error::UnknownMerchant(merchant.clone())),
        }
    }

    /// Wait until something may be due: an event emitted or a hold lifted in this process,
    /// or `poll` passing (another process or node wrote it, or a retry came due).
    pub async fn wait_for_work(&self, poll: Duration) {
        let _ = tokio::time::timeout(poll, self.wake.notified()).await;
    }
}
