//! Platform event topics. An event names the record it is about; subscribing to a topic needs
//! the read scope of that record, so a connector that may not read orders never learns that
//! orders happen.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::grants::Scope;

/// A platform event topic a connector can subscribe to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Topic {
    /// A customer placed an order.
    OrderCreated,
    /// An order was paid.
    OrderPaid,
    /// An order was shipped in full.
    OrderFulfilled,
    /// An order was cancelled.
    OrderCancelled,
    /// A customer account was created.
    CustomerCreated,
    /// A SKU's stock level changed.
    InventoryChanged,
}

impl Topic {
    /// Every topic.
    pub const ALL: [Topic; 6] = [
        Topic::OrderCreated,
        Topic::OrderPaid,
        Topic::OrderFulfilled,
        Topic::OrderCancelled,
        Topic::CustomerCreated,
        Topic::InventoryChanged,
    ];

    /// The topic's name, such as `order.created`.
    pub fn as_str(self) -> &'static str {
        match self {
            Topic::OrderCreated => "order.created",
            Topic::OrderPaid => "order.paid",
            Topic::OrderFulfilled => "order.fulfilled",
            Topic::OrderCancelled => "order.cancelled",
            Topic::CustomerCreated => "customer.created",
            Topic::InventoryChanged => "inventory.changed",
        }
    }

    /// The scope an installation must hold to be told about this topic at all: a connector that
    /// may not read orders does not learn that orders happen either.
    pub fn needs(self) -> Scope {
        match self {
            Topic::OrderCreated
            | Topic::OrderPaid
            | Topic::OrderFulfilled
            | Topic::OrderCancelled => Scope::OrdersRead,
            Topic::CustomerCreated => Scope::CustomersRead,
            Topic::InventoryChanged => Scope::InventoryRead,
        }
    }
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Topic {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Topic::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown event topic `{}`; known topics: {}",
                    s.chars().take(64).collect::<String>(),
                    Topic::ALL.map(Topic::as_str).join(", ")
                )
            })
    }
}

impl Serialize for Topic {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Topic {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}
