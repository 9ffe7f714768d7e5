//! Outbound HTTP for connectors: `wasi:http/outgoing-handler`, with Airlock doing the
//! connecting. Every request is checked before a single packet leaves:
//!
//! - absolute URIs only, and only to an origin (scheme, host, port) the manifest declares and
//!   the merchant approved with the app;
//! - the name is resolved once, each address is vetted (no loopback, private, link-local,
//!   CGNAT, multicast or unspecified address unless the platform allows that exact IP), and
//!   the vetted address is the one connected to, so DNS rebinding has nothing to rebind;
//! - `{{secret:NAME}}` in a header is filled by the host only when NAME is declared for that
//!   origin, so a connector uses a key it never sees and cannot send it anywhere else;
//! - redirects are returned to the connector, never followed: a new request to the
//!   `Location` goes through these same checks;
//! - request and response bodies are capped in bytes, and connecting, waiting and reading
//!   all count against the call's deadline.

use std::collections::HashMap;
use std::future::{Future, poll_fn};
use std::net::{IpAddr, SocketAddr};
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::HeaderValue;
use http_body::{Body, Frame};
use http_body_util::BodyExt;
use serde::Serialize;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use wasmtime_wasi_http::io::TokioIo;
use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody, WasiHttpHooks};

use crate::db::secrets::Secrets;
use crate::origin::{Origin, Scheme};
use crate::runtime::ConnectorFailure;
use crate::state::CallContext;

/// The host function name outbound requests are counted under in the access log.
pub const OPERATION: &str = "http.request";

/// Platform-wide network rules for connectors.
#[derive(Debug, Clone, Default)]
pub struct NetworkPolicy {
    /// Exact IPs connectors may reach even though they are loopback or private (a platform's
    /// own sidecar, or tests' local providers). Empty by default.
    pub allow_private: Vec<IpAddr>,
    /// Static name resolution, like curl's `--resolve`: `(host, port)` to the address used
    /// instead of DNS (staging providers, tests). The vetting rules still apply.
    pub resolve: HashMap<(String, u16), SocketAddr>,
    /// Extra trusted root certificates (DER), for providers behind a private CA.
    pub extra_roots: Vec<Vec<u8>>,
}

impl NetworkPolicy {
    /// Allow one exact IP that would otherwise be refused as private or loopback.
    pub fn allow_private_ip(mut self, ip: IpAddr) -> Self {
        self.allow_private.push(ip);
        self
    }

    /// Resolve `host:port` to `addr` instead of asking DNS.
    pub fn resolve(mut self, host: &str, port: u16, addr: SocketAddr) -> Self {
        self.resolve.insert((host.to_ascii_lowercase(), port), addr);
        self
    }

    /// Trust one more root certificate (DER).
    pub fn trust_root(mut self, der: Vec<u8>) -> Self {
        self.extra_roots.push(der);
        self
    }
}

/// The network side shared by every invocation of a host: the policy and one TLS client
/// configuration.
pub(crate) struct Network {
    policy: NetworkPolicy,
    tls: Arc<rustls::ClientConfig>,
}

/// Why a TLS client could not be configured.
#[derive(Debug, thiserror::Error)]
#[error("cannot configure TLS for outbound requests: {0}")]
pub struct TlsSetupError(String);

impl Network {
    pub(crate) fn new(policy: NetworkPolicy) -> Result<Network, TlsSetupError> {
        let mut roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.into(),
        };
        for der in &policy.extra_roots {
            roots
                .add(rustls::pki_types::CertificateDer::from(der.clone()))
                .map_err(|e| TlsSetupError(format!("extra root certificate: {e}")))?;
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsSetupError(e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Network {
            policy,
            tls: Arc::new(tls),
        })
    }
}

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

/// An outbound call being recorded: the byte count keeps moving while the body is read.
pub(crate) struct OutboundEntry {
    pub call: OutboundCall,
    pub received: Arc<AtomicU64>,
}

