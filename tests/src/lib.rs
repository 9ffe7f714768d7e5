//! Helpers shared by Airlock's integration tests and benchmarks: paths of the built plugins
//! (the test plugins and the example connectors), a fresh database per test on SQLite and
//! (when configured) PostgreSQL, the one test-host builder ([`TestHost`]), the one manifest
//! builder ([`ManifestBuilder`]), and install and invoke shortcuts.
#![allow(clippy::expect_used, clippy::unwrap_used)] // test helpers fail loudly

use airlock_host::demo;
use airlock_host::grants::Scope;
use airlock_host::ids::{InstallationId, MerchantId};
use airlock_host::manifest::Topic;
use airlock_host::{CallResult, Host, InvocationReport, Limits};

mod db;
mod host;
mod manifest;
mod pause;
pub mod polyglot;
pub mod provider;
mod wat;

pub use db::{TestDb, postgres_url};
pub use host::TestHost;
pub use manifest::ManifestBuilder;
pub use pause::{PauseFirstOrder, Paused};
pub use wat::{Hog, hog_component, wat_connector};

/// Paths of the plugins built by `build.rs`: the test plugins in `tests/plugins/` and the
/// example connectors in `plugins/`.
pub mod plugins {
    include!(concat!(env!("OUT_DIR"), "/plugins.rs"));
}

/// Read a built plugin.
pub fn wasm(path: &str) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

/// Install `artifact` for `merchant`, approve its required scopes, and set `secrets`.
pub async fn install_with_secrets(
    host: &Host,
    merchant: &MerchantId,
    artifact: &[u8],
    secrets: &[(&str, &str)],
) -> InstallationId {
    let id = host
        .install(merchant, artifact, "test")
        .await
        .expect("install")
        .installation
        .id;
    approve_what_waits(host, merchant, id.as_str(), &[], "owner")
        .await
        .expect("approve");
    for (name, value) in secrets {
        host.write_secret(
            merchant,
            id.as_str(),
            name,
            value,
            "owner",
            airlock_host::db::secrets::SecretWrite::Set,
        )
        .await
        .expect("set secret");
    }
    id
}

/// Approve what waits on an installation, naming its digest as a merchant who just read its
/// prompt would (for tests that are not about consent itself).
pub async fn approve_what_waits(
    host: &Host,
    merchant: &MerchantId,
    key: &str,
    optional: &[Scope],
    by: &str,
) -> Result<airlock_host::Installation, airlock_host::Error> {
    let waiting = host
        .waiting(merchant, key, airlock_host::prompt::Language::En)
        .await?;
    host.approve(merchant, key, &waiting.digest, optional, by)
        .await
}

/// The demo merchant.
pub fn demo_store() -> MerchantId {
    MerchantId::new(demo::DEMO_MERCHANT)
}

/// The second demo merchant.
pub fn other_store() -> MerchantId {
    MerchantId::new(demo::OTHER_MERCHANT)
}

/// Install the probe for `merchant` and approve exactly `scopes` (all optional in its manifest).
pub async fn install_probe(host: &Host, merchant: &MerchantId, scopes: &[Scope]) -> InstallationId {
    let installed = host
        .install(merchant, &wasm(plugins::PROBE), "test")
        .await
        .expect("install probe");
    let id = installed.installation.id;
    let digest = installed.installation.digest;
    host.approve(merchant, id.as_str(), &digest, scopes, "test")
        .await
        .expect("approve probe");
    id
}

/// Deliver an `order.created` whose subject is `command` to a demo-store installation (how
/// the test plugins take their orders).
pub async fn invoke_demo(host: &Host, id: &InstallationId, command: &str) -> InvocationReport {
    host.invoke(&demo_store(), id.as_str(), Topic::OrderCreated, command)
        .await
        .expect("invoke")
}

/// Ask the probe to make one host call (`op arg...`) and return what the host answered. The
/// command travels as the subject of an event of a topic the installation holds the scope of
/// (a direct delivery needs it): `order.created`, else `customer.created`, else
/// `inventory.changed`.
pub async fn probe(
    host: &Host,
    merchant: &MerchantId,
    installation: &InstallationId,
    command: &str,
) -> String {
    let effective = host
        .installation(merchant, installation.as_str())
        .await
        .expect("the probe is installed")
        .effective;
    let topic = [
        Topic::OrderCreated,
        Topic::CustomerCreated,
        Topic::InventoryChanged,
    ]
    .into_iter()
    .find(|t| t.needs().is_some_and(|s| effective.contains(&s)))
    .unwrap_or(Topic::OrderCreated);
    let report = host
        .invoke(merchant, installation.as_str(), topic, command)
        .await
        .expect("invoke probe");
    summary(&report)
}

/// The connector's summary, or a description of how it failed.
pub fn summary(report: &InvocationReport) -> String {
    match &report.result {
        CallResult::Done { summary, .. } => summary.clone(),
        other => format!("not done: {other:?}"),
    }
}

/// A host with `limits`, the demo store seeded, and the hostile plugin installed and approved.
pub async fn hostile_host(db: &TestDb, limits: Limits) -> (Host, InstallationId) {
    let host = TestHost::new(db).limits(limits).build().await;
    let installed = host
        .install(&demo_store(), &wasm(plugins::HOSTILE), "test")
        .await
        .unwrap();
    let id = installed.installation.id;
    let digest = installed.installation.digest;
    host.approve(&demo_store(), id.as_str(), &digest, &[], "test")
        .await
        .unwrap();
    (host, id)
}

/// Wait until `expected` deliveries of `merchant`'s events since `since` (ms) are delivered,
/// looking every 20 ms for at most `looks` times, then return each delivered one's time from
/// the event's write to its outcome's, in milliseconds, sorted (for the benches' latencies).
pub async fn handled_latencies(
    host: &Host,
    merchant: &MerchantId,
    since: i64,
    expected: usize,
    looks: usize,
) -> Vec<i64> {
    use airlock_host::outbox::{DeliveryFilter, DeliveryState};
    let filter = DeliveryFilter {
        since: Some(since),
        ..DeliveryFilter::default()
    };
    let limit = u32::try_from(expected.max(1) * 2).unwrap_or(u32::MAX);
    let mut list = Vec::new();
    for _ in 0..looks {
        list = host
            .deliveries(merchant, &filter, limit)
            .await
            .expect("list deliveries");
        if list.len() == expected && list.iter().all(|d| d.state == DeliveryState::Delivered) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let mut waits: Vec<i64> = list
        .iter()
        .filter(|d| d.state == DeliveryState::Delivered)
        .map(|d| d.updated_at - i64::try_from(d.event.occurred_at).unwrap_or(i64::MAX))
        .collect();
    waits.sort_unstable();
    waits
}
