//! `airlock_host::dev` on real components, through the library: outbound requests checked but
//! not sent without a network, sent with one, and a runaway connector shown against its
//! limits. (The CLI's tests in `cli/tests/dev_run.rs` cover scopes, grants and events.)

use airlock_host::Limits;
use airlock_host::dev::{DevConnector, DevOptions, OriginPlacement, event_from_spec};
use airlock_host::outbound::{NetworkPolicy, OFFLINE_REFUSAL};
use airlock_host::{AbortReason, CallResult};
use airlock_tests::plugins;
use airlock_tests::provider::{Provider, Reply};
use airlock_tests::wasm;
use zeroize::Zeroizing;

fn secrets() -> Vec<(String, Zeroizing<String>)> {
    ["api_key", "attach_only"]
        .map(|name| {
            (
                name.to_owned(),
                Zeroizing::new("probe_key_0123456789".to_owned()),
            )
        })
        .to_vec()
}

#[tokio::test]
async fn requests_are_checked_but_not_sent_without_a_network_and_sent_with_one() {
    let connector = DevConnector::load(&wasm(plugins::HTTP_PROBE), None).unwrap();
    let event = event_from_spec(
        "order.created:get http://gateway.test:8080/pay attach_only;get http://evil.test:8080/",
        1,
    )
    .unwrap();
    let offline = DevOptions {
        secrets: secrets(),
        ..DevOptions::default()
    };
    let report = connector.run(&event, &offline).await.unwrap();
    let run = report.run.as_ref().unwrap();
    assert_eq!(run.outbound[0].error.as_deref(), Some(OFFLINE_REFUSAL));
    let gateway = &report.origins[0];
    assert_eq!(gateway.origin, "http://gateway.test:8080");
    assert_eq!(
        (gateway.offline, gateway.suggestion),
        (1, OriginPlacement::Keep)
    );
    let rebind = &report.origins[1];
    assert_eq!(rebind.suggestion, OriginPlacement::Drop, "{rebind:?}");
    let evil = &report.origins[2];
    assert_eq!(
        (evil.declared, evil.suggestion),
        (false, OriginPlacement::Add)
    );
    // The undeclared origin is the only denial: a request not sent offline is not one.
    assert_eq!(report.denials.len(), 1, "{:?}", report.denials);
    assert!(report.denials[0].fix.contains("http://evil.test:8080"));
    assert!(!report.passed);
    assert!(report.notes.iter().any(|n| n.contains("--allow-network")));
    assert!(
        report.least_manifest.invalid.is_none(),
        "{}",
        report.least_manifest.toml
    );
    assert_eq!(
        report.least_manifest.http,
        ["http://gateway.test:8080", "http://evil.test:8080"]
    );

    let provider = Provider::start().await;
    provider.answer(|_| Reply::json(200, "{}"));
    let network = NetworkPolicy::default()
        .allow_private("test.http-probe", provider.addr)
        .resolve("gateway.test", 8080, provider.addr);
    let online = DevOptions {
        network: Some(network),
        secrets: secrets(),
        ..DevOptions::default()
    };
    let sent = event_from_spec(
        "order.created:get http://gateway.test:8080/pay attach_only",
        1,
    )
    .unwrap();
    let report = connector.run(&sent, &online).await.unwrap();
    assert!(report.passed, "{:?}", report.denials);
    assert_eq!(report.origins[0].answered, 1);
    assert_eq!(provider.connections(), 1);
    let received = provider.received();
    assert_eq!(
        received[0].header("authorization"),
        Some("Bearer probe_key_0123456789"),
        "the secret given was attached"
    );
}

#[tokio::test]
async fn a_runaway_connector_is_shown_against_its_limits() {
    let connector = DevConnector::load(&wasm(plugins::HOSTILE), None).unwrap();
    let options = DevOptions::default();
    let spin = event_from_spec("order.created:spin", 1).unwrap();
    let report = connector.run(&spin, &options).await.unwrap();
    let run = report.run.as_ref().unwrap();
    let budget = Limits::default().fuel.unwrap();
    assert_eq!(
        run.result,
        CallResult::Aborted {
            reason: AbortReason::Fuel { limit: budget }
        }
    );
    let used = report.resources.as_ref().unwrap();
    assert_eq!(used.instructions, Some(budget));
    assert!(!report.passed);

    let hog = event_from_spec("order.created:hog 8", 1).unwrap();
    let report = connector.run(&hog, &options).await.unwrap();
    assert!(
        report.passed,
        "{:?}",
        report.run.as_ref().map(|r| &r.result)
    );
    let peak = report.resources.as_ref().unwrap().peak_memory_bytes;
    assert!((8 << 20..64 << 20).contains(&peak), "peak {peak}");
}
