//! Outbound HTTP to the origins the manifest declares under `[[http]]`, through
//! `wasi:http/outgoing-handler`. The host checks every request (declared origin, no private
//! addresses, body caps, the call's deadline) and fills `{{secret:NAME}}` header placeholders
//! for origins the secret is declared for.
//!
//! ```no_run
//! use airlock_sdk::ConnectorError;
//! use airlock_sdk::http::{self, Request};
//!
//! fn book_pickup() -> Result<(), ConnectorError> {
//!     Request::post("https://api.courier.example/v1/shipments")
//!         .header("authorization", &format!("Bearer {}", http::secret("courier_key")))
//!         .json(r##"{"order":"#1001"}"##)
//!         .send()? // host refusals and unreachable providers become ConnectorErrors
//!         .error_for_status()?; // 401, 410, 429, 5xx ... become the merchant-facing causes
//!     Ok(())
//! }
//! # let _ = book_pickup;
//! ```

mod error;
mod response;

pub use error::HttpError;
pub use response::Response;

use error::from_code;
use wasip2::http::outgoing_handler;
use wasip2::http::types::{
    Fields, FutureIncomingResponse, IncomingBody, IncomingResponse, Method, OutgoingBody,
    OutgoingRequest, Scheme,
};
use wasip2::io::streams::StreamError;

/// The placeholder the host replaces with secret `name` (headers only).
pub fn secret(name: &str) -> String {
    format!("{{{{secret:{name}}}}}")
}

/// An outbound request being built.
#[derive(Debug, Clone)]
pub struct Request {
    method: Method,
    url: String,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
}

impl Request {
    /// A request with any method.
    pub fn new(method: &str, url: &str) -> Request {
        let method = match method {
            "GET" => Method::Get,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "PATCH" => Method::Patch,
            "DELETE" => Method::Delete,
            "HEAD" => Method::Head,
            other => Method::Other(other.to_owned()),
        };
        Request {
            method,
            url: url.to_owned(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// A GET request.
    pub fn get(url: &str) -> Request {
        Request::new("GET", url)
    }

    /// A POST request.
    pub fn post(url: &str) -> Request {
        Request::new("POST", url)
    }

    /// Add a header; the value may contain [`secret`] placeholders.
    pub fn header(mut self, name: &str, value: &str) -> Request {
        self.headers
            .push((name.to_ascii_lowercase(), value.as_bytes().to_vec()));
        self
    }

    /// Send `body` as JSON.
    pub fn json(mut self, body: &str) -> Request {
        self.body = body.as_bytes().to_vec();
        self.header("content-type", "application/json")
    }

    /// Send raw body bytes.
    pub fn body(mut self, body: &[u8]) -> Request {
        self.body = body.to_vec();
        self
    }

    /// Send the request and read the whole response. Redirects are returned, not
    /// followed: a request to the `location` goes through the host's checks again.
    pub fn send(self) -> Result<Response, HttpError> {
        let request = self.outgoing()?;
        let outgoing = request.body().map_err(|()| invalid("body"))?;
        let pending = outgoing_handler::handle(request, None).map_err(from_code)?;
        {
            let stream = outgoing.write().map_err(|()| invalid("body stream"))?;
            for chunk in self.body.chunks(4096) {
                stream
                    .blocking_write_and_flush(chunk)
                    .map_err(|e| HttpError::Other(format!("writing the body: {e:?}")))?;
            }
        }
        OutgoingBody::finish(outgoing, None).map_err(from_code)?;
        let incoming = wait(&pending)?;
        let status = incoming.status();
        let headers = incoming.headers().entries();
        let body = incoming.consume().map_err(|()| invalid("response body"))?;
        let bytes = read_all(&body)?;
        drop(body);
        Ok(Response {
            status,
            headers,
            body: bytes,
        })
    }

    /// The `wasi:http` request head: method, headers, scheme, authority and path.
    fn outgoing(&self) -> Result<OutgoingRequest, HttpError> {
        let headers = Fields::new();
        for (name, value) in &self.headers {
            headers
                .append(name, value)
                .map_err(|e| HttpError::Other(format!("header `{name}`: {e:?}")))?;
        }
        let request = OutgoingRequest::new(headers);
        request
            .set_method(&self.method)
            .map_err(|()| invalid("method"))?;
        // A relative URL is sent as it is: the host refuses it with a typed error.
        let (scheme, rest) = if let Some(rest) = self.url.strip_prefix("https://") {
            (Some(Scheme::Https), rest)
        } else if let Some(rest) = self.url.strip_prefix("http://") {
            (Some(Scheme::Http), rest)
        } else {
            (None, self.url.as_str())
        };
        let path = match scheme {
            Some(scheme) => {
                let split = rest.find(['/', '?']).unwrap_or(rest.len());
                let (authority, path) = rest.split_at(split);
                request
                    .set_scheme(Some(&scheme))
                    .map_err(|()| invalid("scheme"))?;
                request
                    .set_authority(Some(authority))
                    .map_err(|()| invalid("authority"))?;
                if path.is_empty() { "/" } else { path }
            }
            None => rest,
        };
        request
            .set_path_with_query(Some(path))
            .map_err(|()| invalid("path"))?;
        Ok(request)
    }
}

/// A request part `wasi:http` would not take.
fn invalid(what: &str) -> HttpError {
    HttpError::Other(format!("invalid request {what}"))
}

/// Block until the response head arrives (or the host gives up on it).
fn wait(pending: &FutureIncomingResponse) -> Result<IncomingResponse, HttpError> {
    loop {
        match pending.get() {
            Some(Ok(Ok(response))) => return Ok(response),
            Some(Ok(Err(code))) => return Err(from_code(code)),
            Some(Err(())) => return Err(HttpError::Other("response taken twice".into())),
            None => pending.subscribe().block(),
        }
    }
}

/// The whole response body, up to the host's cap.
fn read_all(body: &IncomingBody) -> Result<Vec<u8>, HttpError> {
    let stream = body
        .stream()
        .map_err(|()| HttpError::Other("response stream taken".into()))?;
    let mut out = Vec::new();
    loop {
        match stream.blocking_read(64 * 1024) {
            Ok(chunk) => out.extend_from_slice(&chunk),
            Err(StreamError::Closed) => return Ok(out),
            Err(StreamError::LastOperationFailed(err)) => {
                return Err(match wasip2::http::types::http_error_code(&err) {
                    Some(code) => from_code(code),
                    // Wasmtime 48 reports body errors as text only; read the two that
                    // matter (the host's size cap, and its deadline) off the text.
                    None => {
                        let text = err.to_debug_string();
                        if text.contains("body size exceeds limit") {
                            HttpError::TooLarge
                        } else if text.contains("timeout") || text.contains("timed out") {
                            HttpError::Unreachable(text)
                        } else {
                            HttpError::Other(text)
                        }
                    }
                });
            }
        }
    }
}
