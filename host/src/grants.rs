//! Scopes and grants: what an installation may touch. Pure data, no Wasmtime and no sqlx, so
//! the rule every host call obeys fits on one screen and is tested exhaustively.
//!
//! effective = declared by the manifest ∩ approved by the merchant ∩ allowed by platform policy.

use std::fmt;

/// The scopes themselves live in the contract crate, so the SDK spells them the same way.
pub use airlock_contract::{Scope, UnknownScope};

/// The scope's bit in a [`ScopeSet`]: its discriminant, which follows [`Scope::ALL`] order.
fn bit(scope: Scope) -> u32 {
    1 << (scope as u32)
}

/// A set of scopes, small and `Copy` so every host call can check it without allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct ScopeSet(u32);

impl ScopeSet {
    /// No scopes.
    pub const EMPTY: ScopeSet = ScopeSet(0);

    /// Every scope.
    pub fn all() -> ScopeSet {
        Scope::ALL.into_iter().collect()
    }

    /// True when `scope` is in the set.
    pub fn contains(self, scope: Scope) -> bool {
        self.0 & bit(scope) != 0
    }

    /// The set with `scope` added.
    pub fn with(self, scope: Scope) -> ScopeSet {
        ScopeSet(self.0 | bit(scope))
    }

    /// Scopes in both sets.
    pub fn intersect(self, other: ScopeSet) -> ScopeSet {
        ScopeSet(self.0 & other.0)
    }

    /// Scopes in `self` but not in `other`.
    pub fn minus(self, other: ScopeSet) -> ScopeSet {
        ScopeSet(self.0 & !other.0)
    }

    /// Scopes in either set.
    pub fn union(self, other: ScopeSet) -> ScopeSet {
        ScopeSet(self.0 | other.0)
    }

    /// True when the set has no scopes.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The set as bits, for lock-free sharing between threads.
    pub fn bits(self) -> u32 {
        self.0
    }

    /// A set from [`Self::bits`]; unknown bits are dropped.
    pub fn from_bits(bits: u32) -> ScopeSet {
        ScopeSet(bits & ScopeSet::all().0)
    }

    /// The scopes in prompt order.
    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL.into_iter().filter(move |s| self.contains(*s))
    }
}

impl FromIterator<Scope> for ScopeSet {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        iter.into_iter().fold(ScopeSet::EMPTY, ScopeSet::with)
    }
}

impl fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.iter().map(Scope::as_str).collect();
        if names.is_empty() {
            f.write_str("(none)")
        } else {
            f.write_str(&names.join(", "))
        }
    }
}

/// A host call needed a scope the installation does not hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("denied: the merchant has not granted `{0}`")]
pub struct Denied(pub Scope);

/// The effective grant of one installation, fixed for one invocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant {
    effective: ScopeSet,
}

impl Grant {
    /// declared ∩ approved ∩ policy: a scope counts only if all three allow it.
    pub fn new(declared: ScopeSet, approved: ScopeSet, policy: ScopeSet) -> Grant {
        Grant {
            effective: declared.intersect(approved).intersect(policy),
        }
    }

    /// A grant of nothing at all.
    pub fn none() -> Grant {
        Grant {
            effective: ScopeSet::EMPTY,
        }
    }

    /// The scopes this grant allows.
    pub fn effective(self) -> ScopeSet {
        self.effective
    }

    /// True when the grant allows `scope`.
    pub fn allows(self, scope: Scope) -> bool {
        self.effective.contains(scope)
    }

    /// `Ok` when the grant allows `scope`, else the typed denial the plugin receives.
    pub fn require(self, scope: Scope) -> Result<(), Denied> {
        if self.allows(scope) {
            Ok(())
        } else {
            Err(Denied(scope))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_travel_as_their_names() {
        // The wire format manifests, the database and the API already use.
        for scope in Scope::ALL {
            let json = serde_json::to_string(&scope).unwrap();
            assert_eq!(json, format!("\"{}\"", scope.as_str()));
            assert_eq!(serde_json::from_str::<Scope>(&json).unwrap(), scope);
        }
        let err = serde_json::from_str::<Scope>("\"orders:delete\"").unwrap_err();
        assert!(
            err.to_string().contains("unknown scope `orders:delete`"),
            "{err}"
        );
    }

    #[test]
    fn effective_grant_is_the_intersection_of_declared_approved_and_policy() {
        // Exhaustive over every triple of subsets of the six scopes would be 2^18 cases; the
        // bit patterns below cover each scope present/absent in each of the three sets.
        for bits in 0u32..(1 << 3) {
            for scope in Scope::ALL {
                let pick = |on: bool| {
                    if on {
                        ScopeSet::EMPTY.with(scope)
                    } else {
                        ScopeSet::EMPTY
                    }
                };
                let (d, a, p) = (bits & 1 != 0, bits & 2 != 0, bits & 4 != 0);
                let grant = Grant::new(pick(d), pick(a), pick(p));
                assert_eq!(
                    grant.allows(scope),
                    d && a && p,
                    "{scope} d={d} a={a} p={p}"
                );
                for other in Scope::ALL.into_iter().filter(|o| *o != scope) {
                    assert!(!grant.allows(other), "{other} leaked from {scope}");
                }
            }
        }
    }

    #[test]
    fn write_scopes_do_not_imply_read_scopes() {
        let declared = ScopeSet::all();
        let grant = Grant::new(
            declared,
            [Scope::OrdersWrite, Scope::InventoryWrite]
                .into_iter()
                .collect(),
            ScopeSet::all(),
        );
        assert_eq!(
            grant.require(Scope::OrdersRead),
            Err(Denied(Scope::OrdersRead))
        );
        assert_eq!(
            grant.require(Scope::InventoryRead),
            Err(Denied(Scope::InventoryRead))
        );
        assert_eq!(grant.require(Scope::OrdersWrite), Ok(()));
    }

    #[test]
    fn contact_details_are_a_separate_scope_from_customer_records() {
        let only_read: ScopeSet = [Scope::CustomersRead].into_iter().collect();
        let grant = Grant::new(ScopeSet::all(), only_read, ScopeSet::all());
        assert!(grant.allows(Scope::CustomersRead));
        assert!(!grant.allows(Scope::CustomersReadContact));
        assert_eq!(
            Scope::CustomersReadContact.requires(),
            Some(Scope::CustomersRead)
        );
    }

    #[test]
    fn scope_set_operations_agree_with_membership() {
        let a: ScopeSet = [Scope::OrdersRead, Scope::CustomersRead]
            .into_iter()
            .collect();
        let b: ScopeSet = [Scope::CustomersRead, Scope::InventoryWrite]
            .into_iter()
            .collect();
        assert_eq!(
            a.intersect(b).iter().collect::<Vec<_>>(),
            [Scope::CustomersRead]
        );
        assert_eq!(a.minus(b).iter().collect::<Vec<_>>(), [Scope::OrdersRead]);
        assert_eq!(a.union(b).iter().count(), 3);
        assert!(ScopeSet::EMPTY.is_empty());
        assert_eq!(ScopeSet::all().iter().count(), Scope::ALL.len());
        assert_eq!(a.to_string(), "orders:read, customers:read");
    }
}
