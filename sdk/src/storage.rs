//! `airlock:connector/storage`: the connector's own key-value space, private to this
//! installation and deleted with it. Needs no scope. Keys are at most 256 bytes, values at
//! most 64 KiB.
//!
//! ```no_run
//! use airlock_sdk::{ConnectorError, Event, storage};
//!
//! /// True the first time an event is seen (delivery is at least once).
//! fn first_time(event: &Event) -> Result<bool, ConnectorError> {
//!     let key = format!("seen/{}", event.id);
//!     if storage::get(&key)?.is_some() {
//!         return Ok(false);
//!     }
//!     storage::set(&key, b"1")?;
//!     Ok(true)
//! }
//! # let _ = first_time;
//! ```

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

/// Keys starting with `prefix`, in order, at most 1000.
pub fn keys(prefix: &str) -> Result<Vec<String>, HostError> {
    raw::storage::list_keys(prefix)
}
