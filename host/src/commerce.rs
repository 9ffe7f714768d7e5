//! Commerce records and the data traits host calls read through: [`CommerceData`] (orders,
//! customers, stock), [`ConnectorStorage`] (each installation's own space) and
//! [`SecretSource`] (its keys).
//!
//! Every method takes the merchant from the invocation's store, never from the plugin, so a
//! record of another merchant is simply not there: the same `None` as an id that never existed.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ids::MerchantId;

/// Money in minor units of an ISO 4217 currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    /// Amount in minor units (paise, cents).
    pub amount_minor: i64,
    /// ISO 4217 code.
    pub currency: String,
}

macro_rules! status_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vdoc])* $variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The value as the database and the CLI spell it.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Parse the database spelling.
            pub fn parse(text: &str) -> Option<$name> {
                $name::ALL.iter().copied().find(|v| v.as_str() == text)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

status_enum! {
    /// Where an order stands with payment.
    FinancialStatus {
        /// Not paid yet.
        Pending = "pending",
        /// Payment authorised, not captured.
        Authorized = "authorized",
        /// Paid in full.
        Paid = "paid",
        /// Money returned.
        Refunded = "refunded",
        /// Authorisation cancelled.
        Voided = "voided",
    }
}

status_enum! {
    /// Where an order stands with shipping.
    FulfillmentStatus {
        /// Nothing shipped.
        Unfulfilled = "unfulfilled",
        /// Some items shipped.
        Partial = "partial",
        /// Everything shipped.
        Fulfilled = "fulfilled",
        /// Order cancelled.
        Cancelled = "cancelled",
    }
}

/// One line of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineItem {
    /// Stock keeping unit.
    pub sku: String,
    /// Product title as sold.
    pub title: String,
    /// Units ordered.
    pub quantity: u32,
    /// Price of one unit.
    pub unit_price: Money,
}

/// An order of one merchant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    /// Opaque id.
    pub id: String,
    /// Number shown to people, such as `#1001`.
    pub number: String,
    /// Who placed it.
    pub customer_id: Option<String>,
    /// Payment state.
    pub financial_status: FinancialStatus,
    /// Shipping state.
    pub fulfillment_status: FulfillmentStatus,
    /// Order total.
    pub total: Money,
    /// Milliseconds since the Unix epoch.
    pub created_at: u64,
    /// What was ordered.
    pub line_items: Vec<LineItem>,
}

/// Filters for listing orders.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderQuery {
    /// Only this shipping state.
    pub fulfillment_status: Option<FulfillmentStatus>,
    /// Only this payment state.
    pub financial_status: Option<FinancialStatus>,
    /// Created at or after (ms).
    pub created_after: Option<u64>,
    /// Created before (ms).
    pub created_before: Option<u64>,
    /// At most this many (already capped by the caller).
    pub limit: u32,
}

/// A postal address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    /// Street and number.
    pub line1: String,
    /// Flat, floor, landmark.
    pub line2: Option<String>,
    /// City.
    pub city: String,
    /// State or province.
    pub region: String,
    /// Postal code.
    pub postal_code: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
}

/// Personal contact details, kept apart so they cannot leak by accident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// Full name.
    pub name: String,
    /// Email address.
    pub email: Option<String>,
    /// Phone in E.164.
    pub phone: Option<String>,
    /// Default shipping address.
    pub address: Option<Address>,
}

/// A customer of one merchant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    /// Opaque id.
    pub id: String,
    /// Orders placed.
    pub orders_count: u32,
    /// Agreed to marketing.
    pub accepts_marketing: bool,
    /// Milliseconds since the Unix epoch.
    pub created_at: u64,
    /// Contact details: personal data, handed to a connector only under `customers:read-contact`.
    pub contact: Contact,
}

/// Stock of one SKU.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InventoryLevel {
    /// Stock keeping unit.
    pub sku: String,
    /// Product title.
    pub title: String,
    /// Units available.
    pub available: i64,
    /// Milliseconds since the Unix epoch.
    pub updated_at: u64,
}

/// A data source failed; the plugin sees `unavailable`, the operator sees this text.
#[derive(Debug, thiserror::Error)]
#[error("commerce data unavailable: {0}")]
pub struct DataError(pub String);

impl From<sqlx::Error> for DataError {
    fn from(err: sqlx::Error) -> Self {
        DataError(err.to_string())
    }
}

