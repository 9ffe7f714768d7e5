//! Connector storage cannot exhaust the host: a quota per installation (plan-configurable, a
//! typed refusal the connector sees), `list-keys` as a range of an index with its limit, a
//! platform's own storage backend wiped on uninstall, and one merchant's storage-heavy calls
//! leaving database connections for another merchant. With the real probe connector, on
//! SQLite and PostgreSQL.

use std::sync::Arc;
use std::time::Duration;

use sqlx::{Connection, Row};

use airlock_host::commerce::ConnectorStorage;
use airlock_host::db::Backend;
use airlock_host::db::storage::{KEYS_IN_RANGE, SqlStorage};
use airlock_host::grants::Scope;
use airlock_host::memory::MemoryData;
use airlock_host::{CallResult, LimitOverrides, Limits};
use airlock_tests::{
    PauseFirstOrder, TestDb, TestHost, demo_store, install_probe, other_store, probe, summary,
};

#[tokio::test]
async fn storage_fills_to_the_installations_quota_and_is_refused_with_a_typed_error() {
    for db in TestDb::all().await {
        let limits = Limits {
            storage_keys: 100,
            storage_bytes: 64 * 1024,
            ..Limits::default()
        };
        let host = TestHost::new(&db).limits(limits).build().await;
        host.put_plan("growth", "Growth", 10).await.unwrap();
        host.put_merchant(&other_store(), "Second Store", "growth")
            .await
            .unwrap();
        // The demo store's plan allows 8 keys per installation; `limits show` says so.
        let tight = LimitOverrides {
            storage_keys: Some(8),
            ..LimitOverrides::default()
        };
        host.set_plan_limits("starter", &tight, "platform")
            .await
            .unwrap();
        let ours = install_probe(&host, &demo_store(), &[Scope::OrdersRead]).await;
        let theirs = install_probe(&host, &other_store(), &[Scope::OrdersRead]).await;
        let shown = host.limits_for(&demo_store(), ours.as_str()).await.unwrap();
        assert_eq!((shown.storage_keys, shown.storage_bytes), (8, 64 * 1024));

        let filled = probe(&host, &demo_store(), &ours, "storage.fill 20 100 k").await;
        assert!(
            filled.starts_with("stored 8 then err HostError::LimitExceeded(")
                && filled.contains("8 keys"),
            "{filled}"
        );
        // Replacing a key it holds still works; the refused writes left nothing behind.
        let replaced = probe(&host, &demo_store(), &ours, "storage.set k00000 new").await;
        assert_eq!(replaced, "ok ()");
        let counted = probe(&host, &demo_store(), &ours, "storage.count k").await;
        assert!(counted.starts_with("ok \"8 "), "{counted}");
        // The quota is per installation: the other merchant's app has its own (growth: the
        // host's 100 keys, 64 KiB), and 8 keys of ours took none of it.
        let other = probe(&host, &other_store(), &theirs, "storage.fill 12 100 k").await;
        assert_eq!(other, "stored 12");
        // Bytes too: 60 KiB values, the second does not fit 64 KiB.
        let big = probe(&host, &other_store(), &theirs, "storage.fill 3 61440 big").await;
        assert!(
            big.starts_with("stored 1 then err HostError::LimitExceeded(")
                && big.contains("65536 bytes"),
            "{big}"
        );
        // Deleting frees room again.
        let freed = probe(
            &host,
            &demo_store(),
            &ours,
            "storage.delete k00007;storage.set fresh 1",
        )
        .await;
        assert_eq!(freed, "ok () | ok ()");
        db.finish().await;
    }
}

