//! The record of a call's outbound requests: origin, method, status and cause, never paths,
//! headers or bodies. Kept here so outbound HTTP and the report share one shape.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError};
use std::time::Instant;

use serde::Serialize;

use super::CallContext;
use crate::failure::ConnectorFailure;
use crate::text::sanitize;

/// Outbound requests one report lists; more are still refused or served, not listed.
const MAX_OUTBOUND_RECORDS: usize = 64;
/// Longest refusal or failure text kept per request, in characters.
const MAX_ERROR_CHARS: usize = 300;

/// One outbound request as the merchant and platform see it: origin, never path or query
/// (they can carry customer data), and never headers (they can carry keys).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutboundCall {
    /// Where it went.
    pub origin: String,
    /// HTTP method.
    pub method: String,
    /// The provider's status code, when it answered.
    pub status: Option<u16>,
    /// Why the host refused or the transport failed, when it did.
    pub error: Option<String>,
    /// True when the host refused it before connecting.
    pub refused: bool,
    /// What the answer means for the merchant, when it is a failure with a known cause.
    pub cause: Option<ConnectorFailure>,
    /// Response body bytes the connector read.
    pub bytes_received: u64,
    /// Time to the response head (or the failure), in milliseconds.
    pub elapsed_ms: u64,
}

/// What a request still waiting for its answer shows when the call's report is made: the
/// call ended first (its deadline, or it was stopped), since the report waits for nothing.
const UNANSWERED: &str = "no answer before the call ended (its deadline, or it was stopped)";

/// An outbound call being recorded: the byte count keeps moving while the body is read.
pub(crate) struct OutboundEntry {
    pub call: OutboundCall,
    pub received: Arc<AtomicU64>,
    /// When the request was sent, while it waits for its answer.
    pub waiting_since: Option<Instant>,
}

/// Where a request recorded before its answer is, so the answer can be filled in.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OutboundSlot(Option<usize>);

impl CallContext {
    /// Record one outbound request; `received` keeps counting while its body is read.
    pub fn record_outbound(&self, call: OutboundCall, received: Arc<AtomicU64>) {
        self.push_outbound(call, received, None);
    }

    /// Record a request as it is sent, before its answer: a call that ends while the provider
    /// is still silent (the outer timeout fires a tick after the deadline) then still lists it.
    pub(crate) fn begin_outbound(
        &self,
        call: OutboundCall,
        received: Arc<AtomicU64>,
    ) -> OutboundSlot {
        self.push_outbound(call, received, Some(Instant::now()))
    }

    /// Fill in the answer (or failure) of a request recorded by [`Self::begin_outbound`].
    pub(crate) fn settle_outbound(
        &self,
        slot: OutboundSlot,
        settle: impl FnOnce(&mut OutboundCall),
    ) {
        let mut entries = self.outbound.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(entry) = slot.0.and_then(|i| entries.get_mut(i)) {
            settle(&mut entry.call);
            // A refusal can quote a header name the connector chose, of any length.
            entry.call.error = entry
                .call
                .error
                .take()
                .map(|e| sanitize(&e, MAX_ERROR_CHARS));
            entry.waiting_since = None;
        }
    }

    fn push_outbound(
        &self,
        mut call: OutboundCall,
        received: Arc<AtomicU64>,
        waiting_since: Option<Instant>,
    ) -> OutboundSlot {
        let mut entries = self.outbound.lock().unwrap_or_else(PoisonError::into_inner);
        // Bounded: a connector looping on refused requests must not grow host memory.
        if entries.len() >= MAX_OUTBOUND_RECORDS {
            return OutboundSlot(None);
        }
        call.origin = sanitize(&call.origin, 200);
        call.method = sanitize(&call.method, 16);
        // A refusal can quote a header name the connector chose, of any length.
        call.error = call.error.map(|e| sanitize(&e, MAX_ERROR_CHARS));
        entries.push(OutboundEntry {
            call,
            received,
            waiting_since,
        });
        OutboundSlot(Some(entries.len() - 1))
    }

    /// Every outbound request so far, in order, with bytes read up to now.
    pub fn outbound(&self) -> Vec<OutboundCall> {
        self.outbound
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|e| OutboundCall {
                bytes_received: e.received.load(Ordering::Relaxed),
                error: match e.waiting_since {
                    Some(_) => Some(UNANSWERED.to_owned()),
                    None => e.call.error.as_deref().map(|m| self.redact(m)),
                },
                elapsed_ms: e.waiting_since.map_or(e.call.elapsed_ms, |since| {
                    since.elapsed().as_millis() as u64
                }),
                origin: self.redact(&e.call.origin),
                method: self.redact(&e.call.method),
                ..e.call.clone()
            })
            .collect()
    }
}
