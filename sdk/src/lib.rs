//! Write Airlock commerce connectors in Rust.
//!
//! A connector is a WebAssembly component. Implement [`Connector`], name your manifest in
//! [`export!`], and build with `cargo build --target wasm32-wasip2 --release`: the resulting
//! `.wasm` is the whole artifact, manifest included. The host checks the merchant's grant on
//! every call; a call outside it returns [`HostError::Denied`] with the scope, never a crash.
//!
//! ```ignore
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
//! airlock_sdk::export!(Notifier, manifest = "../airlock.toml");
//! ```
//!
//! with `airlock.toml` beside `Cargo.toml`:
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

pub use raw::types::{
    Address, ConnectorError, Customer, Event, FinancialStatus, FulfillmentStatus, HostError,
    InventoryLevel, LineItem, Money, Order, OrderQuery, Outcome, Scope,
};

/// What a connector implements. Both functions have defaults except `handle_event`.
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

impl Scope {
    /// The scope's name as manifests spell it, such as `orders:read`.
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
}

/// The merchant's orders.
pub mod orders {
    use super::*;

    /// One order by id. Needs `orders:read`.
    pub fn get(id: &str) -> Result<Order, HostError> {
        raw::orders::get(id)
    }

    /// Orders matching `query`, newest first. Needs `orders:read`.
    pub fn list(query: OrderQuery) -> Result<Vec<Order>, HostError> {
        raw::orders::list(query)
    }

    /// Set the shipping state. Needs `orders:write`.
    pub fn set_fulfillment_status(id: &str, status: FulfillmentStatus) -> Result<(), HostError> {
        raw::orders::set_fulfillment_status(id, status)
    }

    /// Set the payment state. Needs `orders:write`.
    pub fn set_financial_status(id: &str, status: FinancialStatus) -> Result<(), HostError> {
        raw::orders::set_financial_status(id, status)
    }
}

/// The merchant's customers.
pub mod customers {
    use super::*;

    /// One customer by id. Needs `customers:read`; name, email, phone and address are `None`
    /// unless `customers:read-contact` is granted too.
    pub fn get(id: &str) -> Result<Customer, HostError> {
        raw::customers::get(id)
    }
}

/// The merchant's stock levels.
pub mod inventory {
    use super::*;

    /// Stock of one SKU. Needs `inventory:read`.
    pub fn get(sku: &str) -> Result<InventoryLevel, HostError> {
        raw::inventory::get(sku)
    }

    /// Up to `limit` SKUs after `after`, in SKU order. Needs `inventory:read`.
    pub fn list(after: Option<&str>, limit: u32) -> Result<Vec<InventoryLevel>, HostError> {
        raw::inventory::list(after, limit)
    }

    /// Add `delta` units (negative removes). Needs `inventory:write`.
    pub fn adjust(sku: &str, delta: i32) -> Result<(), HostError> {
        raw::inventory::adjust(sku, delta)
    }
}

/// The connector's own key-value space: private to this installation, deleted with it.
pub mod storage {
    use super::*;

    /// The value under `key`.
    pub fn get(key: &str) -> Result<Option<Vec<u8>>, HostError> {
        raw::storage::get(key)
    }

    /// Store `value` under `key`.
    pub fn set(key: &str, value: &[u8]) -> Result<(), HostError> {
        raw::storage::set(key, value)
    }

    /// Remove `key`.
    pub fn delete(key: &str) -> Result<(), HostError> {
        raw::storage::delete(key)
    }

    /// Keys starting with `prefix`.
    pub fn keys(prefix: &str) -> Result<Vec<String>, HostError> {
        raw::storage::list_keys(prefix)
    }
}

/// Lines the merchant and the platform can read. Never log customer details or secrets.
pub mod log {
    use super::raw::log::{Level, write};

    /// A debugging detail.
    pub fn debug(message: &str) {
        write(Level::Debug, message)
    }

    /// Normal progress.
    pub fn info(message: &str) {
        write(Level::Info, message)
    }

