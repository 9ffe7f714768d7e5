//! Restarting a host with compiled components on disk. A SQLite file database holds N
//! installed, approved connectors (default 10), each a distinct artifact; then:
//!
//! - `restart/cached`: open the database and a `Host` over the compile cache those installs
//!   filled, until every active connector is prepared (loaded from disk, 0 compiles);
//!   `restart/cached_connected_db` the same on a database connected already (the host's part);
//! - `restart/compiling`: the same open over an empty cache directory (every one compiled);
//! - `first_event/*`: the first `Host::invoke` of the notifier after such a restart (also
//!   after one database write first, which takes SQLite's first-commit cost out), against the
//!   next ones on a warm host; `sandbox_first_event/*` the same through `Sandbox::invoke`
//!   alone (no database reads or audit writes around the call);
//! - `compile/*`: compiling the largest artifact (or the component at `AIRLOCK_BENCH_COMPILE`,
//!   which needs no manifest) with and without parallel compilation.
//!
//! Artifacts: the example connectors and the probe, each installed as several distinct
//! artifacts (a custom section numbers the copy, so each has its own digest and compile)
//! until N are installed, plus every path in `AIRLOCK_BENCH_ARTIFACTS` (comma separated,
//! e.g. JavaScript or Python connectors). `AIRLOCK_BENCH_CONNECTORS` changes N.
//! Run: `cargo bench -p airlock-tests --bench restart -- --measurement-time 5`.
#![allow(clippy::expect_used, clippy::unwrap_used, missing_docs)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use airlock_host::artifact::append_custom_section;
use airlock_host::commerce::{ConnectorStorage, DataError, StorageError, StorageQuota};
use airlock_host::db::Db;
use airlock_host::db::commerce::SqlCommerce;
use airlock_host::grants::{Grant, ScopeSet};
use airlock_host::ids::{InstallationId, MerchantId};
use airlock_host::manifest::Topic;
use airlock_host::memory::MemoryData;
use airlock_host::{
    CallResult, CallSetup, DataSources, Event, Host, Limits, Sandbox, engine_config,
};
use airlock_tests::{TestDb, TestHost, approve_what_waits, demo_store, plugins, wasm};
use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use tokio::runtime::Runtime;

/// The artifacts to install: the Rust connectors built now, then `AIRLOCK_BENCH_ARTIFACTS`.
fn artifact_paths() -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = [
        plugins::ORDER_NOTIFIER,
        plugins::SHIP_ON_PAYMENT,
        plugins::PROBE,
    ]
    .iter()
    .map(PathBuf::from)
    .collect();
    if let Ok(extra) = std::env::var("AIRLOCK_BENCH_ARTIFACTS") {
        paths.extend(
            extra
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(PathBuf::from),
        );
    }
    paths
}

