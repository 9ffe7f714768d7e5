//! Keeping the database's size bounded: finished deliveries, their events and old audit lines
//! go after a window ([`Host::prune`]); `airlock serve` prunes hourly, `airlock prune` on demand.

use std::time::Duration;

use crate::db::retention::{self, Pruned};
use crate::error::Error;

use super::Host;

impl Host {
    /// Delete deliveries that finished (delivered, skipped, dead) more than `keep` ago and the
    /// events left without deliveries, and audit lines older than `keep_audit`. Queued and
    /// running deliveries stay, however old.
    pub async fn prune(&self, keep: Duration, keep_audit: Duration) -> Result<Pruned, Error> {
        let now = self.clock.now_ms();
        let ago =
            |d: Duration| now.saturating_sub(i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        let pruned = retention::prune(&self.db, ago(keep), ago(keep_audit)).await?;
        tracing::info!(
            deliveries = pruned.deliveries,
            events = pruned.events,
            audit_lines = pruned.audit_lines,
            "pruned"
        );
        Ok(pruned)
    }
}
