//! The durable outbox with the real probe connector, on SQLite and PostgreSQL: `emit` queues,
//! a dispatch round delivers; failures retry on the schedule (walked with a hand-moved clock)
//! with the same event id until they are dead-lettered; a provider's `retry-after` is
//! honoured; causes only the merchant can fix hold the installation's deliveries until a
//! health check passes; a claim whose lease ran out can never overwrite a newer outcome.

use std::sync::Arc;
use std::time::Duration;

use airlock_host::grants::Scope;
use airlock_host::manifest::Topic;
use airlock_host::outbox::{Clock, DeliveryFilter, DeliveryState, ManualClock, RetrySchedule};
use airlock_host::{DispatchOptions, Host, Round};
use airlock_tests::{PauseFirstOrder, TestDb, TestHost, demo_store, install_probe, probe};

const START: i64 = 1_800_000_000_000;

fn options(node: &str) -> DispatchOptions {
    DispatchOptions {
        node: node.to_owned(),
        ..DispatchOptions::default()
    }
}

async fn host_at(db: &TestDb, clock: &ManualClock, schedule: &str) -> Host {
    TestHost::new(db)
        .clock(Arc::new(clock.clone()))
        .retry_schedule(schedule.parse::<RetrySchedule>().unwrap())
        .build()
        .await
}

async fn round(host: &Host) -> Round {
    host.dispatch_once(&options("a")).await.expect("dispatch")
}

async fn only_delivery(host: &Host) -> airlock_host::outbox::Delivery {
    let mut list = host
        .deliveries(&demo_store(), &DeliveryFilter::default(), 10)
        .await
        .unwrap();
    assert_eq!(list.len(), 1, "{list:?}");
    list.remove(0)
}

#[tokio::test]
async fn emit_queues_and_one_dispatch_round_delivers_each_event_once() {
    for db in TestDb::all().await {
        let clock = ManualClock::at(START);
        let host = host_at(&db, &clock, "5,300").await;
        install_probe(&host, &demo_store(), &[Scope::OrdersRead]).await;

        let event = host
            .emit(&demo_store(), Topic::OrderCreated, "orders.get ord_1001")
            .await
            .unwrap();
        // Written, not yet delivered: nothing ran the connector.
        let first = round(&host).await;
        assert_eq!(
            (first.fanned_out, first.claimed, first.delivered),
            (1, 1, 1),
            "{first:?}"
        );
        assert!(round(&host).await.idle(), "nothing is delivered twice");

        let delivery = only_delivery(&host).await;
        assert_eq!(delivery.event.id, event.id);
        assert_eq!(delivery.state, DeliveryState::Delivered);
        assert_eq!(delivery.attempts, 1);
        db.finish().await;
    }
}

#[tokio::test]
async fn a_failing_delivery_keeps_its_event_id_on_every_retry_and_waits_its_delay() {
    for db in TestDb::all().await {
        let clock = ManualClock::at(START);
        let host = host_at(&db, &clock, "5,300,1800").await;
        let id = install_probe(&host, &demo_store(), &[Scope::OrdersRead]).await;
        let event = host
            .emit(&demo_store(), Topic::OrderCreated, "flaky 2 unavailable")
            .await
            .unwrap();

        assert_eq!(round(&host).await.retried, 1, "try 1 fails");
        // The first delay is 5 s, jittered ±20%: not due before 4 s, due after 6 s.
        clock.advance(Duration::from_millis(3_900));
        assert_eq!(round(&host).await.claimed, 0, "not due yet");
        clock.advance(Duration::from_millis(2_200));
        assert_eq!(round(&host).await.retried, 1, "try 2 fails");
        let waiting = only_delivery(&host).await;
        assert_eq!(waiting.state, DeliveryState::Queued);
        assert_eq!(waiting.last_code.as_deref(), Some("provider-unavailable"));
        let next = waiting.next_at.unwrap() - clock.now_ms();
        assert!(
            (240_000..=360_000).contains(&next),
            "second delay ~300 s, was {next} ms"
        );

        clock.advance(Duration::from_secs(361));
        assert_eq!(round(&host).await.delivered, 1, "try 3 succeeds");
        // The connector counted its tries under the event id it was given each time.
        let tries = probe(
            &host,
            &demo_store(),
            &id,
            &format!("storage.get tries:{}", event.id),
        )
        .await;
        assert_eq!(tries, "ok Some(\"3\")");
        db.finish().await;
    }
}

