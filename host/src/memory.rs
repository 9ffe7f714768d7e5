//! In-memory data sources: orders, customers, stock, each installation's storage and secrets
//! in maps, scoped exactly like the SQL ones (by the merchant or installation of the call).
//! For tests and for trying a connector without a database; nothing survives the process.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard, PoisonError};

use zeroize::Zeroizing;

use crate::commerce::{
    CommerceData, ConnectorStorage, Customer, DataError, FinancialStatus, FulfillmentStatus,
    InventoryLevel, Order, OrderQuery, SecretSource, StorageError, StorageQuota,
};
use crate::ids::{InstallationId, MerchantId};

/// Every record of every merchant and installation, in memory.
#[derive(Default)]
pub struct MemoryData {
    orders: Mutex<HashMap<(MerchantId, String), Order>>,
    customers: Mutex<HashMap<(MerchantId, String), Customer>>,
    stock: Mutex<BTreeMap<(MerchantId, String), InventoryLevel>>,
    storage: Mutex<Space>,
    secrets: Mutex<HashMap<(InstallationId, String), String>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl MemoryData {
    /// Add or replace an order of `merchant`.
    pub fn put_order(&self, merchant: &MerchantId, order: Order) {
        lock(&self.orders).insert((merchant.clone(), order.id.clone()), order);
    }

    /// Add or replace a customer of `merchant`.
    pub fn put_customer(&self, merchant: &MerchantId, customer: Customer) {
        lock(&self.customers).insert((merchant.clone(), customer.id.clone()), customer);
    }

    /// Add or replace a stock level of `merchant`.
    pub fn put_stock(&self, merchant: &MerchantId, level: InventoryLevel) {
        lock(&self.stock).insert((merchant.clone(), level.sku.clone()), level);
    }

    /// Set a secret of `installation`.
    pub fn put_secret(&self, installation: &InstallationId, name: &str, value: &str) {
        lock(&self.secrets).insert((installation.clone(), name.to_owned()), value.to_owned());
    }

    /// An order as stored now, for checking what a write did.
    pub fn order_now(&self, merchant: &MerchantId, id: &str) -> Option<Order> {
        lock(&self.orders)
            .get(&(merchant.clone(), id.to_owned()))
            .cloned()
    }
}

#[async_trait::async_trait]
impl CommerceData for MemoryData {
    async fn order(&self, merchant: &MerchantId, id: &str) -> Result<Option<Order>, DataError> {
        Ok(self.order_now(merchant, id))
    }

    async fn orders(
        &self,
        merchant: &MerchantId,
        query: &OrderQuery,
    ) -> Result<Vec<Order>, DataError> {
        let mut found: Vec<Order> = lock(&self.orders)
            .iter()
            .filter(|((m, _), o)| {
                m == merchant
                    && query
                        .fulfillment_status
                        .is_none_or(|s| s == o.fulfillment_status)
                    && query
                        .financial_status
                        .is_none_or(|s| s == o.financial_status)
                    && query.created_after.is_none_or(|t| o.created_at > t)
                    && query.created_before.is_none_or(|t| o.created_at < t)
            })
            .map(|(_, o)| o.clone())
            .collect();
        // Newest first, then by id: the SQL implementation's order.
        found.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(a.id.cmp(&b.id)));
        found.truncate(query.limit as usize);
        Ok(found)
    }

    async fn set_fulfillment_status(
        &self,
        merchant: &MerchantId,
        id: &str,
        status: FulfillmentStatus,
    ) -> Result<bool, DataError> {
        let mut orders = lock(&self.orders);
        let order = orders.get_mut(&(merchant.clone(), id.to_owned()));
        Ok(order.map(|o| o.fulfillment_status = status).is_some())
    }

    async fn set_financial_status(
        &self,
        merchant: &MerchantId,
        id: &str,
        status: FinancialStatus,
    ) -> Result<bool, DataError> {
        let mut orders = lock(&self.orders);
        let order = orders.get_mut(&(merchant.clone(), id.to_owned()));
        Ok(order.map(|o| o.financial_status = status).is_some())
    }

    async fn customer(
        &self,
        merchant: &MerchantId,
        id: &str,
    ) -> Result<Option<Customer>, DataError> {
        Ok(lock(&self.customers)
            .get(&(merchant.clone(), id.to_owned()))
            .cloned())
    }

