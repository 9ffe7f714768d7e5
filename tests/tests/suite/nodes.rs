//! Several host nodes over one database: a disable, revoke or uninstall made through one node
//! reaches a call running on another within a second (each node follows the generations of
//! the installations it runs), and two dispatchers share the outbox without delivering an
//! event twice.

use std::sync::Arc;
use std::time::{Duration, Instant};

use airlock_host::grants::Scope;
use airlock_host::manifest::Topic;
use airlock_host::outbox::{DeliveryFilter, DeliveryState};
use airlock_host::{AbortReason, CallResult, DispatchOptions, FOLLOW_EVERY, Limits};
use airlock_tests::{TestDb, TestHost, demo_store, hostile_host, install_probe, probe};

#[tokio::test]
async fn a_disable_on_one_node_stops_a_call_running_on_another_within_a_second() {
    let _serial = crate::timing_sensitive().await;
    for db in TestDb::all().await {
        let limits = Limits {
            deadline: Duration::from_secs(30),
            fuel: None,
            ..Limits::default()
        };
        let (a, id) = hostile_host(&db, limits).await;
        let a = Arc::new(a);
        let b = TestHost::new(&db).unseeded().build().await;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let follower = {
            let a = a.clone();
            tokio::spawn(async move {
                a.follow_changes(FOLLOW_EVERY, async {
                    let _ = stopped.await;
                })
                .await;
            })
        };
        let running = {
            let (a, id) = (a.clone(), id.clone());
            tokio::spawn(async move {
                a.invoke(&demo_store(), id.as_str(), Topic::OrderCreated, "spin")
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(
            !running.is_finished(),
            "the guest spins until something stops it"
        );

        b.disable(&demo_store(), id.as_str(), "owner")
            .await
            .unwrap();
        // From the change's commit: how long the disable itself takes on node B (a debug
        // build's transaction on a loaded machine) is not the time it takes to reach node A.
        let disabled_at = Instant::now();
        let report = tokio::time::timeout(Duration::from_secs(10), running)
            .await
            .expect("interrupted long before its 30 s deadline")
            .unwrap()
            .unwrap();
        let took = disabled_at.elapsed();
        assert_eq!(
            report.result,
            CallResult::Aborted {
                reason: AbortReason::Stopped
            }
        );
        assert!(took < Duration::from_secs(1), "took {took:?}");
        let _ = stop.send(());
        follower.await.unwrap();
        db.finish().await;
    }
}

#[tokio::test]
async fn two_dispatchers_on_one_database_deliver_each_event_exactly_once() {
    for db in TestDb::all().await {
        let a = Arc::new(TestHost::new(&db).build().await);
        let id = install_probe(&a, &demo_store(), &[Scope::OrdersRead]).await;
        let b = Arc::new(TestHost::new(&db).unseeded().build().await);
        let events = 60;
        for _ in 0..events {
            // `flaky 0 x` never fails and counts each run under the event id.
            a.emit(&demo_store(), Topic::OrderCreated, "flaky 0 unavailable")
                .await
                .unwrap();
        }
        let node = |host: Arc<airlock_host::Host>, name: &'static str| {
            tokio::spawn(async move {
                let options = DispatchOptions {
                    node: name.to_owned(),
                    batch: 4,
                    ..DispatchOptions::default()
                };
                let mut delivered = 0;
                for _ in 0..200 {
                    let round = host.dispatch_once(&options).await.unwrap();
                    delivered += round.delivered;
                    if round.idle() {
                        break;
                    }
                }
                delivered
            })
        };
        let (da, db_) = (node(a.clone(), "a"), node(b.clone(), "b"));
        let (da, dbn) = (da.await.unwrap(), db_.await.unwrap());
        assert_eq!(da + dbn, events, "a delivered {da}, b {dbn}");
        let delivered = a
            .deliveries(
                &demo_store(),
                &DeliveryFilter {
                    state: Some(DeliveryState::Delivered),
                    ..DeliveryFilter::default()
                },
                1000,
            )
            .await
            .unwrap();
        assert_eq!(delivered.len(), events);
        for d in &delivered {
            assert_eq!(d.attempts, 1, "{d:?}");
            let runs = probe(
                &a,
                &demo_store(),
                &id,
                &format!("storage.get tries:{}", d.event.id),
            )
            .await;
            assert_eq!(
                runs, "ok Some(\"1\")",
                "the connector ran {} once",
                d.event.id
            );
        }
        db.finish().await;
    }
}
