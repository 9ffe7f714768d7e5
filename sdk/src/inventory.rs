//! `airlock:connector/inventory`: read the merchant's stock levels. Calling anything here
//! makes the component import this interface, which needs `inventory:read` declared in the
//! manifest (changing stock is [`inventory_updates`](crate::inventory_updates), under
//! `inventory:write`).
//!
//! ```no_run
//! use airlock_sdk::{HostError, inventory};
//!
//! /// Units of `sku` available, or `None` when the merchant did not share stock levels.
//! fn available(sku: &str) -> Result<Option<i64>, HostError> {
//!     match inventory::get(sku) {
//!         Ok(level) => Ok(Some(level.available)),
//!         Err(HostError::Denied(_)) => Ok(None),
//!         Err(other) => Err(other),
//!     }
//! }
//! # let _ = available;
//! ```

use crate::{HostError, InventoryLevel, raw};

/// Stock of one SKU. Needs `inventory:read`.
pub fn get(sku: &str) -> Result<InventoryLevel, HostError> {
    raw::inventory::get(sku)
}

/// Up to `limit` SKUs (at most 100) after `after`, in SKU order. Needs `inventory:read`.
pub fn list(after: Option<&str>, limit: u32) -> Result<Vec<InventoryLevel>, HostError> {
    raw::inventory::list(after, limit)
}
