//! Running connectors: the dispatcher (`deliver.rs`) delivers outbox events through
//! [`Host::run`]; [`Host::invoke`] delivers one directly; [`Host::health_check`] runs the
//! `health-check` export. All three go through one gate ([`Host::run`]): the installation must
//! be active, the call follows revocations while it runs, counts against the installation's
//! concurrency cap, reads data through its merchant's database gate, and is audited.

use std::sync::Arc;

use crate::call::Live;
use crate::db::audit::AuditEntry;
use crate::db::registry::{self, InstallationRow};
use crate::error::Error;
use crate::grants::Grant;
use crate::ids::{InstallationId, MerchantId};
use crate::limits::Limits;
use crate::manifest::{Manifest, Topic};
use crate::report::{AbortReason, CallResult, Event, InvocationReport};
use crate::runtime::{CallSetup, Prepared};
use crate::status::InstallationStatus;

use super::Host;
use super::audit::invocation_lines;
use super::known::Known;

/// A call that ran: its report, and the audit lines recording it (not written yet).
pub(super) struct Ran {
    /// What happened.
    pub report: InvocationReport,
    /// The lines to append to the audit log.
    pub audit: Vec<AuditEntry>,
}

/// What a call runs, and how it was asked for.
#[derive(Clone, Copy)]
pub(super) enum Export<'a> {
    /// `handle-event` for an emitted event: skipped unless subscribed and granted the
    /// topic's scope.
    Emitted(&'a Event),
    /// `handle-event` delivered directly: refused unless granted the topic's scope.
    Direct(&'a Event),
    /// `health-check`. Only an active app runs it: a disabled one is paused with its grant
    /// and keys, and checking it is what `enable` is for (events and checks follow one rule).
    Health,
}

impl Host {
    /// Deliver one event to one installation directly (a replay, or `dev run`), under its
    /// grant. The installation must be active and hold the scope the topic needs.
    pub async fn invoke(
        &self,
        merchant: &MerchantId,
        key: &str,
        topic: Topic,
        subject_id: &str,
    ) -> Result<InvocationReport, Error> {
        let row = self.row(merchant, key).await?;
        let event = new_event(topic, subject_id, self.clock.now_ms())?;
        self.run_one(&row, Export::Direct(&event)).await
    }

    /// Run an active installation's `health-check` export under its grant and limits, through
    /// the same gate as an event: a disabled app is refused (enable it first).
    pub async fn health_check(
        &self,
        merchant: &MerchantId,
        key: &str,
    ) -> Result<InvocationReport, Error> {
        let row = self.row(merchant, key).await?;
        let report = self.run_one(&row, Export::Health).await?;
        // A passing check is the sign the merchant fixed what held its deliveries.
        if matches!(report.result, CallResult::Done { .. }) {
            self.lift_hold(&row.id).await?;
        }
        Ok(report)
    }

    /// Forget an uninstalled app's storage in the storage backend as well: a platform's own
    /// backend ([`crate::HostBuilder::storage`]) holds it outside Airlock's tables. Called
    /// after the uninstall committed, so a failure is logged for the operator, not undone.
    pub(super) async fn wipe_storage(&self, id: &InstallationId) {
        if let Err(err) = self.sources.storage.wipe(id).await {
            tracing::warn!(installation = %id, error = %err,
                "the storage backend could not delete an uninstalled app's storage");
        }
    }

    /// [`Host::run`] for one installation asked for by name: refused with the reason when it
    /// is not active.
    async fn run_one(
        &self,
        row: &InstallationRow,
        export: Export<'_>,
    ) -> Result<InvocationReport, Error> {
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
        // `None`: it changed state between the two reads; say so the same way.
        let ran = self
            .run(&row.merchant, &row.id, export, None)
            .await?
            .ok_or_else(|| not_active("no longer active".into()))?;
        crate::db::audit::append(&self.db, &ran.audit).await?;
        Ok(ran.report)
    }

    /// The gate every call into a connector goes through: run one installation if it is
    /// active (and, for an emitted event, subscribed and granted for it). The generation is
    /// read before the row: a change committed before that is in the row, a later one moves
    /// the generation and reaches the call at its next host call or epoch tick. `known` is
    /// what a dispatcher read for the call's batch (`known.rs`): used while the generation
    /// has not moved since, else the row is read again.
    ///
    /// Returns the report and its audit lines, for the caller to write: one call by itself
    /// writes them at once, a dispatcher with the batch's outcomes.
    pub(super) async fn run(
        &self,
        merchant: &MerchantId,
        id: &InstallationId,
        export: Export<'_>,
        known: Option<&Known>,
    ) -> Result<Option<Ran>, Error> {
        let signal = self.signals.get(id);
        let fresh;
        let (started, row, limits) = match known {
            Some(k) if k.started == signal.generation() => (k.started, &k.row, Some(&k.limits)),
            _ => {
                let started = signal.generation();
                let Some(row) = registry::installation(&self.db, merchant, id.as_str()).await?
                else {
                    return Ok(None);
                };
                fresh = row;
                (started, &fresh, None)
            }
        };
        if row.status != InstallationStatus::Active {
            return Ok(None);
        }
        let prepared = self.prepared_for(row).await?;
        let manifest = &prepared.manifest;
        let grant = self.grant(manifest, row);
        match export {
            Export::Emitted(event) if !subscribed(manifest, &grant, event.topic) => {
                return Ok(None);
            }
            Export::Direct(event) if !event.topic.allowed(|s| grant.allows(s)) => {
                return Err(Error::TopicNotGranted {
                    installation: row.id.clone(),
                    topic: event.topic,
                    scope: event
                        .topic
                        .needs()
                        .unwrap_or(crate::grants::Scope::OrdersRead),
                });
            }
            _ => {}
        }
        let live = Live {
            signal,
            started,
            source: self.gates.grants(&row.merchant, self.grants.clone()),
            declared: manifest.declared(),
            policy: self.policy,
        };
        let read;
        let limits = match limits {
            Some(limits) => limits,
            None => {
                read = self.effective_limits(row).await?;
                &read
            }
        };
        let report = self.call(row, &prepared, grant, live, export, limits).await;
        let unchanged = self.signals.get(id).generation() == started;
        self.settle_paid(row, &report, unchanged).await?;
        let audit = invocation_lines(
            &row.merchant,
            &row.id,
            &report,
            &prepared.connections.origins,
        );
        Ok(Some(Ran { report, audit }))
    }

    /// Run the export under the installation's limits, or refuse the call as busy when
    /// every one of its concurrent slots is taken.
    async fn call(
        &self,
        row: &InstallationRow,
        prepared: &Arc<Prepared>,
        grant: Grant,
        live: Live,
        export: Export<'_>,
        limits: &Limits,
    ) -> InvocationReport {
        let Some(_slot) = self
            .running
            .claim(&row.id, limits.max_concurrent, row.generation)
        else {
            let reason = AbortReason::Busy {
                limit: limits.max_concurrent,
            };
            return refused(row, prepared, export, limits, reason);
        };
        let setup = CallSetup::new(row.merchant.clone(), row.id.clone(), grant).live(live);
        let sources = self.gates.sources(&row.merchant, &self.sources);
        match export {
            Export::Emitted(event) | Export::Direct(event) => {
                self.runtime
                    .invoke(prepared, setup, &sources, limits, event)
                    .await
            }
            Export::Health => {
                self.runtime
                    .health_check(prepared, setup, &sources, limits)
                    .await
            }
        }
    }
}

impl Host {
    /// Write the orders a call marked paid if, and only if, it succeeded and nothing about its
    /// installation changed while it ran (a revoke, disable or uninstall): payments fail
    /// closed. Discarded ones are audited.
    async fn settle_paid(
        &self,
        row: &InstallationRow,
        report: &InvocationReport,
        unchanged: bool,
    ) -> Result<(), Error> {
        if report.staged_paid.is_empty() {
            return Ok(());
        }
        let succeeded = matches!(report.result, CallResult::Done { .. });
        if succeeded && unchanged {
            let sources = self.gates.sources(&row.merchant, &self.sources);
            for id in &report.staged_paid {
                let written = sources
                    .commerce
                    .set_financial_status(&row.merchant, id, crate::commerce::FinancialStatus::Paid)
                    .await;
                if let Err(err) = written {
                    tracing::warn!(installation = %row.id, error = %err.0, "an order could not be marked paid after the call");
                }
            }
            return Ok(());
        }
        let mut entry = AuditEntry::new(
            &row.merchant,
            Some(&row.id),
            "host",
            "orders.set-financial-status",
        );
        entry.scope = Some(crate::grants::Scope::OrdersWrite.to_string());
        entry.outcome = "discarded".to_owned();
        entry.detail = format!(
            "{} order(s) not marked paid: {} (payments fail closed)",
            report.staged_paid.len(),
            if succeeded {
                "the app changed while the call ran"
            } else {
                "the call did not succeed"
            }
        );
        crate::db::audit::append(&self.db, &[entry]).await?;
        Ok(())
    }
}

/// The report of a call refused before it started.
fn refused(
    row: &InstallationRow,
    prepared: &Prepared,
    export: Export<'_>,
    limits: &crate::limits::Limits,
    reason: AbortReason,
) -> InvocationReport {
    let connector = &prepared.manifest.id;
    match export {
        Export::Emitted(event) | Export::Direct(event) => {
            InvocationReport::refused(&row.id, connector, event, limits, reason)
        }
        Export::Health => {
            let placeholder = Event {
                id: String::new(),
                topic: Topic::OrderCreated,
                subject_id: String::new(),
                occurred_at: 0,
            };
            let mut report =
                InvocationReport::refused(&row.id, connector, &placeholder, limits, reason);
            report.event = None;
            report.export = "health-check";
            report
        }
    }
}

/// Whether an installation is told about `topic`: it subscribed, and holds the topic's scope.
fn subscribed(manifest: &Manifest, grant: &Grant, topic: Topic) -> bool {
    manifest.events.contains(&topic) && topic.allowed(|s| grant.allows(s))
}

pub(super) fn new_event(topic: Topic, subject_id: &str, now_ms: i64) -> Result<Event, Error> {
    if subject_id.is_empty() || subject_id.len() > 128 || subject_id.chars().any(char::is_control) {
        return Err(Error::BadSubject);
    }
    Ok(Event {
        id: format!("evt_{}", uuid::Uuid::new_v4().simple()),
        topic,
        subject_id: subject_id.to_owned(),
        occurred_at: now_ms.max(0) as u64,
    })
}
