//! What every host call goes through, and nothing else: who is calling (merchant and
//! installation, from the invocation, never the plugin), the effective grant (re-read after a
//! revocation), the call and byte allowances, access accounting and redaction.
//!
//! A leaf of the crate: capabilities and outbound HTTP depend on it; it knows nothing of the
//! runtime, outbound HTTP or the database, so a capability can be tested with a bare
//! [`CallContext`] and an in-memory data source.

mod access;
mod allowance;
mod outbound;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

pub use access::Access;
pub(crate) use access::Served;
pub(crate) use allowance::{Allowances, Spent};
pub use outbound::OutboundCall;
pub(crate) use outbound::OutboundEntry;

use crate::bindings::airlock::connector::types::HostError;
use crate::grants::{Grant, Scope, ScopeSet};
use crate::ids::{InstallationId, MerchantId};
use crate::live::{GrantSource, Signal};
use crate::redact::Redactor;

/// Longest id or SKU a plugin may pass, in bytes.
pub(crate) const MAX_ID_BYTES: usize = 128;

/// How an invocation learns of revocations while it runs (see [`crate::live`]).
pub(crate) struct Live {
    /// The installation's change counter.
    pub signal: Arc<Signal>,
    /// The generation the invocation started under.
    pub started: u64,
    /// Where the grant is re-read after a change.
    pub source: Arc<dyn GrantSource>,
    /// Scopes the manifest declares.
    pub declared: ScopeSet,
    /// Scopes platform policy allows.
    pub policy: ScopeSet,
}

/// Who is calling and what they may do; shared by every capability of one invocation.
pub(crate) struct CallContext {
    /// The merchant of the invocation.
    pub merchant: MerchantId,
    /// The installation that runs.
    pub installation: InstallationId,
    /// Its connector id (from the manifest), for rules kept per connector.
    connector: String,
    /// The effective grant right now, as [`ScopeSet`] bits: lowered by a revocation mid-run.
    grant: AtomicU32,
    live: Option<Live>,
    /// The generation `grant` was last read at.
    seen: AtomicU64,
    stopped: AtomicBool,
    meter: allowance::Meter,
    accesses: Mutex<Vec<Access>>,
    outbound: Mutex<Vec<OutboundEntry>>,
    /// Secret values this call has seen, kept out of everything it leaves behind.
    redactor: Mutex<Redactor>,
    /// Orders this call marked paid: applied only if it ends successfully (fail closed).
    staged_paid: Mutex<Vec<String>>,
    /// Declared keys this call opened (by name, never value) and how often: the merchant's
    /// data-access report lists them.
    keys_used: Mutex<BTreeMap<String, u32>>,
}

impl CallContext {
    /// Remember that this call marked order `id` paid; the host applies it after the call,
    /// and only if the call returned success.
    pub fn stage_paid(&self, id: String) {
        let mut staged = self
            .staged_paid
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if !staged.contains(&id) {
            staged.push(id);
        }
    }

