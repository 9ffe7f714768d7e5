//! The asynchronous half of one request, after the checks passed: fill the secrets, connect
//! to the one vetted address (TLS with rustls), send the head, and hand back a response whose
//! body is capped; then record what happened.

use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::task::{Poll, ready};
use std::time::{Duration, Instant};

use http::{HeaderName, HeaderValue};
use http_body_util::BodyExt;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use wasmtime_wasi_http::io::TokioIo;
use wasmtime_wasi_http::{Error as HttpError, WasiBody};

use super::body::Capped;
use super::causes::{provider_cause, transport_cause};
use super::placeholders::Template;
use super::policy::{Network, vetted_address};
use super::{BodyCaps, OPERATION};
use crate::call::{CallContext, OutboundCall};
use crate::commerce::SecretSource;
use crate::origin::{Origin, Scheme};

/// The connection driver the wasi-http machinery polls alongside the response.
pub(super) type IoFuture = Box<dyn Future<Output = Result<(), HttpError>> + Send>;

/// What a request came to: the response and its connection, or the error the guest sees.
pub(super) type Sent = Result<(http::Response<WasiBody>, IoFuture), HttpError>;

/// The asynchronous half of one request.
pub(super) struct Job {
    pub call: Arc<CallContext>,
    pub network: Arc<Network>,
    pub secrets: Option<Arc<dyn SecretSource>>,
    pub deadline: Instant,
    pub caps: BodyCaps,
    pub origin: Origin,
    pub method: String,
    pub started: Instant,
}

trait Stream: AsyncRead + AsyncWrite + Send + Sync + Unpin + 'static {}
impl<T: AsyncRead + AsyncWrite + Send + Sync + Unpin + 'static> Stream for T {}

/// A failure before the response head, with whether the host refused it and what it shows.
pub(super) struct Failure {
    error: HttpError,
    refused: bool,
    shown: String,
}

/// The host refused the request (a rule, not the network).
pub(super) fn refused(error: HttpError, shown: impl Into<String>) -> Failure {
    Failure {
        error,
        refused: true,
        shown: shown.into(),
    }
}

