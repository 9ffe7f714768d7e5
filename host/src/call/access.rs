//! Access accounting: how each kind of host call went during one invocation, as counts and
//! scopes, never record contents. What the audit log and the merchant's review read.

use std::sync::PoisonError;

use serde::Serialize;

use super::CallContext;
use crate::bindings::airlock::connector::types::HostError;
use crate::commerce::DataError;
use crate::grants::Scope;

/// How one kind of host call went during an invocation: counts only, never record contents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Access {
    /// The host function, such as `orders.get`.
    pub operation: &'static str,
    /// The scope it needs, if any.
    pub scope: Option<Scope>,
    /// Calls allowed and served.
    pub allowed: u32,
    /// Calls refused because the grant lacks `scope`.
    pub denied: u32,
    /// Calls that found no record (or another merchant's, which looks the same).
    pub not_found: u32,
    /// Calls refused for bad input, a quota, or a data source failure.
    pub failed: u32,
    /// Records returned or changed.
    pub records: u64,
}

/// What a single host call came to, for the access log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Served {
    /// Served, touching this many records.
    Records(u64),
    /// Refused by the grant.
    Denied,
    /// No such record.
    NotFound,
    /// Bad input, quota or data source failure.
    Failed,
}

impl CallContext {
    /// Record how a single-record lookup ended and turn it into the plugin's answer.
    pub fn found<T>(
        &self,
        operation: &'static str,
        scope: Option<Scope>,
        looked_up: Result<Option<T>, DataError>,
    ) -> Result<T, HostError> {
        match looked_up {
            Ok(Some(record)) => {
                self.record(operation, scope, Served::Records(1));
                Ok(record)
            }
            Ok(None) => {
                self.record(operation, scope, Served::NotFound);
                Err(HostError::NotFound)
            }
            Err(err) => Err(self.unavailable(operation, scope, err)),
        }
    }

    /// Record how a list ended and turn it into the plugin's answer.
    pub fn listed<T>(
        &self,
        operation: &'static str,
        scope: Option<Scope>,
        listed: Result<Vec<T>, DataError>,
    ) -> Result<Vec<T>, HostError> {
        match listed {
            Ok(records) => {
                self.record(operation, scope, Served::Records(records.len() as u64));
                Ok(records)
            }
            Err(err) => Err(self.unavailable(operation, scope, err)),
        }
    }

    /// Record how a write of one record ended (`false`: no such record).
    pub fn changed(
        &self,
        operation: &'static str,
        scope: Option<Scope>,
        changed: Result<bool, DataError>,
    ) -> Result<(), HostError> {
        self.found(operation, scope, changed.map(|hit| hit.then_some(())))
    }

    /// A data source failure: the plugin learns only that it may retry; the operator gets the text.
    pub fn unavailable(
        &self,
        operation: &'static str,
        scope: Option<Scope>,
        err: DataError,
    ) -> HostError {
        self.record(operation, scope, Served::Failed);
        tracing::warn!(installation = %self.installation, operation, error = %err,
            "a data source failed a host call");
        HostError::Unavailable
    }

    /// Record how an admitted call ended.
    pub fn record(&self, operation: &'static str, scope: Option<Scope>, served: Served) {
        let mut accesses = self.accesses.lock().unwrap_or_else(PoisonError::into_inner);
        let index = match accesses.iter().position(|a| a.operation == operation) {
            Some(i) => i,
            None => {
                accesses.push(Access {
                    operation,
                    scope,
                    allowed: 0,
                    denied: 0,
                    not_found: 0,
                    failed: 0,
                    records: 0,
                });
                accesses.len() - 1
            }
        };
        let entry = &mut accesses[index];
        match served {
            Served::Records(n) => {
                entry.allowed += 1;
                entry.records += n;
            }
            Served::Denied => entry.denied += 1,
            Served::NotFound => entry.not_found += 1,
            Served::Failed => entry.failed += 1,
        }
    }

    /// Every host call made so far, by operation, in first-call order.
    pub fn accesses(&self) -> Vec<Access> {
        self.accesses
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}
