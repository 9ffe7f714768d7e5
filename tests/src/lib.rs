//! Helpers shared by Airlock's integration tests: paths of the test plugins, a fresh database
//! per test on SQLite and (when configured) PostgreSQL, and a seeded host.
#![allow(clippy::expect_used, clippy::unwrap_used)] // test helpers fail loudly

use std::sync::OnceLock;

use airlock_host::commerce::{
    CommerceData, Customer, DataError, FinancialStatus, FulfillmentStatus, InventoryLevel, Order,
    OrderQuery,
};
use airlock_host::demo;
use airlock_host::grants::Scope;
use airlock_host::ids::{InstallationId, MerchantId};
use airlock_host::manifest::Topic;
use airlock_host::{CallResult, Host, InvocationReport, Limits};
use sqlx::Connection;

pub mod provider;

/// Paths of the test plugins built by `build.rs`.
pub mod plugins {
    include!(concat!(env!("OUT_DIR"), "/plugins.rs"));
}

/// Read a built plugin.
pub fn wasm(path: &str) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

/// The PostgreSQL server tests may use: `AIRLOCK_TEST_POSTGRES`, else `DATABASE_URL`.
pub fn postgres_url() -> Option<String> {
    let url = std::env::var("AIRLOCK_TEST_POSTGRES")
        .ok()
        .or_else(|| std::env::var("DATABASE_URL").ok())
        .filter(|u| u.starts_with("postgres"));
    if url.is_none() && std::env::var_os("AIRLOCK_REQUIRE_POSTGRES").is_some() {
        panic!(
            "AIRLOCK_REQUIRE_POSTGRES is set but neither DATABASE_URL nor AIRLOCK_TEST_POSTGRES names a PostgreSQL server"
        );
    }
    static SAID: OnceLock<()> = OnceLock::new();
    if url.is_none() {
        SAID.get_or_init(|| {
            eprintln!("note: PostgreSQL tests skipped: set DATABASE_URL or AIRLOCK_TEST_POSTGRES to run them");
        });
    }
    url
}

/// A database of its own for one test; dropped (PostgreSQL) or deleted (SQLite) by `finish`.
pub struct TestDb {
    /// URL to open.
    pub url: String,
    admin: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    /// A new SQLite file in a temporary directory.
    pub fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}", dir.path().join("airlock.db").display());
        TestDb {
            url,
            admin: None,
            _dir: Some(dir),
        }
    }

    /// A new PostgreSQL database on the configured server, if there is one.
    pub async fn postgres() -> Option<TestDb> {
        let admin = postgres_url()?;
        let name = format!("airlock_t_{}", uuid::Uuid::new_v4().simple());
        let mut conn = sqlx::PgConnection::connect(&admin)
            .await
            .expect("connect to PostgreSQL");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .expect("create test database");
        conn.close().await.ok();
        Some(TestDb {
            url: replace_database(&admin, &name),
            admin: Some((admin, name)),
            _dir: None,
        })
    }

    /// Every backend this run can test: SQLite always, PostgreSQL when configured.
    pub async fn all() -> Vec<TestDb> {
        let mut dbs = vec![TestDb::sqlite()];
        dbs.extend(TestDb::postgres().await);
        dbs
    }

    /// Remove the database now (a panicking test still removes it, in `Drop`).
    pub async fn finish(mut self) {
        if let Some((admin, name)) = self.admin.take() {
            drop_database(&admin, &name).await;
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((admin, name)) = self.admin.take() else {
            return;
        };
        // Drop may run inside a test's runtime: use a thread with its own.
        let _ = std::thread::spawn(move || {
            if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                rt.block_on(drop_database(&admin, &name));
            }
        })
        .join();
    }
}

async fn drop_database(admin: &str, name: &str) {
    if let Ok(mut conn) = sqlx::PgConnection::connect(admin).await {
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .execute(&mut conn)
        .await;
    }
}

fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_part = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{host_part}/{name}?{q}"),
        None => format!("{host_part}/{name}"),
    }
}

/// A host on `db` with the demo store seeded.
pub async fn seeded_host(db: &TestDb) -> Host {
    let host = Host::open(&db.url).await.expect("open host");
    demo::seed(&host).await.expect("seed demo store");
    host
}