/// The network or the provider failed.
pub(super) fn failed(error: HttpError, shown: impl Into<String>) -> Failure {
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

    /// Send the request and record it in the call's report.
    pub(super) async fn run(
        self,
        request: http::Request<WasiBody>,
        fills: Vec<(HeaderName, Template)>,
    ) -> Sent {
        let received = Arc::new(AtomicU64::new(0));
        let sent = OutboundCall {
            origin: self.origin.to_string(),
            method: self.method.clone(),
            status: None,
            error: None,
            refused: false,
            cause: None,
            bytes_received: 0,
            elapsed_ms: 0,
        };
        let slot = self.call.begin_outbound(sent, received.clone());
        let result = self.send(request, fills, received).await;
        let elapsed_ms = self.started.elapsed().as_millis() as u64;
        match result {
            Ok((response, io)) => {
                let status = response.status().as_u16();
                let cause = provider_cause(status, response.headers());
                self.call.settle_outbound(slot, |entry| {
                    entry.status = Some(status);
                    entry.cause = cause;
                    entry.elapsed_ms = elapsed_ms;
                });
                Ok((response, io))
            }
            Err(failure) => {
                self.call.settle_outbound(slot, |entry| {
                    entry.cause = (!failure.refused)
                        .then(|| transport_cause(&failure.error))
                        .flatten();
                    entry.error = Some(failure.shown);
                    entry.refused = failure.refused;
                    entry.elapsed_ms = elapsed_ms;
                });
                Err(failure.error)
            }
        }
    }

    async fn send(
        &self,
        mut request: http::Request<WasiBody>,
        fills: Vec<(HeaderName, Template)>,
        received: Arc<AtomicU64>,
    ) -> Result<(http::Response<WasiBody>, IoFuture), Failure> {
        // The same gate as every host call: a revocation, disable or uninstall since the call
        // started stops its traffic too, and each request counts against the host-call quota.
        if let Err(err) = self.call.admit(OPERATION, None).await {
            return Err(refused(HttpError::HttpRequestDenied, format!("{err:?}")));
        }
        for (name, template) in fills {
            let mut header = HeaderValue::from_str(&self.fill(&template).await?).map_err(|_| {
                refused(
                    HttpError::HttpRequestDenied,
                    "secret is not a valid header value",
                )
            })?;
            header.set_sensitive(true);
            request.headers_mut().insert(name, header);
        }
        if self.network.offline() {
            return Err(refused(
                HttpError::HttpRequestDenied,
                super::OFFLINE_REFUSAL,
            ));
        }
        let stream = self.connect().await?;
        self.address(&mut request)?;
        let deadline = tokio::time::Instant::from_std(self.deadline);
        let cap = self.caps.request_bytes;
        let request = request.map(|body| {
            Capped::new(body, cap, deadline, Arc::new(AtomicU64::new(0)), |n| {
                HttpError::HttpRequestBodySize(Some(n))
            })
            .drawing_on(self.call.clone(), CallContext::put_out)
            .boxed_unsync()
        });
        let (response, conn) = self.exchange(stream, request).await?;
        let response = self.receive(response, deadline, received)?;
        let io: IoFuture = Box::new(async move {
            match conn {
                Some(conn) => conn.await.map_err(HttpError::from),
                None => Ok(()),
            }
        });
        Ok((response, io))
    }

    /// Replace each placeholder in `template` with its secret's value, which also joins the
    /// values this call must never show.
    async fn fill(&self, template: &Template) -> Result<String, Failure> {
        let Some(secrets) = &self.secrets else {
            return Err(refused(
                HttpError::ConfigurationError,
                "the host has no vault key",
            ));
        };
        let mut values = Vec::new();
        for name in template.names() {
            match secrets.reveal(&self.call.installation, name).await {
                Ok(Some(value)) => {
                    self.call.remember_secret(&value);
                    self.call.used_key(name);
                    values.push((name.to_owned(), value));
                }
                Ok(None) => {
                    return Err(refused(
                        HttpError::ConfigurationError,
                        format!("secret `{name}` is not set"),
                    ));
                }
                Err(err) => {
                    tracing::warn!(installation = %self.call.installation, secret = name,
                        error = %err, "opening a secret for an outbound request failed");
                    return Err(refused(
                        HttpError::ConfigurationError,
                        format!("secret `{name}` could not be opened"),
                    ));
                }
            }
        }
        let value_of = |name: &str| {
            values
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        };
        template
            .render(value_of)
            .ok_or_else(|| refused(HttpError::HttpRequestDenied, "malformed secret placeholder"))
    }

    /// TCP to the one vetted address, then TLS for `https`, all within the deadline.
    async fn connect(&self) -> Result<Box<dyn Stream>, Failure> {
        let connector = self.call.connector();
        let addr = vetted_address(&self.network, connector, &self.origin, self.remaining()).await?;
        let tcp = match tokio::time::timeout(self.remaining(), TcpStream::connect(addr)).await {
            Ok(Ok(tcp)) => tcp,
            Ok(Err(err)) => {
                let shown = format!("connect: {}", err.kind());
                return Err(failed(HttpError::Connect(err), shown));
            }
            Err(_) => return Err(failed(HttpError::ConnectionTimeout, "connect: deadline")),
        };
        if self.origin.scheme == Scheme::Http {
            return Ok(Box::new(tcp));
        }
        let name = rustls::pki_types::ServerName::try_from(self.origin.host.clone())
            .map_err(|_| failed(HttpError::TlsProtocolError, "tls: bad server name"))?;
        let connector = tokio_rustls::TlsConnector::from(self.network.tls());
        match tokio::time::timeout(self.remaining(), connector.connect(name, tcp)).await {
            Ok(Ok(tls)) => Ok(Box::new(tls)),
            Ok(Err(err)) => {
                let shown = format!("tls: {err}");
                Err(failed(HttpError::Tls(err), shown))
            }
            Err(_) => Err(failed(HttpError::ConnectionTimeout, "tls: deadline")),
        }
    }

    /// `Host` names the vetted origin, whatever else the request carries (wasi:http already
    /// forbids guests to set it; this keeps it true if that ever changes), and the request
    /// line carries the path only.
    fn address<B>(&self, request: &mut http::Request<B>) -> Result<(), Failure> {
        let host_header = match self.origin.port == self.origin.scheme.default_port() {
            true => self.origin.host.clone(),
            false => format!("{}:{}", self.origin.host, self.origin.port),
        };
        if let Ok(value) = HeaderValue::from_str(&host_header) {
            request.headers_mut().insert(http::header::HOST, value);
        }
        let path = request
            .uri()
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_owned();
        *request.uri_mut() = http::Uri::builder()
            .path_and_query(path)
            .build()
            .map_err(|_| refused(HttpError::HttpRequestUriInvalid, "invalid path"))?;
        Ok(())
    }
}

