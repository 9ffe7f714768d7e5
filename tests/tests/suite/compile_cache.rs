//! Compiled components on disk, with real connectors: a restarted host or a second sandbox
//! loads instead of compiling; a changed, swapped or foreign file is deleted and compiled
//! again and the call still runs; another engine configuration keeps files of its own; an
//! unusable directory leaves the host on memory only; and a call that finds no compiled
//! component compiles it rather than failing.

use std::path::{Path, PathBuf};

use airlock_host::grants::{Grant, Scope, ScopeSet};
use airlock_host::ids::{InstallationId, MerchantId};
use airlock_host::manifest::Topic;
use airlock_host::memory::MemoryData;
use airlock_host::{CallResult, CallSetup, DataSources, Event, Host, Limits, Sandbox};
use airlock_tests::{
    TestDb, TestHost, approve_what_waits, demo_store, install_probe, plugins, probe, wasm,
};

/// The compiled-component files in `dir`, by name.
fn compiled_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map(|entries| entries.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|x| x == "cwasm"));
    files.sort();
    files
}

/// The file holding the component of `digest` (`sha256:…` as the host shows it).
fn file_of(dir: &Path, digest: &str) -> PathBuf {
    let hex = digest.trim_start_matches("sha256:");
    let found: Vec<_> = compiled_files(dir)
        .into_iter()
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(hex))
        .collect();
    assert_eq!(found.len(), 1, "one file for {digest}: {found:?}");
    found.into_iter().next().unwrap()
}

/// The example notifier installed and approved for the demo store; its digest.
async fn install_notifier(host: &Host) -> String {
    let installed = host
        .install(&demo_store(), &wasm(plugins::ORDER_NOTIFIER), "test")
        .await
        .unwrap();
    let id = installed.installation.id;
    approve_what_waits(host, &demo_store(), id.as_str(), &[], "owner")
        .await
        .unwrap();
    installed.installation.digest
}

/// An `order.created` for the demo order reached the notifier and it acted.
async fn notifier_acts(host: &Host) {
    let emitted = host
        .emit_and_wait(&demo_store(), Topic::OrderCreated, "ord_1001")
        .await
        .unwrap();
    let delivery = emitted
        .deliveries
        .iter()
        .find(|d| d.connector == "airlock.order-notifier")
        .unwrap_or_else(|| panic!("not delivered to the notifier: {emitted:?}"));
    let result = &delivery.result;
    assert!(
        matches!(result, CallResult::Done { acted: true, .. }),
        "{result:?}"
    );
}

