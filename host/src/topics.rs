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
    /// Another app was installed for the merchant (the subject is its connector id).
    AppInstalled,
    /// Another app was removed for the merchant (the subject is its connector id).
    AppUninstalled,
}

impl Topic {
    /// Every topic.
    pub const ALL: [Topic; 8] = [
        Topic::OrderCreated,
        Topic::OrderPaid,
        Topic::OrderFulfilled,
        Topic::OrderCancelled,
        Topic::CustomerCreated,
        Topic::InventoryChanged,
        Topic::AppInstalled,
        Topic::AppUninstalled,
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
            Topic::AppInstalled => "app.installed",
            Topic::AppUninstalled => "app.uninstalled",
        }
    }

    /// The scope an installation must hold to be told about this topic at all: a connector that
    /// may not read orders does not learn that orders happen either. The `app.*` topics carry
    /// no store data (only which connector came or went) and need none.
    pub fn needs(self) -> Option<Scope> {
        match self {
            Topic::OrderCreated
            | Topic::OrderPaid
            | Topic::OrderFulfilled
            | Topic::OrderCancelled => Some(Scope::OrdersRead),
            Topic::CustomerCreated => Some(Scope::CustomersRead),
            Topic::InventoryChanged => Some(Scope::InventoryRead),
            Topic::AppInstalled | Topic::AppUninstalled => None,
        }
    }

    /// Whether an installation allowed the scopes `allows` says yes to may be told about
    /// this topic.
    pub fn allowed(self, allows: impl Fn(Scope) -> bool) -> bool {
        self.needs().is_none_or(allows)
    }

    /// Whether this topic is about an app (its subject a connector id), which that app
    /// itself is never sent: a removed app gets nothing more at all.
    pub fn about_apps(self) -> bool {
        matches!(self, Topic::AppInstalled | Topic::AppUninstalled)
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