/// How many connectors to install (at least one of each artifact).
fn connectors(paths: &[PathBuf]) -> usize {
    std::env::var("AIRLOCK_BENCH_CONNECTORS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10)
        .max(paths.len())
}

/// A database with the connectors installed and approved, and the compile cache their
/// installs filled.
struct Fixture {
    db: TestDb,
    cache: tempfile::TempDir,
    /// The notifier's installation for the demo store (the first connector).
    notifier: InstallationId,
    installed: usize,
    largest: Vec<u8>,
}

/// The `n`th copy of `artifact`: the same code and manifest, a digest of its own. Copy 0 is
/// the artifact itself.
fn copy(artifact: &[u8], n: usize) -> Vec<u8> {
    if n == 0 {
        return artifact.to_vec();
    }
    append_custom_section(artifact, "airlock-bench-copy", n.to_string().as_bytes())
}

fn fixture(rt: &Runtime) -> Fixture {
    let paths = artifact_paths();
    let count = connectors(&paths);
    let artifacts: Vec<Vec<u8>> = paths.iter().map(|p| wasm(&p.to_string_lossy())).collect();
    let db = TestDb::sqlite();
    let cache = tempfile::tempdir().unwrap();
    let notifier = rt.block_on(async {
        let host = TestHost::new(&db).compile_cache(cache.path()).build().await;
        host.put_plan("bench", "Bench", 100).await.unwrap();
        let mut notifier = None;
        for i in 0..count {
            // The demo store gets the notifier (its orders make a real event); each other
            // connector goes to a merchant of its own (a connector installs once per merchant).
            let merchant = if i == 0 {
                demo_store()
            } else {
                let m = MerchantId::new(format!("bench-{i}"));
                host.put_merchant(&m, "Bench", "bench").await.unwrap();
                m
            };
            let artifact = copy(&artifacts[i % artifacts.len()], i / artifacts.len());
            let installed = host.install(&merchant, &artifact, "bench").await.unwrap();
            let id = installed.installation.id;
            approve_what_waits(&host, &merchant, id.as_str(), &[], "bench")
                .await
                .unwrap();
            notifier.get_or_insert(id);
        }
        assert_eq!(host.compiles(), count as u64);
        notifier.unwrap()
    });
    let largest = artifacts.into_iter().max_by_key(Vec::len).unwrap();
    Fixture {
        db,
        cache,
        notifier,
        installed: count,
        largest,
    }
}

/// Open the database and a host over `cache`, every active connector prepared.
async fn open(url: &str, cache: &Path) -> Host {
    let db = Db::connect(url).await.unwrap();
    Host::builder(db).compile_cache(cache).open().await.unwrap()
}

async fn first_event(host: &Host, id: &InstallationId) {
    let report = host
        .invoke(&demo_store(), id.as_str(), Topic::OrderCreated, "ord_1001")
        .await
        .unwrap();
    assert!(
        matches!(report.result, CallResult::Done { acted: true, .. }),
        "{:?}",
        report.result
    );
}

fn restart(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let f = fixture(&rt);
    let n = f.installed as u64;
    eprintln!(
        "{} connectors installed; largest artifact {} bytes",
        f.installed,
        f.largest.len()
    );

    let mut group = c.benchmark_group("restart");
    group.sample_size(10).sampling_mode(SamplingMode::Flat);
    group.bench_function(format!("cached_{n}"), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let started = Instant::now();
                let host = rt.block_on(open(&f.db.url, f.cache.path()));
                total += started.elapsed();
                assert_eq!((host.compiles(), host.disk_loads()), (0, n));
            }
            total
        })
    });
    // The host's part alone: the database is connected (and migrated) already.
    let connected = rt.block_on(Db::connect(&f.db.url)).unwrap();
    group.bench_function(format!("cached_{n}_connected_db"), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let builder = Host::builder(connected.clone()).compile_cache(f.cache.path());
                let started = Instant::now();
                let host = rt.block_on(builder.open()).unwrap();
                total += started.elapsed();
                assert_eq!((host.compiles(), host.disk_loads()), (0, n));
            }
            total
        })
    });
    group.bench_function(format!("compiling_{n}"), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let empty = tempfile::tempdir().unwrap();
                let started = Instant::now();
                let host = rt.block_on(open(&f.db.url, empty.path()));
                total += started.elapsed();
                assert_eq!(host.compiles(), n);
            }
            total
        })
    });
    group.finish();

    let mut group = c.benchmark_group("first_event");
    group.sample_size(10).sampling_mode(SamplingMode::Flat);
    group.bench_function("after_restart", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let host = rt.block_on(open(&f.db.url, f.cache.path()));
                let started = Instant::now();
                rt.block_on(first_event(&host, &f.notifier));
                total += started.elapsed();
                assert_eq!(host.compiles(), 0);
            }
            total
        })
    });
    // The same after one database write: SQLite's first commit in a fresh process (the WAL
    // restarted) costs milliseconds whatever it writes, and this shows what is left.
    group.bench_function("after_restart_and_a_write", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let host = rt.block_on(open(&f.db.url, f.cache.path()));
                rt.block_on(host.put_plan("bench", "Bench", 100)).unwrap();
                let started = Instant::now();
                rt.block_on(first_event(&host, &f.notifier));
                total += started.elapsed();
            }
            total
        })
    });
    let host = rt.block_on(open(&f.db.url, f.cache.path()));
    rt.block_on(first_event(&host, &f.notifier));
    group.bench_function("warm", |b| {
        b.iter(|| rt.block_on(first_event(&host, &f.notifier)))
    });
    group.finish();
    drop(host);

    sandbox_first_event(c, &rt, &f);
    let largest = match std::env::var("AIRLOCK_BENCH_COMPILE") {
        Ok(path) => wasm(&path),
        Err(_) => f.largest.clone(),
    };
    eprintln!("compiling a component of {} bytes", largest.len());
    compile(c, &largest);
}

/// Connector storage that keeps nothing: the notifier records each event it handled, and a
/// warm loop of tens of thousands of calls would otherwise reach the storage quota.
struct Forgetful;

