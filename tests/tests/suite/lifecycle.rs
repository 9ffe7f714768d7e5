//! Revoke, disable, enable and uninstall, including their effect on invocations already
//! running: a revocation reaches the very next host call, a stop interrupts the guest.

use std::sync::Arc;
use std::time::Duration;

use airlock_host::grants::Scope;
use airlock_host::ids::InstallationId;
use airlock_host::manifest::Topic;
use airlock_host::{AbortReason, CallResult, Error, Host, Limits};
use airlock_tests::{
    ManifestBuilder, PauseFirstOrder, TestDb, TestHost, demo_store, hostile_host, install_probe,
    plugins, probe, summary, wasm,
};

/// A host whose first order read pauses, with the probe installed and approved for `scopes`.
async fn paused_host(
    db: &TestDb,
    scopes: &[Scope],
) -> (
    Arc<Host>,
    airlock_host::ids::InstallationId,
    airlock_tests::Paused,
) {
    let mut paused = None;
    let host = TestHost::new(db)
        .commerce(|pool| {
            let (data, handle) = PauseFirstOrder::new(pool);
            paused = Some(handle);
            data
        })
        .build()
        .await;
    let id = install_probe(&host, &demo_store(), scopes).await;
    (
        Arc::new(host),
        id,
        paused.expect("the host made its commerce data"),
    )
}

/// Start the installed connector on `steps` in a task of its own, so the test can act while it runs.
fn invoke_in_background(
    host: &Arc<Host>,
    id: &InstallationId,
    steps: &'static str,
) -> tokio::task::JoinHandle<Result<airlock_host::InvocationReport, Error>> {
    let (host, id) = (host.clone(), id.clone());
    tokio::spawn(async move {
        host.invoke(&demo_store(), id.as_str(), Topic::OrderCreated, steps)
            .await
    })
}

#[tokio::test]
async fn a_revoked_scope_is_denied_at_the_next_host_call_of_a_running_invocation() {
    for db in TestDb::all().await {
        let (host, id, paused) = paused_host(&db, &[Scope::OrdersRead, Scope::CustomersRead]).await;
        let running = invoke_in_background(
            &host,
            &id,
            "orders.get ord_1001;orders.get ord_1001;customers.get cus_asha",
        );
        paused.reached.await.unwrap();
        host.revoke_scope(&demo_store(), id.as_str(), Scope::OrdersRead, "owner")
            .await
            .unwrap();
        paused.resume.send(()).unwrap();
        let answers = summary(&running.await.unwrap().unwrap());
        let answers: Vec<&str> = answers.split(" | ").collect();
        assert!(
            answers[0].starts_with("ok Order"),
            "admitted before the revoke: {answers:?}"
        );
        assert_eq!(
            answers[1], "err HostError::Denied(Scope::OrdersRead)",
            "{answers:?}"
        );
        assert!(
            answers[2].starts_with("ok Customer"),
            "other grants still hold: {answers:?}"
        );
        // Recorded with who revoked it.
        let audit = host.audit(&demo_store(), 50).await.unwrap();
        assert!(audit.iter().any(|e| e.action == "revoke"
            && e.actor == "owner"
            && e.scope.as_deref() == Some("orders:read")));
        db.finish().await;
    }
}

#[tokio::test]
async fn no_host_call_succeeds_after_an_uninstall_commits() {
    for db in TestDb::all().await {
        let (host, id, paused) = paused_host(&db, &[Scope::OrdersRead, Scope::CustomersRead]).await;
        let running = invoke_in_background(
            &host,
            &id,
            "orders.get ord_1001;customers.get cus_asha;storage.set k v;orders.list 5",
        );
        paused.reached.await.unwrap();
        host.uninstall(&demo_store(), id.as_str(), "owner")
            .await
            .unwrap();
        paused.resume.send(()).unwrap();
        let report = running.await.unwrap().unwrap();
        // The guest is interrupted, or its remaining calls are refused: either way nothing
        // after the first call (admitted before the commit) was served.
        let served: Vec<(&str, u32)> = report
            .accesses
            .iter()
            .map(|a| (a.operation, a.allowed))
            .collect();
        assert!(
            report
                .accesses
                .iter()
                .all(|a| a.operation == "orders.get" || a.allowed == 0),
            "{served:?}"
        );
        let refused = "err HostError::Denied(Scope::CustomersRead) | err HostError::Unavailable | err HostError::Denied(Scope::OrdersRead)";
        assert!(
            matches!(
                report.result,
                CallResult::Aborted {
                    reason: AbortReason::Stopped
                }
            ) || summary(&report).ends_with(refused),
            "{:?}",
            report.result
        );
        let err = host
            .invoke(
                &demo_store(),
                id.as_str(),
                Topic::OrderCreated,
                "orders.get ord_1001",
            )
            .await
            .unwrap_err();
        assert!(matches!(err, Error::NotInstalled { .. }), "{err}");
        db.finish().await;
    }
}

