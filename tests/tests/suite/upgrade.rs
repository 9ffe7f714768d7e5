//! Upgrades with real components: narrower applies at once, wider waits for approval of only
//! what is new while the old version serves, and wrong successors are refused.

use airlock_host::grants::Scope;
use airlock_host::manifest::Topic;
use airlock_host::prompt::Language;
use airlock_host::{CallResult, Error, Host};
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
    let id = host
        .install(
            &demo_store(),
            &app("1.0.0", "Acme", required, optional),
            "test",
        )
        .await
        .unwrap()
        .installation
        .id;
    host.approve(&demo_store(), id.as_str(), approve, "owner")
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
            .approve(&demo_store(), &id, &[Scope::CustomersRead], "owner")
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
