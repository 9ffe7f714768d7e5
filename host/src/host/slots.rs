//! Concurrency slots: how many invocations of one installation run at once. A slot is held
//! for the length of a call and freed when dropped, even if the call panics.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::ids::InstallationId;

/// Invocations running per installation.
#[derive(Debug, Clone, Default)]
pub(super) struct Slots(Arc<Mutex<HashMap<InstallationId, u32>>>);

/// One slot of an installation's concurrency limit; frees it when dropped.
#[derive(Debug)]
pub(super) struct Slot {
    slots: Slots,
    id: InstallationId,
}

impl Slots {
    /// Take one of the installation's `limit` slots, if one is free.
    pub(super) fn claim(&self, id: &InstallationId, limit: u32) -> Option<Slot> {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let n = map.entry(id.clone()).or_insert(0);
        if *n >= limit {
            return None;
        }
        *n += 1;
        Some(Slot {
            slots: self.clone(),
            id: id.clone(),
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut map = self.slots.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = map.get_mut(&self.id) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                map.remove(&self.id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_run_out_at_the_limit_and_come_back_when_dropped() {
        let slots = Slots::default();
        let (a, b) = (InstallationId::new("a"), InstallationId::new("b"));
        let first = slots.claim(&a, 2).unwrap();
        let second = slots.claim(&a, 2).unwrap();
        assert!(
            slots.claim(&a, 2).is_none(),
            "a third call of `a` must wait"
        );
        assert!(
            slots.claim(&b, 2).is_some(),
            "another installation has its own slots"
        );
        drop(first);
        let third = slots.claim(&a, 2).unwrap();
        drop((second, third));
        assert!(
            slots.0.lock().unwrap().is_empty(),
            "an idle installation leaves no entry"
        );
    }
}