#[tokio::test]
async fn after_the_last_retry_a_delivery_is_dead_and_replay_queues_it_with_the_same_id() {
    for db in TestDb::all().await {
        let clock = ManualClock::at(START);
        let host = host_at(&db, &clock, "5,5").await;
        install_probe(&host, &demo_store(), &[Scope::OrdersRead]).await;
        let event = host
            .emit(&demo_store(), Topic::OrderCreated, "fail network")
            .await
            .unwrap();
        assert_eq!(round(&host).await.retried, 1);
        clock.advance(Duration::from_secs(7));
        assert_eq!(round(&host).await.retried, 1);
        clock.advance(Duration::from_secs(7));
        assert_eq!(round(&host).await.dead, 1, "three tries, then dead");
        clock.advance(Duration::from_secs(3600));
        assert!(
            round(&host).await.idle(),
            "a dead delivery is never tried again by itself"
        );
        let dead = only_delivery(&host).await;
        assert_eq!((dead.state, dead.attempts), (DeliveryState::Dead, 3));
        assert_eq!(dead.last_code.as_deref(), Some("network"));

        let replayed = host
            .replay(&demo_store(), &DeliveryFilter::default(), Some(&dead.id))
            .await
            .unwrap();
        assert_eq!(replayed, 1);
        let again = only_delivery(&host).await;
        assert_eq!((again.state, again.attempts), (DeliveryState::Queued, 0));
        assert_eq!(again.event.id, event.id, "the event id survives a replay");
        assert_eq!(
            round(&host).await.retried,
            1,
            "tried again, on a fresh schedule"
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn a_providers_retry_after_pushes_the_retry_back() {
    for db in TestDb::all().await {
        let clock = ManualClock::at(START);
        let host = host_at(&db, &clock, "5,5").await;
        install_probe(&host, &demo_store(), &[Scope::OrdersRead]).await;
        host.emit(&demo_store(), Topic::OrderCreated, "fail rate-limited 120")
            .await
            .unwrap();
        assert_eq!(round(&host).await.retried, 1);
        let waiting = only_delivery(&host).await;
        assert_eq!(waiting.last_code.as_deref(), Some("rate-limited"));
        assert_eq!(
            waiting.next_at,
            Some(clock.now_ms() + 120_000),
            "not the schedule's 5 s"
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn causes_the_merchant_must_fix_hold_every_delivery_until_a_health_check_passes() {
    for db in TestDb::all().await {
        let clock = ManualClock::at(START);
        let host = host_at(&db, &clock, "5").await;
        let id = install_probe(&host, &demo_store(), &[Scope::OrdersRead]).await;
        host.emit(
            &demo_store(),
            Topic::OrderCreated,
            "fail invalid-credentials",
        )
        .await
        .unwrap();
        let held = round(&host).await;
        assert_eq!(held.held, 1, "{held:?}");
        let hold = host
            .delivery_hold(&demo_store(), id.as_str())
            .await
            .unwrap()
            .expect("held");
        assert_eq!(hold.cause, "invalid-credentials");

        // Later events of the held installation are kept, not tried: the provider is not
        // hammered with a key it refused.
        host.emit(&demo_store(), Topic::OrderCreated, "orders.get ord_1001")
            .await
            .unwrap();
        clock.advance(Duration::from_secs(3600));
        let waiting = round(&host).await;
        assert_eq!(waiting.claimed, 0, "{waiting:?}");
        let queued = host
            .deliveries(
                &demo_store(),
                &DeliveryFilter {
                    state: Some(DeliveryState::Queued),
                    ..DeliveryFilter::default()
                },
                10,
            )
            .await
            .unwrap();
        assert_eq!(queued.len(), 2);
        assert!(
            queued.iter().all(|d| d.attempts == 0),
            "a held try is not counted: {queued:?}"
        );

        // The merchant fixed it: the health check passes and the deliveries go again.
        host.health_check(&demo_store(), id.as_str()).await.unwrap();
        assert!(
            host.delivery_hold(&demo_store(), id.as_str())
                .await
                .unwrap()
                .is_none()
        );
        let resumed = round(&host).await;
        assert_eq!((resumed.claimed, resumed.delivered), (2, 1), "{resumed:?}");
        assert_eq!(resumed.held, 1, "the event that still fails holds it again");
        db.finish().await;
    }
}

#[tokio::test]
async fn a_claim_whose_lease_ran_out_cannot_overwrite_the_newer_outcome() {
    for db in TestDb::all().await {
        let clock = ManualClock::at(START);
        let mut paused = None;
        let slow = Arc::new(
            TestHost::new(&db)
                .clock(Arc::new(clock.clone()))
                .commerce(|pool| {
                    let (data, handle) = PauseFirstOrder::new(pool);
                    paused = Some(handle);
                    data
                })
                .build()
                .await,
        );
        let paused = paused.unwrap();
        install_probe(&slow, &demo_store(), &[Scope::OrdersRead]).await;
        let other = TestHost::new(&db)
            .clock(Arc::new(clock.clone()))
            .unseeded()
            .build()
            .await;
        slow.emit(&demo_store(), Topic::OrderCreated, "orders.get ord_1001")
            .await
            .unwrap();

        // Node A claims the delivery and stalls inside it.
        let a = {
            let slow = slow.clone();
            tokio::spawn(async move { slow.dispatch_once(&options("node-a")).await })
        };
        paused.reached.await.unwrap();
        // Its lease runs out; node B takes the delivery over and delivers it.
        clock.advance(Duration::from_secs(61));
        let b = other.dispatch_once(&options("node-b")).await.unwrap();
        assert_eq!((b.claimed, b.delivered), (1, 1), "{b:?}");
        // A finishes late: its outcome is dropped, B's stands.
        paused.resume.send(()).unwrap();
        let a = a.await.unwrap().unwrap();
        assert_eq!(a.stale, 1, "{a:?}");
        let delivery = only_delivery(&other).await;
        assert_eq!(
            (delivery.state, delivery.attempts),
            (DeliveryState::Delivered, 2)
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn an_inventory_change_and_its_event_commit_together() {
    for db in TestDb::all().await {
        let clock = ManualClock::at(START);
        let host = host_at(&db, &clock, "5").await;
        let id = install_probe(
            &host,
            &demo_store(),
            &[
                Scope::OrdersRead,
                Scope::InventoryRead,
                Scope::InventoryWrite,
            ],
        )
        .await;
        let sku = "TEA-DARJ-100";
        let adjusted = probe(
            &host,
            &demo_store(),
            &id,
            &format!("inventory.adjust {sku} -1"),
        )
        .await;
        assert_eq!(adjusted, "ok ()");
        let missing = probe(&host, &demo_store(), &id, "inventory.adjust no-such-sku -1").await;
        assert!(missing.starts_with("err"), "{missing}");
        assert_eq!(round(&host).await.fanned_out, 1, "one change, one event");
        let list = host
            .deliveries(&demo_store(), &DeliveryFilter::default(), 10)
            .await
            .unwrap();
        assert_eq!(list.len(), 1, "{list:?}");
        assert_eq!(list[0].event.topic, Topic::InventoryChanged);
        assert_eq!(list[0].event.subject_id, sku);
        db.finish().await;
    }
}

#[tokio::test]
async fn finished_deliveries_and_their_events_are_pruned_after_the_window_queued_ones_never() {
    for db in TestDb::all().await {
        let clock = ManualClock::at(START);
        let host = host_at(&db, &clock, "86400").await;
        install_probe(&host, &demo_store(), &[Scope::OrdersRead]).await;
        host.emit(&demo_store(), Topic::OrderCreated, "orders.get ord_1001")
            .await
            .unwrap();
        host.emit(&demo_store(), Topic::OrderCreated, "fail unavailable")
            .await
            .unwrap();
        let done = round(&host).await;
        assert_eq!((done.delivered, done.retried), (1, 1), "{done:?}");

        let week = Duration::from_secs(7 * 86_400);
        assert_eq!(
            host.prune(week, week).await.unwrap().deliveries,
            0,
            "too young"
        );
        clock.advance(Duration::from_secs(8 * 86_400));
        let pruned = host
            .prune(week, Duration::from_secs(365 * 86_400))
            .await
            .unwrap();
        // The delivered order's event, and the probe's `app.installed` (nobody subscribed).
        assert_eq!((pruned.deliveries, pruned.events), (1, 2), "{pruned:?}");
        let left = host
            .deliveries(&demo_store(), &DeliveryFilter::default(), 10)
            .await
            .unwrap();
        assert_eq!(left.len(), 1, "the queued retry stays: {left:?}");
        assert_eq!(left[0].state, DeliveryState::Queued);
        db.finish().await;
    }
}