/// The cause a provider's answer points to, following common API conventions: 401 means the
/// credentials are wrong, or expired when the provider says so; 403 that the key lacks rights
/// at the provider; 402 a billing or usage limit; 429 rate limiting (with `Retry-After`); 5xx
/// the provider being down.
pub fn provider_cause(status: u16, headers: &http::HeaderMap) -> Option<ConnectorFailure> {
    let header = |name: http::header::HeaderName| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase()
    };
    match status {
        401 => {
            let challenge = header(http::header::WWW_AUTHENTICATE);
            if challenge.contains("expired") || challenge.contains("invalid_token") {
                Some(ConnectorFailure::AuthExpired)
            } else {
                Some(ConnectorFailure::InvalidCredentials)
            }
        }
        403 => Some(ConnectorFailure::InvalidCredentials),
        402 => Some(ConnectorFailure::UsageLimit),
        429 => Some(ConnectorFailure::RateLimited {
            retry_after_secs: retry_after(&header(http::header::RETRY_AFTER)),
        }),
        500..=599 => Some(ConnectorFailure::ProviderUnavailable),
        _ => None,
    }
}

/// `Retry-After` as seconds: delta-seconds, or an HTTP date from now.
fn retry_after(value: &str) -> Option<u32> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u32>() {
        return Some(secs);
    }
    let when = httpdate(value)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_secs();
    Some(u32::try_from(when.saturating_sub(now)).unwrap_or(u32::MAX))
}

/// Parse an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) to Unix seconds.
fn httpdate(value: &str) -> Option<u64> {
    let parts: Vec<&str> = value.split_whitespace().collect();
    let [_, day, month, year, time, "gmt"] = parts.as_slice() else {
        return None;
    };
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let month = MONTHS.iter().position(|m| m == month)? as u64 + 1;
    let (day, year): (u64, u64) = (day.parse().ok()?, year.parse().ok()?);
    // Providers' dates are after 1970 and shaped as dates; anything else is ignored, and
    // no field can overflow the arithmetic below.
    if !(1970..=9999).contains(&year) || !(1..=31).contains(&day) {
        return None;
    }
    let hms: Vec<u64> = time
        .split(':')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let [h, m, s] = hms.as_slice() else {
        return None;
    };
    if *h > 23 || *m > 59 || *s > 60 {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm), valid for years after 1970.
    let (y, mo) = if month <= 2 {
        (year - 1, month + 9)
    } else {
        (year, month - 3)
    };
    let era = y / 400;
    let yoe = y - era * 400;
    let doy = (153 * mo + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = (era * 146_097 + doe).checked_sub(719_468)?;
    Some(days * 86_400 + h * 3600 + m * 60 + s)
}

/// The cause a transport failure points to: the provider could not be reached.
fn transport_cause(err: &HttpError) -> Option<ConnectorFailure> {
    match err {
        HttpError::Connect(_)
        | HttpError::ConnectionRefused
        | HttpError::ConnectionTimeout
        | HttpError::ConnectionReadTimeout
        | HttpError::ConnectionTerminated
        | HttpError::HttpResponseTimeout
        | HttpError::Hyper(_)
        | HttpError::Tls(_)
        | HttpError::DnsError { .. }
        | HttpError::DnsTimeout => Some(ConnectorFailure::ProviderUnavailable),
        _ => None,
    }
}

/// Addresses no connector may reach unless the platform allows the exact IP: they belong to
/// the host, its network, or cloud metadata services (169.254.169.254).
pub fn is_prohibited(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b)) // carrier-grade NAT
                || (a == 198 && (b == 18 || b == 19)) // benchmarking
                || (a == 192 && b == 0 && v4.octets()[2] == 0) // IETF protocol assignments
                || a >= 240
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_prohibited(IpAddr::V4(v4));
            }
            let seg = v6.segments();
            // IPv4-compatible (::a.b.c.d) and 6to4 (2002:a.b.c.d::) carry an IPv4 address
            // that must pass the same test.
            if seg[..6].iter().all(|s| *s == 0) {
                let [.., a, b] = seg;
                let embedded =
                    std::net::Ipv4Addr::new((a >> 8) as u8, a as u8, (b >> 8) as u8, b as u8);
                return is_prohibited(IpAddr::V4(embedded));
            }
            if seg[0] == 0x2002 {
                let embedded = std::net::Ipv4Addr::new(
                    (seg[1] >> 8) as u8,
                    seg[1] as u8,
                    (seg[2] >> 8) as u8,
                    seg[2] as u8,
                );
                if is_prohibited(IpAddr::V4(embedded)) {
                    return true;
                }
            }
            let first = seg[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local
                || (first & 0xffc0) == 0xfe80 // link-local
                || (first == 0x64 && v6.segments()[1] == 0xff9b) // NAT64 to any v4
                || (first == 0x2001 && v6.segments()[1] == 0x0db8) // documentation
                || (first == 0x2001 && v6.segments()[1] == 0) // Teredo
                || (first & 0xffc0) == 0xfec0 // site-local (deprecated)
                || (first == 0x0100 && seg[1..4].iter().all(|s| *s == 0)) // discard-only
        }
    }
}

