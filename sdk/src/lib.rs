//! Write Airlock commerce connectors in Rust.
//!
//! A connector is a WebAssembly component. Implement [`Connector`], name your manifest in
//! [`export!`], and build with `cargo build --target wasm32-wasip2 --release`: the resulting
//! `.wasm` is the whole artifact, manifest included. The host checks the merchant's grant on
//! every call; a call outside it returns [`HostError::Denied`] with the scope, never a crash.
//!
//! Each module wraps one interface of the contract `airlock:connector@0.2.0`, and each
//! interface needs exactly one scope or none: calling any function of a module makes the
//! component import its interface, and the host refuses to install a component that imports
//! an interface whose scope the manifest does not declare.
//!
//! | module | needs declared |
//! | --- | --- |
//! | [`orders`] | `orders:read` |
//! | [`order_updates`] | `orders:write` |
//! | [`customers`] | `customers:read` (contact fields: `customers:read-contact` too) |
//! | [`inventory`] | `inventory:read` |
//! | [`inventory_updates`] | `inventory:write` |
//! | [`storage`], [`log`] | nothing: the connector's own space |
//! | [`secrets`] | a secret declared `readable = true` |
//! | [`http`] | an `[[http]]` origin for each server it calls |
//!
//! ```no_run
//! use airlock_sdk::{Connector, ConnectorError, Event, Outcome, customers, log, orders};
//!
//! struct Notifier;
//!
//! impl Connector for Notifier {
//!     fn handle_event(event: Event) -> Result<Outcome, ConnectorError> {
//!         let order = orders::get(&event.subject_id)?;
//!         let name = match &order.customer_id {
//!             Some(id) => customers::get(id)?.name, // empty without customers:read-contact
//!             None => None,
//!         };
//!         log::info(&format!("order {} placed", order.number));
//!         Ok(Outcome::acted(format!(
//!             "would notify {} about {}",
//!             name.as_deref().unwrap_or("the customer"),
//!             order.number
//!         )))
//!     }
//! }
//!
//! airlock_sdk::export!(Notifier, manifest = "../examples/airlock.toml");
//! # fn main() {}
//! ```
//!
//! with the manifest (here `examples/airlock.toml`; in a connector, usually `airlock.toml`
//! beside `Cargo.toml`, named as `"../airlock.toml"` from `src/lib.rs`):
//!
//! ```toml
//! id = "acme.order-notifier"
//! name = "Order Notifier"
//! publisher = "Acme Labs"
//! version = "1.0.0"
//! kind = "messaging"
//! events = ["order.created"]
//!
//! [[scopes.required]]
//! scope = "orders:read"
//! reason = "Read the order that was placed"
//!
//! [[scopes.required]]
//! scope = "customers:read"
//! reason = "Find who placed it"
//!
//! [[scopes.optional]]
//! scope = "customers:read-contact"
//! reason = "Greet the customer by name"
//! ```

#[doc(hidden)]
#[allow(missing_docs)]
pub mod __bindings {
    wit_bindgen::generate!({
        world: "connector",
        path: "../wit",
        pub_export_macro: true,
        export_macro_name: "__export_connector",
        default_bindings_module: "airlock_sdk::__bindings",
    });
}

use __bindings::airlock::connector as raw;

pub mod customers;
pub mod http;
pub mod inventory;
pub mod inventory_updates;
pub mod log;
pub mod order_updates;
pub mod orders;
pub mod secrets;
pub mod storage;

mod scope;

pub use raw::types::{
    Address, ConnectorError, Customer, Event, FinancialStatus, FulfillmentStatus, HostError,
    InventoryLevel, LineItem, Money, Order, OrderQuery, Outcome, Scope,
};

