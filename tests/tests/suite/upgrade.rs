//! Upgrades with real components: narrower applies at once, wider waits for approval of only
//! what is new while the old version serves, and wrong successors are refused.

use airlock_host::grants::Scope;
use airlock_host::manifest::Topic;
use airlock_host::prompt::Language;
use airlock_host::{CallResult, Declined, Error, Host};
use airlock_tests::{ManifestBuilder, TestDb, TestHost, demo_store, plugins, wasm};

/// The bare test component carrying a manifest of `version` with these scopes.
fn app(version: &str, publisher: &str, required: &[&str], optional: &[&str]) -> Vec<u8> {
    let mut manifest = ManifestBuilder::new("acme.sync")
        .name("Sync")
        .publisher(publisher)
        .version(version)
        .kind("marketplace");
    for scope in required {
        manifest = manifest.required(scope).reason("sync");
    }
    for scope in optional {
        manifest = manifest.optional(scope).reason("sync");
    }
    manifest.artifact()
}

async fn installed(host: &Host, required: &[&str], optional: &[&str], approve: &[Scope]) -> String {
    let installed = host
        .install(
            &demo_store(),
            &app("1.0.0", "Acme", required, optional),
            "test",
        )
        .await
        .unwrap()
        .installation;
    let id = installed.id;
    host.approve(
        &demo_store(),
        id.as_str(),
        &installed.digest,
        approve,
        "owner",
    )
    .await
    .unwrap();
    id.to_string()
}

#[tokio::test]
async fn same_or_narrower_scopes_replace_the_old_version_at_once() {
    for db in TestDb::all().await {
        let host = TestHost::new(&db).build().await;
        let id = installed(
            &host,
            &["orders:read"],
            &["customers:read"],
            &[Scope::CustomersRead],
        )
        .await;
        let before = host.installation(&demo_store(), &id).await.unwrap();
        let up = host
            .upgrade(
                &demo_store(),
                &id,
                &app("1.1.0", "Acme", &["orders:read"], &[]),
                "platform",
                Language::En,
            )
            .await
            .unwrap();
        assert!(up.applied && up.prompt.is_none());
        assert_eq!(up.installation.version, "1.1.0");
        assert_ne!(up.installation.digest, before.digest);
        // The approval the new version no longer declares is gone, the rest stays.
        assert_eq!(up.installation.effective, [Scope::OrdersRead]);
        assert_eq!(up.installation.pending_version, None);
        db.finish().await;
    }
}

