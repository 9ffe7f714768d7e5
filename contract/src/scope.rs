//! Data scopes: what a merchant can grant a connector, and how each is spelled.

use std::fmt;
use std::str::FromStr;

/// A data scope a merchant can grant to a connector. Writes never imply reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// Read orders.
    OrdersRead,
    /// Change order fulfilment or payment status.
    OrdersWrite,
    /// Read customer records without contact details.
    CustomersRead,
    /// See customer name, email, phone and address (personal data).
    CustomersReadContact,
    /// Read stock levels.
    InventoryRead,
    /// Adjust stock levels.
    InventoryWrite,
}

impl Scope {
    /// Every scope, in the order prompts list them (and in discriminant order).
    pub const ALL: [Scope; 6] = [
        Scope::OrdersRead,
        Scope::OrdersWrite,
        Scope::CustomersRead,
        Scope::CustomersReadContact,
        Scope::InventoryRead,
        Scope::InventoryWrite,
    ];

    /// The scope's name as manifests, the CLI and the audit log spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::OrdersRead => "orders:read",
            Scope::OrdersWrite => "orders:write",
            Scope::CustomersRead => "customers:read",
            Scope::CustomersReadContact => "customers:read-contact",
            Scope::InventoryRead => "inventory:read",
            Scope::InventoryWrite => "inventory:write",
        }
    }

    /// A scope that must be declared alongside this one, if any: contact details are part of a
    /// customer record, so they are useless without `customers:read`.
    pub fn requires(self) -> Option<Scope> {
        match self {
            Scope::CustomersReadContact => Some(Scope::CustomersRead),
            _ => None,
        }
    }

    /// True when the scope changes merchant data.
    pub fn is_write(self) -> bool {
        matches!(self, Scope::OrdersWrite | Scope::InventoryWrite)
    }

    /// True when the scope exposes personal data about customers.
    pub fn is_personal_data(self) -> bool {
        matches!(self, Scope::CustomersReadContact)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A scope name that is not one of [`Scope::ALL`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownScope {
    /// What was given (at most 64 characters of it).
    pub given: String,
    /// The valid names, comma separated.
    pub known: String,
}

impl fmt::Display for UnknownScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown scope `{}`; known scopes: {}",
            self.given, self.known
        )
    }
}

// By hand rather than with thiserror: this crate stays dependency-free for the SDK.
impl std::error::Error for UnknownScope {}

impl FromStr for Scope {
    type Err = UnknownScope;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scope::ALL
            .into_iter()
            .find(|scope| scope.as_str() == s)
            .ok_or_else(|| UnknownScope {
                // Truncated: the name may come from an untrusted manifest and ends up in logs.
                given: s.chars().take(64).collect(),
                known: Scope::ALL.map(Scope::as_str).join(", "),
            })
    }
}

/// On the wire a scope is its name (`"orders:read"`), as in manifests and the database.
#[cfg(feature = "serde")]
impl serde::Serialize for Scope {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// Reads a scope from its name; an unknown name is an error that lists the known ones.
#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for Scope {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scope_round_trips_through_its_name() {
        for scope in Scope::ALL {
            assert_eq!(scope.as_str().parse::<Scope>(), Ok(scope));
            assert_eq!(scope.to_string(), scope.as_str());
        }
    }

    #[test]
    fn all_lists_every_scope_in_discriminant_order() {
        // The host's ScopeSet uses the discriminant as a bit index.
        for (i, scope) in Scope::ALL.into_iter().enumerate() {
            assert_eq!(scope as usize, i, "{scope}");
        }
    }

    #[test]
    fn unknown_scope_error_lists_the_known_ones() {
        let err = "orders:delete".parse::<Scope>().unwrap_err();
        assert_eq!(err.given, "orders:delete");
        assert_eq!(
            err.to_string(),
            "unknown scope `orders:delete`; known scopes: orders:read, orders:write, \
             customers:read, customers:read-contact, inventory:read, inventory:write"
        );
    }

    #[test]
    fn unknown_scope_error_truncates_what_was_given() {
        let long = "x".repeat(1000);
        let err = long.parse::<Scope>().unwrap_err();
        assert_eq!(err.given.chars().count(), 64);
    }

    #[test]
    fn only_contact_details_require_another_scope() {
        for scope in Scope::ALL {
            let expected = (scope == Scope::CustomersReadContact).then_some(Scope::CustomersRead);
            assert_eq!(scope.requires(), expected, "{scope}");
        }
    }

    #[test]
    fn writes_and_personal_data_are_flagged() {
        let writes: Vec<Scope> = Scope::ALL.into_iter().filter(|s| s.is_write()).collect();
        assert_eq!(writes, [Scope::OrdersWrite, Scope::InventoryWrite]);
        let personal: Vec<Scope> = Scope::ALL
            .into_iter()
            .filter(|s| s.is_personal_data())
            .collect();
        assert_eq!(personal, [Scope::CustomersReadContact]);
    }
}