    /// The orders this call marked paid, in order.
    pub fn staged_paid(&self) -> Vec<String> {
        self.staged_paid
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Count one use of the declared key `name` (read, or filled into a request header).
    pub fn used_key(&self, name: &str) {
        let mut keys = self
            .keys_used
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        // Only names the vault had a value for arrive here, and the vault holds only declared
        // names: the map stays as small as the manifest's key list.
        *keys.entry(name.to_owned()).or_default() += 1;
    }

    /// The declared keys this call opened, with how many times, by name.
    pub fn keys_used(&self) -> Vec<(String, u32)> {
        let keys = self
            .keys_used
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        keys.iter().map(|(k, n)| (k.clone(), *n)).collect()
    }

    /// The context of one invocation of `installation` for `merchant` under `grant`.
    pub fn new(
        merchant: MerchantId,
        installation: InstallationId,
        grant: Grant,
        live: Option<Live>,
        allowances: Allowances,
    ) -> Self {
        let seen = live.as_ref().map_or(0, |l| l.started);
        CallContext {
            merchant,
            installation,
            connector: String::new(),
            grant: AtomicU32::new(grant.effective().bits()),
            live,
            seen: AtomicU64::new(seen),
            stopped: AtomicBool::new(false),
            meter: allowance::Meter::new(allowances),
            accesses: Mutex::new(Vec::new()),
            outbound: Mutex::new(Vec::new()),
            staged_paid: Mutex::new(Vec::new()),
            keys_used: Mutex::new(BTreeMap::new()),
            redactor: Mutex::new(Redactor::default()),
        }
    }

    /// The same context, for a call of `connector`.
    pub fn of_connector(mut self, connector: &str) -> Self {
        self.connector = connector.to_owned();
        self
    }

    /// The connector id of the call (empty when the caller never said).
    pub fn connector(&self) -> &str {
        &self.connector
    }

    /// Remember a secret value this call has seen, so it is redacted from what it leaves.
    pub fn remember_secret(&self, value: &str) {
        self.redactor
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .add(value);
    }

    /// `text` with every secret this call has seen replaced.
    pub fn redact(&self, text: &str) -> String {
        self.redactor
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .apply(text)
    }

    /// Redact every secret this call has seen from `headers` in place (response headers and
    /// trailers), whatever bytes their values hold.
    pub fn redact_headers(&self, headers: &mut http::HeaderMap) {
        self.redactor
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .apply_headers(headers);
    }

    /// True when the grant allows `scope` right now.
    pub fn allows(&self, scope: Scope) -> bool {
        ScopeSet::from_bits(self.grant.load(Ordering::SeqCst)).contains(scope)
    }

    /// Re-read the grant if the installation changed since it was last read. Fails closed: a
    /// store that cannot answer leaves the call with no grant until it can.
    async fn refresh(&self) {
        let Some(live) = &self.live else { return };
        let now = live.signal.generation();
        if now == self.seen.load(Ordering::SeqCst) {
            return;
        }
        if live.signal.stopped_since(live.started) {
            self.grant.store(0, Ordering::SeqCst);
            self.stopped.store(true, Ordering::SeqCst);
            return;
        }
        match live.source.approved(&self.installation).await {
            Ok(Some(approved)) => {
                let grant = Grant::new(live.declared, approved, live.policy);
                self.grant.store(grant.effective().bits(), Ordering::SeqCst);
                self.seen.store(now, Ordering::SeqCst);
            }
            Ok(None) => {
                self.grant.store(0, Ordering::SeqCst);
                self.stopped.store(true, Ordering::SeqCst);
                self.seen.store(now, Ordering::SeqCst);
            }
            Err(err) => {
                self.grant.store(0, Ordering::SeqCst);
                tracing::warn!(installation = %self.installation, error = %err,
                    "re-reading the grant failed; the call runs with none until it can");
            }
        }
    }

    /// The gate in front of every host call: count it against the quota, pick up any
    /// revocation, then check the scope. A refusal is recorded and returned as the typed error
    /// the plugin receives.
    pub async fn admit(
        &self,
        operation: &'static str,
        scope: Option<Scope>,
    ) -> Result<(), HostError> {
        if let Err(limit) = self.meter.count_call() {
            self.record(operation, scope, Served::Failed);
            return Err(HostError::LimitExceeded(format!(
                "at most {limit} host calls per invocation"
            )));
        }
        self.refresh().await;
        match scope {
            Some(scope) if !self.allows(scope) => {
                self.record(operation, Some(scope), Served::Denied);
                Err(HostError::Denied(scope.into()))
            }
            // Own-space calls need no scope, but not after the app was disabled or removed.
            None if self.stopped.load(Ordering::SeqCst) => {
                self.record(operation, None, Served::Denied);
                Err(HostError::Unavailable)
            }
            _ => Ok(()),
        }
    }

    /// [`Self::admit`], then refuse an empty or over-long id (recorded as a failed call).
    pub async fn admit_id(
        &self,
        operation: &'static str,
        scope: Option<Scope>,
        what: &str,
        id: &str,
    ) -> Result<(), HostError> {
        self.admit(operation, scope).await?;
        if id.is_empty() || id.len() > MAX_ID_BYTES {
            self.record(operation, scope, Served::Failed);
            return Err(HostError::InvalidInput(format!(
                "{what} must be 1 to {MAX_ID_BYTES} bytes"
            )));
        }
        Ok(())
    }

    /// The allowance the call ran through, if it did: the call must end.
    pub fn over_quota(&self) -> Option<Spent> {
        self.meter.over_quota()
    }

    /// Count `bytes` the connector puts out; false (and the call ends) once over the allowance.
    pub fn put_out(&self, bytes: u64) -> bool {
        self.meter.put_out(bytes)
    }

    /// Count `bytes` handed to the connector; false (and the call ends) once over the allowance.
    pub fn take_input(&self, bytes: u64) -> bool {
        self.meter.take_input(bytes)
    }

    /// End the call: it went past its outbound-request limit.
    pub fn outbound_spent(&self, limit: u32) {
        self.meter.spend(Spent::Outbound(limit));
    }

    /// How many host calls were made.
    pub fn host_calls(&self) -> u32 {
        self.meter.host_calls()
    }
}