/// What a connector implements. `health_check` has a default; `handle_event` does not.
///
/// Return the [`ConnectorError`] that says where the merchant must look: the provider
/// account (`auth-expired`, `invalid-credentials`, `credentials-changed`,
/// `verification-required`), its billing (`billing-issue`, `plan-expired`, `usage-limit`), its
/// rules (`policy-restricted` with the provider's words), the provider itself
/// (`provider-unavailable`, `rate-limited`, `provider-api-changed`), the app's settings
/// (`config`), or the grant (`permission-missing`, which `?` on a denied host call gives).
pub trait Connector {
    /// Handle one event the connector subscribed to. Delivery is at least once: use
    /// `event.id` to skip repeats.
    fn handle_event(event: Event) -> Result<Outcome, ConnectorError>;

    /// Check the provider is reachable with the current configuration.
    fn health_check() -> Result<(), ConnectorError> {
        Ok(())
    }
}

impl Outcome {
    /// The connector did its work; `summary` is one line for the merchant's activity view.
    pub fn acted(summary: impl Into<String>) -> Outcome {
        Outcome {
            acted: true,
            summary: summary.into(),
        }
    }

    /// The event did not concern this connector.
    pub fn ignored(summary: impl Into<String>) -> Outcome {
        Outcome {
            acted: false,
            summary: summary.into(),
        }
    }
}

/// A denied host call becomes the merchant-facing `permission-missing(scope)`; other host
/// failures keep their meaning in words, so `?` on a host call does the right thing.
impl From<HostError> for ConnectorError {
    fn from(err: HostError) -> Self {
        match err {
            HostError::Denied(scope) => ConnectorError::PermissionMissing(scope),
            HostError::NotFound => ConnectorError::Other("record not found".into()),
            HostError::InvalidInput(why) => ConnectorError::Other(format!("invalid input: {why}")),
            HostError::LimitExceeded(why) => {
                ConnectorError::Other(format!("host limit reached: {why}"))
            }
            HostError::Unavailable => {
                ConnectorError::Other("store data temporarily unavailable".into())
            }
        }
    }
}

/// The manifest as `export!` embeds it: the contract's frame header, then the TOML. `repr(C)`
/// over byte arrays, so the static's bytes are exactly the frame.
#[doc(hidden)]
#[repr(C)]
pub struct __ManifestFrame<const N: usize> {
    header: [u8; airlock_contract::MANIFEST_FRAME_HEADER],
    toml: [u8; N],
}

impl<const N: usize> __ManifestFrame<N> {
    /// `toml` in its frame.
    pub const fn new(toml: [u8; N]) -> Self {
        __ManifestFrame {
            header: airlock_contract::manifest_frame_header(N),
            toml,
        }
    }
}

/// Export a [`Connector`] and embed its manifest (path relative to the invoking file):
/// `airlock_sdk::export!(MyConnector, manifest = "../airlock.toml");`
#[macro_export]
macro_rules! export {
    ($ty:ty, manifest = $path:literal) => {
        const _: () = {
            // A custom section travels inside the component, so the `.wasm` alone is the
            // artifact and its digest pins the manifest too. Framed (magic and length), so
            // bytes a dependency adds to the same section cannot pass for part of it.
            #[unsafe(link_section = "airlock-manifest")]
            #[used]
            static AIRLOCK_MANIFEST: $crate::__ManifestFrame<{ include_bytes!($path).len() }> =
                $crate::__ManifestFrame::new(*include_bytes!($path));
        };
        $crate::export!($ty);
    };
    ($ty:ty) => {
        struct __AirlockExport;

        impl $crate::__bindings::exports::airlock::connector::handler::Guest for __AirlockExport {
            fn handle_event(event: $crate::Event) -> ::core::result::Result<$crate::Outcome, $crate::ConnectorError> {
                <$ty as $crate::Connector>::handle_event(event)
            }

            fn health_check() -> ::core::result::Result<(), $crate::ConnectorError> {
                <$ty as $crate::Connector>::health_check()
            }
        }

        $crate::__bindings::__export_connector!(__AirlockExport with_types_in $crate::__bindings);
    };
}
