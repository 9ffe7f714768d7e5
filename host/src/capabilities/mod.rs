//! One module per WIT capability interface. Each host function admits the call through the
//! shared [`crate::state::CallContext`] (quota, then grant), validates its input, reads through
//! the merchant-scoped data source, and records what it touched.

pub(crate) mod convert;
pub(crate) mod customers;
pub(crate) mod inventory;
pub(crate) mod log;
pub(crate) mod orders;
pub(crate) mod secrets;
pub(crate) mod storage;

use wasmtime::component::{HasSelf, Linker};

use crate::bindings::airlock::connector as wit;
use crate::state::HostState;

/// Register every capability with the linker, each reaching only its own state.
pub(crate) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    wit::types::add_to_linker::<HostState, HasSelf<orders::OrdersState>>(linker, |s| {
        &mut s.orders
    })?;
    wit::orders::add_to_linker::<HostState, HasSelf<orders::OrdersState>>(linker, |s| {
        &mut s.orders
    })?;
    wit::customers::add_to_linker::<HostState, HasSelf<customers::CustomersState>>(linker, |s| {
        &mut s.customers
    })?;
    wit::inventory::add_to_linker::<HostState, HasSelf<inventory::InventoryState>>(linker, |s| {
        &mut s.inventory
    })?;
    wit::storage::add_to_linker::<HostState, HasSelf<storage::StorageState>>(linker, |s| {
        &mut s.storage
    })?;
    wit::log::add_to_linker::<HostState, HasSelf<log::LogState>>(linker, |s| &mut s.log)?;
    wit::secrets::add_to_linker::<HostState, HasSelf<secrets::SecretsState>>(linker, |s| {
        &mut s.secrets
    })?;
    Ok(())
}
