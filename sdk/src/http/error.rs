//! Why a request got no response, and what that means for the merchant.

use wasip2::http::types::ErrorCode;

use crate::ConnectorError;

/// Why a request got no response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpError {
    /// The host refused it: an origin the merchant did not approve, a private address, a
    /// secret not declared for this origin, a relative URI, too many requests.
    Refused(String),
    /// The provider could not be reached, or did not answer before the deadline.
    Unreachable(String),
    /// The response body was larger than the host allows.
    TooLarge,
    /// Anything else.
    Other(String),
}

impl core::fmt::Display for HttpError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            HttpError::Refused(why) => write!(f, "refused by the host: {why}"),
            HttpError::Unreachable(why) => write!(f, "provider unreachable: {why}"),
            HttpError::TooLarge => f.write_str("response too large"),
            HttpError::Other(why) => f.write_str(why),
        }
    }
}

/// The error code's name, such as `HttpRequestDenied`.
fn name(code: &ErrorCode) -> String {
    let debug = format!("{code:?}");
    debug.trim_start_matches("ErrorCode::").to_owned()
}

/// Sort a `wasi:http` error code into refused by the host, unreachable, or other.
pub(super) fn from_code(code: ErrorCode) -> HttpError {
    use ErrorCode as E;
    let named = name(&code);
    match code {
        E::HttpRequestDenied
        | E::DestinationIpProhibited
        | E::HttpRequestUriInvalid
        | E::ConnectionLimitReached
        | E::ConfigurationError
        | E::HttpRequestBodySize(_) => HttpError::Refused(named),
        E::HttpResponseBodySize(_) => HttpError::TooLarge,
        E::DnsTimeout
        | E::DnsError(_)
        | E::DestinationNotFound
        | E::DestinationUnavailable
        | E::DestinationIpUnroutable
        | E::ConnectionRefused
        | E::ConnectionTerminated
        | E::ConnectionTimeout
        | E::ConnectionReadTimeout
        | E::ConnectionWriteTimeout
        | E::TlsProtocolError
        | E::TlsCertificateError
        | E::TlsAlertReceived(_)
        | E::HttpResponseIncomplete
        | E::HttpResponseTimeout
        | E::HttpProtocolError => HttpError::Unreachable(named),
        _ => HttpError::Other(named),
    }
}

/// Host refusals are configuration problems the merchant or publisher must fix; an
/// unreachable provider is `provider-unavailable`.
impl From<HttpError> for ConnectorError {
    fn from(err: HttpError) -> Self {
        match err {
            HttpError::Refused(why) => {
                ConnectorError::Config(format!("request refused by the host: {why}"))
            }
            HttpError::Unreachable(_) => ConnectorError::ProviderUnavailable,
            HttpError::TooLarge => ConnectorError::Other("provider response too large".into()),
            HttpError::Other(why) => ConnectorError::Other(why),
        }
    }
}