/// Headers a secret may be attached in. Providers echo some headers back (`Origin`, custom
/// ones on TRACE), which would hand the key to the connector; credential headers are not
/// echoed by the APIs connectors call.
fn credential_header(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name == "authorization"
        || ["key", "token", "auth", "signature", "secret"]
            .iter()
            .any(|part| name.contains(part))
}

/// Where a `{{secret:NAME}}` placeholder starts.
const PLACEHOLDER: &str = "{{secret:";

/// The secret names a header value refers to, or `Err` for a malformed placeholder.
fn placeholders(value: &str) -> Result<Vec<&str>, ()> {
    let mut names = Vec::new();
    let mut rest = value;
    while let Some(start) = rest.find(PLACEHOLDER) {
        let after = &rest[start + PLACEHOLDER.len()..];
        let end = after.find("}}").ok_or(())?;
        names.push(&after[..end]);
        rest = &after[end + 2..];
    }
    Ok(names)
}

/// The outbound-HTTP capability of one invocation: the wasi-http hooks Airlock installs.
pub(crate) struct Outbound {
    pub(crate) call: Arc<CallContext>,
    pub(crate) network: Arc<Network>,
    /// Origins the app may call: declared in its manifest, approved with it.
    pub(crate) allowed: Arc<Vec<Origin>>,
    /// For each secret name, the origins the host may attach it to.
    pub(crate) send_to: Arc<HashMap<String, Vec<Origin>>>,
    pub(crate) secrets: Option<Arc<Secrets>>,
    pub(crate) deadline: Instant,
    pub(crate) max_requests: u32,
    pub(crate) max_request_bytes: u64,
    pub(crate) max_response_bytes: u64,
    pub(crate) requests: u32,
}

type SendFuture = Box<
    dyn Future<
            Output = Result<
                (
                    http::Response<WasiBody>,
                    Box<dyn Future<Output = Result<(), HttpError>> + Send>,
                ),
                HttpError,
            >,
        > + Send,
>;

