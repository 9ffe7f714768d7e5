//! One merchant's calls cannot take every database connection: each merchant has a semaphore
//! in front of the data sources its connectors' host calls use (commerce, storage, secrets,
//! the grant re-read), with half the pool's connections as permits. However many calls a
//! merchant runs at once, the other half stays free for everyone else; a merchant alone on the
//! host still gets half the pool.
//!
//! Decided against statement timeouts: set per connection they would also cut the migrations
//! and a platform's own queries through [`crate::db::Db::pool`], and Airlock's queries are
//! index lookups and ranges whose time does not grow with what a connector does (SQLite waits
//! for its write lock for at most its busy timeout). What a connector can do is issue many
//! quick queries at once from many calls, and that is what the permits bound.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{Semaphore, SemaphorePermit};
use zeroize::Zeroizing;

use crate::commerce::{
    CommerceData, ConnectorStorage, Customer, DataError, FinancialStatus, FulfillmentStatus,
    InventoryLevel, Order, OrderQuery, SecretSource, StorageError, StorageQuota,
};
use crate::grants::ScopeSet;
use crate::ids::{InstallationId, MerchantId};
use crate::live::GrantSource;
use crate::runtime::DataSources;

/// Merchants remembered before the idle ones are forgotten.
const PRUNE_ABOVE: usize = 1024;

/// The semaphore of each merchant with calls running.
pub(super) struct MerchantGates {
    permits: usize,
    gates: Mutex<HashMap<MerchantId, Arc<Semaphore>>>,
}

impl MerchantGates {
    /// Gates admitting `permits` data-source calls at once per merchant (at least one).
    pub(super) fn new(permits: usize) -> Self {
        MerchantGates {
            permits: permits.max(1),
            gates: Mutex::new(HashMap::new()),
        }
    }

    /// Half the connections of a pool of `connections` (one for a pool of one or two).
    pub(super) fn for_pool(connections: u32) -> Self {
        MerchantGates::new((connections / 2) as usize)
    }

    /// `merchant`'s gate.
    fn of(&self, merchant: &MerchantId) -> Arc<Semaphore> {
        let mut gates = self.gates.lock().unwrap_or_else(PoisonError::into_inner);
        if gates.len() > PRUNE_ABOVE {
            // A gate only this map holds has no call waiting on it or holding a permit.
            gates.retain(|_, gate| Arc::strong_count(gate) > 1);
        }
        gates
            .entry(merchant.clone())
            .or_insert_with(|| Arc::new(Semaphore::new(self.permits)))
            .clone()
    }

    /// `sources` with every call going through `merchant`'s gate.
    pub(super) fn sources(&self, merchant: &MerchantId, sources: &DataSources) -> DataSources {
        let gate = self.of(merchant);
        DataSources {
            commerce: Arc::new(Gated {
                gate: gate.clone(),
                inner: sources.commerce.clone(),
            }),
            storage: Arc::new(Gated {
                gate: gate.clone(),
                inner: sources.storage.clone(),
            }),
            secrets: sources.secrets.clone().map(|inner| {
                Arc::new(Gated {
                    gate: gate.clone(),
                    inner,
                }) as Arc<dyn SecretSource>
            }),
        }
    }

    /// `grants` re-read through `merchant`'s gate.
    pub(super) fn grants(
        &self,
        merchant: &MerchantId,
        grants: Arc<dyn GrantSource>,
    ) -> Arc<dyn GrantSource> {
        Arc::new(Gated {
            gate: self.of(merchant),
            inner: grants,
        })
    }
}

/// A data source behind a merchant's gate.
struct Gated<T: ?Sized> {
    gate: Arc<Semaphore>,
    inner: Arc<T>,
}

impl<T: ?Sized> Gated<T> {
    async fn permit(&self) -> Result<SemaphorePermit<'_>, DataError> {
        self.gate
            .acquire()
            .await
            .map_err(|_| DataError("the merchant's database gate is closed".into()))
    }
}

