//! The per-call allowances: host calls, bytes out and bytes in. Running through one ends the
//! call at its next epoch tick, with the allowance as the reason.

use std::sync::Mutex;
use std::sync::PoisonError;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// What one call may use, from its limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Allowances {
    /// Host calls.
    pub host_calls: u32,
    /// Bytes the connector may put out: summary, log lines, storage writes, request bodies.
    pub output_bytes: u64,
    /// Bytes the host may hand it: storage values, secrets, response bodies.
    pub input_bytes: u64,
}

/// A per-call allowance the connector ran through; the epoch callback ends the call with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Spent {
    /// Kept calling the host after the quota.
    #[error("the host-call quota of {0} ran out")]
    HostCalls(u32),
    /// Put out more than allowed.
    #[error("the output allowance of {0} bytes ran out")]
    Output(u64),
    /// Was handed more than allowed.
    #[error("the input allowance of {0} bytes ran out")]
    Input(u64),
    /// Kept sending requests after the outbound-request limit.
    #[error("the outbound-request limit of {0} ran out")]
    Outbound(u32),
}

/// The counters of one call against its [`Allowances`].
pub(super) struct Meter {
    max: Allowances,
    host_calls: AtomicU32,
    output: AtomicU64,
    input: AtomicU64,
    /// The first allowance the call ran through, if any.
    spent: Mutex<Option<Spent>>,
}

impl Meter {
    pub(super) fn new(max: Allowances) -> Self {
        Meter {
            max,
            host_calls: AtomicU32::new(0),
            output: AtomicU64::new(0),
            input: AtomicU64::new(0),
            spent: Mutex::new(None),
        }
    }

    /// Remember the first allowance run through.
    pub(super) fn spend(&self, what: Spent) {
        self.spent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get_or_insert(what);
    }

    pub(super) fn over_quota(&self) -> Option<Spent> {
        *self.spent.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Count one host call; `Err(quota)` once past it.
    pub(super) fn count_call(&self) -> Result<(), u32> {
        let calls = self.host_calls.fetch_add(1, Ordering::Relaxed) + 1;
        if calls > self.max.host_calls {
            self.spend(Spent::HostCalls(self.max.host_calls));
            return Err(self.max.host_calls);
        }
        Ok(())
    }

    pub(super) fn put_out(&self, bytes: u64) -> bool {
        let total = self.output.fetch_add(bytes, Ordering::Relaxed) + bytes;
        if total > self.max.output_bytes {
            self.spend(Spent::Output(self.max.output_bytes));
            return false;
        }
        true
    }

    pub(super) fn take_input(&self, bytes: u64) -> bool {
        let total = self.input.fetch_add(bytes, Ordering::Relaxed) + bytes;
        if total > self.max.input_bytes {
            self.spend(Spent::Input(self.max.input_bytes));
            return false;
        }
        true
    }

    pub(super) fn host_calls(&self) -> u32 {
        self.host_calls.load(Ordering::Relaxed)
    }
}
