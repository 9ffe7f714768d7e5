//! `airlock:connector/customers`: read the merchant's customers. Calling anything here makes
//! the component import this interface, which needs `customers:read` declared in the manifest;
//! contact details come only when `customers:read-contact` is declared and granted too.
//!
//! ```no_run
//! use airlock_sdk::{ConnectorError, customers};
//!
//! fn greeting(customer_id: &str) -> Result<String, ConnectorError> {
//!     let customer = customers::get(customer_id)?;
//!     // `None` unless the merchant shared contact details.
//!     Ok(match customer.name {
//!         Some(name) => format!("Hi {name}"),
//!         None => "Hello".to_owned(),
//!     })
//! }
//! # let _ = greeting;
//! ```

use crate::{Customer, HostError, raw};

/// One customer by id. Needs `customers:read`; name, email, phone and address are `None`
/// unless `customers:read-contact` is granted too.
pub fn get(id: &str) -> Result<Customer, HostError> {
    raw::customers::get(id)
}