#[async_trait::async_trait]
impl CommerceData for Gated<dyn CommerceData> {
    async fn order(&self, merchant: &MerchantId, id: &str) -> Result<Option<Order>, DataError> {
        let _permit = self.permit().await?;
        self.inner.order(merchant, id).await
    }
    async fn orders(
        &self,
        merchant: &MerchantId,
        query: &OrderQuery,
    ) -> Result<Vec<Order>, DataError> {
        let _permit = self.permit().await?;
        self.inner.orders(merchant, query).await
    }
    async fn set_fulfillment_status(
        &self,
        merchant: &MerchantId,
        id: &str,
        status: FulfillmentStatus,
    ) -> Result<bool, DataError> {
        let _permit = self.permit().await?;
        self.inner
            .set_fulfillment_status(merchant, id, status)
            .await
    }
    async fn set_financial_status(
        &self,
        merchant: &MerchantId,
        id: &str,
        status: FinancialStatus,
    ) -> Result<bool, DataError> {
        let _permit = self.permit().await?;
        self.inner.set_financial_status(merchant, id, status).await
    }
    async fn customer(
        &self,
        merchant: &MerchantId,
        id: &str,
    ) -> Result<Option<Customer>, DataError> {
        let _permit = self.permit().await?;
        self.inner.customer(merchant, id).await
    }
    async fn inventory_level(
        &self,
        merchant: &MerchantId,
        sku: &str,
    ) -> Result<Option<InventoryLevel>, DataError> {
        let _permit = self.permit().await?;
        self.inner.inventory_level(merchant, sku).await
    }
    async fn inventory_levels(
        &self,
        merchant: &MerchantId,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<InventoryLevel>, DataError> {
        let _permit = self.permit().await?;
        self.inner.inventory_levels(merchant, after, limit).await
    }
    async fn adjust_inventory(
        &self,
        merchant: &MerchantId,
        sku: &str,
        delta: i64,
    ) -> Result<bool, DataError> {
        let _permit = self.permit().await?;
        self.inner.adjust_inventory(merchant, sku, delta).await
    }
}

#[async_trait::async_trait]
impl ConnectorStorage for Gated<dyn ConnectorStorage> {
    async fn get(
        &self,
        installation: &InstallationId,
        key: &str,
    ) -> Result<Option<Vec<u8>>, DataError> {
        let _permit = self.permit().await?;
        self.inner.get(installation, key).await
    }
    async fn set(
        &self,
        installation: &InstallationId,
        key: &str,
        value: &[u8],
        quota: StorageQuota,
    ) -> Result<(), StorageError> {
        let _permit = self.permit().await?;
        self.inner.set(installation, key, value, quota).await
    }
    async fn delete(&self, installation: &InstallationId, key: &str) -> Result<(), DataError> {
        let _permit = self.permit().await?;
        self.inner.delete(installation, key).await
    }
    async fn keys(
        &self,
        installation: &InstallationId,
        prefix: &str,
        limit: u32,
    ) -> Result<Vec<String>, DataError> {
        let _permit = self.permit().await?;
        self.inner.keys(installation, prefix, limit).await
    }
    async fn wipe(&self, installation: &InstallationId) -> Result<u64, DataError> {
        let _permit = self.permit().await?;
        self.inner.wipe(installation).await
    }
}

#[async_trait::async_trait]
impl SecretSource for Gated<dyn SecretSource> {
    async fn reveal(
        &self,
        installation: &InstallationId,
        name: &str,
    ) -> Result<Option<Zeroizing<String>>, DataError> {
        let _permit = self.permit().await?;
        self.inner.reveal(installation, name).await
    }
}

#[async_trait::async_trait]
impl GrantSource for Gated<dyn GrantSource> {
    async fn approved(&self, installation: &InstallationId) -> Result<Option<ScopeSet>, DataError> {
        let _permit = self.permit().await?;
        self.inner.approved(installation).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_merchant_has_its_own_gate_of_half_the_pool() {
        let gates = MerchantGates::for_pool(8);
        let (a, b) = (MerchantId::new("a"), MerchantId::new("b"));
        let gate = gates.of(&a);
        assert_eq!(gate.available_permits(), 4);
        let _held = gate.try_acquire_many(4).unwrap();
        assert_eq!(gates.of(&a).available_permits(), 0, "the same gate");
        assert_eq!(gates.of(&b).available_permits(), 4, "another merchant's");
        assert_eq!(MerchantGates::for_pool(1).of(&a).available_permits(), 1);
    }
}
