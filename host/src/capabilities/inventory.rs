//! `airlock:connector/inventory`. Needs `inventory:read`; adjustments are `inventory_updates`.

use std::sync::Arc;

use crate::bindings::airlock::connector::inventory::Host;
use crate::bindings::airlock::connector::types::{HostError, InventoryLevel};
use crate::commerce::CommerceData;
use crate::grants::Scope;
use super::{Deps, Descriptor, Requirement};
use crate::call::CallContext;

/// Most levels one `list` call returns.
pub(crate) const MAX_LIST: u32 = 100;
const READ: Option<Scope> = Some(Scope::InventoryRead);

/// `airlock:connector/inventory`: every function needs `inventory:read`.
pub(crate) const DESCRIPTOR: Descriptor = Descriptor {
    interface: "inventory",
    needs: Requirement::Scope(Scope::InventoryRead),
    functions: &["get", "list"],
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
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{call, data, deps};
    use super::*;

    #[tokio::test]
    async fn stock_reads_need_read_and_a_write_grant_is_not_enough() {
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
        let writer = call(&[Scope::InventoryWrite], 10);
        let mut state = InventoryState::new(&deps(&writer, &data, &[]));
        assert_eq!(
            state.get("SKU-1".into()).await,
            Err(HostError::Denied(Scope::InventoryRead.into())),
            "a write grant is not a read grant"
        );
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