#[async_trait::async_trait]
impl ConnectorStorage for Forgetful {
    async fn get(&self, _: &InstallationId, _: &str) -> Result<Option<Vec<u8>>, DataError> {
        Ok(None)
    }
    async fn set(
        &self,
        _: &InstallationId,
        _: &str,
        _: &[u8],
        _: StorageQuota,
    ) -> Result<(), StorageError> {
        Ok(())
    }
    async fn delete(&self, _: &InstallationId, _: &str) -> Result<(), DataError> {
        Ok(())
    }
    async fn keys(&self, _: &InstallationId, _: &str, _: u32) -> Result<Vec<String>, DataError> {
        Ok(Vec::new())
    }
    async fn wipe(&self, _: &InstallationId) -> Result<u64, DataError> {
        Ok(0)
    }
}

/// The demo store's order, customer and stock in memory, so a sandbox call reads no database.
fn memory_sources(rt: &Runtime, url: &str) -> DataSources {
    let data = Arc::new(MemoryData::default());
    rt.block_on(async {
        use airlock_host::commerce::CommerceData;
        let sql = SqlCommerce::new(Db::connect(url).await.unwrap());
        let m = demo_store();
        let order = sql.order(&m, "ord_1001").await.unwrap().unwrap();
        let customer = order.customer_id.clone().unwrap();
        data.put_customer(&m, sql.customer(&m, &customer).await.unwrap().unwrap());
        for item in &order.line_items {
            if let Some(level) = sql.inventory_level(&m, &item.sku).await.unwrap() {
                data.put_stock(&m, level);
            }
        }
        data.put_order(&m, order);
    });
    DataSources {
        commerce: data,
        storage: Arc::new(Forgetful),
        secrets: None,
    }
}

fn sandbox_first_event(c: &mut Criterion, rt: &Runtime, f: &Fixture) {
    let limits = Limits::default();
    let notifier = wasm(plugins::ORDER_NOTIFIER);
    let sources = memory_sources(rt, &f.db.url);
    // The notifier remembers the events it handled (in its storage): a new id every call.
    let events = std::sync::atomic::AtomicU64::new(0);
    let run = |sandbox: &Sandbox, prepared: &airlock_host::Prepared| {
        let n = events.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let event = Event {
            id: format!("evt_bench_{n}"),
            topic: Topic::OrderCreated,
            subject_id: "ord_1001".into(),
            occurred_at: 0,
        };
        let grant = Grant::new(
            prepared.manifest.declared(),
            prepared.manifest.declared(),
            ScopeSet::all(),
        );
        let setup = CallSetup::new(demo_store(), InstallationId::new("inst_bench"), grant);
        let report = rt.block_on(sandbox.invoke(prepared, setup, &sources, &limits, &event));
        assert!(
            matches!(report.result, CallResult::Done { acted: true, .. }),
            "{:?}",
            report.result
        );
    };
    let mut group = c.benchmark_group("sandbox_first_event");
    group.sample_size(10).sampling_mode(SamplingMode::Flat);
    group.bench_function("after_restart", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let sandbox = Sandbox::new(&limits).unwrap().compile_cache(f.cache.path());
                let prepared = sandbox.load(&notifier).unwrap();
                assert_eq!(sandbox.compiles(), 0);
                let started = Instant::now();
                run(&sandbox, &prepared);
                total += started.elapsed();
            }
            total
        })
    });
    let sandbox = Sandbox::new(&limits).unwrap().compile_cache(f.cache.path());
    let prepared = sandbox.load(&notifier).unwrap();
    run(&sandbox, &prepared);
    group.bench_function("warm", |b| b.iter(|| run(&sandbox, &prepared)));
    group.finish();
}

/// Compile the largest artifact on the engine Airlock uses, with parallel compilation on
/// (the default) and off.
fn compile(c: &mut Criterion, artifact: &[u8]) {
    let mut group = c.benchmark_group("compile");
    group.sample_size(10).sampling_mode(SamplingMode::Flat);
    for parallel in [true, false] {
        let mut config = engine_config(&Limits::default());
        config.parallel_compilation(parallel);
        let engine = wasmtime::Engine::new(&config).unwrap();
        let name = if parallel { "parallel" } else { "serial" };
        group.bench_function(name, |b| {
            b.iter(|| wasmtime::component::Component::new(&engine, artifact).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, restart);
criterion_main!(benches);
