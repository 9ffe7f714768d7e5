//! The WIT `scope` and the contract's [`airlock_contract::Scope`] are the same six scopes: the
//! names come from the contract crate only, so the SDK and the host cannot spell them apart.

use crate::Scope;
use airlock_contract::Scope as Contract;

impl Scope {
    /// The scope's name as manifests spell it, such as `orders:read`.
    pub fn as_str(self) -> &'static str {
        Contract::from(self).as_str()
    }
}

// Both directions, with no wildcard arm: a scope added to the WIT but not to the contract (or
// the other way round) fails to compile here.

/// The contract's scope for a WIT scope.
impl From<Scope> for Contract {
    fn from(scope: Scope) -> Contract {
        match scope {
            Scope::OrdersRead => Contract::OrdersRead,
            Scope::OrdersWrite => Contract::OrdersWrite,
            Scope::CustomersRead => Contract::CustomersRead,
            Scope::CustomersReadContact => Contract::CustomersReadContact,
            Scope::InventoryRead => Contract::InventoryRead,
            Scope::InventoryWrite => Contract::InventoryWrite,
        }
    }
}

/// The WIT scope for a contract scope.
impl From<Contract> for Scope {
    fn from(scope: Contract) -> Scope {
        match scope {
            Contract::OrdersRead => Scope::OrdersRead,
            Contract::OrdersWrite => Scope::OrdersWrite,
            Contract::CustomersRead => Scope::CustomersRead,
            Contract::CustomersReadContact => Scope::CustomersReadContact,
            Contract::InventoryRead => Scope::InventoryRead,
            Contract::InventoryWrite => Scope::InventoryWrite,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wit_scopes_carry_the_contract_names() {
        for scope in Contract::ALL {
            assert_eq!(Scope::from(scope).as_str(), scope.as_str());
            assert_eq!(Contract::from(Scope::from(scope)), scope);
        }
    }
}
