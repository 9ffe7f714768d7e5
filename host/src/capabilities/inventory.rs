//! `airlock:connector/inventory`. Reads need `inventory:read`; adjustments `inventory:write`.

use std::sync::Arc;

use crate::bindings::airlock::connector::inventory::Host;
use crate::bindings::airlock::connector::types::{HostError, InventoryLevel};
use crate::commerce::CommerceData;
use crate::grants::Scope;
use crate::state::CallContext;

/// Most levels one `list` call returns.
pub(crate) const MAX_LIST: u32 = 100;
const READ: Option<Scope> = Some(Scope::InventoryRead);
const WRITE: Option<Scope> = Some(Scope::InventoryWrite);

/// The inventory capability of one invocation.
pub(crate) struct InventoryState {
    call: Arc<CallContext>,
    data: Arc<dyn CommerceData>,
}

impl InventoryState {
    pub(crate) fn new(call: Arc<CallContext>, data: Arc<dyn CommerceData>) -> Self {
        InventoryState { call, data }
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
        let changed = self
            .data
            .adjust_inventory(&self.call.merchant, &sku, i64::from(delta))
            .await;
        self.call.changed(OP, WRITE, changed)
    }
}
