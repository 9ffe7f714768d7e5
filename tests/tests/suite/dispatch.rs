//! The continuous dispatcher: a delivery stuck on a slow provider holds one slot, not the
//! others; one merchant's flood does not queue another merchant's event behind it; after
//! repeated failures an installation's deliveries stop taking slots (circuit breaker); a
//! merchant over its rate waits while the others are served.

use std::sync::Arc;
use std::time::Duration;

use airlock_host::grants::Scope;
use airlock_host::manifest::Topic;
use airlock_host::outbox::{DeliveryFilter, DeliveryState};
use airlock_host::{DispatchOptions, Host, Limits, Until};
use airlock_tests::{TestDb, demo_store, hostile_host, install_probe, other_store};

async fn state_of(host: &Host, merchant: &airlock_host::ids::MerchantId) -> Vec<DeliveryState> {
    host.deliveries(merchant, &DeliveryFilter::default(), 100)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.state)
        .collect()
}

#[tokio::test]
async fn a_delivery_stuck_on_a_slow_connector_does_not_hold_up_another_merchants() {
    let _serial = crate::timing_sensitive().await;
    for db in TestDb::all().await {
        let limits = Limits {
            deadline: Duration::from_secs(3),
            fuel: None,
            ..Limits::default()
        };
        // demo-store runs the hostile connector, whose `spin` runs until its deadline.
        let (host, _) = hostile_host(&db, limits).await;
        install_probe(&host, &other_store(), &[Scope::OrdersRead]).await;
        let host = Arc::new(host);
        host.emit(&demo_store(), Topic::OrderCreated, "spin")
            .await
            .unwrap();
        host.emit(&other_store(), Topic::OrderCreated, "orders.get ord_2001")
            .await
            .unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let dispatcher = {
            let host = host.clone();
            tokio::spawn(async move {
                let options = DispatchOptions::default();
                let stop = async {
                    let _ = stopped.await;
                };
                host.dispatch(&options, Duration::from_millis(20), Until::Idle, stop)
                    .await
            })
        };
        // The other merchant's event is delivered while the spinning one still runs.
        let mut waited = Duration::ZERO;
        while state_of(&host, &other_store()).await != [DeliveryState::Delivered] {
            assert!(
                waited < Duration::from_millis(2500),
                "held up behind the slow delivery"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
            waited += Duration::from_millis(20);
        }
        assert_eq!(
            state_of(&host, &demo_store()).await,
            [DeliveryState::Running]
        );
        // Idle once the spin hits its deadline and waits for its retry.
        let round = dispatcher.await.unwrap().unwrap();
        drop(stop);
        assert_eq!(round.delivered, 1, "{round:?}");
        assert_eq!(round.retried, 1, "the spin hit its deadline: {round:?}");
        db.finish().await;
    }
}

/// A host where demo-store emitted a flood of `flood` events, then other-store one.
async fn flood_then_one(db: &TestDb, flood: usize) -> Host {
    let host = airlock_tests::TestHost::new(db).build().await;
    install_probe(&host, &demo_store(), &[Scope::OrdersRead]).await;
    install_probe(&host, &other_store(), &[Scope::OrdersRead]).await;
    for _ in 0..flood {
        host.emit(&demo_store(), Topic::OrderCreated, "orders.get ord_1001")
            .await
            .unwrap();
    }
    host.emit(&other_store(), Topic::OrderCreated, "orders.get ord_2001")
        .await
        .unwrap();
    host
}

#[tokio::test]
async fn one_merchants_flood_does_not_queue_anothers_event_behind_it() {
    for db in TestDb::all().await {
        let host = flood_then_one(&db, 40).await;
        let options = DispatchOptions {
            batch: 4,
            ..DispatchOptions::default()
        };
        // Every event fanned out, then one round of four: the other merchant's single event
        // is among them, though forty older ones of the first merchant wait.
        assert_eq!(host.fan_out(100).await.unwrap(), 41);
        let round = host.dispatch_once(&options).await.unwrap();
        assert_eq!(round.delivered, 4, "{round:?}");
        assert_eq!(
            state_of(&host, &other_store()).await,
            [DeliveryState::Delivered]
        );
        let flood = state_of(&host, &demo_store()).await;
        let queued = flood
            .iter()
            .filter(|s| **s == DeliveryState::Queued)
            .count();
        assert_eq!(queued, 37, "the rest of the flood waits: {flood:?}");
        db.finish().await;
    }
}

#[tokio::test]
async fn a_merchant_over_its_rate_waits_its_turn_while_another_is_served_and_none_is_dropped() {
    for db in TestDb::all().await {
        let host = Arc::new(flood_then_one(&db, 30).await);
        // 20 a second, in bursts of 2: the flood's 30 take at least 1.4 s.
        let options = DispatchOptions {
            merchant_rate: Some(20),
            ..DispatchOptions::default()
        };
        let dispatcher = {
            let host = host.clone();
            tokio::spawn(async move {
                host.dispatch(
                    &options,
                    Duration::from_millis(20),
                    Until::Idle,
                    std::future::pending(),
                )
                .await
            })
        };
        // The other merchant's event is delivered while most of the flood still waits.
        let mut waited = Duration::ZERO;
        while state_of(&host, &other_store()).await != [DeliveryState::Delivered] {
            assert!(
                waited < Duration::from_secs(10),
                "the other merchant was not served"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
            waited += Duration::from_millis(10);
        }
        // (Over its rate, the flood's events are not even all fanned out: count what is done.)
        let done = state_of(&host, &demo_store())
            .await
            .into_iter()
            .filter(|s| *s == DeliveryState::Delivered)
            .count();
        assert!(
            done <= 10,
            "the flood went over its rate: {done} of 30 delivered"
        );
        // A run until idle does not stop while a merchant is only waiting for its rate.
        let round = dispatcher.await.unwrap().unwrap();
        assert_eq!(round.delivered, 31, "{round:?}");
        let flood = host
            .deliveries(&demo_store(), &DeliveryFilter::default(), 100)
            .await
            .unwrap();
        assert!(flood.iter().all(|d| d.state == DeliveryState::Delivered));
        let first = flood.iter().map(|d| d.updated_at).min().unwrap();
        let last = flood.iter().map(|d| d.updated_at).max().unwrap();
        assert!(
            last - first >= 1_000,
            "30 deliveries at 20 a second took {} ms",
            last - first
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn a_run_until_idle_delivers_everything_even_at_a_rate_of_one_at_a_time() {
    for db in TestDb::all().await {
        // 5 a second: the bucket holds a single delivery, so each fan-out takes one event of
        // a merchant, and the first are the `app.installed` events of the installs, which go
        // to nobody. Seen before the fix: the run fanned out those two, delivered nothing,
        // and called itself idle with the orders still waiting to be fanned out.
        let host = Arc::new(flood_then_one(&db, 5).await);
        let options = DispatchOptions {
            merchant_rate: Some(5),
            ..DispatchOptions::default()
        };
        let round = host
            .dispatch(
                &options,
                Duration::from_millis(20),
                Until::Idle,
                std::future::pending(),
            )
            .await
            .unwrap();
        assert_eq!(round.delivered, 6, "{round:?}");
        assert!(
            state_of(&host, &demo_store())
                .await
                .iter()
                .all(|s| *s == DeliveryState::Delivered)
        );
        db.finish().await;
    }
}
