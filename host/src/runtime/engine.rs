//! The engine Airlock runs connectors on, and the epoch ticker that drives deadlines and fair
//! sharing.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

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

/// The engine configuration Airlock runs connectors under: component model, epoch
/// interruption for deadlines, fuel for instruction budgets, a 512 KiB wasm stack (engine-wide:
/// Wasmtime fixes it per engine, not per call), and a pooling allocator sized for `limits`
/// (instantiation from a pool is what keeps a fresh Store per event cheap).
///
/// The pool holds `limits.pool_instances` component instances, and as many memories, tables,
/// core instances and stacks as that many components can use at the per-component maxima
/// above: so a call never fails to instantiate for want of a memory or table slot while a
/// component slot is free, and admitting calls against component slots (per merchant, see
/// [`crate::runtime`]) admits them against the whole pool.
pub fn engine_config(limits: &Limits) -> Config {
    let instances = limits.pool_instances.max(1);
    let core_instances = u32::try_from(limits.instances).unwrap_or(u32::MAX);
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(instances)
        .total_core_instances(instances.saturating_mul(core_instances))
        .total_memories(instances.saturating_mul(MEMORIES_PER_COMPONENT))
        .total_tables(instances.saturating_mul(TABLES_PER_COMPONENT))
        .total_stacks(instances)
        .max_memory_size(limits.memory_bytes)
        .max_core_instances_per_component(core_instances)
        .max_memories_per_component(MEMORIES_PER_COMPONENT)
        .max_tables_per_component(TABLES_PER_COMPONENT)
        .table_elements(limits.table_elements);
    let mut config = Config::new();
    config
        .wasm_component_model(true)
        .epoch_interruption(true)
        .consume_fuel(true)
        .max_wasm_stack(512 * 1024)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    config
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
