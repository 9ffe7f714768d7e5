//! Payments fail closed: an order a call marks paid is written only if the call succeeds. A
//! connector that marks an order paid and then fails (or traps, or is stopped) leaves it
//! unpaid, and the discarded write is audited.

use airlock_host::CallResult;
use airlock_host::grants::Scope;
use airlock_tests::{TestDb, TestHost, demo_store, install_probe, invoke_demo, probe};

#[tokio::test]
async fn an_order_marked_paid_by_a_call_that_then_fails_stays_unpaid() {
    for db in TestDb::all().await {
        let host = TestHost::new(&db).build().await;
        let id = install_probe(
            &host,
            &demo_store(),
            &[Scope::OrdersRead, Scope::OrdersWrite],
        )
        .await;
        let status = |answer: String| {
            answer
                .split("financial-status: ")
                .nth(1)
                .and_then(|rest| rest.split(',').next())
                .unwrap_or_default()
                .to_owned()
        };

        // The connector marks the order paid, then fails: nothing is written.
        let failed = invoke_demo(&host, &id, "orders.set-paid ord_1002;no-such-step").await;
        assert!(
            matches!(failed.result, CallResult::Failed { .. }),
            "{:?}",
            failed.result
        );
        assert_eq!(failed.staged_paid, ["ord_1002"]);
        let after = probe(&host, &demo_store(), &id, "orders.get ord_1002").await;
        assert_eq!(status(after.clone()), "FinancialStatus::Pending", "{after}");
        let audit = host.audit(&demo_store(), 50).await.unwrap();
        assert!(
            audit
                .iter()
                .any(|e| e.outcome == "discarded" && e.detail.contains("not marked paid")),
            "{audit:?}"
        );

        // The same write in a call that succeeds is applied after it.
        let done = invoke_demo(&host, &id, "orders.set-paid ord_1002").await;
        assert!(
            matches!(done.result, CallResult::Done { .. }),
            "{:?}",
            done.result
        );
        let after = probe(&host, &demo_store(), &id, "orders.get ord_1002").await;
        assert_eq!(status(after.clone()), "FinancialStatus::Paid", "{after}");

        // A missing order is refused at once, as any write is.
        let missing = probe(&host, &demo_store(), &id, "orders.set-paid ord_9999").await;
        assert!(missing.starts_with("err"), "{missing}");
        db.finish().await;
    }
}
