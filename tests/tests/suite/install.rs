//! Installing artifacts: what the host refuses and that a refusal stores nothing.

use airlock_host::artifact::{ArtifactError, with_manifest};
use airlock_host::grants::Scope;
use airlock_host::manifest::ManifestError;
use airlock_host::{Error, Host};
use airlock_tests::{ManifestBuilder, TestDb, TestHost, demo_store, plugins, wasm};

async fn nothing_stored(host: &Host) {
    assert!(
        host.list(&demo_store()).await.unwrap().is_empty(),
        "an installation was stored"
    );
    let audit = host.audit(&demo_store(), 100).await.unwrap();
    assert!(
        audit.iter().all(|e| e.action != "install"),
        "an install was audited: {audit:?}"
    );
}

#[tokio::test]
async fn corrupt_or_foreign_wasm_is_refused_cleanly_and_nothing_is_stored() {
    let db = TestDb::sqlite();
    let host = TestHost::new(&db).build().await;
    let good = wasm(plugins::ORDER_NOTIFIER);

    let mut truncated = good.clone();
    truncated.truncate(good.len() / 2);
    // Flip the first section's id byte: a one-byte change that no longer parses.
    let mut flipped = good.clone();
    flipped[8] ^= 0xff;
    let mut garbage = b"\0asm\x0d\0\x01\0".to_vec();
    garbage.extend((0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8));

    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty file", Vec::new()),
        ("a zip file", b"PK\x03\x04not wasm".to_vec()),
        ("a core module", b"\0asm\x01\0\0\0".to_vec()),
        ("truncated component", truncated),
        ("flipped byte", flipped),
        ("random sections", garbage),
    ];
    for (what, bytes) in cases {
        let err = host
            .install(&demo_store(), &bytes, "test")
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Artifact(_)), "{what}: {err}");
        assert!(!err.to_string().is_empty());
    }
    nothing_stored(&host).await;
    // The host is unharmed: a good artifact still installs.
    host.install(&demo_store(), &good, "test")
        .await
        .expect("good artifact installs");
    db.finish().await;
}

#[tokio::test]
async fn a_component_without_a_manifest_is_refused() {
    let db = TestDb::sqlite();
    let host = TestHost::new(&db).build().await;
    let err = host
        .install(&demo_store(), &wasm(plugins::NO_MANIFEST), "test")
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Artifact(ArtifactError::NoManifest)),
        "{err}"
    );
    assert!(err.to_string().contains("airlock_sdk::export!"), "{err}");
    nothing_stored(&host).await;
    db.finish().await;
}

#[tokio::test]
async fn malformed_manifests_are_refused_naming_what_is_wrong() {
    let db = TestDb::sqlite();
    let host = TestHost::new(&db).build().await;
    let bare = wasm(plugins::NO_MANIFEST);
    let base = || {
        ManifestBuilder::new("acme.bare")
            .name("Bare")
            .kind("analytics")
    };
    let cases = [
        (
            "id = \"acme.bare\"\nname = [".to_owned(),
            "manifest is not valid",
        ),
        (
            "name = \"Bare\"\npublisher = \"Acme\"\nversion = \"1.0.0\"\nkind = \"ads\"\n"
                .to_owned(),
            "id",
        ),
        (
            base().required("orders:delete").reason("x").to_toml(),
            "orders:delete",
        ),
        (
            base().required("orders:read").reason("").to_toml(),
            "scopes.required[0].reason",
        ),
        (base().version("latest").to_toml(), "version"),
        (base().kind("casino").to_toml(), "casino"),
        (base().event("order.created").to_toml(), "events[0]"),
    ];
    for (manifest, names) in cases {
        let artifact = with_manifest(&bare, manifest.as_bytes());
        let err = host
            .install(&demo_store(), &artifact, "test")
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::Artifact(ArtifactError::Manifest(_))),
            "{manifest}: {err}"
        );
        assert!(
            err.to_string().contains(names),
            "error for {manifest:?} should name {names}: {err}"
        );
    }
    let not_utf8 = with_manifest(&bare, &[0xff, 0xfe, 0x00]);
    let err = host
        .install(&demo_store(), &not_utf8, "test")
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Artifact(ArtifactError::Manifest(ManifestError::NotUtf8))
        ),
        "{err}"
    );
    nothing_stored(&host).await;

    // The same component with a valid manifest attached installs: the refusals were the manifests'.
    host.install(&demo_store(), &base().artifact(), "test")
        .await
        .expect("valid manifest installs");
    db.finish().await;
}

