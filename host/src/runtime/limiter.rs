//! The Store's resource limiter: caps each call's linear memory and tables, and remembers
//! which cap a call hit, so an abort is classified from the limiter itself, never from the
//! text of an error.

use wasmtime::{ResourceLimiter, StoreLimits, StoreLimitsBuilder};

use crate::limits::Limits;

/// A cap a call tried to grow past.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum LimitHit {
    /// Linear memory.
    #[error("the call tried to grow its memory to {desired} bytes, past its cap")]
    Memory {
        /// Bytes asked for.
        desired: usize,
    },
    /// A table.
    #[error("the call tried to grow a table to {desired} elements, past its cap")]
    Table {
        /// Elements asked for.
        desired: usize,
    },
}

/// Caps memory and tables for one call and records the peak memory and the cap hit.
pub(crate) struct Limiter {
    /// Counts of instances, memories and tables (Wasmtime's own bookkeeping).
    counts: StoreLimits,
    memory_cap: usize,
    table_cap: usize,
    /// Largest memory size requested, in bytes.
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
                .build(),
            memory_cap: limits.memory_bytes,
            table_cap: limits.table_elements,
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

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.peak_memory = self.peak_memory.max(desired);
        if desired > self.memory_cap || maximum.is_some_and(|max| desired > max) {
            return self.refuse(LimitHit::Memory { desired });
        }
        Ok(true)
    }

    fn memory_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        Err(error)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.table_cap || maximum.is_some_and(|max| desired > max) {
            return self.refuse(LimitHit::Table { desired });
        }
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

    #[test]
    fn growth_past_a_cap_is_refused_and_remembered() {
        let limits = Limits {
            memory_bytes: 1 << 20,
            table_elements: 10,
            ..Limits::default()
        };
        let mut limiter = Limiter::new(&limits);
        assert!(limiter.memory_growing(0, 1 << 20, None).unwrap());
        assert!(limiter.table_growing(0, 10, None).unwrap());
        assert_eq!(limiter.hit, None);
        assert!(limiter.memory_growing(0, (1 << 20) + 1, None).is_err());
        assert_eq!(
            limiter.hit,
            Some(LimitHit::Memory {
                desired: (1 << 20) + 1
            })
        );
        assert!(limiter.table_growing(0, 11, None).is_err());
        assert_eq!(limiter.peak_memory, (1 << 20) + 1);
        // The first cap hit is the one reported.
        assert!(matches!(limiter.hit, Some(LimitHit::Memory { .. })));
        let mut fresh = Limiter::new(&limits);
        assert!(fresh.table_growing(0, 5, Some(4)).is_err());
        assert_eq!(fresh.hit, Some(LimitHit::Table { desired: 5 }));
    }
}