#[tokio::test]
async fn list_keys_returns_the_prefix_range_in_order_and_at_most_1000() {
    for db in TestDb::all().await {
        let host = TestHost::new(&db).build().await;
        let id = install_probe(&host, &demo_store(), &[Scope::OrdersRead]).await;
        let set = "storage.set a x;storage.set a%1 x;storage.set a_2 x;storage.set ab x;\
                   storage.set b x;storage.set A x";
        probe(&host, &demo_store(), &id, set).await;
        let listed = probe(&host, &demo_store(), &id, "storage.keys a").await;
        assert_eq!(listed, r#"ok ["a", "a%1", "a_2", "ab"]"#);
        let listed = probe(&host, &demo_store(), &id, "storage.keys a%").await;
        assert_eq!(listed, r#"ok ["a%1"]"#, "`%` is a plain character");
        let listed = probe(&host, &demo_store(), &id, "storage.keys a_").await;
        assert_eq!(listed, r#"ok ["a_2"]"#, "`_` is a plain character");
        // 1200 keys under `p`, written straight into the table in one transaction (through
        // the probe they would take 1200 host calls and several seconds).
        let mut tx = host.db().pool().begin().await.unwrap();
        for half in ["p0", "p1"] {
            for i in 0..600 {
                sqlx::query(
                    "INSERT INTO connector_storage (installation_id, key, value, updated_at) \
                     VALUES ($1, $2, $3, 0)",
                )
                .bind(id.as_str())
                .bind(format!("{half}{i:05}"))
                .bind(vec![1u8])
                .execute(&mut *tx)
                .await
                .unwrap();
            }
        }
        tx.commit().await.unwrap();
        let counted = probe(&host, &demo_store(), &id, "storage.count p").await;
        assert_eq!(counted, r#"ok "1000 \"p000000\"..\"p100399\"""#);
        db.finish().await;
    }
}

#[tokio::test]
async fn list_keys_reads_a_range_of_the_primary_key_index() {
    for db in TestDb::all().await {
        let host = TestHost::new(&db).build().await;
        let query = KEYS_IN_RANGE
            .replace("$1", "'inst_x'")
            .replace("$2", "'a'")
            .replace("$3", "'b'")
            .replace("$4", "10");
        let mut conn = host.db().pool().acquire().await.unwrap();
        let plan: Vec<String> = match host.db().backend() {
            Backend::Sqlite => {
                let explain = format!("EXPLAIN QUERY PLAN {query}");
                sqlx::query(sqlx::AssertSqlSafe(explain))
                    .fetch_all(&mut *conn)
                    .await
                    .unwrap()
                    .iter()
                    .map(|r| r.try_get::<String, _>("detail").unwrap())
                    .collect()
            }
            Backend::Postgres => {
                // A near-empty table would be scanned whatever the indexes: ask for the plan an
                // index allows.
                sqlx::query("SET enable_seqscan = off")
                    .execute(&mut *conn)
                    .await
                    .unwrap();
                let explain = format!("EXPLAIN {query}");
                sqlx::query(sqlx::AssertSqlSafe(explain))
                    .fetch_all(&mut *conn)
                    .await
                    .unwrap()
                    .iter()
                    .map(|r| r.try_get::<String, _>(0).unwrap())
                    .collect()
            }
        };
        let plan = plan.join("\n");
        let ranged = match host.db().backend() {
            Backend::Sqlite => plan.contains("key>? AND key<?"),
            Backend::Postgres => {
                plan.contains("Index") && plan.contains("key >=") && plan.contains("key <")
            }
        };
        assert!(ranged, "not an index range:\n{plan}");
        if host.db().backend() == Backend::Postgres {
            sqlx::query("RESET enable_seqscan")
                .execute(&mut *conn)
                .await
                .unwrap();
        }
        drop(conn);
        db.finish().await;
    }
}

#[tokio::test]
async fn uninstall_wipes_a_platforms_own_storage_backend() {
    let db = TestDb::sqlite();
    let backend = Arc::new(MemoryData::default());
    let host = TestHost::new(&db).storage(backend.clone()).build().await;
    let id = install_probe(&host, &demo_store(), &[Scope::OrdersRead]).await;
    assert_eq!(
        probe(&host, &demo_store(), &id, "storage.set kept secret-ish").await,
        "ok ()"
    );
    assert_eq!(
        backend.get(&id, "kept").await.unwrap().as_deref(),
        Some(&b"secret-ish"[..])
    );
    host.uninstall(&demo_store(), id.as_str(), "owner")
        .await
        .unwrap();
    assert_eq!(
        backend.keys(&id, "", 10).await.unwrap(),
        Vec::<String>::new(),
        "the platform's backend still holds the uninstalled app's storage"
    );
    db.finish().await;
}

/// Take the lock every storage write needs, from outside the host: SQLite's write lock, or an
/// exclusive lock on the storage table (reads still pass) on PostgreSQL.
async fn block_storage_writes(url: &str, backend: Backend) -> sqlx::AnyConnection {
    let mut conn = sqlx::AnyConnection::connect(url).await.unwrap();
    let statements: &[&'static str] = match backend {
        Backend::Sqlite => &["BEGIN IMMEDIATE"],
        Backend::Postgres => &["BEGIN", "LOCK TABLE connector_storage IN EXCLUSIVE MODE"],
    };
    for statement in statements {
        sqlx::query(*statement).execute(&mut conn).await.unwrap();
    }
    conn
}

#[tokio::test]
async fn one_merchants_storage_heavy_calls_leave_connections_for_another_merchant() {
    let _serial = crate::timing_sensitive().await;
    for db in TestDb::all().await {
        let mut paused = None;
        let host = TestHost::new(&db)
            .commerce(|pool| {
                let (data, handle) = PauseFirstOrder::new(pool);
                paused = Some(handle);
                data
            })
            .build()
            .await;
        let paused = paused.unwrap();
        let host = Arc::new(host);
        host.put_plan("growth", "Growth", 10).await.unwrap();
        host.put_merchant(&other_store(), "Second Store", "growth")
            .await
            .unwrap();
        // The demo store runs many calls at once; the other store's call has 1 s.
        let many = LimitOverrides {
            max_concurrent: Some(16),
            ..LimitOverrides::default()
        };
        host.set_plan_limits("starter", &many, "platform")
            .await
            .unwrap();
        let quick = LimitOverrides {
            deadline_ms: Some(1000),
            ..LimitOverrides::default()
        };
        host.set_plan_limits("growth", &quick, "platform")
            .await
            .unwrap();
        let heavy = install_probe(&host, &demo_store(), &[Scope::OrdersRead]).await;
        let light = install_probe(&host, &other_store(), &[Scope::OrdersRead]).await;
        let backend = host.db().backend();

        // The other store's call starts first and waits inside its first host call.
        let neighbour = {
            let (host, light) = (host.clone(), light.clone());
            tokio::spawn(async move {
                let command = "orders.get ord_2001;storage.get k";
                host.invoke(
                    &other_store(),
                    light.as_str(),
                    airlock_host::manifest::Topic::OrderCreated,
                    command,
                )
                .await
                .unwrap()
            })
        };
        paused.reached.await.unwrap();
        // Then the demo store's eight calls each block in a storage write, holding whatever
        // database connections they were given.
        let lock = block_storage_writes(&db.url, backend).await;
        let mut heavies = Vec::new();
        for _ in 0..8 {
            let (host, heavy) = (host.clone(), heavy.clone());
            heavies.push(tokio::spawn(async move {
                probe(&host, &demo_store(), &heavy, "storage.fill 20 100 w").await
            }));
        }
        tokio::time::sleep(Duration::from_millis(400)).await;
        let _ = paused.resume.send(());
        // The neighbour needs a connection for its order and its storage read, well within
        // its second; the writes stay blocked past it.
        tokio::time::sleep(Duration::from_millis(1200)).await;
        lock.close().await.unwrap();
        let report = neighbour.await.unwrap();
        assert!(
            matches!(report.result, CallResult::Done { .. }),
            "{backend:?}: the other merchant's call got no connection: {}",
            summary(&report)
        );
        assert!(
            summary(&report).ends_with("| ok None"),
            "{}",
            summary(&report)
        );
        for heavy in heavies {
            heavy.await.unwrap();
        }
        drop(host);
        db.finish().await;
    }
}

#[tokio::test]
async fn the_sql_backend_keeps_usage_exact_across_replacements_and_deletes() {
    for db in TestDb::all().await {
        let host = TestHost::new(&db).build().await;
        let id = install_probe(&host, &demo_store(), &[Scope::OrdersRead]).await;
        let storage = SqlStorage::new(host.db().clone());
        let quota = airlock_host::commerce::StorageQuota { bytes: 20, keys: 2 };
        // "k" + 9 bytes = 10; replacing it with 19 bytes makes 20: exactly the quota.
        storage.set(&id, "k", b"123456789", quota).await.unwrap();
        storage.set(&id, "k", &[1; 19], quota).await.unwrap();
        assert!(storage.set(&id, "x", b"", quota).await.is_err(), "21 bytes");
        storage.delete(&id, "k").await.unwrap();
        storage.set(&id, "x", &[2; 19], quota).await.unwrap();
        storage.set(&id, "y", b"", quota).await.unwrap_err();
        assert_eq!(storage.wipe(&id).await.unwrap(), 1);
        storage.set(&id, "z", &[3; 19], quota).await.unwrap();
        db.finish().await;
    }
}
