//! What a provider's answer or a transport failure means for the merchant.

use wasmtime_wasi_http::Error as HttpError;

use crate::failure::ConnectorFailure;

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
}