/// The HTTP/1 connection the response body is read over.
type Connection = hyper::client::conn::http1::Connection<TokioIo<Box<dyn Stream>>, WasiBody>;

impl Job {
    /// Handshake, send the request and wait for the response head, driving the connection
    /// meanwhile; the connection is handed back unless it already finished.
    async fn exchange(
        &self,
        stream: Box<dyn Stream>,
        request: http::Request<WasiBody>,
    ) -> Result<(http::Response<hyper::body::Incoming>, Option<Connection>), Failure> {
        let handshake = hyper::client::conn::http1::handshake(TokioIo::new(stream));
        let (mut sender, conn) = match tokio::time::timeout(self.remaining(), handshake).await {
            Ok(Ok(pair)) => pair,
            Ok(Err(err)) => {
                let shown = format!("http: {err}");
                return Err(failed(HttpError::Hyper(err), shown));
            }
            Err(_) => return Err(failed(HttpError::ConnectionTimeout, "http: deadline")),
        };
        let mut send = pin!(tokio::time::timeout(
            self.remaining(),
            sender.send_request(request)
        ));
        let mut conn = Some(conn);
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
        match head {
            Ok(Ok(response)) => Ok((response, conn)),
            Ok(Err(err)) => {
                let shown = format!("http: {err}");
                Err(failed(HttpError::Hyper(err), shown))
            }
            Err(_) => Err(failed(
                HttpError::ConnectionReadTimeout,
                "no response before the call's deadline",
            )),
        }
    }

    /// The response as the connector gets it: headers (and, in the body, trailers) that echo a
    /// secret this call attached redacted, whatever bytes they hold (a provider echoing a credential must not hand the key to the connector), a
    /// declared length over the cap refused up front, and the body capped.
    fn receive(
        &self,
        mut response: http::Response<hyper::body::Incoming>,
        deadline: tokio::time::Instant,
        received: Arc<AtomicU64>,
    ) -> Result<http::Response<WasiBody>, Failure> {
        self.call.redact_headers(response.headers_mut());
        let cap = self.caps.response_bytes;
        let declared = response
            .headers()
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if let Some(declared) = declared.filter(|n| *n > cap) {
            return Err(refused(
                HttpError::HttpResponseBodySize(Some(declared)),
                format!("response of {declared} bytes is over the {cap}-byte cap"),
            ));
        }
        Ok(response.map(|body| {
            Capped::new(body, cap, deadline, received, |n| {
                HttpError::HttpResponseBodySize(Some(n))
            })
            .drawing_on(self.call.clone(), CallContext::take_input)
            .boxed_unsync()
        }))
    }
}
