//! The capabilities a connector imports, one module per WIT interface of
//! `airlock:connector`, and the one table of what importing each interface needs: exactly one
//! scope or none per interface, so the install check reads it off the import names alone.
//!
//! Each host function admits the call through the shared [`crate::call::CallContext`]
//! (quota, then grant), validates its input, reads through the merchant-scoped data source, and
//! records what it touched. Capabilities depend on the call context and the data traits only:
//! never on the runtime, outbound HTTP or the database.
//!
//! Adding a capability is one WIT file, one module here with its `DESCRIPTOR`, and one line
//! in the `capabilities!` list below (see the README's "Adding a capability").

pub(crate) mod convert;
#[macro_use]
mod registry;
#[cfg(test)]
mod test_support;

use std::collections::HashSet;
use std::sync::Arc;

use crate::call::CallContext;
use crate::commerce::{CommerceData, ConnectorStorage, SecretSource, StorageQuota};
use crate::grants::Scope;
#[cfg(test)]
use crate::grants::ScopeSet;

// One line per capability: `<WIT interface>: <its state type>` (the module of that name holds
// the state, its `DESCRIPTOR` and its host functions).
capabilities! {
    types: TypesState,
    orders: OrdersState,
    order_updates: OrderUpdatesState,
    customers: CustomersState,
    inventory: InventoryState,
    inventory_updates: InventoryUpdatesState,
    storage: StorageState,
    log: LogState,
    secrets: SecretsState,
}

/// A Store's data that carries the capability states of its invocation.
pub(crate) trait HasCapabilities: Send + 'static {
    /// The capability states.
    fn capabilities(&mut self) -> &mut Capabilities;
}

/// What importing one interface of the contract takes. One per interface: every function of
/// an interface needs the same thing, so the import list alone says what code can reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requirement {
    /// The manifest must declare this scope, and the merchant grant it.
    Scope(Scope),
    /// Nothing: the interface touches only the connector's own space (storage, log).
    OwnSpace,
    /// A secret the manifest declares `readable` (the connector sees its value).
    ReadableSecret,
    /// Nothing: the interface defines only types.
    Nothing,
}

impl Requirement {
    /// The scope this requirement is, if it is one.
    pub fn scope(self) -> Option<Scope> {
        match self {
            Requirement::Scope(scope) => Some(scope),
            _ => None,
        }
    }
}

/// One WIT interface of `airlock:connector`: the one thing importing it needs, and its
/// functions.
#[derive(Debug)]
pub struct Descriptor {
    /// The interface name, as in `airlock:connector/<interface>`.
    pub interface: &'static str,
    /// What importing the interface (and calling any of its functions) takes.
    pub needs: Requirement,
    /// Every function of the interface.
    pub functions: &'static [&'static str],
    /// Scopes that unlock more of what the functions return (contact fields of a customer).
    pub unlocks: &'static [Scope],
}

/// The contract interface called `interface`, or `None` for one the contract does not have.
pub fn descriptor(interface: &str) -> Option<&'static Descriptor> {
    CAPABILITIES.iter().find(|d| d.interface == interface)
}

/// What a contract function needs (its interface's requirement), or `None` for a function
/// the contract does not have.
pub fn requirement(interface: &str, function: &str) -> Option<Requirement> {
    descriptor(interface)
        .filter(|d| d.functions.contains(&function))
        .map(|d| d.needs)
}

/// Every scope the capabilities check: what prompts must be able to describe.
#[cfg(test)]
pub(crate) fn scopes() -> ScopeSet {
    CAPABILITIES
        .iter()
        .flat_map(|d| d.needs.scope().into_iter().chain(d.unlocks.iter().copied()))
        .collect()
}

/// What a capability's state is built from, for one invocation.
pub(crate) struct Deps {
    /// Who is calling and what they may do.
    pub call: Arc<CallContext>,
    /// Orders, customers, stock.
    pub commerce: Arc<dyn CommerceData>,
    /// The installation's own key-value space.
    pub storage: Arc<dyn ConnectorStorage>,
    /// How much the installation may keep in it, over all its calls.
    pub storage_quota: StorageQuota,
    /// Sealed secrets; `None` when the host has no vault key.
    pub secrets: Option<Arc<dyn SecretSource>>,
    /// Secrets the manifest declares readable.
    pub readable: Arc<HashSet<String>>,
    /// Log lines kept per call.
    pub max_log_lines: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_data_interface_needs_one_scope_and_own_space_interfaces_need_none() {
        let scope = |s| Some(Requirement::Scope(s));
        assert_eq!(requirement("orders", "get"), scope(Scope::OrdersRead));
        assert_eq!(requirement("orders", "list"), scope(Scope::OrdersRead));
        assert_eq!(
            requirement("order-updates", "set-financial-status"),
            scope(Scope::OrdersWrite)
        );
        assert_eq!(requirement("customers", "get"), scope(Scope::CustomersRead));
        assert_eq!(requirement("inventory", "get"), scope(Scope::InventoryRead));
        assert_eq!(
            requirement("inventory-updates", "adjust"),
            scope(Scope::InventoryWrite)
        );
        assert_eq!(requirement("storage", "set"), Some(Requirement::OwnSpace));
        assert_eq!(requirement("log", "write"), Some(Requirement::OwnSpace));
        assert_eq!(
            requirement("secrets", "get"),
            Some(Requirement::ReadableSecret)
        );
        // The writes left the read interfaces with contract 0.2.
        assert_eq!(requirement("orders", "set-financial-status"), None);
        assert_eq!(requirement("inventory", "adjust"), None);
        assert_eq!(requirement("orders", "delete"), None);
        assert_eq!(requirement("payments", "charge"), None);
    }

    #[test]
    fn every_scope_is_needed_by_some_interface() {
        for scope in Scope::ALL {
            assert!(scopes().contains(scope), "no capability checks {scope}");
        }
    }

    #[test]
    fn each_scope_is_needed_by_one_interface_at_most() {
        for scope in Scope::ALL {
            let needing: Vec<&str> = CAPABILITIES
                .iter()
                .filter(|d| d.needs == Requirement::Scope(scope))
                .map(|d| d.interface)
                .collect();
            assert!(needing.len() <= 1, "{scope} is needed by {needing:?}");
        }
    }

    #[test]
    fn interfaces_are_listed_once() {
        let mut seen = HashSet::new();
        for d in CAPABILITIES {
            assert!(seen.insert(d.interface), "{} listed twice", d.interface);
        }
    }
}

#[cfg(test)]
mod contract_tests;
