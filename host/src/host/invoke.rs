//! Running connectors: [`Host::emit`] fans an event out to every subscribed, granted, active
//! installation; [`Host::invoke`] delivers one directly; [`Host::health_check`] runs the
//! `health-check` export. Each call runs under its grant and limits and is audited.

use std::sync::Arc;

use crate::call::Live;
use crate::db::now_ms;
use crate::db::registry::{self, InstallationRow};
use crate::error::Error;
use crate::grants::Grant;
use crate::ids::{InstallationId, MerchantId};
use crate::manifest::{Manifest, Topic};
use crate::report::{AbortReason, Event, InvocationReport};
use crate::runtime::{CallSetup, Prepared};
use crate::status::InstallationStatus;
use crate::views::Emitted;

use super::Host;

impl Host {
    /// Deliver a new `topic` event about `subject_id` to every active installation of
    /// `merchant` that subscribed to it and holds the scope the topic needs.
    pub async fn emit(
        &self,
        merchant: &MerchantId,
        topic: Topic,
        subject_id: &str,
    ) -> Result<Emitted, Error> {
        if registry::plan_of(&self.db, merchant).await?.is_none() {
            return Err(Error::UnknownMerchant(merchant.clone()));
        }
        let event = new_event(topic, subject_id)?;
        let mut deliveries = Vec::new();
        for row in registry::installations(&self.db, merchant).await? {
            if row.status == InstallationStatus::Active
                && let Some(report) = self.run(merchant, &row.id, &event, Some(topic)).await?
            {
                deliveries.push(report);
            }
        }
        Ok(Emitted { event, deliveries })
    }

    /// Deliver one event to one installation directly (a replay, or `dev run`), under its
    /// grant. The installation must be active.
    pub async fn invoke(
        &self,
        merchant: &MerchantId,
        key: &str,
        topic: Topic,
        subject_id: &str,
    ) -> Result<InvocationReport, Error> {
        let row = self.row(merchant, key).await?;
        let not_active = |status: String| Error::NotActive {
            installation: row.id.clone(),
            hint: match row.status {
                InstallationStatus::Disabled => "enable it first (`airlock enable`)",
                _ => "approve it first (`airlock approve`)",
            },
            status,
        };
        if row.status != InstallationStatus::Active {
            return Err(not_active(row.status.to_string()));
        }
        let event = new_event(topic, subject_id)?;
        // `None`: it changed state between the two reads; say so the same way.
        self.run(merchant, &row.id, &event, None)
            .await?
            .ok_or_else(|| not_active("no longer active".into()))
    }

    /// Run an installation's `health-check` export under its grant and limits (active or
    /// disabled: a merchant checks a paused app before enabling it again).
    pub async fn health_check(
        &self,
        merchant: &MerchantId,
        key: &str,
    ) -> Result<InvocationReport, Error> {
        let row = self.row(merchant, key).await?;
        if row.status == InstallationStatus::Pending {
            return Err(Error::NotActive {
                installation: row.id.clone(),
                status: row.status.to_string(),
                hint: "approve it first (`airlock approve`)",
            });
        }
        let prepared = self.prepared_for(&row).await?;
        let grant = self.grant(&prepared.manifest, &row);
        let limits = self.effective_limits(&row).await?;
        let setup = CallSetup::new(row.merchant.clone(), row.id.clone(), grant);
        let report = self
            .runtime
            .health_check(&prepared, setup, &self.sources, &limits)
            .await;
        self.audit_report(&row, &report).await?;
        Ok(report)
    }

    /// Run one installation for `event` if it is active (and, with `topic`, subscribed and
    /// granted for it). The generation is read before the row: a change committed before that
    /// is in the row, a later one moves the generation and reaches the call at its next host
    /// call or epoch tick.
    async fn run(
        &self,
        merchant: &MerchantId,
        id: &InstallationId,
        event: &Event,
        topic: Option<Topic>,
    ) -> Result<Option<InvocationReport>, Error> {
        let signal = self.signals.get(id);
        let started = signal.generation();
        let Some(row) = registry::installation(&self.db, merchant, id.as_str()).await? else {
            return Ok(None);
        };
        if row.status != InstallationStatus::Active {
            return Ok(None);
        }
        let prepared = self.prepared_for(&row).await?;
        let manifest = &prepared.manifest;
        let grant = self.grant(manifest, &row);
        if let Some(topic) = topic
            && !subscribed(manifest, &grant, topic)
        {
            return Ok(None);
        }
        let live = Live {
            signal,
            started,
            source: self.grants.clone(),
            declared: manifest.declared(),
            policy: self.policy,
        };
        let report = self.call(&row, &prepared, grant, live, event).await?;
        self.audit_report(&row, &report).await?;
        Ok(Some(report))
    }

    /// Call `handle-event` under the installation's limits, or refuse the call as busy when
    /// every one of its concurrent slots is taken.
    async fn call(
        &self,
        row: &InstallationRow,
        prepared: &Arc<Prepared>,
        grant: Grant,
        live: Live,
        event: &Event,
    ) -> Result<InvocationReport, Error> {
        let limits = self.effective_limits(row).await?;
        let Some(_slot) = self.running.claim(&row.id, limits.max_concurrent) else {
            let reason = AbortReason::Busy {
                limit: limits.max_concurrent,
            };
            let manifest = &prepared.manifest;
            return Ok(InvocationReport::refused(
                &row.id,
                &manifest.id,
                event,
                &limits,
                reason,
            ));
        };
        let setup = CallSetup::new(row.merchant.clone(), row.id.clone(), grant).live(live);
        Ok(self
            .runtime
            .invoke(prepared, setup, &self.sources, &limits, event)
            .await)
    }
}

/// Whether an installation is told about `topic`: it subscribed, and holds the topic's scope.
fn subscribed(manifest: &Manifest, grant: &Grant, topic: Topic) -> bool {
    manifest.events.contains(&topic) && grant.allows(topic.needs())
}

fn new_event(topic: Topic, subject_id: &str) -> Result<Event, Error> {
    if subject_id.is_empty() || subject_id.len() > 128 || subject_id.chars().any(char::is_control) {
        return Err(Error::BadSubject);
    }
    Ok(Event {
        id: format!("evt_{}", uuid::Uuid::new_v4().simple()),
        topic,
        subject_id: subject_id.to_owned(),
        occurred_at: now_ms().max(0) as u64,
    })
}
