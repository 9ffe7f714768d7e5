//! `airlock:connector/orders`: the merchant's orders. Reads need `orders:read`, status
//! changes `orders:write`.

use crate::{FinancialStatus, FulfillmentStatus, HostError, Order, OrderQuery, raw};

/// One order by id. Needs `orders:read`.
pub fn get(id: &str) -> Result<Order, HostError> {
    raw::orders::get(id)
}

/// Orders matching `query`, newest first. Needs `orders:read`.
pub fn list(query: OrderQuery) -> Result<Vec<Order>, HostError> {
    raw::orders::list(query)
}

/// Set the shipping state. Needs `orders:write`.
pub fn set_fulfillment_status(id: &str, status: FulfillmentStatus) -> Result<(), HostError> {
    raw::orders::set_fulfillment_status(id, status)
}

/// Set the payment state. Needs `orders:write`.
pub fn set_financial_status(id: &str, status: FinancialStatus) -> Result<(), HostError> {
    raw::orders::set_financial_status(id, status)
}
