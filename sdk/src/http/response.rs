//! A provider's answer, and the merchant-facing cause it points to.

use std::time::{SystemTime, UNIX_EPOCH};

use airlock_contract::{ProviderAnswer, ProviderCause, provider_cause};

use crate::ConnectorError;

/// A provider's answer, body read in full (up to the host's cap).
#[derive(Debug, Clone)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Headers, names in lowercase.
    pub headers: Vec<(String, Vec<u8>)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl Response {
    /// The first value of header `name` (case-insensitive), as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| n.to_ascii_lowercase() == name)
            .and_then(|(_, v)| core::str::from_utf8(v).ok())
    }

    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// This response if it is a success (2xx, or 3xx to handle yourself); otherwise the
    /// cause the merchant should see: 401 `invalid-credentials` (or `auth-expired` when
    /// the provider says the token expired), 403 `invalid-credentials`, 402 `usage-limit`,
    /// 410 `provider-api-changed` (the provider retired the endpoint), 429 `rate-limited`
    /// with `Retry-After` (seconds or an HTTP date), 5xx `provider-unavailable`, any other
    /// status `other`.
    ///
    /// A status cannot tell the provider-side causes apart that need the provider's own
    /// error body (`credentials-changed`, `verification-required`, `policy-restricted`,
    /// `billing-issue`, `plan-expired`): read the body and return those yourself.
    ///
    /// ```no_run
    /// use airlock_sdk::ConnectorError;
    /// use airlock_sdk::http::Request;
    ///
    /// fn check_balance() -> Result<(), ConnectorError> {
    ///     let response = Request::get("https://api.paygate.example/v1/balance").send()?;
    ///     if response.status == 403 && response.text().contains("kyc_pending") {
    ///         return Err(ConnectorError::VerificationRequired);
    ///     }
    ///     response.error_for_status()?;
    ///     Ok(())
    /// }
    /// # let _ = check_balance;
    /// ```
    pub fn error_for_status(self) -> Result<Response, ConnectorError> {
        if (200..=399).contains(&self.status) {
            return Ok(self);
        }
        let answer = ProviderAnswer {
            status: self.status,
            www_authenticate: self.header("www-authenticate"),
            retry_after: self.header("retry-after"),
        };
        // The host's rule, from airlock-contract: the SDK once had its own copy that read
        // `Retry-After` only as seconds, so an HTTP date lost the wait the host would report.
        Err(match provider_cause(&answer, now_unix_secs()) {
            Some(cause) => connector_error(cause),
            None => ConnectorError::Other(format!("provider answered {}", self.status)),
        })
    }
}

/// Now, for `Retry-After` dates. WASI's wall clock is the host's; only a broken clock reads
/// before 1970, and then a date reads as far off rather than as "retry now".
fn now_unix_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

/// The WIT variant for a contract cause.
fn connector_error(cause: ProviderCause) -> ConnectorError {
    match cause {
        ProviderCause::AuthExpired => ConnectorError::AuthExpired,
        ProviderCause::InvalidCredentials => ConnectorError::InvalidCredentials,
        ProviderCause::UsageLimit => ConnectorError::UsageLimit,
        ProviderCause::RateLimited { retry_after_secs } => {
            ConnectorError::RateLimited(retry_after_secs)
        }
        ProviderCause::ProviderUnavailable => ConnectorError::ProviderUnavailable,
        ProviderCause::ProviderApiChanged => ConnectorError::ProviderApiChanged(
            "the provider answered 410 Gone: it retired this endpoint".into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, headers: &[(&str, &str)]) -> Response {
        Response {
            status,
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.as_bytes().to_vec()))
                .collect(),
            body: Vec::new(),
        }
    }

    #[test]
    fn successes_and_redirects_are_returned() {
        for status in [200, 204, 302, 399] {
            assert!(response(status, &[]).error_for_status().is_ok(), "{status}");
        }
    }

    #[test]
    fn failures_become_the_contract_causes() {
        let expired = response(
            401,
            &[("www-authenticate", "Bearer error=\"invalid_token\"")],
        );
        assert!(matches!(
            expired.error_for_status(),
            Err(ConnectorError::AuthExpired)
        ));
        assert!(matches!(
            response(403, &[]).error_for_status(),
            Err(ConnectorError::InvalidCredentials)
        ));
        assert!(matches!(
            response(502, &[]).error_for_status(),
            Err(ConnectorError::ProviderUnavailable)
        ));
        assert!(matches!(
            response(410, &[]).error_for_status(),
            Err(ConnectorError::ProviderApiChanged(why)) if why.contains("410 Gone")
        ));
        assert!(matches!(
            response(404, &[]).error_for_status(),
            Err(ConnectorError::Other(why)) if why == "provider answered 404"
        ));
        assert!(matches!(
            response(101, &[]).error_for_status(),
            Err(ConnectorError::Other(why)) if why == "provider answered 101"
        ));
    }

    #[test]
    fn retry_after_is_read_as_seconds_or_an_http_date() {
        let seconds = response(429, &[("Retry-After", " 30 ")]);
        assert!(matches!(
            seconds.error_for_status(),
            Err(ConnectorError::RateLimited(Some(30)))
        ));
        // A date long past means retry now; the old SDK copy dropped it to `None`.
        let date = response(429, &[("retry-after", "Sun, 06 Nov 1994 08:49:37 GMT")]);
        assert!(matches!(
            date.error_for_status(),
            Err(ConnectorError::RateLimited(Some(0)))
        ));
    }
}