#[tokio::test]
async fn install_refusals_for_merchant_plan_and_duplicates_name_the_fix() {
    for db in TestDb::all().await {
        let host = TestHost::new(&db).build().await;
        let err = host
            .install(
                &airlock_host::ids::MerchantId::new("nobody"),
                &wasm(plugins::ORDER_NOTIFIER),
                "test",
            )
            .await
            .unwrap_err();
        assert!(matches!(err, Error::UnknownMerchant(_)), "{err}");

        host.install(&demo_store(), &wasm(plugins::ORDER_NOTIFIER), "test")
            .await
            .unwrap();
        let err = host
            .install(&demo_store(), &wasm(plugins::ORDER_NOTIFIER), "test")
            .await
            .unwrap_err();
        assert!(matches!(err, Error::AlreadyInstalled { .. }), "{err}");

        // The Starter plan has three slots: two more distinct connectors fit, a fourth does not.
        let app = |n: u32| {
            ManifestBuilder::new(&format!("acme.app{n}"))
                .name(&format!("App {n}"))
                .artifact()
        };
        for n in 1..=2 {
            host.install(&demo_store(), &app(n), "test").await.unwrap();
        }
        let err = host
            .install(&demo_store(), &app(4), "test")
            .await
            .unwrap_err();
        match &err {
            Error::PlanLimit {
                plan, slots, used, ..
            } => {
                assert_eq!((plan.as_str(), *slots, *used), ("Starter", 3, 3));
            }
            other => panic!("expected the plan limit, got {other}"),
        }
        assert_eq!(host.list(&demo_store()).await.unwrap().len(), 3);
        db.finish().await;
    }
}

#[tokio::test]
async fn approving_a_scope_the_connector_does_not_offer_is_refused() {
    let db = TestDb::sqlite();
    let host = TestHost::new(&db).build().await;
    let installed = host
        .install(&demo_store(), &wasm(plugins::ORDER_NOTIFIER), "test")
        .await
        .unwrap();
    let id = installed.installation.id.to_string();
    let err = host
        .approve(
            &demo_store(),
            &id,
            &installed.installation.digest,
            &[Scope::OrdersWrite],
            "owner",
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::NotOptional {
                scope: Scope::OrdersWrite,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("customers:read-contact"), "{err}");
    let err = host
        .approve(
            &demo_store(),
            "inst_nope",
            &installed.installation.digest,
            &[],
            "owner",
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotInstalled { .. }), "{err}");
    // Still pending: nothing was approved.
    let view = host.installation(&demo_store(), &id).await.unwrap();
    assert_eq!(view.status, "pending");
    assert!(view.approved.is_empty() && view.effective.is_empty());
    db.finish().await;
}

/// A component that parses, carries a valid manifest for `id` and passes the import check,
/// but whose core module is invalid: it is refused only once compiled, so a refusal for any
/// other reason shows that check ran before compilation.
fn refused_once_compiled(id: &str) -> Vec<u8> {
    let component =
        wat::parse_str(r#"(component (core module (func (result i32))))"#).expect("WAT");
    let manifest = ManifestBuilder::new(id).to_toml();
    with_manifest(&component, manifest.as_bytes())
}

#[tokio::test]
async fn plan_and_duplicate_checks_run_before_compiling() {
    for db in TestDb::all().await {
        let host = TestHost::new(&db).build().await;
        // Compiled, this one is refused for its import.
        let err = host
            .install(&demo_store(), &refused_once_compiled("acme.late"), "test")
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::Artifact(ArtifactError::Compile(_))),
            "{err}"
        );
        // A duplicate of an installed connector is refused as such, before compiling.
        let app = |n: u32| ManifestBuilder::new(&format!("acme.app{n}")).artifact();
        host.install(&demo_store(), &app(1), "test").await.unwrap();
        let compiled = host.compiles();
        let err = host
            .install(&demo_store(), &refused_once_compiled("acme.app1"), "test")
            .await
            .unwrap_err();
        assert!(matches!(err, Error::AlreadyInstalled { .. }), "{err}");
        // A full plan (Starter: three slots) is refused as such, before compiling.
        for n in 2..=3 {
            host.install(&demo_store(), &app(n), "test").await.unwrap();
        }
        let err = host
            .install(&demo_store(), &refused_once_compiled("acme.late"), "test")
            .await
            .unwrap_err();
        assert!(matches!(err, Error::PlanLimit { .. }), "{err}");
        assert_eq!(
            host.compiles(),
            compiled + 2,
            "only the two installs that fit compiled anything"
        );
        db.finish().await;
    }
}

/// How many artifact rows the database holds.
async fn artifact_rows(host: &Host) -> i64 {
    use sqlx::Row;
    sqlx::query("SELECT COUNT(*) AS n FROM artifacts")
        .fetch_one(host.db().pool())
        .await
        .unwrap()
        .try_get("n")
        .unwrap()
}