    async fn inventory_level(
        &self,
        merchant: &MerchantId,
        sku: &str,
    ) -> Result<Option<InventoryLevel>, DataError> {
        Ok(lock(&self.stock)
            .get(&(merchant.clone(), sku.to_owned()))
            .cloned())
    }

    async fn inventory_levels(
        &self,
        merchant: &MerchantId,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<InventoryLevel>, DataError> {
        Ok(lock(&self.stock)
            .iter()
            .filter(|((m, sku), _)| m == merchant && after.is_none_or(|a| sku.as_str() > a))
            .take(limit as usize)
            .map(|(_, level)| level.clone())
            .collect())
    }

    async fn adjust_inventory(
        &self,
        merchant: &MerchantId,
        sku: &str,
        delta: i64,
    ) -> Result<bool, DataError> {
        let mut stock = lock(&self.stock);
        let level = stock.get_mut(&(merchant.clone(), sku.to_owned()));
        Ok(level
            .map(|l| l.available = l.available.saturating_add(delta))
            .is_some())
    }
}

#[async_trait::async_trait]
impl ConnectorStorage for MemoryData {
    async fn get(
        &self,
        installation: &InstallationId,
        key: &str,
    ) -> Result<Option<Vec<u8>>, DataError> {
        Ok(lock(&self.storage)
            .get(&(installation.clone(), key.to_owned()))
            .cloned())
    }

    async fn set(
        &self,
        installation: &InstallationId,
        key: &str,
        value: &[u8],
        quota: StorageQuota,
    ) -> Result<(), StorageError> {
        // One lock for the check and the write: concurrent calls cannot both take the last
        // free bytes.
        let mut storage = lock(&self.storage);
        let (mut bytes, mut keys) = (0u64, 0u64);
        for ((_, k), v) in space(&storage, installation, "") {
            bytes += (k.len() + v.len()) as u64;
            keys += 1;
        }
        let entry = (installation.clone(), key.to_owned());
        let old = storage.get(&entry).map(|v| (key.len() + v.len()) as u64);
        let after = bytes - old.unwrap_or(0) + (key.len() + value.len()) as u64;
        if after > quota.bytes && after > bytes {
            return Err(StorageError::Quota {
                unit: "bytes",
                limit: quota.bytes,
            });
        }
        if old.is_none() {
            keys += 1;
            if keys > quota.keys {
                return Err(StorageError::Quota {
                    unit: "keys",
                    limit: quota.keys,
                });
            }
        }
        storage.insert(entry, value.to_vec());
        Ok(())
    }

    async fn delete(&self, installation: &InstallationId, key: &str) -> Result<(), DataError> {
        lock(&self.storage).remove(&(installation.clone(), key.to_owned()));
        Ok(())
    }

    async fn keys(
        &self,
        installation: &InstallationId,
        prefix: &str,
        limit: u32,
    ) -> Result<Vec<String>, DataError> {
        Ok(space(&lock(&self.storage), installation, prefix)
            .take(limit as usize)
            .map(|((_, k), _)| k.clone())
            .collect())
    }

    async fn wipe(&self, installation: &InstallationId) -> Result<u64, DataError> {
        let mut storage = lock(&self.storage);
        let before = storage.len();
        storage.retain(|(i, _), _| i != installation);
        Ok((before - storage.len()) as u64)
    }
}

type Space = BTreeMap<(InstallationId, String), Vec<u8>>;

/// The entries of `installation` whose key starts with `prefix`, in key order: a range of the
/// map, like the SQL index range.
fn space<'a>(
    storage: &'a Space,
    installation: &'a InstallationId,
    prefix: &'a str,
) -> impl Iterator<Item = (&'a (InstallationId, String), &'a Vec<u8>)> + 'a {
    storage
        .range((installation.clone(), prefix.to_owned())..)
        .take_while(move |((i, k), _)| i == installation && k.starts_with(prefix))
}

#[async_trait::async_trait]
impl SecretSource for MemoryData {
    async fn reveal(
        &self,
        installation: &InstallationId,
        name: &str,
    ) -> Result<Option<Zeroizing<String>>, DataError> {
        Ok(lock(&self.secrets)
            .get(&(installation.clone(), name.to_owned()))
            .map(|v| Zeroizing::new(v.clone())))
    }
}
