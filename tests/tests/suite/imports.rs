//! The import check at install, per interface: importing an interface needs its one scope
//! declared, every problem is listed in one refusal, and the check reads the artifact's bytes
//! before anything compiles (`Host::compiles` does not move).

use airlock_host::artifact::{Artifact, ArtifactError, with_manifest};
use airlock_host::grants::{Scope, ScopeSet};
use airlock_host::imports::{self, Missing, Unused};
use airlock_host::{Error, Host};
use airlock_tests::{ManifestBuilder, TestDb, TestHost, demo_store, plugins, wasm};

async fn nothing_stored(host: &Host) {
    assert!(host.list(&demo_store()).await.unwrap().is_empty());
    let audit = host.audit(&demo_store(), 100).await.unwrap();
    assert!(audit.iter().all(|e| e.action != "install"), "{audit:?}");
}

fn scopes(list: &[Scope]) -> ScopeSet {
    list.iter().copied().collect()
}

/// The audit of a built plugin against the manifest it carries.
fn audit_of(path: &str) -> imports::ImportAudit {
    let artifact = Artifact::parse(&wasm(path)).unwrap();
    imports::audit(&artifact.bytes, &artifact.manifest).unwrap()
}

#[tokio::test]
async fn a_component_importing_two_undeclared_interfaces_is_refused_naming_both_before_compiling() {
    for db in TestDb::all().await {
        let host = TestHost::new(&db).build().await;
        let err = host
            .install(&demo_store(), &wasm(plugins::UNDECLARED_IMPORT), "test")
            .await
            .unwrap_err();
        let Error::Artifact(ArtifactError::UndeclaredScopes(missing)) = &err else {
            panic!("expected undeclared scopes, got {err}");
        };
        assert_eq!(
            missing,
            &[
                Missing::Scope {
                    import: "airlock:connector/order-updates@0.2.0".into(),
                    scope: Scope::OrdersWrite,
                },
                Missing::Scope {
                    import: "airlock:connector/inventory-updates@0.2.0".into(),
                    scope: Scope::InventoryWrite,
                },
            ]
        );
        let text = err.to_string();
        for needle in [
            "order-updates@0.2.0` needs the scope `orders:write`",
            "inventory-updates@0.2.0` needs the scope `inventory:write`",
            "[[scopes.required]]",
        ] {
            assert!(text.contains(needle), "{needle:?} not in:\n{text}");
        }
        assert_eq!(host.compiles(), 0, "refused before compiling anything");
        nothing_stored(&host).await;
        db.finish().await;
    }
}

#[tokio::test]
async fn every_missing_declaration_is_listed_at_once_and_nothing_compiles() {
    let db = TestDb::sqlite();
    let host = TestHost::new(&db).build().await;
    let component = wat::parse_str(
        r#"(component
            (import "airlock:connector/inventory-updates@0.2.0" (instance))
            (import "airlock:connector/secrets@0.2.0" (instance))
            (import "wasi:http/outgoing-handler@0.2.6" (instance)))"#,
    )
    .unwrap();
    let manifest = ManifestBuilder::new("acme.greedy")
        .required(Scope::InventoryRead)
        .to_toml();
    let err = host
        .install(
            &demo_store(),
            &with_manifest(&component, manifest.as_bytes()),
            "test",
        )
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("(3 to fix)"), "{text}");
    for needle in ["inventory:write", "readable = true", "[[http]]"] {
        assert!(text.contains(needle), "{needle:?} not in:\n{text}");
    }
    assert_eq!(host.compiles(), 0);
    nothing_stored(&host).await;
    db.finish().await;
}

