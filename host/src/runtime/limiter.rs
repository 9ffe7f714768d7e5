//! The Store's resource limiter: caps the memory and table elements of one call, summed over
//! every linear memory and every table its component instantiates, and remembers which cap a
//! call hit, so an abort is classified from the limiter itself, never from the text of an
//! error.
//!
//! The caps are per call, not per memory: a component may define several memories (and core
//! modules several tables), and a cap per memory would let one call hold that many times
//! `memory_bytes`. Wasmtime reports each growth with the memory's current size, and each
//! memory's initial allocation at instantiation as a growth from 0, so the running total is
//! the sum of `desired - current` over every approved growth.

use wasmtime::{ResourceLimiter, StoreLimits, StoreLimitsBuilder};

use crate::limits::Limits;

/// A cap a call tried to grow past.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum LimitHit {
    /// Linear memory, all memories together.
    #[error("the call tried to hold {desired} bytes of linear memory in all, past its cap")]
    Memory {
        /// Bytes the call would have held across all its memories.
        desired: usize,
    },
    /// Table elements, all tables together.
    #[error("the call tried to hold {desired} table elements in all, past its cap")]
    Table {
        /// Elements the call would have held across all its tables.
        desired: usize,
    },
}

/// Caps memory and tables for one call and records the peak memory and the cap hit.
pub(crate) struct Limiter {
    /// Counts of instances, memories and tables (Wasmtime's own bookkeeping).
    counts: StoreLimits,
    memory_cap: usize,
    table_cap: usize,
    /// Bytes of linear memory the call holds now, over all its memories.
    memory: usize,
    /// Table elements the call holds now, over all its tables.
    elements: usize,
    /// Most linear memory held at once, in bytes, over all memories.
    pub peak_memory: usize,
    /// The first cap the call hit, if any.
    pub hit: Option<LimitHit>,
}

impl Limiter {
    /// The limiter of one call under `limits`.
    pub(crate) fn new(limits: &Limits) -> Self {
        Limiter {
            counts: StoreLimitsBuilder::new()
                .instances(limits.instances)
                .memories(super::engine::MEMORIES_PER_COMPONENT as usize)
                .tables(super::engine::TABLES_PER_COMPONENT as usize)
                .build(),
            memory_cap: limits.memory_bytes,
            table_cap: limits.table_elements,
            memory: 0,
            elements: 0,
            peak_memory: 0,
            hit: None,
        }
    }

    /// Refuse a growth, trapping the call: a connector that runs into its cap is stopped
    /// rather than left to handle a failed `memory.grow` in a loop.
    fn refuse(&mut self, hit: LimitHit) -> wasmtime::Result<bool> {
        self.hit.get_or_insert(hit);
        Err(wasmtime::Error::new(hit))
    }
}

/// The total after growing one memory or table from `current` to `desired`.
fn grown(total: usize, current: usize, desired: usize) -> usize {
    total.saturating_add(desired.saturating_sub(current))
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let total = grown(self.memory, current, desired);
        if total > self.memory_cap || maximum.is_some_and(|max| desired > max) {
            self.peak_memory = self.peak_memory.max(total);
            return self.refuse(LimitHit::Memory { desired: total });
        }
        self.memory = total;
        self.peak_memory = self.peak_memory.max(total);
        Ok(true)
    }

    fn memory_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        Err(error)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let total = grown(self.elements, current, desired);
        if total > self.table_cap || maximum.is_some_and(|max| desired > max) {
            return self.refuse(LimitHit::Table { desired: total });
        }
        self.elements = total;
        Ok(true)
    }

    fn table_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        Err(error)
    }

    fn instances(&self) -> usize {
        self.counts.instances()
    }

    fn tables(&self) -> usize {
        self.counts.tables()
    }

    fn memories(&self) -> usize {
        self.counts.memories()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            memory_bytes: 1 << 20,
            table_elements: 10,
            ..Limits::default()
        }
    }

    #[test]
    fn growth_past_a_cap_is_refused_and_remembered() {
        let mut limiter = Limiter::new(&limits());
        assert!(limiter.memory_growing(0, 1 << 20, None).unwrap());
        assert!(limiter.table_growing(0, 10, None).unwrap());
        assert_eq!(limiter.hit, None);
        assert!(
            limiter
                .memory_growing(1 << 20, (1 << 20) + 1, None)
                .is_err()
        );
        assert_eq!(
            limiter.hit,
            Some(LimitHit::Memory {
                desired: (1 << 20) + 1
            })
        );
        assert!(limiter.table_growing(10, 11, None).is_err());
        assert_eq!(limiter.peak_memory, (1 << 20) + 1);
        // The first cap hit is the one reported.
        assert!(matches!(limiter.hit, Some(LimitHit::Memory { .. })));
        let mut fresh = Limiter::new(&limits());
        assert!(fresh.table_growing(0, 5, Some(4)).is_err());
        assert_eq!(fresh.hit, Some(LimitHit::Table { desired: 5 }));
    }

    #[test]
    fn the_caps_count_every_memory_and_every_table_of_the_call() {
        let mut limiter = Limiter::new(&limits());
        // Two memories created at instantiation (growth from 0), half the cap each: fine.
        assert!(limiter.memory_growing(0, 1 << 19, None).unwrap());
        assert!(limiter.memory_growing(0, 1 << 19, None).unwrap());
        // Either growing by a byte more is past the call's cap, though each is under it.
        assert!(
            limiter
                .memory_growing(1 << 19, (1 << 19) + 1, None)
                .is_err()
        );
        assert_eq!(
            limiter.hit,
            Some(LimitHit::Memory {
                desired: (1 << 20) + 1
            })
        );
        let mut tables = Limiter::new(&limits());
        assert!(tables.table_growing(0, 6, None).unwrap());
        assert!(tables.table_growing(0, 4, None).unwrap());
        assert!(tables.table_growing(4, 5, None).is_err());
        assert_eq!(tables.hit, Some(LimitHit::Table { desired: 11 }));
    }
}