/// The probe installed for the demo store answers from its own storage.
async fn probe_answers(host: &Host, id: &InstallationId) {
    let answer = probe(host, &demo_store(), id, "storage.set k v;storage.get k").await;
    assert_eq!(answer, r#"ok () | ok Some("v")"#);
}

#[tokio::test]
async fn a_restarted_host_loads_every_connector_from_disk_and_compiles_nothing() {
    for db in TestDb::all().await {
        let cache = tempfile::tempdir().unwrap();
        let first = TestHost::new(&db).compile_cache(cache.path()).build().await;
        assert_eq!(first.compile_cache_dir(), Some(cache.path()));
        install_notifier(&first).await;
        let probe_id = install_probe(&first, &demo_store(), &[Scope::OrdersRead]).await;
        assert_eq!((first.compiles(), first.disk_loads()), (2, 0));
        assert_eq!(compiled_files(cache.path()).len(), 2);
        drop(first);

        let second = TestHost::new(&db)
            .unseeded()
            .compile_cache(cache.path())
            .build()
            .await;
        // Opening prepared both, from disk.
        assert_eq!((second.compiles(), second.disk_loads()), (0, 2));
        notifier_acts(&second).await;
        probe_answers(&second, &probe_id).await;
        assert_eq!((second.compiles(), second.disk_loads()), (0, 2));

        // Without the cache, opening compiles them up front; the events compile nothing.
        let memory_only = TestHost::new(&db).unseeded().build().await;
        assert_eq!(memory_only.compiles(), 2);
        notifier_acts(&memory_only).await;
        assert_eq!(
            (memory_only.compiles(), memory_only.compile_cache_dir()),
            (2, None)
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn a_changed_or_swapped_file_is_deleted_compiled_again_and_the_calls_still_run() {
    let db = TestDb::sqlite();
    let cache = tempfile::tempdir().unwrap();
    let first = TestHost::new(&db).compile_cache(cache.path()).build().await;
    let notifier = install_notifier(&first).await;
    let probe_id = install_probe(&first, &demo_store(), &[Scope::OrdersRead]).await;
    let probe_digest = first
        .installation(&demo_store(), probe_id.as_str())
        .await
        .unwrap()
        .digest;
    drop(first);
    let reopen = || {
        TestHost::new(&db)
            .unseeded()
            .compile_cache(cache.path())
            .build()
    };

    // One flipped byte in the middle of the notifier's compiled code.
    let path = file_of(cache.path(), &notifier);
    let mut bytes = std::fs::read(&path).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(&path, &bytes).unwrap();
    let host = reopen().await;
    assert_eq!((host.compiles(), host.disk_loads()), (1, 1));
    assert_ne!(std::fs::read(&path).unwrap(), bytes, "written again");
    notifier_acts(&host).await;
    probe_answers(&host, &probe_id).await;
    drop(host);

    // The two connectors' files swapped: each is refused under the other's name.
    let (a, b) = (
        file_of(cache.path(), &notifier),
        file_of(cache.path(), &probe_digest),
    );
    let swap = cache.path().join("swap");
    std::fs::rename(&a, &swap).unwrap();
    std::fs::rename(&b, &a).unwrap();
    std::fs::rename(&swap, &b).unwrap();
    let host = reopen().await;
    assert_eq!((host.compiles(), host.disk_loads()), (2, 0));
    notifier_acts(&host).await;
    probe_answers(&host, &probe_id).await;
    drop(host);

    // And the rewritten files load again.
    let host = reopen().await;
    assert_eq!((host.compiles(), host.disk_loads()), (0, 2));
    db.finish().await;
}

#[tokio::test]
async fn another_engine_configuration_keeps_files_of_its_own() {
    let db = TestDb::sqlite();
    let cache = tempfile::tempdir().unwrap();
    let first = TestHost::new(&db).compile_cache(cache.path()).build().await;
    install_notifier(&first).await;
    drop(first);

    // A smaller memory cap sizes the engine's pool differently.
    let other = Limits {
        memory_bytes: 32 << 20,
        ..Limits::default()
    };
    let host = TestHost::new(&db)
        .unseeded()
        .limits(other)
        .compile_cache(cache.path())
        .build()
        .await;
    assert_eq!((host.compiles(), host.disk_loads()), (1, 0));
    notifier_acts(&host).await;
    drop(host);
    assert_eq!(compiled_files(cache.path()).len(), 2, "one per engine");

    // The first configuration's file is still good.
    let host = TestHost::new(&db)
        .unseeded()
        .compile_cache(cache.path())
        .build()
        .await;
    assert_eq!((host.compiles(), host.disk_loads()), (0, 1));
    db.finish().await;
}

#[tokio::test]
async fn an_unusable_cache_directory_leaves_the_host_on_memory_only() {
    let db = TestDb::sqlite();
    let root = tempfile::tempdir().unwrap();
    let file = root.path().join("a-file");
    std::fs::write(&file, b"not a directory").unwrap();
    // The path is a file; a path below a file cannot be created either.
    let host = TestHost::new(&db).compile_cache(&file).build().await;
    assert_eq!(host.compile_cache_dir(), None);
    install_notifier(&host).await;
    notifier_acts(&host).await;
    drop(host);
    let host = TestHost::new(&db)
        .unseeded()
        .compile_cache(file.join("below"))
        .build()
        .await;
    assert_eq!((host.compile_cache_dir(), host.compiles()), (None, 1));
    notifier_acts(&host).await;
}

#[tokio::test]
async fn a_call_that_finds_no_compiled_component_compiles_it_once() {
    let db = TestDb::sqlite();
    let cache = tempfile::tempdir().unwrap();
    let serving = TestHost::new(&db).compile_cache(cache.path()).build().await;
    // Another host (or node) installs after this one opened, then the cache is wiped.
    let installing = TestHost::new(&db)
        .unseeded()
        .compile_cache(cache.path())
        .build()
        .await;
    install_notifier(&installing).await;
    drop(installing);
    for file in compiled_files(cache.path()) {
        std::fs::remove_file(file).unwrap();
    }

    assert_eq!(serving.compiles(), 0);
    notifier_acts(&serving).await;
    assert_eq!(serving.compiles(), 1, "compiled on the call's behalf");
    assert_eq!(compiled_files(cache.path()).len(), 1, "and kept on disk");
    notifier_acts(&serving).await;
    assert_eq!(serving.compiles(), 1, "once");
}

#[test]
fn a_second_sandbox_over_the_same_directory_loads_without_compiling() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let cache = tempfile::tempdir().unwrap();
    let limits = Limits::default();
    let artifact = wasm(plugins::PROBE);
    let data = std::sync::Arc::new(MemoryData::default());
    let sources = DataSources {
        commerce: data.clone(),
        storage: data,
        secrets: None,
    };
    let event = Event {
        id: "evt_1".into(),
        topic: Topic::OrderCreated,
        subject_id: "storage.set k v;storage.get k".into(),
        occurred_at: 0,
    };
    for (round, expected) in [(0, (1, 0)), (1, (0, 1))] {
        let sandbox = Sandbox::new(&limits).unwrap().compile_cache(cache.path());
        let prepared = sandbox.load(&artifact).unwrap();
        assert_eq!(
            (sandbox.compiles(), sandbox.disk_loads()),
            expected,
            "round {round}"
        );
        let grant = Grant::new(
            prepared.manifest.declared(),
            ScopeSet::EMPTY,
            ScopeSet::all(),
        );
        let setup = CallSetup::new(
            MerchantId::new("m"),
            InstallationId::new(format!("inst_{round}")),
            grant,
        );
        let report = rt.block_on(sandbox.invoke(&prepared, setup, &sources, &limits, &event));
        match &report.result {
            CallResult::Done { summary, .. } => assert_eq!(summary, r#"ok () | ok Some("v")"#),
            other => panic!("round {round}: {other:?}"),
        }
    }
}
