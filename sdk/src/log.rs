//! `airlock:connector/log`: lines the merchant and the platform can read. Needs no scope; the
//! host caps the lines per call and their length. Never log customer details or secrets.
//!
//! ```no_run
//! airlock_sdk::log::info("confirmation queued");
//! ```

use crate::raw::log::{Level, write};

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
