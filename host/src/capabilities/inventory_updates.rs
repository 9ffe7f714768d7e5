//! `airlock:connector/inventory-updates`. Needs `inventory:write`; never answers with stock
//! data, so a write grant never doubles as a read grant.

use std::sync::Arc;

use super::{Deps, Descriptor, Requirement};
use crate::bindings::airlock::connector::inventory_updates::Host;
use crate::bindings::airlock::connector::types::HostError;
use crate::call::{CallContext, Served};
use crate::commerce::CommerceData;
use crate::grants::Scope;

const WRITE: Option<Scope> = Some(Scope::InventoryWrite);

/// `airlock:connector/inventory-updates`: every function needs `inventory:write`.
pub(crate) const DESCRIPTOR: Descriptor = Descriptor {
    interface: "inventory-updates",
    needs: Requirement::Scope(Scope::InventoryWrite),
    functions: &["adjust"],
    unlocks: &[],
};

/// The inventory-updates capability of one invocation.
pub(crate) struct InventoryUpdatesState {
    call: Arc<CallContext>,
    data: Arc<dyn CommerceData>,
}

impl InventoryUpdatesState {
    pub(crate) fn new(deps: &Deps) -> Self {
        InventoryUpdatesState {
            call: deps.call.clone(),
            data: deps.commerce.clone(),
        }
    }
}

// The audit log keeps the operation name of contract 0.1 (`inventory.adjust`), so an
// installation's history reads the same across the split of the interface.
impl Host for InventoryUpdatesState {
    async fn adjust(&mut self, sku: String, delta: i32) -> Result<(), HostError> {
        const OP: &str = "inventory.adjust";
        self.call.admit_id(OP, WRITE, "sku", &sku).await?;
        if delta == 0 {
            // Nothing to change: one answer for every SKU, without asking the data source.
            self.call.record(OP, WRITE, Served::Records(0));
            return Ok(());
        }
        let changed = self
            .data
            .adjust_inventory(&self.call.merchant, &sku, i64::from(delta))
            .await;
        if !self.call.allows(Scope::InventoryRead) && matches!(changed, Ok(false)) {
            // Without `inventory:read` a missing SKU answers like a known one, or adjusting
            // by one and back would tell which SKUs exist. The audit log still says not-found.
            self.call.record(OP, WRITE, Served::NotFound);
            return Ok(());
        }
        self.call.changed(OP, WRITE, changed)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{call, data, deps, shop};
    use super::*;

    fn updates(scopes: &[Scope], data: &Arc<crate::memory::MemoryData>) -> InventoryUpdatesState {
        InventoryUpdatesState::new(&deps(&call(scopes, 10), data, &[]))
    }

    async fn available(data: &crate::memory::MemoryData, sku: &str) -> Option<i64> {
        let level = data.inventory_level(&shop(), sku).await.unwrap();
        level.map(|l| l.available)
    }

    #[tokio::test]
    async fn adjustments_need_write_and_a_read_grant_is_not_enough() {
        let data = data();
        let mut reader = updates(&[Scope::InventoryRead], &data);
        assert_eq!(
            reader.adjust("SKU-1".into(), -1).await,
            Err(HostError::Denied(Scope::InventoryWrite.into()))
        );
        assert_eq!(available(&data, "SKU-1").await, Some(5));
        let mut writer = updates(&[Scope::InventoryWrite], &data);
        writer.adjust("SKU-1".into(), -2).await.unwrap();
        assert_eq!(available(&data, "SKU-1").await, Some(3));
        assert_eq!(
            writer.adjust("SKU-9".into(), 5).await,
            Ok(()),
            "without read, a missing SKU answers like a known one"
        );
        let mut both = updates(&[Scope::InventoryRead, Scope::InventoryWrite], &data);
        assert_eq!(both.adjust("SKU-9".into(), 5).await, Err(HostError::NotFound));
    }

    #[tokio::test]
    async fn adjusting_by_zero_tells_nothing_about_which_skus_exist() {
        let data = data();
        let mut state = updates(&[Scope::InventoryWrite], &data);
        let known = state.adjust("SKU-1".into(), 0).await;
        let unknown = state.adjust("SKU-404".into(), 0).await;
        let neighbours = state.adjust("SKU-9".into(), 0).await;
        assert_eq!(known, unknown);
        assert_eq!(known, neighbours);
        assert_eq!(
            state.adjust("SKU-404".into(), 1).await,
            state.adjust("SKU-1".into(), 1).await
        );
        assert_eq!(available(&data, "SKU-1").await, Some(6));
    }

    #[tokio::test]
    async fn bad_skus_and_the_quota_are_refused() {
        let data = data();
        let mut state = InventoryUpdatesState::new(&deps(&call(&[Scope::InventoryWrite], 2), &data, &[]));
        assert!(matches!(
            state.adjust("S".repeat(200), 1).await,
            Err(HostError::InvalidInput(_))
        ));
        assert!(state.adjust("SKU-1".into(), 1).await.is_ok());
        assert!(matches!(
            state.adjust("SKU-1".into(), 1).await,
            Err(HostError::LimitExceeded(_))
        ));
    }
}