impl WasiHttpHooks for Outbound {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        _options: Option<RequestOptions>,
        _fut: Box<dyn Future<Output = Result<(), HttpError>> + Send>,
    ) -> SendFuture {
        self.requests += 1;
        let started = Instant::now();
        let method = request.method().to_string();
        let origin = Origin::of_uri(request.uri());
        let shown = origin
            .as_ref()
            .map_or_else(|| "(relative URI)".to_owned(), Origin::to_string);
        let call = self.call.clone();
        let shown_method = method.clone();
        let refuse = move |error: HttpError, why: String| -> SendFuture {
            call.record_outbound(
                OutboundCall {
                    origin: shown,
                    method: shown_method,
                    status: None,
                    error: Some(why),
                    refused: true,
                    cause: None,
                    bytes_received: 0,
                    elapsed_ms: 0,
                },
                Arc::new(AtomicU64::new(0)),
            );
            Box::new(async move { Err(error) })
        };
        if self.requests > self.max_requests {
            // Refused, and the call ends at the next tick: a loop of refused requests is not
            // free for the host either.
            self.call.outbound_spent(self.max_requests);
            let why = format!("at most {} outbound requests per call", self.max_requests);
            return refuse(HttpError::ConnectionLimitReached, why);
        }
        let Some(origin) = origin else {
            return refuse(
                HttpError::HttpRequestUriInvalid,
                "only absolute http(s) URIs are allowed".into(),
            );
        };
        if !self.allowed.contains(&origin) {
            return refuse(
                HttpError::HttpRequestDenied,
                "origin not declared in the manifest and approved by the merchant".into(),
            );
        }
        // Every placeholder must name a secret declared for this very origin.
        let mut wanted: Vec<(http::HeaderName, String)> = Vec::new();
        for (name, value) in request.headers() {
            let Ok(text) = value.to_str() else { continue };
            let Ok(names) = placeholders(text) else {
                return refuse(
                    HttpError::HttpRequestDenied,
                    format!("malformed secret placeholder in header `{name}`"),
                );
            };
            if !names.is_empty() && !credential_header(name.as_str()) {
                return refuse(
                    HttpError::HttpRequestDenied,
                    format!(
                        "secrets go only in credential headers (authorization, *key*, *token*), not `{name}`"
                    ),
                );
            }
            if !names.is_empty() && matches!(request.method().as_str(), "TRACE" | "CONNECT") {
                return refuse(
                    HttpError::HttpRequestDenied,
                    "no secrets in TRACE or CONNECT requests".into(),
                );
            }
            for secret in names {
                let bound = self
                    .send_to
                    .get(secret)
                    .is_some_and(|origins| origins.contains(&origin));
                if !bound {
                    return refuse(
                        HttpError::HttpRequestDenied,
                        format!(
                            "secret `{}` may not be sent to {origin}",
                            crate::capabilities::log::sanitize(secret, 64)
                        ),
                    );
                }
            }
            if text.contains(PLACEHOLDER) {
                wanted.push((name.clone(), text.to_owned()));
            }
        }
        if request.uri().to_string().contains("secret:") {
            return refuse(
                HttpError::HttpRequestDenied,
                "secret placeholders are filled in headers only".into(),
            );
        }
        let job = Job {
            call: self.call.clone(),
            network: self.network.clone(),
            secrets: self.secrets.clone(),
            deadline: self.deadline,
            max_request_bytes: self.max_request_bytes,
            max_response_bytes: self.max_response_bytes,
            origin,
            method,
            started,
        };
        Box::new(job.run(request, wanted))
    }
}

/// The asynchronous half of one request, after the synchronous checks passed.
struct Job {
    call: Arc<CallContext>,
    network: Arc<Network>,
    secrets: Option<Arc<Secrets>>,
    deadline: Instant,
    max_request_bytes: u64,
    max_response_bytes: u64,
    origin: Origin,
    method: String,
    started: Instant,
}

trait Stream: AsyncRead + AsyncWrite + Send + Sync + Unpin + 'static {}
impl<T: AsyncRead + AsyncWrite + Send + Sync + Unpin + 'static> Stream for T {}

/// A failure before the response head, with whether the host refused it and what it shows.
struct Failure {
    error: HttpError,
    refused: bool,
    shown: String,
}

fn refused(error: HttpError, shown: impl Into<String>) -> Failure {
    Failure {
        error,
        refused: true,
        shown: shown.into(),
    }
}

fn failed(error: HttpError, shown: impl Into<String>) -> Failure {
    Failure {
        error,
        refused: false,
        shown: shown.into(),
    }
}

