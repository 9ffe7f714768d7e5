//! The engine Airlock runs connectors on, and the epoch ticker that drives deadlines and fair
//! sharing.

use std::hash::Hash;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use super::disk::EngineKey;
use crate::fairness::EPOCH_TICK;
use crate::limits::Limits;

/// Linear memories one component may define. Measured on real components (see the
/// `plugins_used` suite test, which counts the built ones): a Rust component from wit-bindgen,
/// a JavaScript one from componentize-js 0.23 and a Python one from componentize-py 0.25 each
/// define 1 (the WASI preview1 adapter and the shims share the main module's). One more is
/// headroom for a toolchain that gives an adapter its own; every memory counts against the
/// call's one memory cap in any case.
pub(crate) const MEMORIES_PER_COMPONENT: u32 = 2;

/// Tables one component may define: each of the components above defines 2 (the main
/// module's function table and wit-component's shim table); twice that is headroom. Their
/// elements count against the call's one table cap.
pub(crate) const TABLES_PER_COMPONENT: u32 = 4;

/// The wasm stack of every call (engine-wide).
const MAX_WASM_STACK: usize = 512 * 1024;

/// Everything of Airlock's that goes into the engine configuration, derived from the limits:
/// one value feeds both [`engine_config`] and the compile-cache key, so the key cannot miss
/// a setting the configuration uses.
#[derive(Hash)]
struct Settings {
    instances: u32,
    core_instances: u32,
    memory_bytes: usize,
    table_elements: usize,
    memories_per_component: u32,
    tables_per_component: u32,
    max_wasm_stack: usize,
}

impl Settings {
    fn of(limits: &Limits) -> Settings {
        Settings {
            instances: limits.pool_instances.max(1),
            core_instances: u32::try_from(limits.instances).unwrap_or(u32::MAX),
            memory_bytes: limits.memory_bytes,
            table_elements: limits.table_elements,
            memories_per_component: MEMORIES_PER_COMPONENT,
            tables_per_component: TABLES_PER_COMPONENT,
            max_wasm_stack: MAX_WASM_STACK,
        }
    }
}

/// Bytes at the start of each pooled linear memory reset with `memset` rather than given
/// back to the kernel when an instance ends (the rest is given back). Giving pages back
/// (`madvise`) flushes every core's TLB, and the next call faults them in again: measured,
/// the two were about a third of all CPU time at 9 000 deliveries a second (`perf record`
/// over `--bench deliveries`). Either way the slot is zeroed, or restored to its image,
/// before another call gets it. Each slot in use, and each of the (at most 100) unused warm
/// slots, may keep this much resident per memory.
///
/// Wasmtime's `PAGEMAP_SCAN` mode (reset only the pages found written) is left off on
/// purpose: in 48.0.8 it looks for written pages that are *present*, so a written page that
/// was swapped out (swap, zram, zswap) is neither reset nor given back, and the next instance
/// in the slot, perhaps another merchant's, would read it back (the leak Wasmtime's PR #14357
/// is about). A plain `memset` writes every byte, swapped or not.
pub const MEMORY_KEEP_RESIDENT: usize = 2 << 20;

/// Bytes of each pooled table reset the same way.
pub const TABLE_KEEP_RESIDENT: usize = 64 << 10;

/// The engine configuration Airlock runs connectors under: component model, epoch
/// interruption for deadlines, fuel for instruction budgets, a 512 KiB wasm stack (engine-wide:
/// Wasmtime fixes it per engine, not per call), and a pooling allocator sized for `limits`
/// (instantiation from a pool is what keeps a fresh Store per event cheap).
///
/// The pool holds `limits.pool_instances` component instances, and as many memories, tables,
/// core instances and stacks as that many components can use at the per-component maxima
/// above: so a call never fails to instantiate for want of a memory or table slot while a
/// component slot is free, and admitting calls against component slots (per merchant, see
/// `crate::runtime`) admits them against the whole pool.
pub fn engine_config(limits: &Limits) -> Config {
    let s = Settings::of(limits);
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(s.instances)
        .total_core_instances(s.instances.saturating_mul(s.core_instances))
        .total_memories(s.instances.saturating_mul(s.memories_per_component))
        .total_tables(s.instances.saturating_mul(s.tables_per_component))
        .total_stacks(s.instances)
        .max_memory_size(s.memory_bytes)
        .max_core_instances_per_component(s.core_instances)
        .max_memories_per_component(s.memories_per_component)
        .max_tables_per_component(s.tables_per_component)
        .table_elements(s.table_elements)
        .linear_memory_keep_resident(MEMORY_KEEP_RESIDENT)
        .table_keep_resident(TABLE_KEEP_RESIDENT)
        // Off: see MEMORY_KEEP_RESIDENT for why.
        .pagemap_scan(Enabled::No);
    let mut config = Config::new();
    config
        .wasm_component_model(true)
        .epoch_interruption(true)
        .consume_fuel(true)
        .max_wasm_stack(s.max_wasm_stack)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    config
}

/// The compile-cache key of `engine`, made by [`engine_config`] from `limits`: Wasmtime's own
/// compatibility hash (target, compiler flags, tunables, wasm features and Wasmtime's
/// version: what compiled code depends on) plus Airlock's settings and version. The pool
/// sizes do not change compiled code today; keying on them too means any change of the
/// engine configuration starts a fresh set of files, at the price of one compile per
/// connector after a limits change.
pub(super) fn engine_key(engine: &Engine, limits: &Limits) -> EngineKey {
    EngineKey::of(|mut hasher| {
        engine.precompile_compatibility_hash().hash(&mut hasher);
        Settings::of(limits).hash(&mut hasher);
        env!("CARGO_PKG_VERSION").hash(&mut hasher);
    })
}

/// Tick `engine`'s epoch every [`EPOCH_TICK`] on a thread of its own until `stop` is set.
pub(super) fn start_ticker(
    engine: &Engine,
    stop: &Arc<AtomicBool>,
) -> std::io::Result<JoinHandle<()>> {
    let (engine, stop) = (engine.clone(), stop.clone());
    std::thread::Builder::new()
        .name("airlock-epoch".into())
        .spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(EPOCH_TICK);
                engine.increment_epoch();
            }
        })
}