#[tokio::test]
async fn artifacts_no_installation_uses_are_deleted() {
    for db in TestDb::all().await {
        let host = TestHost::new(&db).build().await;
        let v1 = ManifestBuilder::new("acme.sync")
            .required("orders:read")
            .reason("sync")
            .artifact();
        let ours = host.install(&demo_store(), &v1, "test").await.unwrap();
        let theirs = host
            .install(&airlock_tests::other_store(), &v1, "test")
            .await
            .unwrap();
        assert_eq!(artifact_rows(&host).await, 1, "one row per digest");
        // Another installation still uses it: kept.
        host.uninstall(&demo_store(), ours.installation.id.as_str(), "owner")
            .await
            .unwrap();
        assert_eq!(artifact_rows(&host).await, 1);
        let other = airlock_tests::other_store();
        let key = theirs.installation.id.to_string();
        host.approve(&other, &key, &theirs.installation.digest, &[], "owner")
            .await
            .unwrap();
        // An upgrade that applies at once leaves the old version unused: gone.
        let v2 = ManifestBuilder::new("acme.sync")
            .version("1.1.0")
            .required("orders:read")
            .reason("sync")
            .artifact();
        let up = host
            .upgrade(
                &other,
                &key,
                &v2,
                "platform",
                airlock_host::prompt::Language::En,
            )
            .await
            .unwrap();
        assert!(up.applied);
        assert_eq!(
            artifact_rows(&host).await,
            1,
            "the replaced version is deleted"
        );
        // The last installation goes: so does its artifact.
        host.uninstall(&other, &key, "owner").await.unwrap();
        assert_eq!(artifact_rows(&host).await, 0);
        db.finish().await;
    }
}

#[tokio::test]
async fn connector_limits_belong_to_the_publisher_and_an_impostor_inherits_none() {
    for db in TestDb::all().await {
        let host = TestHost::new(&db).build().await;
        let generous = airlock_host::LimitOverrides {
            max_host_calls: Some(5000),
            ..airlock_host::LimitOverrides::default()
        };
        host.set_connector_limits("Acme", "acme.sync", &generous, "platform")
            .await
            .unwrap();
        let real = ManifestBuilder::new("acme.sync")
            .publisher("Acme")
            .artifact();
        let impostor = ManifestBuilder::new("acme.sync")
            .publisher("Mallory")
            .artifact();
        let ours = host.install(&demo_store(), &real, "test").await.unwrap();
        let theirs = host
            .install(&airlock_tests::other_store(), &impostor, "test")
            .await
            .unwrap();
        let limits = host
            .limits_for(&demo_store(), ours.installation.id.as_str())
            .await
            .unwrap();
        assert_eq!(
            limits.max_host_calls, 5000,
            "the publisher's connector has it"
        );
        let limits = host
            .limits_for(
                &airlock_tests::other_store(),
                theirs.installation.id.as_str(),
            )
            .await
            .unwrap();
        assert_eq!(
            limits.max_host_calls,
            host.limits().max_host_calls,
            "same id, another publisher: no override"
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn a_connector_id_equal_to_another_installation_id_cannot_capture_its_lookups() {
    for db in TestDb::all().await {
        let host = TestHost::new(&db).build().await;
        let victim = host
            .install(
                &demo_store(),
                &ManifestBuilder::new("acme.victim").artifact(),
                "test",
            )
            .await
            .unwrap()
            .installation
            .id;
        // A connector whose manifest id is the victim's installation id.
        let attacker = host
            .install(
                &demo_store(),
                &ManifestBuilder::new(victim.as_str()).artifact(),
                "test",
            )
            .await
            .unwrap()
            .installation;
        assert_eq!(attacker.connector, victim.as_str());
        // A write to the victim's row (here a revoke) moves it behind the attacker's in
        // PostgreSQL's heap, where an unordered lookup may meet the attacker's row first.
        host.revoke_all(&demo_store(), victim.as_str(), "owner")
            .await
            .unwrap();
        for _ in 0..3 {
            let found = host
                .installation(&demo_store(), victim.as_str())
                .await
                .unwrap();
            assert_eq!(found.id, victim, "the installation id wins");
        }
        let found = host
            .installation(&demo_store(), attacker.id.as_str())
            .await
            .unwrap();
        assert_eq!(found.id, attacker.id);
        let gone = host
            .uninstall(&demo_store(), victim.as_str(), "owner")
            .await
            .unwrap();
        assert_eq!(gone.installation, victim);
        // Now only the attacker's connector id matches that text.
        let found = host
            .installation(&demo_store(), victim.as_str())
            .await
            .unwrap();
        assert_eq!(found.id, attacker.id);
        db.finish().await;
    }
}