impl Job {
    fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    async fn run(
        self,
        request: http::Request<WasiBody>,
        wanted: Vec<(http::HeaderName, String)>,
    ) -> Result<
        (
            http::Response<WasiBody>,
            Box<dyn Future<Output = Result<(), HttpError>> + Send>,
        ),
        HttpError,
    > {
        let received = Arc::new(AtomicU64::new(0));
        let result = self.send(request, wanted, received.clone()).await;
        let elapsed_ms = self.started.elapsed().as_millis() as u64;
        let mut entry = OutboundCall {
            origin: self.origin.to_string(),
            method: self.method.clone(),
            status: None,
            error: None,
            refused: false,
            cause: None,
            bytes_received: 0,
            elapsed_ms,
        };
        match result {
            Ok((response, io)) => {
                entry.status = Some(response.status().as_u16());
                entry.cause = provider_cause(response.status().as_u16(), response.headers());
                self.call.record_outbound(entry, received);
                Ok((response, io))
            }
            Err(failure) => {
                entry.cause = (!failure.refused)
                    .then(|| transport_cause(&failure.error))
                    .flatten();
                entry.error = Some(failure.shown);
                entry.refused = failure.refused;
                self.call.record_outbound(entry, received);
                Err(failure.error)
            }
        }
    }

