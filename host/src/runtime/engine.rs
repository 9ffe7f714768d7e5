//! The engine Airlock runs connectors on, and the epoch ticker that drives deadlines and fair
//! sharing.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::fairness::EPOCH_TICK;
use crate::limits::Limits;

/// The engine configuration Airlock runs connectors under: component model, epoch
/// interruption for deadlines, fuel for instruction budgets, a 512 KiB wasm stack (engine-wide:
/// Wasmtime fixes it per engine, not per call), and a pooling allocator sized for `limits`
/// (instantiation from a pool is what keeps a fresh Store per event cheap).
pub fn engine_config(limits: &Limits) -> Config {
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(200)
        .total_core_instances(2_000)
        .total_memories(400)
        .total_tables(400)
        .total_stacks(200)
        .max_memory_size(limits.memory_bytes)
        .max_core_instances_per_component(32)
        .max_memories_per_component(8)
        .max_tables_per_component(16)
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
