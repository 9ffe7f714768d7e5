//! `airlock:connector/storage`: the connector's own key-value space, private to this
//! installation and deleted with it. Needs no scope.

use crate::{HostError, raw};

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