#[tokio::test]
async fn a_running_connector_is_interrupted_when_its_app_is_disabled() {
    let _serial = crate::timing_sensitive().await;
    let db = TestDb::sqlite();
    let limits = Limits {
        deadline: Duration::from_secs(30),
        fuel: None,
        ..Limits::default()
    };
    let (host, id) = hostile_host(&db, limits).await;
    let host = Arc::new(host);
    let running = invoke_in_background(&host, &id, "spin");
    tokio::time::sleep(Duration::from_millis(300)).await;
    host.disable(&demo_store(), id.as_str(), "owner")
        .await
        .unwrap();
    let report = tokio::time::timeout(Duration::from_secs(10), running)
        .await
        .expect("interrupted long before the deadline");
    let report = report.unwrap().unwrap();
    assert_eq!(
        report.result,
        CallResult::Aborted {
            reason: AbortReason::Stopped
        }
    );
    db.finish().await;
}

fn extra_app(n: u32) -> Vec<u8> {
    ManifestBuilder::new(&format!("acme.app{n}"))
        .name(&format!("App {n}"))
        .artifact()
}

#[tokio::test]
async fn uninstall_frees_the_slot_at_once_and_deletes_storage_and_grants() {
    for db in TestDb::all().await {
        let host = TestHost::new(&db).build().await;
        let probe_id = install_probe(&host, &demo_store(), &[Scope::OrdersRead]).await;
        assert_eq!(
            probe(
                &host,
                &demo_store(),
                &probe_id,
                "storage.set a 1;storage.set b 2"
            )
            .await,
            "ok () | ok ()"
        );
        host.install(&demo_store(), &wasm(plugins::ORDER_NOTIFIER), "test")
            .await
            .unwrap();
        host.install(&demo_store(), &extra_app(1), "test")
            .await
            .unwrap();
        let full = host
            .install(&demo_store(), &extra_app(2), "test")
            .await
            .unwrap_err();
        assert!(matches!(full, Error::PlanLimit { .. }), "{full}");

        let gone = host
            .uninstall(&demo_store(), probe_id.as_str(), "owner@shop")
            .await
            .unwrap();
        assert_eq!((gone.deleted.storage_keys, gone.deleted.grants), (2, 1));
        host.install(&demo_store(), &extra_app(2), "test")
            .await
            .expect("the freed slot is usable at once");

        let audit = host.audit(&demo_store(), 100).await.unwrap();
        let entry = audit
            .iter()
            .find(|e| e.action == "uninstall")
            .expect("uninstall audited");
        assert_eq!(entry.actor, "owner@shop");
        assert!(
            entry.detail.contains("2 storage key(s)") && entry.detail.contains("test.probe"),
            "{}",
            entry.detail
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn disable_pauses_deliveries_and_enable_restores_them_with_the_same_grants() {
    for db in TestDb::all().await {
        let host = TestHost::new(&db).build().await;
        let installed = host
            .install(&demo_store(), &wasm(plugins::ORDER_NOTIFIER), "test")
            .await
            .unwrap()
            .installation;
        let id = installed.id;
        let before = host
            .approve(
                &demo_store(),
                id.as_str(),
                &installed.digest,
                &[Scope::CustomersReadContact],
                "owner",
            )
            .await
            .unwrap();

        let disabled = host
            .disable(&demo_store(), id.as_str(), "owner")
            .await
            .unwrap();
        assert_eq!(disabled.status, "disabled");
        assert!(
            host.emit_and_wait(&demo_store(), Topic::OrderCreated, "ord_1001")
                .await
                .unwrap()
                .deliveries
                .is_empty()
        );
        let err = host
            .invoke(&demo_store(), id.as_str(), Topic::OrderCreated, "ord_1001")
            .await
            .unwrap_err();
        assert!(err.to_string().contains("airlock enable"), "{err}");

        let enabled = host
            .enable(&demo_store(), id.as_str(), "owner")
            .await
            .unwrap();
        assert_eq!(enabled.status, "active");
        assert_eq!(enabled.approved, before.approved, "grants survive a pause");
        let emitted = host
            .emit_and_wait(&demo_store(), Topic::OrderCreated, "ord_1001")
            .await
            .unwrap();
        assert_eq!(emitted.deliveries.len(), 1);
        assert!(matches!(
            emitted.deliveries[0].result,
            CallResult::Done { acted: true, .. }
        ));
        db.finish().await;
    }
}

#[tokio::test]
async fn bad_transitions_and_revocations_are_refused_naming_the_fix() {
    let db = TestDb::sqlite();
    let host = TestHost::new(&db).build().await;
    let installed = host
        .install(&demo_store(), &wasm(plugins::ORDER_NOTIFIER), "test")
        .await
        .unwrap()
        .installation;
    let (id, digest) = (installed.id, installed.digest);
    let key = id.as_str();

    let err = host.disable(&demo_store(), key, "owner").await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::BadTransition {
                action: "disable",
                ..
            }
        ),
        "pending cannot be disabled: {err}"
    );
    host.approve(&demo_store(), key, &digest, &[], "owner")
        .await
        .unwrap();
    let err = host.enable(&demo_store(), key, "owner").await.unwrap_err();
    assert!(err.to_string().contains("needs it disabled"), "{err}");
    let err = host
        .revoke_scope(&demo_store(), key, Scope::OrdersRead, "owner")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::RequiredScope { .. }), "{err}");
    let err = host
        .revoke_scope(&demo_store(), key, Scope::InventoryRead, "owner")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotApproved { .. }), "{err}");

    // Revoking the whole app keeps the slot but stops it until approved again.
    let revoked = host.revoke_all(&demo_store(), key, "owner").await.unwrap();
    assert_eq!(revoked.status, "pending");
    assert!(revoked.effective.is_empty() && revoked.approved.is_empty());
    let err = host
        .invoke(&demo_store(), key, Topic::OrderCreated, "ord_1001")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotActive { .. }), "{err}");

    host.uninstall(&demo_store(), key, "owner").await.unwrap();
    let err = host
        .uninstall(&demo_store(), key, "owner")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotInstalled { .. }), "{err}");
    let err = host
        .approve(&demo_store(), key, &digest, &[], "owner")
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::NotInstalled { .. }),
        "approving an uninstalled app: {err}"
    );
    db.finish().await;
}

