//! Changes made by other processes sharing the database (another `serve` node, the CLI, a
//! platform's API node) reach calls running here. Every change of an installation's status or
//! approvals moves its `generation` in the database; a cheap poll reads the generations of
//! the installations with calls running in this process (none: no query) and signals those
//! that moved, exactly as a local revoke does: a new grant is re-read at the next host call,
//! a disable or uninstall interrupts the guest within an epoch tick. A poll is used rather
//! than LISTEN/NOTIFY because it works the same on SQLite and PostgreSQL and adds nothing to
//! any commit; it costs one indexed query per interval, only while calls run.

use std::future::Future;
use std::time::Duration;

use crate::db::lifecycle;
use crate::error::Error;
use crate::ids::InstallationId;
use crate::status::InstallationStatus;

use super::Host;

/// How often [`Host::follow_changes`] looks by default: well inside the one second a
/// revocation on another node may take to reach a running call.
pub const FOLLOW_EVERY: Duration = Duration::from_millis(100);

impl Host {
    /// Carry changes made elsewhere to the calls running here, every `every`, until `stop`
    /// completes. `airlock serve` runs it beside its dispatcher.
    pub async fn follow_changes(&self, every: Duration, stop: impl Future<Output = ()>) {
        tokio::pin!(stop);
        let mut ticker = tokio::time::interval(every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = &mut stop => return,
                _ = ticker.tick() => {}
            }
            if let Err(err) = self.follow_once().await {
                tracing::warn!(error = %err, "could not read installation changes made elsewhere");
            }
        }
    }

    /// One look: signal every installation with calls running here whose generation moved
    /// (or that is no longer active, or gone). Returns how many were signalled.
    pub async fn follow_once(&self) -> Result<usize, Error> {
        let running = self.running.running();
        if running.is_empty() {
            return Ok(0);
        }
        let ids: Vec<InstallationId> = running.iter().map(|(id, _)| id.clone()).collect();
        let now = lifecycle::generations(&self.db, &ids).await?;
        let mut signalled = 0;
        for (id, seen) in running {
            match now.iter().find(|(found, _, _)| *found == id) {
                None => {
                    tracing::info!(installation = %id, "uninstalled elsewhere: stopping its running calls");
                    self.signals.stopped(&id);
                    signalled += 1;
                }
                Some((_, status, generation)) if *generation > seen => {
                    if *status == InstallationStatus::Active {
                        self.signals.changed(&id);
                    } else {
                        tracing::info!(installation = %id, %status, "stopped elsewhere: stopping its running calls");
                        self.signals.stopped(&id);
                    }
                    self.running.seen(&id, *generation);
                    signalled += 1;
                }
                Some(_) => {}
            }
        }
        Ok(signalled)
    }
}