#[tokio::test]
async fn a_contract_0_1_component_is_refused_before_compiling_naming_0_2_0() {
    let db = TestDb::sqlite();
    let host = TestHost::new(&db).build().await;
    let component =
        wat::parse_str(r#"(component (import "airlock:connector/orders@0.1.0" (instance)))"#)
            .unwrap();
    let manifest = ManifestBuilder::new("acme.old")
        .required(Scope::OrdersRead)
        .to_toml();
    let err = host
        .install(
            &demo_store(),
            &with_manifest(&component, manifest.as_bytes()),
            "test",
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Artifact(ArtifactError::UnsupportedContract { .. })
        ),
        "{err}"
    );
    let text = err.to_string();
    assert!(
        text.contains("no longer runs")
            && text.contains("rebuild against airlock:connector@0.2.0")
            && text.contains("airlock wit --manifest airlock.toml --out wit"),
        "{text}"
    );
    assert_eq!(host.compiles(), 0);
    nothing_stored(&host).await;
    db.finish().await;
}

#[test]
fn the_notifier_imports_stock_reads_but_not_stock_writes() {
    // Per interface, as per function before: reading stock imports `inventory` only, so
    // `inventory:read` is all the manifest declares for it, and it never needs `inventory:write`.
    let audit = audit_of(plugins::ORDER_NOTIFIER);
    assert!(audit.is_accepted(), "{audit}");
    for interface in ["orders", "customers", "inventory", "storage", "log"] {
        assert!(audit.interfaces.contains(&interface), "{audit}");
    }
    for interface in ["order-updates", "inventory-updates", "secrets"] {
        assert!(!audit.interfaces.contains(&interface), "{audit}");
    }
    assert_eq!(
        audit.needed,
        scopes(&[
            Scope::OrdersRead,
            Scope::CustomersRead,
            Scope::InventoryRead
        ])
    );
    assert!(!audit.http);
    assert_eq!(audit.unused, [], "{audit}");
}

#[test]
fn the_shipping_connector_imports_order_updates_for_its_one_write() {
    let audit = audit_of(plugins::SHIP_ON_PAYMENT);
    assert!(audit.is_accepted(), "{audit}");
    assert!(audit.interfaces.contains(&"order-updates"), "{audit}");
    assert!(audit.http);
    assert_eq!(
        audit.needed,
        scopes(&[Scope::OrdersRead, Scope::OrdersWrite, Scope::CustomersRead])
    );
    assert_eq!(audit.unused, [], "{audit}");
}

#[test]
fn declared_scopes_no_import_uses_are_reported_with_their_cost() {
    // The HTTP probe declares `orders:read` for the events it subscribes to and a readable key
    // it reads: nothing unused.
    assert_eq!(audit_of(plugins::HTTP_PROBE).unused, []);
    // A connector that declares `orders:read` but subscribes to no order event and reads no
    // order: the merchant is asked to share orders for nothing.
    let reads = Artifact::parse(
        &ManifestBuilder::new("acme.reads")
            .required(Scope::OrdersRead)
            .artifact(),
    )
    .unwrap();
    let reads = imports::audit(&reads.bytes, &reads.manifest).unwrap();
    assert_eq!(
        reads.unused,
        [Unused::Scope {
            scope: Scope::OrdersRead,
            required: true
        }]
    );
    let cost = reads.costs();
    assert!(
        cost.contains("share \"See your orders\"") && cost.contains("cannot install"),
        "{cost}"
    );
    // The hostile plugin declares `orders:read` for the order events it subscribes to.
    assert_eq!(audit_of(plugins::HOSTILE).unused, []);
    // The probe declares every scope and imports every interface.
    let probe = audit_of(plugins::PROBE);
    assert!(probe.is_accepted() && probe.unused.is_empty(), "{probe}");
    // A manifest that declares writes its code never imports.
    let bare = Artifact::parse(
        &ManifestBuilder::new("acme.bare")
            .required(Scope::OrdersWrite)
            .optional(Scope::InventoryWrite)
            .artifact(),
    )
    .unwrap();
    let audit = imports::audit(&bare.bytes, &bare.manifest).unwrap();
    assert_eq!(
        audit.unused,
        [
            Unused::Scope {
                scope: Scope::OrdersWrite,
                required: true
            },
            Unused::Scope {
                scope: Scope::InventoryWrite,
                required: false
            },
        ]
    );
    assert!(
        audit.costs().lines().all(|l| l.contains("CAN CHANGE DATA")),
        "{}",
        audit.costs()
    );
}
