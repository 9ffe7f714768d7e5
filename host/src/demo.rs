//! The demo store's data: two plans, two merchants and their orders, customers and stock.
//! `airlock init`, `airlock demo` and the test suite seed a database with it, `airlock dev run`
//! an in-memory data source; it needs no plugin (the example connectors are built and
//! embedded by the `airlock-cli` crate).

use crate::commerce::{
    Address, Contact, Customer, FinancialStatus, FulfillmentStatus, InventoryLevel, LineItem,
    Money, Order,
};
use crate::db::now_ms;
use crate::ids::MerchantId;
use crate::memory::MemoryData;
use crate::{Error, Host};

/// The demo merchant.
pub const DEMO_MERCHANT: &str = "demo-store";
/// A second merchant, to show that stores are isolated.
pub const OTHER_MERCHANT: &str = "other-store";

fn inr(amount_minor: i64) -> Money {
    Money {
        amount_minor,
        currency: "INR".into(),
    }
}

fn item(sku: &str, title: &str, quantity: u32, unit_minor: i64) -> LineItem {
    LineItem {
        sku: sku.into(),
        title: title.into(),
        quantity,
        unit_price: inr(unit_minor),
    }
}

fn customer(id: &str, name: &str, email: &str, phone: &str, city: &str) -> Customer {
    Customer {
        id: id.into(),
        orders_count: 1,
        accepts_marketing: true,
        created_at: now_ms() as u64,
        contact: Contact {
            name: name.into(),
            email: Some(email.into()),
            phone: Some(phone.into()),
            address: Some(Address {
                line1: "12 Tea Garden Road".into(),
                line2: None,
                city: city.into(),
                region: "Assam".into(),
                postal_code: "781001".into(),
                country: "IN".into(),
            }),
        },
    }
}

/// `placed_minutes_ago` keeps the seed's order history distinct and stable: orders created in
/// the same millisecond would list in id order on one run and time order on the next.
fn order(
    id: &str,
    number: &str,
    customer: &str,
    placed_minutes_ago: u64,
    items: Vec<LineItem>,
) -> Order {
    let total = items
        .iter()
        .map(|i| i64::from(i.quantity) * i.unit_price.amount_minor)
        .sum();
    Order {
        id: id.into(),
        number: number.into(),
        customer_id: Some(customer.into()),
        financial_status: FinancialStatus::Pending,
        fulfillment_status: FulfillmentStatus::Unfulfilled,
        total: inr(total),
        created_at: (now_ms() as u64).saturating_sub(placed_minutes_ago * 60_000),
        line_items: items,
    }
}

/// One store's records: what the demo seeds into a database and `airlock dev run` into memory.
#[derive(Debug, Clone)]
pub struct StoreFixture {
    /// The merchant the records belong to.
    pub merchant: MerchantId,
    /// Its customers.
    pub customers: Vec<Customer>,
    /// Its orders.
    pub orders: Vec<Order>,
    /// Its stock levels.
    pub stock: Vec<InventoryLevel>,
}

/// The demo store (two customers, two orders, three stock levels, one oversold) and the other
/// store (one customer and one order, which the demo's connector must not see).
pub fn fixtures() -> [StoreFixture; 2] {
    [demo_store(), other_store()]
}

/// Create the demo plans, two merchants and their orders, customers and stock (idempotent).
pub async fn seed(host: &Host) -> Result<(), Error> {
    host.put_plan("starter", "Starter", 3).await?;
    host.put_plan("growth", "Growth", 10).await?;
    let demo = MerchantId::new(DEMO_MERCHANT);
    let other = MerchantId::new(OTHER_MERCHANT);
    host.put_merchant(&demo, "Chai & Co.", "starter").await?;
    host.put_merchant(&other, "Second Store", "starter").await?;
    let data = host.store_data();
    for store in fixtures() {
        for customer in &store.customers {
            data.put_customer(&store.merchant, customer).await?;
        }
        for order in &store.orders {
            data.put_order(&store.merchant, order).await?;
        }
        for level in &store.stock {
            data.put_inventory(&store.merchant, level).await?;
        }
    }
    Ok(())
}

/// The same records in an in-memory data source: no database needed.
pub fn seed_memory(data: &MemoryData) {
    for store in fixtures() {
        for customer in store.customers {
            data.put_customer(&store.merchant, customer);
        }
        for order in store.orders {
            data.put_order(&store.merchant, order);
        }
        for level in store.stock {
            data.put_stock(&store.merchant, level);
        }
    }
}

/// The demo store: two customers, two orders, three stock levels (one oversold).
fn demo_store() -> StoreFixture {
    let now = now_ms() as u64;
    let stock = [
        ("TEA-ASSAM-250", "Assam Tea 250 g", 40),
        ("MUG-CLAY", "Clay Mug", -2),
        ("TEA-DARJ-100", "Darjeeling 100 g", 15),
    ];
    StoreFixture {
        merchant: MerchantId::new(DEMO_MERCHANT),
        customers: vec![
            customer(
                "cus_asha",
                "Asha Verma",
                "asha@example.com",
                "+919876543210",
                "Guwahati",
            ),
            customer(
                "cus_ravi",
                "Ravi Das",
                "ravi@example.com",
                "+919812345678",
                "Jorhat",
            ),
        ],
        orders: vec![
            order(
                "ord_1001",
                "#1001",
                "cus_asha",
                120,
                vec![
                    item("TEA-ASSAM-250", "Assam Tea 250 g", 2, 45_000),
                    item("MUG-CLAY", "Clay Mug", 1, 34_900),
                ],
            ),
            order(
                "ord_1002",
                "#1002",
                "cus_ravi",
                30,
                vec![item("TEA-DARJ-100", "Darjeeling 100 g", 1, 52_000)],
            ),
        ],
        stock: stock
            .into_iter()
            .map(|(sku, title, available)| InventoryLevel {
                sku: sku.into(),
                title: title.into(),
                available,
                updated_at: now,
            })
            .collect(),
    }
}

/// The other store: one customer and one order, which the demo's connector must not see.
fn other_store() -> StoreFixture {
    StoreFixture {
        merchant: MerchantId::new(OTHER_MERCHANT),
        customers: vec![customer(
            "cus_zoe",
            "Zoe Marak",
            "zoe@example.com",
            "+919800000001",
            "Shillong",
        )],
        orders: vec![order(
            "ord_2001",
            "#2001",
            "cus_zoe",
            60,
            vec![item("SOAP-1", "Soap", 3, 9_900)],
        )],
        stock: Vec::new(),
    }
}
