//! Outbound HTTP with real local providers: the example connector pays-and-ships with keys it
//! never sees (over TLS), provider answers become merchant-facing causes, and a hostile
//! connector's requests to anywhere else are refused before any connection is made.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use airlock_host::commerce::{CommerceData, FinancialStatus};
use airlock_host::db::secrets::SecretWrite;
use airlock_host::ids::InstallationId;
use airlock_host::manifest::Topic;
use airlock_host::outbound::NetworkPolicy;
use airlock_host::prompt::{Language, Prompt};
use airlock_host::vault::VaultKey;
use airlock_host::{CallResult, ConnectorFailure, Host, InvocationReport, Limits};
use airlock_tests::provider::{Provider, Reply, TestCert};
use airlock_tests::{
    TestDb, TestHost, demo_store, install_with_secrets, invoke_demo, plugins, summary, wasm,
};

const GATEWAY_KEY: &str = "pg_live_5f2b9c0e7a114d2e";
const COURIER_KEY: &str = "cr_live_91d0c3b7e6a24f58";

fn key() -> VaultKey {
    VaultKey::from_bytes([7; 32])
}

/// The gateway says "captured" to the right key, 401 to anything else; the courier books a
/// pickup for the right key.
fn honest_providers(gateway: &Provider, courier: &Provider) {
    gateway.answer(|r| {
        if r.header("authorization") == Some(&format!("Bearer {GATEWAY_KEY}")) {
            Reply::json(200, r#"{"status":"captured"}"#)
        } else {
            Reply::json(401, r#"{"error":"bad key"}"#)
        }
    });
    courier.answer(|r| {
        if r.header("x-api-key") == Some(COURIER_KEY) {
            Reply::json(201, r#"{"tracking":"TRK123456"}"#)
        } else {
            Reply::json(401, "{}")
        }
    });
}

struct Shop {
    host: Host,
    id: InstallationId,
    gateway: Provider,
    courier: Provider,
}

/// Local HTTPS gateway and courier under the names the example connector declares, and the
/// connector installed, approved and given both keys.
async fn shop(db: &TestDb) -> Shop {
    let cert = TestCert::new(&["api.paygate.example", "api.courier.example"]);
    let gateway = Provider::start_tls(&cert).await;
    let courier = Provider::start_tls(&cert).await;
    let network = NetworkPolicy::default()
        .allow_private("acme.ship-on-payment", gateway.addr)
        .allow_private("acme.ship-on-payment", courier.addr)
        .resolve("api.paygate.example", 443, gateway.addr)
        .resolve("api.courier.example", 443, courier.addr)
        .trust_root(cert.der.clone());
    let host = TestHost::new(db)
        .vault(key())
        .network(network)
        .build()
        .await;
    // The prompt lists both servers and says the keys are attached, never seen.
    let prompt = Prompt::for_manifest(
        &airlock_host::artifact::Artifact::parse(&wasm(plugins::SHIP_ON_PAYMENT))
            .unwrap()
            .manifest,
        Language::En,
    )
    .render();
    assert!(prompt.contains("https://api.paygate.example"), "{prompt}");
    assert!(
        prompt.contains("attached by Airlock only to requests to https://api.courier.example"),
        "{prompt}"
    );
    let id = install_with_secrets(
        &host,
        &demo_store(),
        &wasm(plugins::SHIP_ON_PAYMENT),
        &[("gateway_key", GATEWAY_KEY), ("courier_key", COURIER_KEY)],
    )
    .await;
    Shop {
        host,
        id,
        gateway,
        courier,
    }
}

async fn order_created(shop: &Shop, order: &str) -> InvocationReport {
    shop.host
        .invoke(&demo_store(), shop.id.as_str(), Topic::OrderCreated, order)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_example_connector_pays_and_ships_with_keys_it_never_sees() {
    for db in TestDb::all().await {
        let shop = shop(&db).await;
        honest_providers(&shop.gateway, &shop.courier);
        let report = order_created(&shop, "ord_1001").await;
        assert_eq!(
            report.result,
            CallResult::Done {
                acted: true,
                summary: "#1001 paid; pickup booked, tracking TRK123456".into()
            },
            "{}: {report:#?}",
            db.url
        );
        // Each key reached its own provider, and only that one.
        let paid = &shop.gateway.received()[0];
        assert_eq!(paid.target, "/v1/payments?reference=%231001");
        assert_eq!(paid.header("host"), Some("api.paygate.example"));
        let booked = &shop.courier.received()[0];
        assert_eq!(booked.method, "POST");
        assert!(String::from_utf8_lossy(&booked.body).contains("\"city\":\"Guwahati\""));
        for r in shop.gateway.received() {
            assert!(!format!("{r:?}").contains(COURIER_KEY));
        }
        for r in shop.courier.received() {
            assert!(!format!("{r:?}").contains(GATEWAY_KEY));
        }
        // The merchant's data changed as granted.
        let order = shop
            .host
            .store_data()
            .order(&demo_store(), "ord_1001")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(order.financial_status, FinancialStatus::Paid);
        // The report and the audit log name origins and statuses, never paths or keys.
        let seen: Vec<(String, Option<u16>)> = report
            .outbound
            .iter()
            .map(|o| (o.origin.clone(), o.status))
            .collect();
        assert_eq!(
            seen,
            [
                ("https://api.paygate.example".to_owned(), Some(200)),
                ("https://api.courier.example".to_owned(), Some(201)),
            ]
        );
        assert!(report.outbound[0].bytes_received > 0);
        let audit = shop.host.audit(&demo_store(), 50).await.unwrap();
        let http: Vec<String> = audit
            .iter()
            .filter(|e| e.action == "http")
            .map(|e| format!("{} {}", e.outcome, e.detail))
            .collect();
        assert_eq!(
            http,
            [
                "200 GET https://api.paygate.example",
                "201 POST https://api.courier.example"
            ]
        );
        let everything = format!("{audit:?}{report:?}");
        assert!(!everything.contains("/v1/") && !everything.contains(GATEWAY_KEY));
        db.finish().await;
    }
}

#[tokio::test]
async fn provider_answers_surface_as_the_causes_merchants_check() {
    let db = TestDb::sqlite();
    let shop = shop(&db).await;
    let cases: Vec<(Reply, ConnectorFailure)> = vec![
        (Reply::json(401, "{}"), ConnectorFailure::InvalidCredentials),
        (
            Reply::json(401, "{}").header(
                "www-authenticate",
                "Bearer error=\"invalid_token\", error_description=\"token expired\"",
            ),
            ConnectorFailure::AuthExpired,
        ),
        (
            Reply::json(429, "{}").header("retry-after", "30"),
            ConnectorFailure::RateLimited {
                retry_after_secs: Some(30),
            },
        ),
        (
            Reply::json(503, "{}"),
            ConnectorFailure::ProviderUnavailable,
        ),
        (Reply::json(402, "{}"), ConnectorFailure::UsageLimit),
        (
            Reply::json(410, "{}"),
            ConnectorFailure::ProviderApiChanged {
                message: "the provider answered 410 Gone: it retired this endpoint".into(),
            },
        ),
    ];
    for (reply, expected) in cases {
        shop.gateway.answer(move |_| reply.clone());
        let report = order_created(&shop, "ord_1002").await;
        assert_eq!(
            report.result,
            CallResult::Failed {
                error: expected.clone()
            },
            "{report:#?}"
        );
        assert_eq!(report.cause(), Some(expected.clone()));
        // The host reads the same cause off the provider's answer by itself.
        assert_eq!(report.outbound[0].cause, Some(expected.clone()));
        let last = shop.host.audit(&demo_store(), 1).await.unwrap();
        assert_eq!(last[0].outcome, format!("failed: {}", expected.code()));
    }
    // A provider that is down: connection refused.
    let gone = shop.gateway.addr;
    drop(shop.gateway);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        std::net::TcpStream::connect(gone).is_err(),
        "the gateway still listens"
    );
    {
        let report = shop
            .host
            .invoke(
                &demo_store(),
                shop.id.as_str(),
                Topic::OrderCreated,
                "ord_1002",
            )
            .await
            .unwrap();
        assert_eq!(report.cause(), Some(ConnectorFailure::ProviderUnavailable));
        assert_eq!(report.outbound[0].status, None);
    }
    db.finish().await;
}

#[tokio::test]
async fn a_rotated_key_is_used_by_the_next_call() {
    let db = TestDb::sqlite();
    let shop = shop(&db).await;
    honest_providers(&shop.gateway, &shop.courier);
    let before = shop
        .host
        .secrets(&demo_store(), shop.id.as_str())
        .await
        .unwrap();
    // The provider rotated the key: the old one is now refused.
    const NEW_KEY: &str = "pg_live_rotated_0000000001";
    shop.gateway.answer(|r| {
        if r.header("authorization") == Some(&format!("Bearer {NEW_KEY}")) {
            Reply::json(200, r#"{"status":"captured"}"#)
        } else {
            Reply::json(401, "{}")
        }
    });
    let stale = order_created(&shop, "ord_1001").await;
    assert_eq!(stale.cause(), Some(ConnectorFailure::InvalidCredentials));
    tokio::time::sleep(Duration::from_millis(5)).await;
    shop.host
        .write_secret(
            &demo_store(),
            shop.id.as_str(),
            "gateway_key",
            NEW_KEY,
            "owner",
            SecretWrite::Rotate,
        )
        .await
        .unwrap();
    let fixed = order_created(&shop, "ord_1001").await;
    assert!(summary(&fixed).contains("pickup booked"), "{fixed:#?}");
    let after = shop
        .host
        .secrets(&demo_store(), shop.id.as_str())
        .await
        .unwrap();
    let rotated = |list: &[airlock_host::SecretStatus]| {
        list.iter()
            .find(|s| s.name == "gateway_key")
            .and_then(|s| s.rotated_at)
            .unwrap()
    };
    assert!(rotated(&after) > rotated(&before));
    db.finish().await;
}

/// The HTTP probe installed for the demo store with `network`, both keys set.
async fn http_probe(db: &TestDb, network: NetworkPolicy, limits: Limits) -> (Host, InstallationId) {
    let host = TestHost::new(db)
        .vault(key())
        .network(network)
        .limits(limits)
        .build()
        .await;
    let id = install_with_secrets(
        &host,
        &demo_store(),
        &wasm(plugins::HTTP_PROBE),
        &[
            ("api_key", "probe_key_0123456789"),
            ("attach_only", "probe_key_0123456789"),
        ],
    )
    .await;
    (host, id)
}

#[tokio::test]
async fn hostile_requests_are_refused_before_any_connection_is_made() {
    let db = TestDb::sqlite();
    let gateway = Provider::start().await;
    let canary = Provider::start().await;
    let redirect_to = format!("http://127.0.0.1:{}/steal", canary.port());
    gateway.answer(move |r| match r.target.as_str() {
        "/redirect" => Reply::json(302, "").header("location", &redirect_to),
        _ => Reply::json(200, "{}"),
    });
    let network = NetworkPolicy::default()
        .allow_private("test.http-probe", gateway.addr)
        .resolve("gateway.test", 8080, gateway.addr)
        // A name the connector may call that (like a rebinding attack) points at the cloud
        // metadata service.
        .resolve(
            "rebind.test",
            8080,
            SocketAddr::new(IpAddr::V4(Ipv4Addr::new(169, 254, 169, 254)), 80),
        );
    let (host, id) = http_probe(&db, network, Limits::default()).await;
    let canary_port = canary.port();
    let refused = r#"error Refused("HttpRequestDenied")"#;
    let cases = [
        // Another port on the same (allowed) address.
        (
            format!("get http://127.0.0.1:{canary_port}/"),
            refused.to_owned(),
        ),
        // The allowed name on another port, or with another scheme.
        ("get http://gateway.test:9999/".into(), refused.to_owned()),
        ("get https://gateway.test:8080/".into(), refused.to_owned()),
        // Cloud metadata, directly.
        (
            "get http://169.254.169.254/latest/meta-data/".into(),
            refused.to_owned(),
        ),
        // An allowed name that resolves to a forbidden address.
        (
            "get http://rebind.test:8080/".into(),
            r#"error Refused("DestinationIpProhibited")"#.to_owned(),
        ),
        // A redirect to the canary: returned, not followed; following it is refused.
        (
            "follow http://gateway.test:8080/redirect".into(),
            format!("redirected; then {refused}"),
        ),
        // A relative URI.
        (
            "get /v1/payments".into(),
            r#"error Refused("HttpRequestUriInvalid")"#.to_owned(),
        ),
        // A key sent to an origin it is not declared for.
        (
            "get http://rebind.test:8080/x attach_only".into(),
            refused.to_owned(),
        ),
    ];
    for (command, expected) in &cases {
        let report = invoke_demo(&host, &id, command).await;
        assert_eq!(&summary(&report), expected, "{command}: {report:#?}");
    }
    assert_eq!(canary.connections(), 0, "the canary was reached");
    // The gateway saw only the one redirecting request.
    assert_eq!(gateway.connections(), 1);
    // And the legitimate use still works, key attached.
    let ok = invoke_demo(&host, &id, "get http://gateway.test:8080/ok attach_only").await;
    assert_eq!(summary(&ok), "status 200 {}");
    assert_eq!(
        gateway.received()[1].header("authorization"),
        Some("Bearer probe_key_0123456789")
    );
    // Refusals are in the audit log with their reason.
    let audit = host.audit(&demo_store(), 100).await.unwrap();
    let refusals = audit
        .iter()
        .filter(|e| e.action == "http" && e.outcome == "refused")
        .count();
    assert_eq!(refusals, 7, "{audit:#?}");
    // The audit line gives the reason, not the names the connector quoted in its request.
    assert!(audit.iter().any(|e| {
        e.detail
            .contains("secret … may not be sent to http://rebind.test:8080")
    }));
    db.finish().await;
}

#[tokio::test]
async fn a_key_cannot_be_echoed_back_to_the_connector_through_headers() {
    let db = TestDb::sqlite();
    let gateway = Provider::start().await;
    // A provider that reflects request headers back, as some do with Origin.
    gateway.answer(|r| {
        let echoed = r.header("authorization").unwrap_or("").to_owned();
        Reply::json(200, "{}").header("x-echo", &echoed)
    });
    let network = NetworkPolicy::default()
        .allow_private("test.http-probe", gateway.addr)
        .resolve("gateway.test", 8080, gateway.addr);
    let (host, id) = http_probe(&db, network, Limits::default()).await;
    // Only credential headers take a key.
    let report = invoke_demo(
        &host,
        &id,
        "in-origin http://gateway.test:8080/ attach_only",
    )
    .await;
    assert_eq!(summary(&report), r#"error Refused("HttpRequestDenied")"#);
    assert_eq!(gateway.connections(), 0);
    // A reflected credential header reaches the connector redacted.
    let report = invoke_demo(&host, &id, "headers http://gateway.test:8080/ attach_only").await;
    assert_eq!(summary(&report), "x-echo=Bearer [REDACTED]");
    assert_eq!(
        gateway.received()[0].header("authorization"),
        Some("Bearer probe_key_0123456789")
    );
    db.finish().await;
}

#[tokio::test]
async fn a_request_loop_ends_the_call_at_the_outbound_limit_and_stays_bounded() {
    let db = TestDb::sqlite();
    let (host, id) = http_probe(&db, NetworkPolicy::default(), Limits::default()).await;
    // Every request is refused (the origin is not declared), in a loop a million long, with a
    // long origin: the call still ends at the limit, and the report stays small.
    let report = invoke_demo(
        &host,
        &id,
        &format!("spam http://{}.invalid/ 1000000", "a".repeat(60)),
    )
    .await;
    assert_eq!(
        report.result,
        CallResult::Aborted {
            reason: airlock_host::AbortReason::Outbound { limit: 20 }
        },
        "{:?}",
        report.result
    );
    assert!(
        report.outbound.len() <= 64,
        "{} records",
        report.outbound.len()
    );
    assert!(
        report
            .outbound
            .iter()
            .all(|o| o.refused && o.origin.len() <= 201)
    );
    db.finish().await;
}

#[tokio::test]
async fn loopback_and_private_addresses_are_refused_unless_the_platform_allows_them() {
    let db = TestDb::sqlite();
    let gateway = Provider::start().await;
    let network = NetworkPolicy::default().resolve("gateway.test", 8080, gateway.addr);
    let (host, id) = http_probe(&db, network, Limits::default()).await;
    let report = invoke_demo(&host, &id, "get http://gateway.test:8080/").await;
    assert_eq!(
        summary(&report),
        r#"error Refused("DestinationIpProhibited")"#
    );
    assert_eq!(gateway.connections(), 0);
    db.finish().await;
}

#[tokio::test]
async fn responses_are_capped_and_slow_providers_spend_the_callers_deadline() {
    let _serial = crate::timing_sensitive().await;
    let db = TestDb::sqlite();
    let gateway = Provider::start().await;
    gateway.answer(|r| match r.target.as_str() {
        "/big" => Reply::json(200, &"x".repeat(100 * 1024)),
        "/stream" => Reply {
            close_delimited: true,
            ..Reply::json(200, &"y".repeat(100 * 1024))
        },
        "/stall" => Reply::stall(),
        _ => Reply::json(200, "{}"),
    });
    let network = NetworkPolicy::default()
        .allow_private("test.http-probe", gateway.addr)
        .resolve("gateway.test", 8080, gateway.addr);
    let limits = Limits {
        deadline: Duration::from_millis(400),
        max_response_bytes: 64 * 1024,
        ..Limits::default()
    };
    let (host, id) = http_probe(&db, network, limits).await;
    for path in ["big", "stream"] {
        let report = invoke_demo(&host, &id, &format!("get http://gateway.test:8080/{path}")).await;
        assert_eq!(summary(&report), "error TooLarge", "{path}: {report:#?}");
    }
    let started = Instant::now();
    let report = invoke_demo(&host, &id, "get http://gateway.test:8080/stall").await;
    let elapsed = started.elapsed();
    // The provider never answers; the call ends with its deadline, not the provider's whim.
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
    let outbound = &report.outbound[0];
    assert_eq!(outbound.status, None);
    assert!(
        outbound.error.as_deref().unwrap_or("").contains("deadline"),
        "{report:#?}"
    );
    // Waiting on a provider holds no worker thread, so it is not charged to the merchant's
    // share of the host (crate::fairness): the call's busy time is a small part of it.
    assert!(
        report.busy_ms * 4.0 < report.elapsed_ms,
        "busy {} ms of {} ms",
        report.busy_ms,
        report.elapsed_ms
    );
    db.finish().await;
}
