//! The capabilities a connector imports, one module per WIT interface of
//! `airlock:connector`, and the one table of what each function needs.
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
    customers: CustomersState,
    inventory: InventoryState,
    storage: StorageState,
    log: LogState,
    secrets: SecretsState,
}

/// A Store's data that carries the capability states of its invocation.
pub(crate) trait HasCapabilities: Send + 'static {
    /// The capability states.
    fn capabilities(&mut self) -> &mut Capabilities;
}

/// What calling a contract function takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requirement {
    /// The merchant must grant this scope.
    Scope(Scope),
    /// Nothing: the function touches only the connector's own space (storage, log).
    OwnSpace,
    /// A secret the manifest declares `readable` (the connector sees its value).
    ReadableSecret,
}

/// One WIT interface of `airlock:connector` and what each of its functions needs.
#[derive(Debug)]
pub struct Descriptor {
    /// The interface name, as in `airlock:connector/<interface>`.
    pub interface: &'static str,
    /// Every function of the interface with what calling it takes.
    pub functions: &'static [(&'static str, Requirement)],
    /// Scopes that unlock more of what the functions return (contact fields of a customer).
    pub unlocks: &'static [Scope],
}

/// What a contract function needs, or `None` for a function the contract does not have.
pub fn requirement(interface: &str, function: &str) -> Option<Requirement> {
    CAPABILITIES
        .iter()
        .find(|d| d.interface == interface)?
        .functions
        .iter()
        .find(|(name, _)| *name == function)
        .map(|(_, needs)| *needs)
}

/// Every scope the capabilities check: what prompts must be able to describe.
#[cfg(test)]
pub(crate) fn scopes() -> ScopeSet {
    let needed = CAPABILITIES.iter().flat_map(|d| d.functions.iter()).fold(
        ScopeSet::EMPTY,
        |set, (_, needs)| match needs {
            Requirement::Scope(scope) => set.with(*scope),
            _ => set,
        },
    );
    CAPABILITIES
        .iter()
        .flat_map(|d| d.unlocks.iter())
        .fold(needed, |set, scope| set.with(*scope))
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
    fn every_data_function_needs_a_scope_and_own_space_functions_need_none() {
        let scope = |s| Some(Requirement::Scope(s));
        assert_eq!(requirement("orders", "get"), scope(Scope::OrdersRead));
        assert_eq!(
            requirement("orders", "set-financial-status"),
            scope(Scope::OrdersWrite)
        );
        assert_eq!(requirement("customers", "get"), scope(Scope::CustomersRead));
        assert_eq!(
            requirement("inventory", "adjust"),
            scope(Scope::InventoryWrite)
        );
        assert_eq!(requirement("storage", "set"), Some(Requirement::OwnSpace));
        assert_eq!(requirement("log", "write"), Some(Requirement::OwnSpace));
        assert_eq!(
            requirement("secrets", "get"),
            Some(Requirement::ReadableSecret)
        );
        assert_eq!(requirement("orders", "delete"), None);
        assert_eq!(requirement("payments", "charge"), None);
    }

    #[test]
    fn every_scope_is_needed_by_some_function() {
        for scope in Scope::ALL {
            assert!(scopes().contains(scope), "no capability checks {scope}");
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
mod contract_tests {
    use super::*;

    /// Every function of every interface world `connector` imports, read from `wit/`.
    fn contract_functions() -> Vec<(String, String)> {
        let wit = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../wit");
        let mut resolve = wit_parser::Resolve::default();
        let (package, _) = resolve.push_dir(&wit).expect("wit/ parses");
        let world = resolve
            .select_world(&[package], Some("connector"))
            .expect("world connector");
        let mut out = Vec::new();
        for item in resolve.worlds[world].imports.values() {
            let wit_parser::WorldItem::Interface { id, .. } = item else {
                continue;
            };
            let interface = &resolve.interfaces[*id];
            let name = interface.name.clone().expect("named interface");
            for function in interface.functions.keys() {
                out.push((name.clone(), function.clone()));
            }
            if interface.functions.is_empty() {
                out.push((name, String::new()));
            }
        }
        out
    }

    #[test]
    fn every_function_of_world_connector_has_an_entry_in_the_table() {
        let functions = contract_functions();
        assert!(
            functions.len() >= 14,
            "read too little of wit/: {functions:?}"
        );
        for (interface, function) in &functions {
            let listed = CAPABILITIES.iter().any(|d| d.interface == interface);
            assert!(listed, "interface `{interface}` has no capability module");
            if !function.is_empty() {
                assert!(
                    requirement(interface, function).is_some(),
                    "`{interface}.{function}` has no entry in its DESCRIPTOR"
                );
            }
        }
        for d in CAPABILITIES {
            for (function, _) in d.functions {
                let in_wit = functions
                    .iter()
                    .any(|(i, f)| i == d.interface && f == function);
                assert!(
                    in_wit,
                    "`{}.{function}` is in the table but not in wit/",
                    d.interface
                );
            }
        }
    }
}
