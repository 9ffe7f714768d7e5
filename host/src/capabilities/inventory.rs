//! `airlock:connector/inventory`. Reads need `inventory:read`; adjustments `inventory:write`.

use std::sync::Arc;

use crate::bindings::airlock::connector::inventory::Host;
use crate::bindings::airlock::connector::types::{HostError, InventoryLevel};
use crate::commerce::CommerceData;
use crate::grants::Scope;
use super::{Deps, Descriptor, Requirement};
use crate::call::{CallContext, Served};

/// Most levels one `list` call returns.
pub(crate) const MAX_LIST: u32 = 100;
const READ: Option<Scope> = Some(Scope::InventoryRead);
const WRITE: Option<Scope> = Some(Scope::InventoryWrite);

/// `airlock:connector/inventory`: reads need `inventory:read`, adjustments `inventory:write`.
pub(crate) const DESCRIPTOR: Descriptor = Descriptor {
    interface: "inventory",
    functions: &[
        ("get", Requirement::Scope(Scope::InventoryRead)),
        ("list", Requirement::Scope(Scope::InventoryRead)),
        ("adjust", Requirement::Scope(Scope::InventoryWrite)),
    ],
    unlocks: &[],
};

/// The inventory capability of one invocation.
pub(crate) struct InventoryState {
    call: Arc<CallContext>,
    data: Arc<dyn CommerceData>,
}

impl InventoryState {
    pub(crate) fn new(deps: &Deps) -> Self {
        InventoryState {
            call: deps.call.clone(),
            data: deps.commerce.clone(),
        }
    }
}

impl Host for InventoryState {
    async fn get(&mut self, sku: String) -> Result<InventoryLevel, HostError> {
        const OP: &str = "inventory.get";
        self.call.admit_id(OP, READ, "sku", &sku).await?;
        let found = self.data.inventory_level(&self.call.merchant, &sku).await;
        self.call.found(OP, READ, found).map(Into::into)
    }

    async fn list(
        &mut self,
        after: Option<String>,
        limit: u32,
    ) -> Result<Vec<InventoryLevel>, HostError> {
        const OP: &str = "inventory.list";
        match &after {
            Some(after) => self.call.admit_id(OP, READ, "after", after).await?,
            None => self.call.admit(OP, READ).await?,
        }
        let listed = self
            .data
            .inventory_levels(&self.call.merchant, after.as_deref(), limit.min(MAX_LIST))
            .await;
        let levels = self.call.listed(OP, READ, listed)?;
        Ok(levels.into_iter().map(Into::into).collect())
    }

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

    #[tokio::test]
    async fn stock_reads_need_read_and_adjustments_need_write() {
        let data = data();
        let reader = call(&[Scope::InventoryRead], 10);
        let mut state = InventoryState::new(&deps(&reader, &data, &[]));
        assert_eq!(state.get("SKU-1".into()).await.unwrap().available, 5);
        assert_eq!(state.get("SKU-9".into()).await, Err(HostError::NotFound));
        let skus: Vec<String> = state
            .list(Some("SKU-1".into()), 1000)
            .await
            .unwrap()
            .into_iter()
            .map(|l| l.sku)
            .collect();
        assert_eq!(skus, ["SKU-2"], "after SKU-1, only the shop's");
        assert_eq!(
            state.adjust("SKU-1".into(), -1).await,
            Err(HostError::Denied(Scope::InventoryWrite.into()))
        );
        let writer = call(&[Scope::InventoryWrite], 10);
        let mut state = InventoryState::new(&deps(&writer, &data, &[]));
        assert_eq!(
            state.get("SKU-1".into()).await,
            Err(HostError::Denied(Scope::InventoryRead.into())),
            "a write grant is not a read grant"
        );
        state.adjust("SKU-1".into(), -2).await.unwrap();
        let level = data.inventory_level(&shop(), "SKU-1").await.unwrap();
        assert_eq!(level.map(|l| l.available), Some(3));
        assert_eq!(
            state.adjust("SKU-9".into(), 5).await,
            Ok(()),
            "without read, a missing SKU answers like a known one"
        );
        let both = call(&[Scope::InventoryRead, Scope::InventoryWrite], 10);
        let mut state = InventoryState::new(&deps(&both, &data, &[]));
        assert_eq!(state.adjust("SKU-9".into(), 5).await, Err(HostError::NotFound));
    }

    #[tokio::test]
    async fn adjusting_by_zero_tells_nothing_about_which_skus_exist() {
        let data = data();
        let writer = call(&[Scope::InventoryWrite], 10);
        let mut state = InventoryState::new(&deps(&writer, &data, &[]));
        let known = state.adjust("SKU-1".into(), 0).await;
        let unknown = state.adjust("SKU-404".into(), 0).await;
        let neighbours = state.adjust("SKU-9".into(), 0).await;
        assert_eq!(known, unknown);
        assert_eq!(known, neighbours);
        assert_eq!(
            state.adjust("SKU-404".into(), 1).await,
            state.adjust("SKU-1".into(), 1).await
        );
        let level = data.inventory_level(&shop(), "SKU-1").await.unwrap();
        assert_eq!(level.map(|l| l.available), Some(6));
    }

    #[tokio::test]
    async fn bad_skus_and_the_quota_are_refused() {
        let reader = call(&[Scope::InventoryRead], 2);
        let mut state = InventoryState::new(&deps(&reader, &data(), &[]));
        assert!(matches!(
            state.get("S".repeat(200)).await,
            Err(HostError::InvalidInput(_))
        ));
        assert!(matches!(
            state.list(Some(String::new()), 1).await,
            Err(HostError::InvalidInput(_))
        ));
        assert!(matches!(
            state.get("SKU-1".into()).await,
            Err(HostError::LimitExceeded(_))
        ));
    }
}