#[tokio::test]
async fn approve_never_turns_a_disabled_app_active() {
    for db in TestDb::all().await {
        let host = TestHost::new(&db).build().await;
        let installed = host
            .install(&demo_store(), &wasm(plugins::ORDER_NOTIFIER), "test")
            .await
            .unwrap();
        let id = installed.installation.id.to_string();
        let digest = installed.installation.digest;
        host.approve(&demo_store(), &id, &digest, &[], "owner")
            .await
            .unwrap();
        host.disable(&demo_store(), &id, "owner").await.unwrap();
        let again = host
            .approve(
                &demo_store(),
                &id,
                &digest,
                &[Scope::CustomersReadContact],
                "owner",
            )
            .await
            .unwrap();
        assert_eq!(again.status, "disabled", "only `enable` resumes an app");
        assert!(
            again
                .approved
                .iter()
                .any(|a| a.scope == Scope::CustomersReadContact)
        );
        assert!(
            host.emit_and_wait(&demo_store(), Topic::OrderCreated, "ord_1001")
                .await
                .unwrap()
                .deliveries
                .is_empty(),
            "still paused"
        );
        let enabled = host.enable(&demo_store(), &id, "owner").await.unwrap();
        assert_eq!(enabled.status, "active");
        db.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_enable_racing_a_full_revoke_never_leaves_a_grantless_app_active() {
    for db in TestDb::all().await {
        let host = Arc::new(TestHost::new(&db).build().await);
        let installed = host
            .install(&demo_store(), &wasm(plugins::ORDER_NOTIFIER), "test")
            .await
            .unwrap();
        let id = installed.installation.id.to_string();
        let digest = installed.installation.digest;
        for round in 0..30 {
            host.approve(&demo_store(), &id, &digest, &[], "owner")
                .await
                .unwrap();
            host.disable(&demo_store(), &id, "owner").await.unwrap();
            let (h1, h2, k1, k2) = (host.clone(), host.clone(), id.clone(), id.clone());
            let enable = tokio::spawn(async move { h1.enable(&demo_store(), &k1, "owner").await });
            let revoke =
                tokio::spawn(async move { h2.revoke_all(&demo_store(), &k2, "owner").await });
            let (enabled, revoked) = (enable.await.unwrap(), revoke.await.unwrap());
            revoked.expect("a full revoke always succeeds");
            if let Err(err) = enabled {
                assert!(matches!(err, Error::BadTransition { .. }), "{err}");
            }
            let view = host.installation(&demo_store(), &id).await.unwrap();
            assert!(
                !(view.status == "active" && view.approved.is_empty()),
                "round {round}: active with no grant after enable raced revoke"
            );
        }
        db.finish().await;
    }
}
