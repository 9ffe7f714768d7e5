//! `airlock:connector/order-updates`: change the merchant's orders. Calling anything here
//! makes the component import this interface, which needs `orders:write` declared in the
//! manifest. Writes return nothing: reading an order is [`orders`](crate::orders), under
//! `orders:read`.
//!
//! ```no_run
//! use airlock_sdk::{ConnectorError, FinancialStatus, order_updates};
//!
//! fn mark_paid(order_id: &str) -> Result<(), ConnectorError> {
//!     order_updates::set_financial_status(order_id, FinancialStatus::Paid)?;
//!     Ok(())
//! }
//! # let _ = mark_paid;
//! ```

use crate::{FinancialStatus, FulfillmentStatus, HostError, raw};

/// Set an order's shipping state. Needs `orders:write`.
pub fn set_fulfillment_status(id: &str, status: FulfillmentStatus) -> Result<(), HostError> {
    raw::order_updates::set_fulfillment_status(id, status)
}

/// Set an order's payment state. Needs `orders:write`.
pub fn set_financial_status(id: &str, status: FinancialStatus) -> Result<(), HostError> {
    raw::order_updates::set_financial_status(id, status)
}
