//! Where an attach-only key may go, with the real HTTP probe against a local provider: only
//! `Authorization` and the headers its manifest declares for that key (a header name that
//! merely contains "key" or "token", such as `Idempotency-Key`, is stored and echoed by
//! providers), and an echo of it in a response header is redacted even when the value is
//! not plain ASCII.

use airlock_host::Limits;
use airlock_host::outbound::NetworkPolicy;
use airlock_host::vault::VaultKey;
use airlock_tests::provider::{Provider, Reply};
use airlock_tests::{TestDb, TestHost, demo_store, install_with_secrets, invoke_demo, plugins};
use airlock_tests::{summary, wasm};

const KEY: &str = "probe_key_0123456789";

/// The probe installed with both keys set, its gateway resolved to `gateway`.
async fn probe(
    db: &TestDb,
    gateway: &Provider,
) -> (airlock_host::Host, airlock_host::ids::InstallationId) {
    let network = NetworkPolicy::default()
        .allow_private("test.http-probe", gateway.addr)
        .resolve("gateway.test", 8080, gateway.addr);
    let host = TestHost::new(db)
        .vault(VaultKey::from_bytes([9; 32]))
        .network(network)
        .limits(Limits::default())
        .build()
        .await;
    let id = install_with_secrets(
        &host,
        &demo_store(),
        &wasm(plugins::HTTP_PROBE),
        &[("api_key", KEY), ("attach_only", KEY)],
    )
    .await;
    (host, id)
}

#[tokio::test]
async fn a_key_goes_only_into_authorization_and_the_headers_declared_for_it() {
    let db = TestDb::sqlite();
    let gateway = Provider::start().await;
    gateway.answer(|_| Reply::json(200, "{}"));
    let (host, id) = probe(&db, &gateway).await;
    // Header names that contain "key" or "token" but are echoed or stored by providers.
    for header in [
        "idempotency-key",
        "x-request-token-echo",
        "x-signature-debug",
    ] {
        let command = format!("in-header http://gateway.test:8080/ {header} attach_only");
        let report = invoke_demo(&host, &id, &command).await;
        assert_eq!(
            summary(&report),
            r#"error Refused("HttpRequestDenied")"#,
            "{header}"
        );
    }
    assert_eq!(gateway.connections(), 0, "{:?}", gateway.received());
    // Authorization always; `x-api-key` because the manifest declares it for `attach_only`
    // (as `X-Api-Key`: names compare without case).
    for header in ["authorization", "x-api-key"] {
        let command = format!("in-header http://gateway.test:8080/ {header} attach_only");
        let report = invoke_demo(&host, &id, &command).await;
        assert_eq!(summary(&report), "status 200", "{header}");
    }
    let received = gateway.received();
    assert_eq!(received[0].header("authorization"), Some(KEY));
    assert_eq!(received[1].header("x-api-key"), Some(KEY));
    // Declared for `attach_only` only: `api_key` may not go there.
    let report = invoke_demo(
        &host,
        &id,
        "in-header http://gateway.test:8080/ x-api-key api_key",
    )
    .await;
    assert_eq!(summary(&report), r#"error Refused("HttpRequestDenied")"#);
    assert_eq!(gateway.connections(), 2);
    db.finish().await;
}

#[tokio::test]
async fn an_echoed_key_is_redacted_from_a_header_value_that_is_not_ascii() {
    let db = TestDb::sqlite();
    let gateway = Provider::start().await;
    // A provider that reflects the credential with a non-ASCII byte around it.
    gateway.answer(|r| {
        let echoed = r.header("authorization").unwrap_or("").to_owned();
        Reply::json(200, "{}").header("x-echo", &format!("\u{e9}{echoed}\u{e9}"))
    });
    let (host, id) = probe(&db, &gateway).await;
    // Reversed by the connector, so the report's redaction of its summary cannot hide what
    // the connector itself was handed.
    let report = invoke_demo(
        &host,
        &id,
        "headers-reversed http://gateway.test:8080/ attach_only",
    )
    .await;
    let seen = summary(&report);
    let reversed: String = KEY.chars().rev().collect();
    assert!(
        !seen.contains(&reversed),
        "the connector saw the key: {seen}"
    );
    let redacted: String = "[REDACTED]".chars().rev().collect();
    assert!(seen.contains(&redacted), "{seen}");
    db.finish().await;
}
