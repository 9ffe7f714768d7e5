//! Concurrency slots: how many invocations of one installation run at once. A slot is held
//! for the length of a call and freed when dropped, even if the call panics. Each entry also
//! keeps the installation's database generation its running calls started under, so a change
//! made by another node (which moves that generation) can be carried to them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::ids::InstallationId;

/// Invocations running per installation.
#[derive(Debug, Clone, Default)]
pub(super) struct Slots(Arc<Mutex<HashMap<InstallationId, Running>>>);

/// The calls of one installation running here.
#[derive(Debug, Clone, Copy)]
struct Running {
    calls: u32,
    /// The oldest database generation a running call started under (or was told about).
    generation: i64,
}

/// One slot of an installation's concurrency limit; frees it when dropped.
#[derive(Debug)]
pub(super) struct Slot {
    slots: Slots,
    id: InstallationId,
}

impl Slots {
    /// Take one of the installation's `limit` slots, if one is free.
    /// `generation` is the installation's database generation the call's grant was read at.
    pub(super) fn claim(&self, id: &InstallationId, limit: u32, generation: i64) -> Option<Slot> {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = map.entry(id.clone()).or_insert(Running {
            calls: 0,
            generation,
        });
        if entry.calls >= limit {
            return None;
        }
        entry.calls += 1;
        entry.generation = entry.generation.min(generation);
        Some(Slot {
            slots: self.clone(),
            id: id.clone(),
        })
    }
}

impl Slots {
    /// Installations with calls running here, each with the generation they started under.
    pub(super) fn running(&self) -> Vec<(InstallationId, i64)> {
        let map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        map.iter()
            .map(|(id, r)| (id.clone(), r.generation))
            .collect()
    }

    /// The running calls of `id` have been told about `generation`.
    pub(super) fn seen(&self, id: &InstallationId, generation: i64) {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(r) = map.get_mut(id) {
            r.generation = r.generation.max(generation);
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut map = self.slots.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(r) = map.get_mut(&self.id) {
            r.calls = r.calls.saturating_sub(1);
            if r.calls == 0 {
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
        let first = slots.claim(&a, 2, 0).unwrap();
        let second = slots.claim(&a, 2, 0).unwrap();
        assert!(
            slots.claim(&a, 2, 0).is_none(),
            "a third call of `a` must wait"
        );
        assert!(
            slots.claim(&b, 2, 0).is_some(),
            "another installation has its own slots"
        );
        drop(first);
        let third = slots.claim(&a, 2, 0).unwrap();
        drop((second, third));
        assert!(
            slots.0.lock().unwrap().is_empty(),
            "an idle installation leaves no entry"
        );
    }
}
