//! What a call needs from the database, read for a whole batch of claimed deliveries at
//! once: each installation's row (status, approvals) and its limits. A delivery runs on
//! what was read for its batch only while its installation's signal generation is the one
//! seen before the read; a change made here since then moves it, and the call reads afresh.
//! A change made on another node reaches it exactly as it reaches a call already running
//! (`follow.rs`): the batch is read milliseconds before its calls start.

use std::collections::HashMap;
use std::sync::Arc;

use crate::db::batch;
use crate::db::registry::InstallationRow;
use crate::error::Error;
use crate::ids::InstallationId;
use crate::limits::Limits;

use super::Host;

/// One installation as read for a batch.
#[derive(Debug)]
pub(super) struct Known {
    /// Its signal generation before the read.
    pub started: u64,
    /// Its row and approvals.
    pub row: InstallationRow,
    /// The limits its calls run under.
    pub limits: Limits,
}

/// The installations of a batch, by id (one that is gone is missing).
pub(super) type KnownSet = HashMap<InstallationId, Arc<Known>>;

impl Host {
    /// Read the installations with these ids, their approvals and limits, in three queries.
    pub(super) async fn known(&self, ids: &[InstallationId]) -> Result<KnownSet, Error> {
        let mut ids = ids.to_vec();
        ids.sort_unstable_by(|a, b| a.as_str().cmp(b.as_str()));
        ids.dedup();
        let started: HashMap<&InstallationId, u64> = ids
            .iter()
            .map(|id| (id, self.signals.get(id).generation()))
            .collect();
        let rows = batch::installations(&self.db, &ids).await?;
        let mut overrides = batch::limit_overrides(&self.db, &ids).await?;
        let mut known = KnownSet::with_capacity(rows.len());
        for row in rows {
            let Some(&started) = started.get(&row.id) else {
                continue;
            };
            let (plan, connector) = overrides.remove(&row.id).unwrap_or_default();
            // Stored overrides that do not parse: that delivery reads afresh and fails alone.
            let Ok(limits) = self.limits_from(&row, plan, connector) else {
                continue;
            };
            known.insert(
                row.id.clone(),
                Arc::new(Known {
                    started,
                    row,
                    limits,
                }),
            );
        }
        Ok(known)
    }
}
