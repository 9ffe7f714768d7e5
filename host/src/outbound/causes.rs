//! What a provider's answer or a transport failure means for the merchant. The answer → cause
//! rule itself is `airlock_contract::provider_cause`, the one the SDK applies too.

use airlock_contract::{ProviderAnswer, provider_cause as contract_cause};
use wasmtime_wasi_http::Error as HttpError;

use crate::failure::ConnectorFailure;

/// The cause a provider's answer points to, following common API conventions: 401 means the
/// credentials are wrong, or expired when the provider says so; 403 that the key lacks rights
/// at the provider; 402 a billing or usage limit; 429 rate limiting (with `Retry-After`, in
/// seconds or as an HTTP date); 5xx the provider being down.
pub fn provider_cause(status: u16, headers: &http::HeaderMap) -> Option<ConnectorFailure> {
    let header = |name: http::header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    let answer = ProviderAnswer {
        status,
        www_authenticate: header(http::header::WWW_AUTHENTICATE),
        retry_after: header(http::header::RETRY_AFTER),
    };
    // A clock before 1970 reads as 1970: a Retry-After date is then waited out in full.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    contract_cause(&answer, now).map(ConnectorFailure::from)
}

/// The cause a transport failure points to: the provider could not be reached.
pub(super) fn transport_cause(err: &HttpError) -> Option<ConnectorFailure> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn response_headers_reach_the_contract_rule() {
        let mut headers = http::HeaderMap::new();
        assert_eq!(
            provider_cause(401, &headers),
            Some(ConnectorFailure::InvalidCredentials)
        );
        headers.insert(
            http::header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer error=\"invalid_token\""),
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
        headers.insert(
            http::header::RETRY_AFTER,
            HeaderValue::from_static("Sun, 06 Nov 1994 08:49:37 GMT"),
        );
        assert_eq!(
            provider_cause(429, &headers),
            Some(ConnectorFailure::RateLimited {
                retry_after_secs: Some(0)
            }),
            "an HTTP date in the past means now"
        );
        assert_eq!(provider_cause(404, &headers), None);
    }
}