    /// Something the merchant may want to look at.
    pub fn warn(message: &str) {
        write(Level::Warn, message)
    }

    /// A failure.
    pub fn error(message: &str) {
        write(Level::Error, message)
    }
}

/// The installation's secrets that the manifest declares `readable = true`. Prefer
/// [`http::secret`]: a key attached by the host is never in the connector's memory.
pub mod secrets {
    use super::*;

    /// The value of secret `name`: `InvalidInput` unless declared readable, `NotFound` when
    /// the merchant has not set it yet.
    pub fn get(name: &str) -> Result<String, HostError> {
        raw::secrets::get(name)
    }
}

/// Outbound HTTP to the origins the manifest declares under `[[http]]`, through
/// `wasi:http/outgoing-handler`. The host checks every request (declared origin, no private
/// addresses, body caps, the call's deadline) and fills `{{secret:NAME}}` header placeholders
/// for origins the secret is declared for.
///
/// ```ignore
/// use airlock_sdk::http::{self, Request};
///
/// let response = Request::post("https://api.courier.example/v1/shipments")
///     .header("authorization", &format!("Bearer {}", http::secret("courier_key")))
///     .json(r#"{"order":"#1001"}"#)
///     .send()?            // host refusals and unreachable providers become ConnectorErrors
///     .error_for_status()?; // 401, 429, 5xx ... become the merchant-facing causes
/// ```
pub mod http {
    use super::ConnectorError;
    use wasip2::http::outgoing_handler;
    use wasip2::http::types::{
        ErrorCode, Fields, IncomingBody, Method, OutgoingBody, OutgoingRequest, Scheme,
    };
    use wasip2::io::streams::StreamError;

    /// The placeholder the host replaces with secret `name` (headers only).
    pub fn secret(name: &str) -> String {
        format!("{{{{secret:{name}}}}}")
    }