/// Where host calls read and write a merchant's orders, customers and stock. Airlock ships a SQL
/// implementation over its own database; a platform plugs in its own.
#[async_trait::async_trait]
pub trait CommerceData: Send + Sync + 'static {
    /// One order, or `None` when this merchant has no such order.
    async fn order(&self, merchant: &MerchantId, id: &str) -> Result<Option<Order>, DataError>;
    /// Orders matching the query, newest first.
    async fn orders(
        &self,
        merchant: &MerchantId,
        query: &OrderQuery,
    ) -> Result<Vec<Order>, DataError>;
    /// Set the shipping state; `false` when this merchant has no such order.
    async fn set_fulfillment_status(
        &self,
        merchant: &MerchantId,
        id: &str,
        status: FulfillmentStatus,
    ) -> Result<bool, DataError>;
    /// Set the payment state; `false` when this merchant has no such order.
    async fn set_financial_status(
        &self,
        merchant: &MerchantId,
        id: &str,
        status: FinancialStatus,
    ) -> Result<bool, DataError>;
    /// One customer, or `None`.
    async fn customer(
        &self,
        merchant: &MerchantId,
        id: &str,
    ) -> Result<Option<Customer>, DataError>;
    /// Stock of one SKU, or `None`.
    async fn inventory_level(
        &self,
        merchant: &MerchantId,
        sku: &str,
    ) -> Result<Option<InventoryLevel>, DataError>;
    /// Stock levels in SKU order after `after`, at most `limit`.
    async fn inventory_levels(
        &self,
        merchant: &MerchantId,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<InventoryLevel>, DataError>;
    /// Add `delta` to a SKU's stock; `false` when this merchant has no such SKU.
    async fn adjust_inventory(
        &self,
        merchant: &MerchantId,
        sku: &str,
        delta: i64,
    ) -> Result<bool, DataError>;
}

/// How much one installation may keep in its own storage, over all its calls: a key and its
/// value count as their lengths in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StorageQuota {
    /// Bytes of keys plus values.
    pub bytes: u64,
    /// Keys.
    pub keys: u64,
}

/// Why a storage write was not stored.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The installation's quota is full: nothing was written.
    #[error(
        "the storage quota of this installation allows {limit} {unit}; delete keys first or ask the platform for a larger plan"
    )]
    Quota {
        /// `bytes` or `keys`.
        unit: &'static str,
        /// The quota.
        limit: u64,
    },
    /// The data source failed.
    #[error(transparent)]
    Data(#[from] DataError),
}

impl From<sqlx::Error> for StorageError {
    fn from(err: sqlx::Error) -> Self {
        StorageError::Data(err.into())
    }
}

/// The connector's own key-value space, one per installation.
#[async_trait::async_trait]
pub trait ConnectorStorage: Send + Sync + 'static {
    /// The value under `key`.
    async fn get(
        &self,
        installation: &crate::ids::InstallationId,
        key: &str,
    ) -> Result<Option<Vec<u8>>, DataError>;
    /// Store a value under `key`, replacing any previous one, unless the installation would
    /// then hold more than `quota` (a write that shrinks what it holds is always stored).
    /// The check and the write must be one atomic step: calls of one installation run at once.
    async fn set(
        &self,
        installation: &crate::ids::InstallationId,
        key: &str,
        value: &[u8],
        quota: StorageQuota,
    ) -> Result<(), StorageError>;
    /// Remove a key.
    async fn delete(
        &self,
        installation: &crate::ids::InstallationId,
        key: &str,
    ) -> Result<(), DataError>;
    /// Keys with `prefix`, in byte order, at most `limit`: a range of an index, never a scan
    /// of the installation's keys.
    async fn keys(
        &self,
        installation: &crate::ids::InstallationId,
        prefix: &str,
        limit: u32,
    ) -> Result<Vec<String>, DataError>;
    /// Delete everything `installation` stored; how many keys went. Called when it is
    /// uninstalled, so a platform's own backend forgets the app as Airlock's tables do.
    async fn wipe(&self, installation: &crate::ids::InstallationId) -> Result<u64, DataError>;
}

/// The smallest string above every string that starts with `prefix`, in byte (code point)
/// order; `None` when there is none (`prefix` is empty or all U+10FFFF). `key >= prefix AND
/// key < successor` is then exactly the keys with that prefix, as an index range.
pub fn prefix_successor(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = match last {
            '\u{D7FF}' => Some('\u{E000}'),
            c => char::from_u32(u32::from(c) + 1),
        };
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// Where the sandbox reads an installation's secrets: the host's sealed vault by default
/// ([`crate::db::secrets::Secrets`]), or a platform's own. Values are handed out only for the
/// installation of the call, never by a name the plugin chooses alone.
#[async_trait::async_trait]
pub trait SecretSource: Send + Sync + 'static {
    /// The value of secret `name` of `installation`, or `None` when it was never set.
    async fn reveal(
        &self,
        installation: &crate::ids::InstallationId,
        name: &str,
    ) -> Result<Option<zeroize::Zeroizing<String>>, DataError>;
}

#[cfg(test)]
mod tests {
    use super::prefix_successor;

    #[test]
    fn the_prefix_successor_bounds_exactly_the_keys_with_the_prefix() {
        assert_eq!(prefix_successor(""), None);
        assert_eq!(prefix_successor("a").as_deref(), Some("b"));
        assert_eq!(prefix_successor("a%").as_deref(), Some("a&"));
        assert_eq!(prefix_successor("z\u{D7FF}").as_deref(), Some("z\u{E000}"));
        assert_eq!(prefix_successor("b\u{10FFFF}").as_deref(), Some("c"));
        assert_eq!(prefix_successor("\u{10FFFF}"), None);
        let successor = prefix_successor("ab").unwrap();
        for key in ["ab", "ab\u{0}", "abz", "ab\u{10FFFF}\u{10FFFF}"] {
            assert!(key >= "ab" && key < successor.as_str(), "{key:?}");
        }
        for key in ["aa\u{10FFFF}", "ac", "a", "b"] {
            assert!(!(key >= "ab" && key < successor.as_str()), "{key:?}");
        }
    }
}
