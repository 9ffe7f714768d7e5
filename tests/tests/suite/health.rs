//! Each connection's health as its merchant sees it, from what really happened to the probe:
//! connected after a delivery, degraded after a failure among successes, failing after three
//! failures in a row, needs-attention while its deliveries are held or its plan has too few
//! slots, disconnected once removed; each with the cause and the checklist for its kind, in
//! the merchant's language.

use std::sync::Arc;
use std::time::Duration;

use airlock_host::Host;
use airlock_host::grants::Scope;
use airlock_host::health::{HealthState, Reason};
use airlock_host::manifest::Topic;
use airlock_host::outbox::{ManualClock, RetrySchedule};
use airlock_host::prompt::Language;
use airlock_host::{AppHealth, DispatchOptions};
use airlock_tests::{TestDb, TestHost, demo_store, install_probe};

async fn deliver(host: &Host, clock: &ManualClock, subject: &str) {
    host.emit(&demo_store(), Topic::OrderCreated, subject)
        .await
        .unwrap();
    host.dispatch_once(&DispatchOptions::default())
        .await
        .unwrap();
    clock.advance(Duration::from_secs(1));
}

async fn only(host: &Host, lang: Language) -> AppHealth {
    let mut apps = host.health(&demo_store(), lang).await.unwrap();
    assert_eq!(apps.len(), 1, "{apps:?}");
    apps.remove(0)
}

#[tokio::test]
async fn health_follows_what_the_deliveries_did_with_the_cause_and_the_checklist() {
    for db in TestDb::all().await {
        let clock = ManualClock::at(1_800_000_000_000);
        let host = TestHost::new(&db)
            .clock(Arc::new(clock.clone()))
            // One long retry: a failed event stays queued while the others go through.
            .retry_schedule("86400".parse::<RetrySchedule>().unwrap())
            .build()
            .await;
        install_probe(&host, &demo_store(), &[Scope::OrdersRead]).await;

        deliver(&host, &clock, "orders.get ord_1001").await;
        let app = only(&host, Language::En).await;
        assert_eq!(app.health.state, HealthState::Connected, "{app:?}");
        assert_eq!(app.health.reason, None);

        deliver(&host, &clock, "fail unavailable").await;
        deliver(&host, &clock, "orders.get ord_1001").await;
        let app = only(&host, Language::En).await;
        assert_eq!(app.health.state, HealthState::Degraded, "{app:?}");
        assert_eq!(app.health.reason, Some(Reason::ProviderDown));

        for _ in 0..3 {
            deliver(&host, &clock, "fail network").await;
        }
        let app = only(&host, Language::En).await;
        assert_eq!(app.health.state, HealthState::Failing, "{app:?}");
        assert_eq!(app.health.reason, Some(Reason::Network));
        // The detail carries the connector's words, not only the code.
        assert_eq!(
            app.health.detail.as_deref(),
            Some("network: connection reset"),
            "{app:?}"
        );
        // The probe is an analytics connector: its checklist, and the general one.
        assert!(
            app.health
                .checklist
                .title
                .to_lowercase()
                .contains("analytics"),
            "{app:?}"
        );
        assert_eq!(app.health.check_first.items.len(), 10);
        db.finish().await;
    }
}

#[tokio::test]
async fn a_held_connection_needs_attention_in_the_merchants_language_until_it_passes_a_check() {
    for db in TestDb::all().await {
        let clock = ManualClock::at(1_800_000_000_000);
        let host = TestHost::new(&db)
            .clock(Arc::new(clock.clone()))
            .build()
            .await;
        let id = install_probe(&host, &demo_store(), &[Scope::OrdersRead]).await;
        deliver(&host, &clock, "fail verification").await;

        let app = only(&host, Language::En).await;
        assert_eq!(app.health.state, HealthState::NeedsAttention, "{app:?}");
        assert_eq!(app.health.reason, Some(Reason::VerificationRequired));
        let hindi = only(&host, Language::Hi).await;
        assert_eq!(hindi.health.state, HealthState::NeedsAttention);
        assert_ne!(hindi.health.title, app.health.title, "the cause in Hindi");
        assert_ne!(hindi.health.check_first.items, app.health.check_first.items);

        // Fixed at the provider: the next health check passes and lifts the hold (the held
        // event is tried again by the next round).
        host.health_check(&demo_store(), id.as_str()).await.unwrap();
        let app = only(&host, Language::En).await;
        assert_eq!(app.health.state, HealthState::Degraded, "{app:?}");
        db.finish().await;
    }
}

#[tokio::test]
async fn too_few_slots_and_a_removed_app_are_causes_only_the_host_can_see() {
    for db in TestDb::all().await {
        let host = TestHost::new(&db).build().await;
        let id = install_probe(&host, &demo_store(), &[Scope::OrdersRead]).await;
        let plan = host.db().pool().clone();
        // The merchant's plan shrank below what is installed (a downgrade).
        sqlx::query("UPDATE plans SET app_slots = 0 WHERE id = (SELECT plan_id FROM merchants WHERE id = 'demo-store')")
            .execute(&plan)
            .await
            .unwrap();
        let app = only(&host, Language::En).await;
        assert_eq!(app.health.state, HealthState::NeedsAttention, "{app:?}");
        assert_eq!(app.health.reason, Some(Reason::AppLimit));

        host.uninstall(&demo_store(), id.as_str(), "owner")
            .await
            .unwrap();
        let app = only(&host, Language::As).await;
        assert_eq!(app.health.state, HealthState::Disconnected, "{app:?}");
        assert_eq!(app.health.reason, Some(Reason::AppDisconnected));
        assert_eq!(app.connector, "test.probe");
        assert_eq!(
            app.kind,
            Some(airlock_host::manifest::ConnectorKind::Analytics)
        );
        db.finish().await;
    }
}
