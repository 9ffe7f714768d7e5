//! `airlock:connector/secrets`: the installation's secrets that the manifest declares
//! `readable = true`. Prefer [`http::secret`](crate::http::secret): a key attached by the host
//! is never in the connector's memory.

use crate::{HostError, raw};

/// The value of secret `name`: `InvalidInput` unless declared readable, `NotFound` when the
/// merchant has not set it yet.
pub fn get(name: &str) -> Result<String, HostError> {
    raw::secrets::get(name)
}
