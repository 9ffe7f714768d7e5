//! `airlock:connector/customers`: the merchant's customers. Needs `customers:read`; contact
//! details also need `customers:read-contact`.

use crate::{Customer, HostError, raw};

/// One customer by id. Needs `customers:read`; name, email, phone and address are `None`
/// unless `customers:read-contact` is granted too.
pub fn get(id: &str) -> Result<Customer, HostError> {
    raw::customers::get(id)
}
