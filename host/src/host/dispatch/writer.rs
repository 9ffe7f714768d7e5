//! The dispatcher's group commits: outcomes and the audit lines of their calls, written in
//! one transaction by a task of its own while the loop goes on starting calls.

use std::sync::Arc;
use std::time::Duration;

use super::Run;
use crate::db::Backend;
use crate::error::Error;
use crate::host::deliver::Round;

/// Outcomes that make a group commit at once.
pub const FLUSH_AT: usize = 256;
/// The longest an outcome waits for its group commit.
pub const FLUSH_WITHIN: Duration = Duration::from_millis(2);

impl Run {
    /// Write the outcomes and audit lines gathered so far in one transaction.
    pub(super) async fn flush(&mut self) -> Result<(), Error> {
        self.written().await?;
        if self.outcomes.is_empty() && self.audit.is_empty() {
            return Ok(());
        }
        // Written by a task of its own, so this loop goes on starting calls meanwhile; one
        // write at a time (the next waits for this one above).
        let outcomes = std::mem::take(&mut self.outcomes);
        let audit = std::mem::take(&mut self.audit);
        let host = Arc::clone(&self.host);
        self.writing = Some(tokio::spawn(async move {
            let mut round = Round::default();
            let now = host.clock.now_ms();
            host.write_outcomes(&outcomes, &audit, now, &mut round)
                .await
                .map(|()| round.stale)
        }));
        Ok(())
    }

    /// No group commit is being written, and on SQLite no claim is under way either: there
    /// both take the dispatcher's one connection, so a write started during a claim only
    /// waits for it, and the outcomes that end meanwhile are better gathered into it. (On
    /// PostgreSQL they take different connections of the pool.)
    pub(super) fn writer_idle(&self) -> bool {
        fn busy<T>(task: &Option<tokio::task::JoinHandle<T>>) -> bool {
            task.as_ref().is_some_and(|t| !t.is_finished())
        }
        let claim_in_the_way = self.host.db.backend() == Backend::Sqlite && busy(&self.claiming);
        !busy(&self.writing) && !claim_in_the_way
    }

    /// Wait for the write in progress, if any.
    pub(super) async fn written(&mut self) -> Result<(), Error> {
        if let Some(writing) = self.writing.take() {
            let stale = writing
                .await
                .map_err(|e| Error::Engine(format!("writing outcomes: {e}")))??;
            self.totals.stale += stale;
        }
        Ok(())
    }
}
