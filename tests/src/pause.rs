//! Commerce data that pauses in the middle of a running invocation, at a point the test picks.

use airlock_host::commerce::{
    CommerceData, Customer, DataError, FinancialStatus, FulfillmentStatus, InventoryLevel, Order,
    OrderQuery,
};
use airlock_host::ids::MerchantId;

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