/// A seeded host over `db` with a vault key and a network policy.
pub async fn connected_host(
    db: &TestDb,
    key: airlock_host::vault::VaultKey,
    network: airlock_host::outbound::NetworkPolicy,
    limits: Limits,
) -> Host {
    let opened = airlock_host::db::Db::connect(&db.url)
        .await
        .expect("open database");
    let host = Host::builder(opened)
        .vault_key(key)
        .network(network)
        .limits(limits)
        .build()
        .expect("start host");
    demo::seed(&host).await.expect("seed demo store");
    host
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
    host.approve(merchant, id.as_str(), &[], "owner")
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
    host.approve(merchant, id.as_str(), scopes, "test")
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

/// Ask the probe to make one host call (`op arg...`) and return what the host answered.
pub async fn probe(
    host: &Host,
    merchant: &MerchantId,
    installation: &InstallationId,
    command: &str,
) -> String {
    let report = host
        .invoke(
            merchant,
            installation.as_str(),
            Topic::OrderCreated,
            command,
        )
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
    let host = Host::builder(airlock_host::db::Db::connect(&db.url).await.unwrap())
        .limits(limits)
        .build()
        .unwrap();
    demo::seed(&host).await.unwrap();
    let installed = host
        .install(&demo_store(), &wasm(plugins::HOSTILE), "test")
        .await
        .unwrap();
    let id = installed.installation.id;
    host.approve(&demo_store(), id.as_str(), &[], "test")
        .await
        .unwrap();
    (host, id)
}

/// Commerce data that holds the first order read until the test says go: lets a test revoke or
/// uninstall at an exact point in the middle of a running invocation.
pub struct PauseFirstOrder {
    inner: airlock_host::db::commerce::SqlCommerce,
    gate: std::sync::Mutex<
        Option<(
            tokio::sync::oneshot::Sender<()>,
            tokio::sync::oneshot::Receiver<()>,
        )>,
    >,
}

/// The test's side of [`PauseFirstOrder`].
pub struct Paused {
    /// Fires when the connector is inside its first order read.
    pub reached: tokio::sync::oneshot::Receiver<()>,
    /// Send to let the read finish.
    pub resume: tokio::sync::oneshot::Sender<()>,
}

impl PauseFirstOrder {
    /// Wrap the SQL commerce data of `db`.
    pub fn new(db: airlock_host::db::Db) -> (std::sync::Arc<Self>, Paused) {
        let (reached_tx, reached) = tokio::sync::oneshot::channel();
        let (resume, resume_rx) = tokio::sync::oneshot::channel();
        let data = PauseFirstOrder {
            inner: airlock_host::db::commerce::SqlCommerce::new(db),
            gate: std::sync::Mutex::new(Some((reached_tx, resume_rx))),
        };
        (std::sync::Arc::new(data), Paused { reached, resume })
    }
}

#[async_trait::async_trait]
impl CommerceData for PauseFirstOrder {
    async fn order(&self, merchant: &MerchantId, id: &str) -> Result<Option<Order>, DataError> {
        let gate = self.gate.lock().unwrap().take();
        if let Some((reached, resume)) = gate {
            let _ = reached.send(());
            let _ = resume.await;
        }
        self.inner.order(merchant, id).await
    }
    async fn orders(
        &self,
        merchant: &MerchantId,
        query: &OrderQuery,
    ) -> Result<Vec<Order>, DataError> {
        self.inner.orders(merchant, query).await
    }
    async fn set_fulfillment_status(
        &self,
        m: &MerchantId,
        id: &str,
        s: FulfillmentStatus,
    ) -> Result<bool, DataError> {
        self.inner.set_fulfillment_status(m, id, s).await
    }
    async fn set_financial_status(
        &self,
        m: &MerchantId,
        id: &str,
        s: FinancialStatus,
    ) -> Result<bool, DataError> {
        self.inner.set_financial_status(m, id, s).await
    }
    async fn customer(
        &self,
        merchant: &MerchantId,
        id: &str,
    ) -> Result<Option<Customer>, DataError> {
        self.inner.customer(merchant, id).await
    }
    async fn inventory_level(
        &self,
        merchant: &MerchantId,
        sku: &str,
    ) -> Result<Option<InventoryLevel>, DataError> {
        self.inner.inventory_level(merchant, sku).await
    }
    async fn inventory_levels(
        &self,
        merchant: &MerchantId,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<InventoryLevel>, DataError> {
        self.inner.inventory_levels(merchant, after, limit).await
    }
    async fn adjust_inventory(
        &self,
        merchant: &MerchantId,
        sku: &str,
        delta: i64,
    ) -> Result<bool, DataError> {
        self.inner.adjust_inventory(merchant, sku, delta).await
    }
}

#[cfg(test)]
mod tests {
    use super::replace_database;

    #[test]
    fn test_database_urls_keep_host_and_options() {
        assert_eq!(
            replace_database("postgres://root@127.0.0.1:5432/test", "x"),
            "postgres://root@127.0.0.1:5432/x"
        );
        assert_eq!(
            replace_database("postgres://h/db?sslmode=disable", "x"),
            "postgres://h/x?sslmode=disable"
        );
        assert_eq!(replace_database("postgres://h", "x"), "postgres://h/x");
    }
}