    /// Why a request got no response.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum HttpError {
        /// The host refused it: an origin the merchant did not approve, a private address, a
        /// secret not declared for this origin, a relative URI, too many requests.
        Refused(String),
        /// The provider could not be reached, or did not answer before the deadline.
        Unreachable(String),
        /// The response body was larger than the host allows.
        TooLarge,
        /// Anything else.
        Other(String),
    }

    impl core::fmt::Display for HttpError {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            match self {
                HttpError::Refused(why) => write!(f, "refused by the host: {why}"),
                HttpError::Unreachable(why) => write!(f, "provider unreachable: {why}"),
                HttpError::TooLarge => f.write_str("response too large"),
                HttpError::Other(why) => f.write_str(why),
            }
        }
    }

    /// The error code's name, such as `HttpRequestDenied`.
    fn name(code: &ErrorCode) -> String {
        let debug = format!("{code:?}");
        debug.trim_start_matches("ErrorCode::").to_owned()
    }

    fn from_code(code: ErrorCode) -> HttpError {
        use ErrorCode as E;
        let named = name(&code);
        match code {
            E::HttpRequestDenied
            | E::DestinationIpProhibited
            | E::HttpRequestUriInvalid
            | E::ConnectionLimitReached
            | E::ConfigurationError
            | E::HttpRequestBodySize(_) => HttpError::Refused(named),
            E::HttpResponseBodySize(_) => HttpError::TooLarge,
            E::DnsTimeout
            | E::DnsError(_)
            | E::DestinationNotFound
            | E::DestinationUnavailable
            | E::DestinationIpUnroutable
            | E::ConnectionRefused
            | E::ConnectionTerminated
            | E::ConnectionTimeout
            | E::ConnectionReadTimeout
            | E::ConnectionWriteTimeout
            | E::TlsProtocolError
            | E::TlsCertificateError
            | E::TlsAlertReceived(_)
            | E::HttpResponseIncomplete
            | E::HttpResponseTimeout
            | E::HttpProtocolError => HttpError::Unreachable(named),
            _ => HttpError::Other(named),
        }
    }

    /// Host refusals are configuration problems the merchant or publisher must fix; an
    /// unreachable provider is `provider-unavailable`.
    impl From<HttpError> for ConnectorError {
        fn from(err: HttpError) -> Self {
            match err {
                HttpError::Refused(why) => {
                    ConnectorError::Config(format!("request refused by the host: {why}"))
                }
                HttpError::Unreachable(_) => ConnectorError::ProviderUnavailable,
                HttpError::TooLarge => ConnectorError::Other("provider response too large".into()),
                HttpError::Other(why) => ConnectorError::Other(why),
            }
        }
    }

    /// An outbound request being built.
    #[derive(Debug, Clone)]
    pub struct Request {
        method: Method,
        url: String,
        headers: Vec<(String, Vec<u8>)>,
        body: Vec<u8>,
    }

    /// A provider's answer, body read in full (up to the host's cap).
    #[derive(Debug, Clone)]
    pub struct Response {
        /// Status code.
        pub status: u16,
        /// Headers, names in lowercase.
        pub headers: Vec<(String, Vec<u8>)>,
        /// Body bytes.
        pub body: Vec<u8>,
    }

    impl Request {
        /// A request with any method.
        pub fn new(method: &str, url: &str) -> Request {
            let method = match method {
                "GET" => Method::Get,
                "POST" => Method::Post,
                "PUT" => Method::Put,
                "PATCH" => Method::Patch,
                "DELETE" => Method::Delete,
                "HEAD" => Method::Head,
                other => Method::Other(other.to_owned()),
            };
            Request {
                method,
                url: url.to_owned(),
                headers: Vec::new(),
                body: Vec::new(),
            }
        }

        /// A GET request.
        pub fn get(url: &str) -> Request {
            Request::new("GET", url)
        }

        /// A POST request.
        pub fn post(url: &str) -> Request {
            Request::new("POST", url)
        }

        /// Add a header; the value may contain [`secret`] placeholders.
        pub fn header(mut self, name: &str, value: &str) -> Request {
            self.headers
                .push((name.to_ascii_lowercase(), value.as_bytes().to_vec()));
            self
        }

        /// Send `body` as JSON.
        pub fn json(mut self, body: &str) -> Request {
            self.body = body.as_bytes().to_vec();
            self.header("content-type", "application/json")
        }

        /// Send raw body bytes.
        pub fn body(mut self, body: &[u8]) -> Request {
            self.body = body.to_vec();
            self
        }

        /// Send the request and read the whole response. Redirects are returned, not
        /// followed: a request to the `location` goes through the host's checks again.
        pub fn send(self) -> Result<Response, HttpError> {
            let invalid = |what: &str| HttpError::Other(format!("invalid request {what}"));
            let headers = Fields::new();
            for (name, value) in &self.headers {
                headers
                    .append(name, value)
                    .map_err(|e| HttpError::Other(format!("header `{name}`: {e:?}")))?;
            }
            let request = OutgoingRequest::new(headers);
            request
                .set_method(&self.method)
                .map_err(|()| invalid("method"))?;
            // A relative URL is sent as it is: the host refuses it with a typed error.
            let (scheme, rest) = if let Some(rest) = self.url.strip_prefix("https://") {
                (Some(Scheme::Https), rest)
            } else if let Some(rest) = self.url.strip_prefix("http://") {
                (Some(Scheme::Http), rest)
            } else {
                (None, self.url.as_str())
            };
            let path = match scheme {
                Some(scheme) => {
                    let split = rest.find(['/', '?']).unwrap_or(rest.len());
                    let (authority, path) = rest.split_at(split);
                    request
                        .set_scheme(Some(&scheme))
                        .map_err(|()| invalid("scheme"))?;
                    request
                        .set_authority(Some(authority))
                        .map_err(|()| invalid("authority"))?;
                    if path.is_empty() {
                        "/".to_owned()
                    } else {
                        path.to_owned()
                    }
                }
                None => rest.to_owned(),
            };
            request
                .set_path_with_query(Some(&path))
                .map_err(|()| invalid("path"))?;
            let outgoing = request.body().map_err(|()| invalid("body"))?;
            let pending = outgoing_handler::handle(request, None).map_err(from_code)?;
            {
                let stream = outgoing.write().map_err(|()| invalid("body stream"))?;
                for chunk in self.body.chunks(4096) {
                    stream
                        .blocking_write_and_flush(chunk)
                        .map_err(|e| HttpError::Other(format!("writing the body: {e:?}")))?;
                }
            }
            OutgoingBody::finish(outgoing, None).map_err(from_code)?;
            let incoming = loop {
                match pending.get() {
                    Some(Ok(Ok(response))) => break response,
                    Some(Ok(Err(code))) => return Err(from_code(code)),
                    Some(Err(())) => return Err(HttpError::Other("response taken twice".into())),
                    None => pending.subscribe().block(),
                }
            };
            let status = incoming.status();
            let headers = incoming.headers().entries();
            let body = incoming.consume().map_err(|()| invalid("response body"))?;
            let bytes = read_all(&body)?;
            drop(body);
            Ok(Response {
                status,
                headers,
                body: bytes,
            })
        }
    }

    fn read_all(body: &IncomingBody) -> Result<Vec<u8>, HttpError> {
        let stream = body
            .stream()
            .map_err(|()| HttpError::Other("response stream taken".into()))?;
        let mut out = Vec::new();
        loop {
            match stream.blocking_read(64 * 1024) {
                Ok(chunk) => out.extend_from_slice(&chunk),
                Err(StreamError::Closed) => return Ok(out),
                Err(StreamError::LastOperationFailed(err)) => {
                    return Err(match wasip2::http::types::http_error_code(&err) {
                        Some(code) => from_code(code),
                        // Wasmtime 48 reports body errors as text only; read the two that
                        // matter (the host's size cap, and its deadline) off the text.
                        None => {
                            let text = err.to_debug_string();
                            if text.contains("body size exceeds limit") {
                                HttpError::TooLarge
                            } else if text.contains("timeout") || text.contains("timed out") {
                                HttpError::Unreachable(text)
                            } else {
                                HttpError::Other(text)
                            }
                        }
                    });
                }
            }
        }
    }

    impl Response {
        /// The first value of header `name` (case-insensitive), as text.
        pub fn header(&self, name: &str) -> Option<&str> {
            let name = name.to_ascii_lowercase();
            self.headers
                .iter()
                .find(|(n, _)| n.to_ascii_lowercase() == name)
                .and_then(|(_, v)| core::str::from_utf8(v).ok())
        }

        /// The body as text (lossy).
        pub fn text(&self) -> String {
            String::from_utf8_lossy(&self.body).into_owned()
        }

        /// This response if it is a success (2xx, or 3xx to handle yourself); otherwise the
        /// cause the merchant should see: 401 `invalid-credentials` (or `auth-expired` when
        /// the provider says the token expired), 403 `invalid-credentials`, 402 `usage-limit`,
        /// 429 `rate-limited` with `Retry-After`, 5xx `provider-unavailable`.
        pub fn error_for_status(self) -> Result<Response, ConnectorError> {
            let challenge = self
                .header("www-authenticate")
                .unwrap_or("")
                .to_ascii_lowercase();
            match self.status {
                200..=399 => Ok(self),
                401 if challenge.contains("expired") || challenge.contains("invalid_token") => {
                    Err(ConnectorError::AuthExpired)
                }
                401 | 403 => Err(ConnectorError::InvalidCredentials),
                402 => Err(ConnectorError::UsageLimit),
                429 => Err(ConnectorError::RateLimited(
                    self.header("retry-after")
                        .and_then(|v| v.trim().parse().ok()),
                )),
                500..=599 => Err(ConnectorError::ProviderUnavailable),
                status => Err(ConnectorError::Other(format!("provider answered {status}"))),
            }
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
            // artifact and its digest pins the manifest too.
            #[unsafe(link_section = "airlock-manifest")]
            #[used]
            static AIRLOCK_MANIFEST: [u8; include_bytes!($path).len()] = *include_bytes!($path);
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