#[tokio::test]
async fn a_wider_upgrade_waits_while_the_old_version_serves_and_prompts_only_for_what_is_new() {
    for db in TestDb::all().await {
        let host = TestHost::new(&db).build().await;
        let id = installed(&host, &["orders:read"], &[], &[]).await;
        let before = host.installation(&demo_store(), &id).await.unwrap();
        let wider = app(
            "1.2.0",
            "Acme",
            &["orders:read", "inventory:read"],
            &["customers:read"],
        );
        let up = host
            .upgrade(&demo_store(), &id, &wider, "platform", Language::Hi)
            .await
            .unwrap();
        assert!(!up.applied);
        assert_eq!(
            up.installation.version, "1.0.0",
            "the old version keeps serving"
        );
        assert_eq!(up.installation.digest, before.digest);
        assert_eq!(up.installation.pending_version.as_deref(), Some("1.2.0"));
        let prompt = up.prompt.expect("a prompt for the difference");
        assert_eq!(prompt.language, Language::Hi);
        let asked: Vec<Scope> = prompt
            .required
            .iter()
            .chain(&prompt.optional)
            .map(|l| l.scope)
            .collect();
        assert_eq!(
            asked,
            [Scope::InventoryRead, Scope::CustomersRead],
            "only what is new"
        );

        let report = host
            .invoke(&demo_store(), &id, Topic::OrderCreated, "ord_1001")
            .await
            .unwrap();
        assert!(
            matches!(report.result, CallResult::Done { .. }),
            "old version still runs: {:?}",
            report.result
        );

        let approved = host
            .approve(
                &demo_store(),
                &id,
                &up.digest,
                &[Scope::CustomersRead],
                "owner",
            )
            .await
            .unwrap();
        assert_eq!(approved.version, "1.2.0");
        assert_eq!(approved.pending_version, None);
        assert_eq!(
            approved.effective,
            [
                Scope::OrdersRead,
                Scope::CustomersRead,
                Scope::InventoryRead
            ]
        );
        let audit = host.audit(&demo_store(), 50).await.unwrap();
        assert!(
            audit
                .iter()
                .any(|e| e.action == "upgrade" && e.outcome == "pending")
        );
        assert!(
            audit
                .iter()
                .any(|e| e.action == "approve-upgrade" && e.actor == "owner")
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn downgrades_and_other_connectors_or_publishers_are_refused() {
    let db = TestDb::sqlite();
    let host = TestHost::new(&db).build().await;
    let id = installed(&host, &["orders:read"], &[], &[]).await;
    for (bytes, what) in [
        (app("1.0.0", "Acme", &["orders:read"], &[]), "not newer"),
        (app("0.9.0", "Acme", &["orders:read"], &[]), "not newer"),
        (
            app("2.0.0", "Mallory Ltd", &["orders:read"], &[]),
            "publisher",
        ),
        (wasm(plugins::PROBE), "id"),
    ] {
        let err = host
            .upgrade(&demo_store(), &id, &bytes, "platform", Language::En)
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::NotNewer { .. } | Error::NotSuccessor { .. }),
            "{what}: {err}"
        );
        assert!(err.to_string().contains(what), "{what}: {err}");
    }
    let view = host.installation(&demo_store(), &id).await.unwrap();
    assert_eq!(
        (view.version.as_str(), view.pending_version),
        ("1.0.0", None)
    );
    db.finish().await;
}

#[tokio::test]
async fn an_upgrade_of_a_pending_installation_waits_like_a_wider_one() {
    for db in TestDb::all().await {
        let host = TestHost::new(&db).build().await;
        let installed = host
            .install(
                &demo_store(),
                &app("1.0.0", "Acme", &["orders:read"], &[]),
                "test",
            )
            .await
            .unwrap()
            .installation;
        let (id, installed_digest) = (installed.id, installed.digest);
        // Not approved yet: the merchant is looking at 1.0.0's prompt. Even an upgrade with the
        // same scopes must not slip in under it.
        let up = host
            .upgrade(
                &demo_store(),
                id.as_str(),
                &app("1.1.0", "Acme", &["orders:read"], &[]),
                "platform",
                Language::En,
            )
            .await
            .unwrap();
        assert!(!up.applied, "a pending installation's upgrade waits");
        assert_eq!(up.installation.version, "1.0.0");
        assert_eq!(up.installation.pending_version.as_deref(), Some("1.1.0"));
        // Nothing was approved, so the waiting prompt is the whole of 1.1.0.
        let prompt = up.prompt.expect("a prompt");
        assert_eq!(prompt.version, "1.1.0");
        assert_eq!(prompt.required.len(), 1);
        // The 1.0.0 the merchant was shown no longer waits; 1.1.0 does, by its digest.
        let err = host
            .approve(&demo_store(), id.as_str(), &installed_digest, &[], "owner")
            .await
            .unwrap_err();
        assert!(matches!(err, Error::NotWaiting { .. }), "{err}");
        let approved = host
            .approve(&demo_store(), id.as_str(), &up.digest, &[], "owner")
            .await
            .unwrap();
        assert_eq!(
            (approved.version.as_str(), approved.status),
            ("1.1.0", airlock_host::InstallationStatus::Active)
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn a_replaced_waiting_upgrade_voids_its_prompt_and_approve_names_what_waits() {
    for db in TestDb::all().await {
        let host = TestHost::new(&db).build().await;
        let id = installed(&host, &["orders:read"], &[], &[]).await;
        let v2 = host
            .upgrade(
                &demo_store(),
                &id,
                &app("1.2.0", "Acme", &["orders:read", "inventory:read"], &[]),
                "platform",
                Language::En,
            )
            .await
            .unwrap();
        assert!(!v2.applied);
        // The merchant reads 1.2.0's prompt; meanwhile a wider 1.3.0 replaces it.
        let v3 = host
            .upgrade(
                &demo_store(),
                &id,
                &app(
                    "1.3.0",
                    "Acme",
                    &["orders:read", "inventory:read", "customers:read"],
                    &[],
                ),
                "platform",
                Language::En,
            )
            .await
            .unwrap();
        assert!(!v3.applied);
        // `prompt` shows what waits now, not the running version.
        let shown = host.prompt(&demo_store(), &id, Language::En).await.unwrap();
        assert_eq!(shown.version, "1.3.0");
        assert!(
            shown
                .required
                .iter()
                .any(|l| l.scope == Scope::CustomersRead),
            "{shown:?}"
        );
        // Approving what the merchant saw (1.2.0) is refused: 1.3.0 waits now.
        let err = host
            .approve(&demo_store(), &id, &v2.digest, &[], "owner")
            .await
            .expect_err("approving a replaced upgrade must be refused");
        assert!(err.to_string().contains("1.3.0"), "{err}");
        match &err {
            Error::NotWaiting {
                waiting, version, ..
            } => assert_eq!((waiting, version.as_str()), (&v3.digest, "1.3.0")),
            other => panic!("expected NotWaiting, got {other}"),
        }
        assert!(err.to_string().contains("airlock prompt"), "{err}");
        // The running version's digest is not what waits either.
        let running = host.installation(&demo_store(), &id).await.unwrap().digest;
        assert!(matches!(
            host.approve(&demo_store(), &id, &running, &[], "owner")
                .await,
            Err(Error::NotWaiting { .. })
        ));
        let view = host.installation(&demo_store(), &id).await.unwrap();
        assert_eq!(view.version, "1.0.0", "nothing was switched");
        assert!(!view.effective.contains(&Scope::CustomersRead));
        let audit = host.audit(&demo_store(), 50).await.unwrap();
        assert!(
            audit
                .iter()
                .any(|e| e.action == "upgrade-superseded" && e.detail.contains("1.2.0")),
            "the voided prompt is audited: {audit:?}"
        );
        // What waits now is approved by its own digest.
        let approved = host
            .approve(&demo_store(), &id, &v3.digest, &[], "owner")
            .await
            .unwrap();
        assert_eq!(approved.version, "1.3.0");
        assert!(approved.effective.contains(&Scope::CustomersRead));
        db.finish().await;
    }
}

#[tokio::test]
async fn a_declined_upgrade_is_dropped_and_a_declined_install_frees_its_slot() {
    for db in TestDb::all().await {
        let host = TestHost::new(&db).build().await;
        let m = demo_store();
        let id = installed(&host, &["orders:read"], &[], &[]).await;
        let wider = app("2.0.0", "Acme", &["orders:read", "customers:read"], &[]);
        let offered = host
            .upgrade(&m, &id, &wider, "publisher", Language::En)
            .await
            .unwrap();
        assert!(!offered.applied);
        // Declining names what waits, like approving.
        let running = host.installation(&m, &id).await.unwrap().digest;
        let wrong = host.decline(&m, &id, &running, "owner").await.unwrap_err();
        assert!(matches!(wrong, Error::NotWaiting { .. }), "{wrong}");
        let declined = host
            .decline(&m, &id, &offered.digest, "owner")
            .await
            .unwrap();
        let Declined::Upgrade {
            installation,
            version,
        } = declined
        else {
            panic!("{declined:?}")
        };
        assert_eq!(version, "2.0.0");
        assert_eq!(installation.version, "1.0.0");
        assert_eq!(installation.pending_digest, None);
        assert_eq!(installation.effective, [Scope::OrdersRead]);
        // Nothing waits now: approving the declined version is refused, and so is declining
        // the running one (uninstall is the way to remove an active app).
        let late = host
            .approve(&m, &id, &offered.digest, &[], "owner")
            .await
            .unwrap_err();
        assert!(matches!(late, Error::NotWaiting { .. }), "{late}");
        let active = host.decline(&m, &id, &running, "owner").await.unwrap_err();
        assert!(matches!(active, Error::BadTransition { .. }), "{active}");
        let report = host
            .invoke(&m, &id, Topic::OrderCreated, "ord_1001")
            .await
            .unwrap();
        assert!(
            !matches!(report.result, CallResult::Aborted { .. }),
            "{report:?}"
        );

        // A pending install declined: removed, its slot free again.
        let (_, _, used_before) = host.plan_slots(&m).await.unwrap();
        let other = ManifestBuilder::new("acme.other")
            .name("Other")
            .publisher("Acme")
            .version("1.0.0")
            .kind("analytics")
            .required("orders:read")
            .reason("sync")
            .artifact();
        let pending = host.install(&m, &other, "test").await.unwrap().installation;
        let declined = host
            .decline(&m, pending.id.as_str(), &pending.digest, "owner")
            .await
            .unwrap();
        assert!(matches!(declined, Declined::Install { .. }), "{declined:?}");
        let (_, _, used_after) = host.plan_slots(&m).await.unwrap();
        assert_eq!(used_after, used_before);
        assert!(host.installation(&m, pending.id.as_str()).await.is_err());
        db.finish().await;
    }
}
