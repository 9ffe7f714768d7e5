//! `airlock demo`: a fresh database, the demo store seeded, the example connector installed and
//! approved, one order event, a refused call shown for what it is, and a failing delivery
//! retried through the outbox with the health view that explains it.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Result, anyhow};
use serde::Serialize;

use airlock_host::db::Db;
use airlock_host::demo::{DEMO_MERCHANT, seed};
use airlock_host::grants::Scope;
use airlock_host::ids::MerchantId;
use airlock_host::manifest::Topic;
use airlock_host::outbox::{Delivery, DeliveryFilter, RetrySchedule};
use airlock_host::prompt::Language;
use airlock_host::{AppHealth, DispatchOptions, Host, Installation, Installed, InvocationReport};

/// The example WhatsApp order notifier, built from `plugins/order-notifier` by the build script.
pub const ORDER_NOTIFIER_WASM: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/order_notifier.wasm"));

/// Everything `airlock demo` did, for printing or `--json`.
#[derive(Debug, Serialize)]
pub struct DemoReport {
    /// The database used.
    pub database: String,
    /// The install, with the prompt the merchant saw.
    pub installed: Installed,
    /// What the merchant approved.
    pub approved: Installation,
    /// Optional scopes the merchant declined.
    pub declined: Vec<Scope>,
    /// The `order.created` delivery.
    pub delivery: InvocationReport,
    /// The connector asked, through a replayed event, for another store's order.
    pub cross_store: InvocationReport,
    /// An event about an order that does not exist, through the outbox: its delivery after
    /// two tries (failed, retried with the same event id on the plan's schedule).
    pub retried: Delivery,
    /// The connection's health after that, in the demo's language.
    pub health: Vec<AppHealth>,
}

/// Run the demo against `url` (which should be a fresh database), prompting in `language`,
/// keeping compiled components in `compile_cache` if given.
pub async fn run(
    url: &str,
    compile_cache: Option<PathBuf>,
    language: Language,
) -> Result<DemoReport> {
    let mut builder = Host::builder(Db::connect(url).await?);
    if let Some(dir) = compile_cache {
        builder = builder.compile_cache(dir);
    }
    let host = builder.open().await?;
    seed(&host).await?;
    let merchant = MerchantId::new(DEMO_MERCHANT);
    let mut installed = host
        .install(&merchant, ORDER_NOTIFIER_WASM, "platform")
        .await?;
    let id = installed.installation.id.clone();
    installed.prompt = host.prompt(&merchant, id.as_str(), language).await?;
    // The merchant shares contact details (to address the message) but not stock levels.
    let approved = host
        .approve(
            &merchant,
            &installed.installation.id.to_string(),
            &installed.installation.digest,
            &[Scope::CustomersReadContact],
            "owner@chai.example",
        )
        .await?;
    let emitted = host
        .emit_and_wait(&merchant, Topic::OrderCreated, "ord_1001")
        .await?;
    let delivery = emitted.deliveries.into_iter().next().ok_or_else(|| {
        anyhow!(
            "{} was not delivered order.created: the example connector should subscribe to it",
            installed.installation.id
        )
    })?;
    let cross_store = host
        .invoke(
            &merchant,
            &installed.installation.connector,
            Topic::OrderCreated,
            "ord_2001",
        )
        .await?;
    let (retried, health) = failing_delivery(&host, &merchant, language).await?;
    host.db().close().await;
    Ok(DemoReport {
        database: url.to_owned(),
        installed,
        approved,
        declined: vec![Scope::InventoryRead],
        delivery,
        cross_store,
        retried,
        health,
    })
}

/// A delivery that fails, retried through the outbox (the demo plan retries after 1 s, so the
/// demo does not wait minutes), and the health view that explains it.
async fn failing_delivery(
    host: &Host,
    merchant: &MerchantId,
    language: Language,
) -> Result<(Delivery, Vec<AppHealth>)> {
    let quick: RetrySchedule = "1,1,1,1,1".parse()?;
    // The demo store's plan, as `seed` makes it.
    let plan = "starter";
    host.set_plan_retry_schedule(plan, Some(&quick)).await?;
    let event = host.emit(merchant, Topic::OrderCreated, "ord_9999").await?;
    let options = DispatchOptions::default();
    host.dispatch_once(&options).await?;
    tokio::time::sleep(Duration::from_millis(1_300)).await;
    host.dispatch_once(&options).await?;
    let filter = DeliveryFilter {
        event: Some(event.id.clone()),
        ..DeliveryFilter::default()
    };
    let retried = host
        .deliveries(merchant, &filter, 1)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| anyhow!("{} was not delivered to the example connector", event.id))?;
    host.set_plan_retry_schedule(plan, None).await?;
    Ok((retried, host.health(merchant, language).await?))
}
