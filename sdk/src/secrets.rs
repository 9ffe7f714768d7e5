//! `airlock:connector/secrets`: the installation's secrets that the manifest declares
//! `readable = true`. Prefer [`http::secret`](crate::http::secret): a key attached by the host
//! is never in the connector's memory. Calling [`get`] makes the component import this
//! interface, which needs a secret declared `readable = true` in the manifest.
//!
//! ```no_run
//! use airlock_sdk::{ConnectorError, secrets};
//!
//! fn signing_key() -> Result<String, ConnectorError> {
//!     Ok(secrets::get("webhook_signing_key")?)
//! }
//! # let _ = signing_key;
//! ```

use crate::{HostError, raw};

/// The value of secret `name`: `InvalidInput` unless declared readable, `NotFound` when the
/// merchant has not set it yet.
pub fn get(name: &str) -> Result<String, HostError> {
    raw::secrets::get(name)
}
