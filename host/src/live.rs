//! Live revocation. Grants are read from the database when an invocation starts; these signals
//! carry a later revoke, disable or uninstall to invocations already running in this process:
//! every host call compares the installation's generation with the one its invocation started
//! under and re-reads the grant when it moved, and the epoch callback interrupts the guest
//! within one tick when the installation was stopped.
//!
//! Several host nodes sharing PostgreSQL: a change made on another node reaches an invocation
//! here when it next starts (grants are read per invocation), not mid-call.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use crate::commerce::DataError;
use crate::grants::ScopeSet;
use crate::ids::InstallationId;

/// Where a running invocation re-reads its installation's approvals after a change.
#[async_trait::async_trait]
pub trait GrantSource: Send + Sync + 'static {
    /// The approved scopes if the installation is still active; `None` when it is disabled,
    /// awaiting approval, or gone.
    async fn approved(&self, installation: &InstallationId) -> Result<Option<ScopeSet>, DataError>;
}

/// The change counter of one installation.
#[derive(Debug, Default)]
pub struct Signal {
    generation: AtomicU64,
    stopped_at: AtomicU64,
}

impl Signal {
    /// The current generation; it moves on every revoke, disable, enable or uninstall.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// True when the installation was disabled or removed after `generation`.
    pub fn stopped_since(&self, generation: u64) -> bool {
        self.stopped_at.load(Ordering::SeqCst) > generation
    }
}

/// Every installation's signal, created on first use.
#[derive(Debug, Default)]
pub(crate) struct Signals {
    map: Mutex<HashMap<InstallationId, Arc<Signal>>>,
}

impl Signals {
    /// The signal of `installation`.
    pub fn get(&self, installation: &InstallationId) -> Arc<Signal> {
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        map.entry(installation.clone()).or_default().clone()
    }

    /// Grants changed (revoke, enable): running calls re-read them at their next host call.
    pub fn changed(&self, installation: &InstallationId) {
        self.get(installation)
            .generation
            .fetch_add(1, Ordering::SeqCst);
    }

    /// Disabled or removed: running calls are denied and interrupted.
    pub fn stopped(&self, installation: &InstallationId) {
        let signal = self.get(installation);
        let now = signal.generation.fetch_add(1, Ordering::SeqCst) + 1;
        signal.stopped_at.store(now, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stop_is_seen_only_by_invocations_that_started_before_it() {
        let signals = Signals::default();
        let id = InstallationId::new("inst_a");
        let before = signals.get(&id).generation();
        signals.changed(&id);
        assert!(
            !signals.get(&id).stopped_since(before),
            "a grant change is not a stop"
        );
        signals.stopped(&id);
        let signal = signals.get(&id);
        assert!(signal.stopped_since(before));
        assert!(
            !signal.stopped_since(signal.generation()),
            "a later start is not stopped"
        );
        assert_ne!(signal.generation(), before);
    }
}
