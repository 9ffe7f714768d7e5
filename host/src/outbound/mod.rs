//! Outbound HTTP for connectors: `wasi:http/outgoing-handler`, with Airlock doing the
//! connecting. Every request is checked before a single packet leaves:
//!
//! - absolute URIs only, and only to an origin (scheme, host, port) the manifest declares and
//!   the merchant approved with the app (`checks`);
//! - the name is resolved once, each address is vetted (no loopback, private, link-local,
//!   CGNAT, multicast or unspecified address unless the platform allows that exact IP), and
//!   the vetted address is the one connected to, so DNS rebinding has nothing to rebind
//!   (`policy`);
//! - `{{secret:NAME}}` in a header is filled by the host only when NAME is declared for that
//!   origin, so a connector uses a key it never sees and cannot send it anywhere else
//!   (`placeholders`, parsed once);
//! - redirects are returned to the connector, never followed: a new request to the
//!   `Location` goes through these same checks;
//! - request and response bodies are capped in bytes (`body`), and connecting, waiting and
//!   reading all count against the call's deadline (`transport`); what an answer means for the
//!   merchant is in `causes`.

mod body;
mod causes;
mod checks;
mod placeholders;
mod policy;
mod transport;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Instant;

use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody, WasiHttpHooks};

pub use crate::call::OutboundCall;
pub use causes::provider_cause;
pub use checks::SecretPlacement;
pub(crate) use policy::Network;
pub use policy::{NetworkPolicy, PrivateAccess, TlsSetupError, is_prohibited};

use crate::call::CallContext;
use crate::commerce::SecretSource;
use crate::limits::Limits;
use crate::origin::Origin;
use transport::{IoFuture, Job, Sent};

/// The host function name outbound requests are counted under in the access log.
pub const OPERATION: &str = "http.request";

/// What the report says of a request refused because the host runs offline
/// ([`NetworkPolicy::offline`]): it passed every check and its secrets were filled, and it
/// was not sent.
pub const OFFLINE_REFUSAL: &str =
    "no network in this run: the request passed every check and was not sent";

/// The caps of one call's outbound requests, from its limits.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BodyCaps {
    /// Requests per call.
    pub requests: u32,
    /// Bytes of one request body.
    pub request_bytes: u64,
    /// Bytes of one response body.
    pub response_bytes: u64,
}

impl BodyCaps {
    /// The caps `limits` set.
    pub(crate) fn of(limits: &Limits) -> Self {
        BodyCaps {
            requests: limits.max_outbound_requests,
            request_bytes: limits.max_request_bytes,
            response_bytes: limits.max_response_bytes,
        }
    }
}

/// The outbound-HTTP capability of one invocation: the wasi-http hooks Airlock installs.
pub(crate) struct Outbound {
    call: Arc<CallContext>,
    network: Arc<Network>,
    /// Origins the app may call: declared in its manifest, approved with it.
    allowed: Arc<Vec<Origin>>,
    /// For each secret name, the origins and headers the host may attach it to.
    send_to: Arc<HashMap<String, SecretPlacement>>,
    secrets: Option<Arc<dyn SecretSource>>,
    deadline: Instant,
    caps: BodyCaps,
    requests: u32,
}

impl Outbound {
    /// The hooks of one invocation.
    pub(crate) fn new(
        call: Arc<CallContext>,
        network: Arc<Network>,
        allowed: Arc<Vec<Origin>>,
        send_to: Arc<HashMap<String, SecretPlacement>>,
        secrets: Option<Arc<dyn SecretSource>>,
        deadline: Instant,
        caps: BodyCaps,
    ) -> Self {
        Outbound {
            call,
            network,
            allowed,
            send_to,
            secrets,
            deadline,
            caps,
            requests: 0,
        }
    }

    /// Record a request refused before connecting and hand the guest its error.
    fn refuse(&self, origin: String, method: String, error: HttpError, why: String) -> Sent {
        let call = OutboundCall {
            origin,
            method,
            status: None,
            error: Some(why),
            refused: true,
            cause: None,
            bytes_received: 0,
            elapsed_ms: 0,
        };
        self.call.record_outbound(call, Arc::new(AtomicU64::new(0)));
        Err(error)
    }
}

type SendFuture = Box<dyn std::future::Future<Output = Sent> + Send>;

impl WasiHttpHooks for Outbound {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        _options: Option<RequestOptions>,
        _fut: IoFuture,
    ) -> SendFuture {
        self.requests += 1;
        let started = Instant::now();
        let method = request.method().to_string();
        let origin = Origin::of_uri(request.uri());
        let shown = origin
            .as_ref()
            .map_or_else(|| "(relative URI)".to_owned(), Origin::to_string);
        if self.requests > self.caps.requests {
            // Refused, and the call ends at the next tick: a loop of refused requests is not
            // free for the host either.
            self.call.outbound_spent(self.caps.requests);
            let why = format!("at most {} outbound requests per call", self.caps.requests);
            let sent = self.refuse(shown, method, HttpError::ConnectionLimitReached, why);
            return Box::new(async move { sent });
        }
        let checked = match checks::check(&request, origin, &self.allowed, &self.send_to) {
            Ok(checked) => checked,
            Err(refusal) => {
                let sent = self.refuse(shown, method, refusal.error, refusal.why);
                return Box::new(async move { sent });
            }
        };
        let job = Job {
            call: self.call.clone(),
            network: self.network.clone(),
            secrets: self.secrets.clone(),
            deadline: self.deadline,
            caps: self.caps,
            origin: checked.origin,
            method,
            started,
        };
        Box::new(job.run(request, checked.fills))
    }
}
