//! The data-access report with real components: records read and changed per scope, refused
//! calls, origins with request counts, keys opened by name, granted scopes left unused, an app
//! removed within the window still answering for what it read, and nothing of another
//! merchant's apps.

use std::time::Duration;

use airlock_host::Limits;
use airlock_host::data_access::{DataAccessReport, OriginUse, ScopeUse};
use airlock_host::grants::Scope;
use airlock_host::outbound::NetworkPolicy;
use airlock_host::vault::VaultKey;
use airlock_tests::provider::{Provider, Reply};
use airlock_tests::{
    TestDb, TestHost, demo_store, install_probe, install_with_secrets, invoke_demo, other_store,
    plugins, probe, summary, wasm,
};

const KEY: &str = "probe_key_0123456789";
const MONTH: Duration = Duration::from_secs(30 * 86_400);

fn uses(list: &[ScopeUse]) -> Vec<(&str, u64)> {
    list.iter().map(|u| (u.scope.as_str(), u.records)).collect()
}

fn app<'r>(report: &'r DataAccessReport, id: &str) -> &'r airlock_host::data_access::AppAccess {
    let found = report.apps.iter().find(|a| a.installation == id);
    found.unwrap_or_else(|| panic!("{id} missing from {report:#?}"))
}

#[tokio::test]
async fn the_report_counts_reads_writes_origins_and_keys_and_flags_unused_scopes() {
    for db in TestDb::all().await {
        let gateway = Provider::start().await;
        gateway.answer(|_| Reply::json(200, "{}"));
        let network = NetworkPolicy::default()
            .allow_private("test.http-probe", gateway.addr)
            .resolve("gateway.test", 8080, gateway.addr);
        let host = TestHost::new(&db)
            .vault(VaultKey::from_bytes([7; 32]))
            .network(network)
            .limits(Limits::default())
            .build()
            .await;
        let m = demo_store();
        // Reads orders and contact details, changes one order; inventory:read granted, unused.
        let reader = install_probe(
            &host,
            &m,
            &[
                Scope::OrdersRead,
                Scope::OrdersWrite,
                Scope::CustomersRead,
                Scope::CustomersReadContact,
                Scope::InventoryRead,
            ],
        )
        .await;
        let done = probe(
            &host,
            &m,
            &reader,
            "orders.get ord_1001;orders.list 10;customers.get cus_asha;\
             orders.set-fulfillment ord_1001 fulfilled",
        )
        .await;
        assert!(!done.contains("not done"), "{done}");
        // The same probe without inventory:write is refused it.
        let refused = probe(&host, &m, &reader, "inventory.adjust MUG-CLAY 1").await;
        assert!(refused.contains("Denied"), "{refused}");

        // Calls one origin three times, one of them with a key in a header, and reads a key.
        let caller = install_with_secrets(
            &host,
            &m,
            &wasm(plugins::HTTP_PROBE),
            &[("api_key", KEY), ("attach_only", KEY)],
        )
        .await;
        for command in [
            "get http://gateway.test:8080/a",
            "get http://gateway.test:8080/b",
            "in-header http://gateway.test:8080/ x-api-key attach_only",
            "read api_key",
        ] {
            let report = invoke_demo(&host, &caller, command).await;
            assert!(
                !summary(&report).contains("error"),
                "{command}: {}",
                summary(&report)
            );
        }

        let report = host.data_access(&m, None, MONTH).await.unwrap();
        let r = app(&report, reader.as_str());
        let orders_read = uses(&r.reads)
            .into_iter()
            .find(|(s, _)| *s == "orders:read")
            .map(|(_, n)| n);
        assert!(orders_read.is_some_and(|n| n >= 2), "{r:#?}");
        assert!(
            uses(&r.reads).contains(&("customers:read-contact", 1)),
            "{r:#?}"
        );
        assert_eq!(uses(&r.writes), [("orders:write", 1)], "{r:#?}");
        assert_eq!(r.denied_calls, 1, "{r:#?}");
        let unused: Vec<&str> = r.unused.iter().map(|u| u.scope.as_str()).collect();
        assert_eq!(unused, ["inventory:read"], "{r:#?}");
        assert!(!r.unused[0].required);
        assert!(r.origins.is_empty() && r.keys.is_empty(), "{r:#?}");

        let c = app(&report, caller.as_str());
        assert_eq!(
            c.origins,
            [OriginUse {
                origin: "http://gateway.test:8080".into(),
                requests: 3,
                refused: 0
            }],
            "{c:#?}"
        );
        let keys: Vec<(&str, u64)> = c.keys.iter().map(|k| (k.name.as_str(), k.uses)).collect();
        assert_eq!(keys, [("api_key", 1), ("attach_only", 1)], "{c:#?}");
        // Required and never used: flagged, and marked required (revoking means removing).
        assert!(
            c.unused
                .iter()
                .any(|u| u.scope == "orders:read" && u.required),
            "{c:#?}"
        );
        let csv = report.to_csv();
        assert!(csv.contains("\"key\",\"api_key\",\"1\""), "{csv}");
        assert!(!csv.contains(KEY), "a key's value never reaches the report");

        // One app only; another merchant sees none of this.
        let one = host
            .data_access(&m, Some("test.http-probe"), MONTH)
            .await
            .unwrap();
        assert_eq!(one.apps.len(), 1);
        let other = host.data_access(&other_store(), None, MONTH).await.unwrap();
        assert!(other.apps.is_empty(), "{other:#?}");
        assert!(
            host.data_access(&other_store(), Some(reader.as_str()), MONTH)
                .await
                .is_err()
        );

        // Over the API: CSV for the merchant's own token; another merchant's token gets 404.
        let host = std::sync::Arc::new(host);
        let api = airlock_api::router(airlock_api::ApiState::new(
            host.clone(),
            &airlock_api::ApiConfig::default(),
        ));
        let own = host.create_token(Some(&m), "report", "test").await.unwrap();
        let theirs = host
            .create_token(Some(&other_store()), "report", "test")
            .await
            .unwrap();
        let path = "/v1/merchants/demo-store/report?format=csv&days=7";
        let (status, csv) = get(&api, path, &own.secret.to_string()).await;
        assert_eq!(status, 200, "{csv}");
        assert!(csv.starts_with("installation,connector"), "{csv}");
        assert!(
            csv.contains("\"origin\",\"http://gateway.test:8080\",\"3\""),
            "{csv}"
        );
        let (status, body) = get(&api, path, &theirs.secret.to_string()).await;
        assert_eq!(status, 404, "{body}");
        let (status, body) = get(
            &api,
            "/v1/merchants/demo-store/report?days=0",
            &own.secret.to_string(),
        )
        .await;
        assert_eq!(status, 400, "{body}");
        assert!(body.contains("\"field\":\"days\""), "{body}");

        // Removed within the window: still in the report, for what it read before.
        host.uninstall(&m, reader.as_str(), "owner").await.unwrap();
        let after = host.data_access(&m, None, MONTH).await.unwrap();
        let gone = app(&after, reader.as_str());
        assert!(!gone.installed);
        assert_eq!(uses(&gone.writes), [("orders:write", 1)], "{gone:#?}");
        assert!(
            gone.unused.is_empty(),
            "a removed app holds no grant to revoke"
        );
        db.finish().await;
    }
}

/// GET `path` with `token`: the status and the body.
async fn get(app: &axum::Router, path: &str, token: &str) -> (u16, String) {
    use tower::ServiceExt;
    let request = axum::http::Request::get(path)
        .header("authorization", format!("Bearer {token}"))
        .body(axum::body::Body::empty())
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}
