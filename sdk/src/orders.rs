//! `airlock:connector/orders`: read the merchant's orders. Calling anything here makes the
//! component import this interface, which needs `orders:read` declared in the manifest
//! (changing an order is [`order_updates`](crate::order_updates), under `orders:write`).
//!
//! ```no_run
//! use airlock_sdk::{ConnectorError, FulfillmentStatus, OrderQuery, orders};
//!
//! fn unshipped() -> Result<Vec<String>, ConnectorError> {
//!     let query = OrderQuery {
//!         fulfillment_status: Some(FulfillmentStatus::Unfulfilled),
//!         financial_status: None,
//!         created_after: None,
//!         created_before: None,
//!         limit: 20,
//!     };
//!     Ok(orders::list(query)?.into_iter().map(|o| o.number).collect())
//! }
//! # let _ = unshipped;
//! ```

use crate::{HostError, Order, OrderQuery, raw};

/// One order by id. Needs `orders:read`; another merchant's order is `NotFound`, like a
/// missing one.
pub fn get(id: &str) -> Result<Order, HostError> {
    raw::orders::get(id)
}

/// Orders matching `query`, newest first (at most 100). Needs `orders:read`.
pub fn list(query: OrderQuery) -> Result<Vec<Order>, HostError> {
    raw::orders::list(query)
}
