//! `airlock:connector/inventory-updates`: change the merchant's stock levels. Calling anything
//! here makes the component import this interface, which needs `inventory:write` declared in
//! the manifest. Adjustments return nothing: reading stock is
//! [`inventory`](crate::inventory), under `inventory:read`.
//!
//! ```no_run
//! use airlock_sdk::{ConnectorError, inventory_updates};
//!
//! fn reserve(sku: &str, units: i32) -> Result<(), ConnectorError> {
//!     inventory_updates::adjust(sku, -units)?;
//!     Ok(())
//! }
//! # let _ = reserve;
//! ```

use crate::{HostError, raw};

/// Add `delta` units to a SKU (negative removes). Needs `inventory:write`. A delta of 0
/// changes nothing and answers the same for every SKU; without `inventory:read` an unknown
/// SKU answers like a known one.
pub fn adjust(sku: &str, delta: i32) -> Result<(), HostError> {
    raw::inventory_updates::adjust(sku, delta)
}
