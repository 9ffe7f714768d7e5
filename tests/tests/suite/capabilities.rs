//! Every capability with a real component: a granted and a denied case each, on SQLite and
//! (when configured) PostgreSQL. The probe plugin makes exactly the host call a test names and
//! reports the host's raw answer.

use airlock_host::grants::Scope;
use airlock_tests::{TestDb, TestHost, demo_store, install_probe, other_store, probe};

#[tokio::test]
async fn granted_order_read_returns_the_merchants_order() {
    for db in TestDb::all().await {
        let host = TestHost::new(&db).build().await;
        let probe_id = install_probe(&host, &demo_store(), &[Scope::OrdersRead]).await;
        let answer = probe(&host, &demo_store(), &probe_id, "orders.get ord_1001").await;
        assert!(answer.starts_with("ok Order {"), "{}: {answer}", db.url);
        assert!(answer.contains("number: \"#1001\""), "{answer}");
        let listed = probe(&host, &demo_store(), &probe_id, "orders.list 10").await;
        // Newest first, and only this merchant's orders.
        assert_eq!(listed, r##"ok ["#1002", "#1001"]"##);
        db.finish().await;
    }
}

#[tokio::test]
async fn ungranted_reads_are_denied_with_the_missing_scope() {
    for db in TestDb::all().await {
        let host = TestHost::new(&db).build().await;
        // Granted something, just not what each call needs: the orders calls run as a
        // `customer.created` event, the others as `order.created` (a direct delivery needs
        // its topic's scope).
        let orders_only = install_probe(&host, &demo_store(), &[Scope::OrdersRead]).await;
        let customers_only = install_probe(&host, &other_store(), &[Scope::CustomersRead]).await;
        for (command, scope) in [
            ("orders.get ord_2001", "OrdersRead"),
            ("orders.list 5", "OrdersRead"),
            ("customers.get cus_asha", "CustomersRead"),
            ("inventory.get MUG-CLAY", "InventoryRead"),
            ("inventory.list 5", "InventoryRead"),
        ] {
            let answer = match scope {
                "OrdersRead" => probe(&host, &other_store(), &customers_only, command).await,
                _ => probe(&host, &demo_store(), &orders_only, command).await,
            };
            assert_eq!(
                answer,
                format!("err HostError::Denied(Scope::{scope})"),
                "{command} on {}",
                db.url
            );
        }
        db.finish().await;
    }
}

#[tokio::test]
async fn writes_without_the_write_scope_are_refused_and_change_nothing() {
    for db in TestDb::all().await {
        let host = TestHost::new(&db).build().await;
        let reader = install_probe(
            &host,
            &demo_store(),
            &[Scope::OrdersRead, Scope::InventoryRead],
        )
        .await;
        let answer = probe(
            &host,
            &demo_store(),
            &reader,
            "orders.set-fulfillment ord_1001 fulfilled",
        )
        .await;
        assert_eq!(answer, "err HostError::Denied(Scope::OrdersWrite)");
        let answer = probe(
            &host,
            &demo_store(),
            &reader,
            "orders.set-financial ord_1001",
        )
        .await;
        assert_eq!(answer, "err HostError::Denied(Scope::OrdersWrite)");
        let answer = probe(
            &host,
            &demo_store(),
            &reader,
            "inventory.adjust MUG-CLAY 100",
        )
        .await;
        assert_eq!(answer, "err HostError::Denied(Scope::InventoryWrite)");

        let order = probe(&host, &demo_store(), &reader, "orders.get ord_1001").await;
        assert!(
            order.contains("fulfillment-status: FulfillmentStatus::Unfulfilled"),
            "{order}"
        );
        assert!(
            order.contains("financial-status: FinancialStatus::Pending"),
            "{order}"
        );
        let stock = probe(&host, &demo_store(), &reader, "inventory.get MUG-CLAY").await;
        assert!(stock.contains("available: -2"), "{stock}");
        db.finish().await;
    }
}

#[tokio::test]
async fn writes_with_the_write_scope_change_the_record() {
    for db in TestDb::all().await {
        let host = TestHost::new(&db).build().await;
        let scopes = [
            Scope::OrdersRead,
            Scope::OrdersWrite,
            Scope::InventoryRead,
            Scope::InventoryWrite,
        ];
        let writer = install_probe(&host, &demo_store(), &scopes).await;
        assert_eq!(
            probe(
                &host,
                &demo_store(),
                &writer,
                "orders.set-fulfillment ord_1001 fulfilled"
            )
            .await,
            "ok ()"
        );
        let order = probe(&host, &demo_store(), &writer, "orders.get ord_1001").await;
        assert!(order.contains("FulfillmentStatus::Fulfilled"), "{order}");
        assert_eq!(
            probe(
                &host,
                &demo_store(),
                &writer,
                "inventory.adjust MUG-CLAY 10"
            )
            .await,
            "ok ()"
        );
        let stock = probe(&host, &demo_store(), &writer, "inventory.get MUG-CLAY").await;
        assert!(stock.contains("available: 8"), "{stock}");
        db.finish().await;
    }
}

#[tokio::test]
async fn contact_details_are_empty_without_read_contact_and_present_with_it() {
    for db in TestDb::all().await {
        let host = TestHost::new(&db).build().await;
        let without = install_probe(&host, &demo_store(), &[Scope::CustomersRead]).await;
        let answer = probe(&host, &demo_store(), &without, "customers.get cus_asha").await;
        assert!(answer.starts_with("ok Customer {"), "{answer}");
        for field in ["name: None", "email: None", "phone: None", "address: None"] {
            assert!(answer.contains(field), "{field} missing in {answer}");
        }
        assert!(
            !answer.contains("Asha") && !answer.contains("+91"),
            "contact leaked: {answer}"
        );

        let with = install_probe(
            &host,
            &other_store(),
            &[Scope::CustomersRead, Scope::CustomersReadContact],
        )
        .await;
        let answer = probe(&host, &other_store(), &with, "customers.get cus_zoe").await;
        assert!(answer.contains("name: Some(\"Zoe Marak\")"), "{answer}");
        assert!(
            answer.contains("phone: Some(\"+919800000001\")"),
            "{answer}"
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn another_merchants_ids_look_exactly_like_missing_ones() {
    for db in TestDb::all().await {
        let host = TestHost::new(&db).build().await;
        let all = [
            Scope::OrdersRead,
            Scope::OrdersWrite,
            Scope::CustomersRead,
            Scope::InventoryRead,
            Scope::InventoryWrite,
        ];
        let spy = install_probe(&host, &other_store(), &all).await;
        let other = other_store();
        for (theirs, missing) in [
            ("orders.get ord_1001", "orders.get ord_9999"),
            ("customers.get cus_asha", "customers.get cus_nobody"),
            ("inventory.get MUG-CLAY", "inventory.get NO-SUCH-SKU"),
            (
                "orders.set-fulfillment ord_1001 cancelled",
                "orders.set-fulfillment ord_9999 cancelled",
            ),
            (
                "inventory.adjust MUG-CLAY -5",
                "inventory.adjust NO-SUCH-SKU -5",
            ),
        ] {
            let a = probe(&host, &other, &spy, theirs).await;
            let b = probe(&host, &other, &spy, missing).await;
            assert_eq!(a, "err HostError::NotFound", "{theirs}");
            assert_eq!(a, b, "{theirs} vs {missing}");
        }
        // Lists only ever show the caller's own records.
        let listed = probe(&host, &other, &spy, "orders.list 100").await;
        assert!(
            listed.contains("#2001") && !listed.contains("#1001"),
            "{listed}"
        );
        // And the demo store's data is untouched.
        let owner = install_probe(&host, &demo_store(), &[Scope::OrdersRead]).await;
        let order = probe(&host, &demo_store(), &owner, "orders.get ord_1001").await;
        assert!(order.contains("FulfillmentStatus::Unfulfilled"), "{order}");
        db.finish().await;
    }
}

#[tokio::test]
async fn storage_is_private_to_each_installation() {
    for db in TestDb::all().await {
        let host = TestHost::new(&db).build().await;
        let a = install_probe(&host, &demo_store(), &[Scope::OrdersRead]).await;
        let b = install_probe(&host, &other_store(), &[Scope::OrdersRead]).await;
        assert_eq!(
            probe(&host, &demo_store(), &a, "storage.set marker secret-of-a").await,
            "ok ()"
        );
        assert_eq!(
            probe(&host, &demo_store(), &a, "storage.get marker").await,
            "ok Some(\"secret-of-a\")"
        );
        assert_eq!(
            probe(&host, &other_store(), &b, "storage.get marker").await,
            "ok None"
        );
        assert_eq!(
            probe(&host, &other_store(), &b, "storage.keys m").await,
            "ok []"
        );
        assert_eq!(
            probe(&host, &demo_store(), &a, "storage.keys m").await,
            "ok [\"marker\"]"
        );
        assert_eq!(
            probe(&host, &demo_store(), &a, "storage.delete marker").await,
            "ok ()"
        );
        assert_eq!(
            probe(&host, &demo_store(), &a, "storage.get marker").await,
            "ok None"
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn bad_ids_from_a_plugin_are_rejected_as_invalid_input() {
    let db = TestDb::sqlite();
    let host = TestHost::new(&db).build().await;
    let probe_id = install_probe(&host, &demo_store(), &[Scope::OrdersRead]).await;
    let answer = probe(&host, &demo_store(), &probe_id, "orders.get-long 200").await;
    assert!(
        answer.starts_with("err HostError::InvalidInput(\"order id must be"),
        "{answer}"
    );
    let empty = probe(&host, &demo_store(), &probe_id, "orders.get").await;
    assert!(empty.starts_with("err HostError::InvalidInput("), "{empty}");
    db.finish().await;
}