    async fn send(
        &self,
        mut request: http::Request<WasiBody>,
        wanted: Vec<(http::HeaderName, String)>,
        received: Arc<AtomicU64>,
    ) -> Result<
        (
            http::Response<WasiBody>,
            Box<dyn Future<Output = Result<(), HttpError>> + Send>,
        ),
        Failure,
    > {
        // The same gate as every host call: a revocation, disable or uninstall since the call
        // started stops its traffic too, and each request counts against the host-call quota.
        if let Err(err) = self.call.admit(OPERATION, None).await {
            return Err(refused(HttpError::HttpRequestDenied, format!("{err:?}")));
        }
        for (name, template) in wanted {
            let value = self.fill(&template).await?;
            let mut header = HeaderValue::from_str(&value).map_err(|_| {
                refused(
                    HttpError::HttpRequestDenied,
                    "secret is not a valid header value",
                )
            })?;
            header.set_sensitive(true);
            request.headers_mut().insert(name, header);
        }
        let addr = self.resolve().await?;
        let remaining = self.remaining();
        let tcp = match tokio::time::timeout(remaining, TcpStream::connect(addr)).await {
            Ok(Ok(tcp)) => tcp,
            Ok(Err(err)) => {
                let shown = format!("connect: {}", err.kind());
                return Err(failed(HttpError::Connect(err), shown));
            }
            Err(_) => return Err(failed(HttpError::ConnectionTimeout, "connect: deadline")),
        };
        let stream: Box<dyn Stream> = match self.origin.scheme {
            Scheme::Http => Box::new(tcp),
            Scheme::Https => {
                let name = rustls::pki_types::ServerName::try_from(self.origin.host.clone())
                    .map_err(|_| failed(HttpError::TlsProtocolError, "tls: bad server name"))?;
                let connector = tokio_rustls::TlsConnector::from(self.network.tls.clone());
                match tokio::time::timeout(self.remaining(), connector.connect(name, tcp)).await {
                    Ok(Ok(tls)) => Box::new(tls),
                    Ok(Err(err)) => {
                        let shown = format!("tls: {err}");
                        return Err(failed(HttpError::Tls(err), shown));
                    }
                    Err(_) => return Err(failed(HttpError::ConnectionTimeout, "tls: deadline")),
                }
            }
        };
        let handshake = hyper::client::conn::http1::handshake(TokioIo::new(stream));
        let (mut sender, conn) = match tokio::time::timeout(self.remaining(), handshake).await {
            Ok(Ok(pair)) => pair,
            Ok(Err(err)) => {
                let shown = format!("http: {err}");
                return Err(failed(HttpError::Hyper(err), shown));
            }
            Err(_) => return Err(failed(HttpError::ConnectionTimeout, "http: deadline")),
        };
        // Host names the vetted origin, whatever else the request carries (wasi:http already
        // forbids guests to set it; this keeps it true if that ever changes).
        let host_header = match self.origin.port == self.origin.scheme.default_port() {
            true => self.origin.host.clone(),
            false => format!("{}:{}", self.origin.host, self.origin.port),
        };
        if let Ok(value) = HeaderValue::from_str(&host_header) {
            request.headers_mut().insert(http::header::HOST, value);
        }
        // On the wire the request line carries the path only.
        let path = request
            .uri()
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_owned();
        *request.uri_mut() = http::Uri::builder()
            .path_and_query(path)
            .build()
            .map_err(|_| refused(HttpError::HttpRequestUriInvalid, "invalid path"))?;
        let deadline = tokio::time::Instant::from_std(self.deadline);
        let cap = self.max_request_bytes;
        let request = request.map(|body| {
            Capped::new(body, cap, deadline, Arc::new(AtomicU64::new(0)), |n| {
                HttpError::HttpRequestBodySize(Some(n))
            })
            .drawing_on(self.call.clone(), CallContext::put_out)
            .boxed_unsync()
        });
        let mut send = pin!(tokio::time::timeout(
            self.remaining(),
            sender.send_request(request)
        ));
        let mut conn = Some(conn);
        // Drive the connection while waiting for the response head.
        let head = poll_fn(|cx| match send.as_mut().poll(cx) {
            Poll::Ready(result) => Poll::Ready(result),
            Poll::Pending => {
                let Some(driver) = conn.as_mut() else {
                    return Poll::Pending;
                };
                let finished = ready!(Pin::new(driver).poll(cx));
                conn = None;
                match finished {
                    Ok(()) => send.as_mut().poll(cx),
                    Err(err) => Poll::Ready(Ok(Err(err))),
                }
            }
        })
        .await;
        let response = match head {
            Ok(Ok(response)) => response,
            Ok(Err(err)) => {
                let shown = format!("http: {err}");
                return Err(failed(HttpError::Hyper(err), shown));
            }
            Err(_) => {
                return Err(failed(
                    HttpError::ConnectionReadTimeout,
                    "no response before the call's deadline",
                ));
            }
        };
        // A provider that echoes a credential header back must not hand the key to the
        // connector: response headers carrying a secret this call attached are redacted.
        let mut response = response;
        for value in response.headers_mut().values_mut() {
            if let Ok(text) = value.to_str() {
                let cleaned = self.call.redact(text);
                if cleaned != text
                    && let Ok(replacement) = HeaderValue::from_str(&cleaned)
                {
                    *value = replacement;
                }
            }
        }
        let declared = response
            .headers()
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > self.max_response_bytes) {
            return Err(refused(
                HttpError::HttpResponseBodySize(declared),
                format!(
                    "response of {} bytes is over the {}-byte cap",
                    declared.unwrap_or(0),
                    self.max_response_bytes
                ),
            ));
        }
        let cap = self.max_response_bytes;
        let response = response.map(|body| {
            Capped::new(body, cap, deadline, received, |n| {
                HttpError::HttpResponseBodySize(Some(n))
            })
            .drawing_on(self.call.clone(), CallContext::take_input)
            .boxed_unsync()
        });
        let io: Box<dyn Future<Output = Result<(), HttpError>> + Send> = Box::new(async move {
            match conn {
                Some(conn) => conn.await.map_err(HttpError::from),
                None => Ok(()),
            }
        });
        Ok((response, io))
    }

    /// Replace each placeholder in `template` with its secret's value, which also joins the
    /// values this call must never show.
    async fn fill(&self, template: &str) -> Result<String, Failure> {
        let Some(secrets) = &self.secrets else {
            return Err(refused(
                HttpError::ConfigurationError,
                "the host has no vault key",
            ));
        };
        let mut out = String::with_capacity(template.len() + 32);
        let mut rest = template;
        while let Some(start) = rest.find(PLACEHOLDER) {
            out.push_str(&rest[..start]);
            let after = &rest[start + PLACEHOLDER.len()..];
            let end = after.find("}}").ok_or_else(|| {
                refused(HttpError::HttpRequestDenied, "malformed secret placeholder")
            })?;
            let name = &after[..end];
            match secrets.reveal(&self.call.installation, name).await {
                Ok(Some(value)) => {
                    self.call.remember_secret(&value);
                    out.push_str(&value);
                }
                Ok(None) => {
                    return Err(refused(
                        HttpError::ConfigurationError,
                        format!("secret `{name}` is not set"),
                    ));
                }
                Err(err) => {
                    eprintln!(
                        "airlock: secret `{name}` of {}: {err}",
                        self.call.installation
                    );
                    return Err(refused(
                        HttpError::ConfigurationError,
                        format!("secret `{name}` could not be opened"),
                    ));
                }
            }
            rest = &after[end + 2..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// The one address to connect to: from the platform's static table, the IP literal, or
    /// DNS, vetted here and never resolved again.
    async fn resolve(&self) -> Result<SocketAddr, Failure> {
        let policy = &self.network.policy;
        let key = (self.origin.host.clone(), self.origin.port);
        let candidates: Vec<SocketAddr> = if let Some(addr) = policy.resolve.get(&key) {
            vec![*addr]
        } else if let Some(ip) = self.origin.ip() {
            vec![SocketAddr::new(ip, self.origin.port)]
        } else {
            let lookup = tokio::net::lookup_host((self.origin.host.as_str(), self.origin.port));
            match tokio::time::timeout(self.remaining(), lookup).await {
                Ok(Ok(addrs)) => addrs.collect(),
                Ok(Err(err)) => {
                    return Err(failed(
                        HttpError::DnsError {
                            rcode: Some(err.kind().to_string()),
                            info_code: None,
                        },
                        format!("dns: {}", err.kind()),
                    ));
                }
                Err(_) => return Err(failed(HttpError::DnsTimeout, "dns: deadline")),
            }
        };
        let allowed = |addr: &SocketAddr| {
            !is_prohibited(addr.ip()) || policy.allow_private.contains(&addr.ip())
        };
        match candidates.iter().find(|a| allowed(a)) {
            Some(addr) => Ok(*addr),
            None if candidates.is_empty() => {
                Err(failed(HttpError::DestinationNotFound, "dns: no addresses"))
            }
            None => Err(refused(
                HttpError::DestinationIpProhibited,
                format!(
                    "{} resolves only to prohibited addresses ({})",
                    self.origin,
                    candidates
                        .iter()
                        .map(|a| a.ip().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
        }
    }
}

/// How a body draws on one of the call's byte allowances (`CallContext::put_out` or
/// `take_input`).
type Charge = fn(&CallContext, u64) -> bool;

/// A body cut off at `cap` bytes and at the call's deadline, counting what passed.
struct Capped<B> {
    inner: B,
    seen: u64,
    cap: u64,
    counter: Arc<AtomicU64>,
    deadline: Pin<Box<tokio::time::Sleep>>,
    over: fn(u64) -> HttpError,
    /// The call's byte allowance this body draws on (input for responses, output for requests).
    allowance: Option<(Arc<CallContext>, Charge)>,
}

impl<B> Capped<B> {
    fn new(
        inner: B,
        cap: u64,
        deadline: tokio::time::Instant,
        counter: Arc<AtomicU64>,
        over: fn(u64) -> HttpError,
    ) -> Self {
        Capped {
            inner,
            seen: 0,
            cap,
            counter,
            deadline: Box::pin(tokio::time::sleep_until(deadline)),
            over,
            allowance: None,
        }
    }

    fn drawing_on(mut self, call: Arc<CallContext>, charge: Charge) -> Self {
        self.allowance = Some((call, charge));
        self
    }
}

impl<B> Body for Capped<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<HttpError>,
{
    type Data = Bytes;
    type Error = HttpError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, HttpError>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.seen += data.len() as u64;
                    if this.seen > this.cap {
                        return Poll::Ready(Some(Err((this.over)(this.cap))));
                    }
                    if let Some((call, charge)) = &this.allowance
                        && !charge(call, data.len() as u64)
                    {
                        return Poll::Ready(Some(Err((this.over)(this.seen))));
                    }
                    this.counter.fetch_add(data.len() as u64, Ordering::Relaxed);
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(err))) => Poll::Ready(Some(Err(err.into()))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => {
                if this.deadline.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(Some(Err(HttpError::ConnectionReadTimeout)));
                }
                Poll::Pending
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_network_and_metadata_addresses_are_prohibited() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
            "192.0.0.8",
            "::7f00:1",
            "2002:a9fe:a9fe::1",
            "2001:0:4136:e378::1",
            "fec0::1",
            "100::1",
        ] {
            assert!(is_prohibited(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"] {
            assert!(!is_prohibited(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn provider_answers_map_to_merchant_causes() {
        let mut headers = http::HeaderMap::new();
        assert_eq!(
            provider_cause(401, &headers),
            Some(ConnectorFailure::InvalidCredentials)
        );
        headers.insert(
            http::header::WWW_AUTHENTICATE,
            HeaderValue::from_static(
                "Bearer error=\"invalid_token\", error_description=\"The access token expired\"",
            ),
        );
        assert_eq!(
            provider_cause(401, &headers),
            Some(ConnectorFailure::AuthExpired)
        );
        headers.insert(http::header::RETRY_AFTER, HeaderValue::from_static("30"));
        assert_eq!(
            provider_cause(429, &headers),
            Some(ConnectorFailure::RateLimited {
                retry_after_secs: Some(30)
            })
        );
        assert_eq!(
            provider_cause(503, &headers),
            Some(ConnectorFailure::ProviderUnavailable)
        );
        assert_eq!(
            provider_cause(402, &headers),
            Some(ConnectorFailure::UsageLimit)
        );
        assert_eq!(provider_cause(200, &headers), None);
        assert_eq!(provider_cause(404, &headers), None);
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        assert_eq!(retry_after("120"), Some(120));
        assert_eq!(httpdate("sun, 06 nov 1994 08:49:37 gmt"), Some(784_111_777));
        assert_eq!(
            retry_after(
                "Sun, 06 Nov 1994 08:49:37 GMT"
                    .to_ascii_lowercase()
                    .as_str()
            ),
            Some(0)
        );
        assert_eq!(retry_after("soon"), None);
        // Shapes that would overflow or underflow are ignored, never a panic.
        assert_eq!(httpdate("sun, 06 jan 0 08:49:37 gmt"), None);
        assert_eq!(httpdate("sun, 06 jan 2026 99999999999999:0:0 gmt"), None);
        assert_eq!(httpdate("sun, 99 jan 2026 01:00:00 gmt"), None);
    }

    #[test]
    fn secrets_go_only_in_credential_headers() {
        for ok in [
            "Authorization",
            "x-api-key",
            "X-Auth-Token",
            "api-signature",
        ] {
            assert!(credential_header(ok), "{ok}");
        }
        for echoed in [
            "origin",
            "referer",
            "x-request-id",
            "user-agent",
            "content-type",
        ] {
            assert!(!credential_header(echoed), "{echoed}");
        }
    }

    #[test]
    fn placeholders_are_found_and_malformed_ones_refused() {
        assert_eq!(
            placeholders("Bearer {{secret:gateway_key}}"),
            Ok(vec!["gateway_key"])
        );
        assert_eq!(
            placeholders("{{secret:a}}:{{secret:b}}"),
            Ok(vec!["a", "b"])
        );
        assert_eq!(placeholders("no secrets here"), Ok(vec![]));
        assert_eq!(placeholders("Bearer {{secret:open"), Err(()));
    }
}
