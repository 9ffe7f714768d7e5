//! `airlock:connector/inventory`: the merchant's stock levels. Reads need `inventory:read`,
//! adjustments `inventory:write`.

use crate::{HostError, InventoryLevel, raw};

/// Stock of one SKU. Needs `inventory:read`.
pub fn get(sku: &str) -> Result<InventoryLevel, HostError> {
    raw::inventory::get(sku)
}

/// Up to `limit` SKUs after `after`, in SKU order. Needs `inventory:read`.
pub fn list(after: Option<&str>, limit: u32) -> Result<Vec<InventoryLevel>, HostError> {
    raw::inventory::list(after, limit)
}

/// Add `delta` units (negative removes). Needs `inventory:write`.
pub fn adjust(sku: &str, delta: i32) -> Result<(), HostError> {
    raw::inventory::adjust(sku, delta)
}
