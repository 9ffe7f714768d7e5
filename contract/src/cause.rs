//! What a provider's HTTP answer means for the merchant, following common API conventions.

use crate::http_date::http_date;

/// The parts of a provider's HTTP answer that decide its cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProviderAnswer<'a> {
    /// The status code.
    pub status: u16,
    /// The `WWW-Authenticate` header, if present and text.
    pub www_authenticate: Option<&'a str>,
    /// The `Retry-After` header, if present and text.
    pub retry_after: Option<&'a str>,
}

/// The merchant-facing cause a failed provider answer points to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProviderCause {
    /// The provider session or token expired; the merchant must reconnect.
    AuthExpired,
    /// The provider rejected the credentials, or they lack rights there.
    InvalidCredentials,
    /// A billing, plan or usage limit at the provider.
    UsageLimit,
    /// The provider is rate limiting.
    RateLimited {
        /// Seconds to wait, when the provider said.
        retry_after_secs: Option<u32>,
    },
    /// The provider is down or answering with server errors.
    ProviderUnavailable,
    /// The provider retired the endpoint (410 Gone): the connector must be updated.
    ProviderApiChanged,
}

/// The cause `answer` points to, or `None` when its status is not a failure with a known
/// cause (success, redirect, 404 and other 4xx): 401 means the credentials are wrong, or
/// expired when `WWW-Authenticate` says so; 403 that the key lacks rights at the provider; 402
/// a billing or usage limit; 410 an endpoint the provider retired; 429 rate limiting (with
/// `Retry-After`, read relative to `now_unix_secs`); 5xx the provider being down.
pub fn provider_cause(answer: &ProviderAnswer<'_>, now_unix_secs: u64) -> Option<ProviderCause> {
    match answer.status {
        401 => {
            let challenge = answer.www_authenticate.unwrap_or("").to_ascii_lowercase();
            // RFC 6750's `error="invalid_token"`, or providers that just say "expired".
            if challenge.contains("expired") || challenge.contains("invalid_token") {
                Some(ProviderCause::AuthExpired)
            } else {
                Some(ProviderCause::InvalidCredentials)
            }
        }
        403 => Some(ProviderCause::InvalidCredentials),
        402 => Some(ProviderCause::UsageLimit),
        410 => Some(ProviderCause::ProviderApiChanged),
        429 => Some(ProviderCause::RateLimited {
            retry_after_secs: answer
                .retry_after
                .and_then(|value| retry_after_secs(value, now_unix_secs)),
        }),
        500..=599 => Some(ProviderCause::ProviderUnavailable),
        _ => None,
    }
}

/// `Retry-After` as seconds to wait: delta-seconds, or an HTTP date counted from
/// `now_unix_secs` (a date already past is 0). `None` when it is neither, or the seconds do
/// not fit a `u32`.
pub fn retry_after_secs(value: &str, now_unix_secs: u64) -> Option<u32> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u32>() {
        return Some(secs);
    }
    let when = http_date(value)?;
    // A date decades away still means "not now": saturate rather than drop it.
    Some(u32::try_from(when.saturating_sub(now_unix_secs)).unwrap_or(u32::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 1994-11-06 08:49:37 UTC, the date in RFC 9110's examples.
    const RFC_DATE: u64 = 784_111_777;

    fn answer(status: u16) -> ProviderAnswer<'static> {
        ProviderAnswer {
            status,
            www_authenticate: None,
            retry_after: None,
        }
    }

    #[test]
    fn provider_answers_map_to_merchant_causes() {
        assert_eq!(
            provider_cause(&answer(401), 0),
            Some(ProviderCause::InvalidCredentials)
        );
        let expired = ProviderAnswer {
            www_authenticate: Some(
                "Bearer error=\"invalid_token\", error_description=\"The access token expired\"",
            ),
            ..answer(401)
        };
        assert_eq!(
            provider_cause(&expired, 0),
            Some(ProviderCause::AuthExpired)
        );
        let limited = ProviderAnswer {
            retry_after: Some("30"),
            ..answer(429)
        };
        assert_eq!(
            provider_cause(&limited, 0),
            Some(ProviderCause::RateLimited {
                retry_after_secs: Some(30)
            })
        );
        assert_eq!(
            provider_cause(&answer(503), 0),
            Some(ProviderCause::ProviderUnavailable)
        );
        assert_eq!(
            provider_cause(&answer(402), 0),
            Some(ProviderCause::UsageLimit)
        );
        assert_eq!(
            provider_cause(&answer(410), 0),
            Some(ProviderCause::ProviderApiChanged)
        );
        assert_eq!(provider_cause(&answer(200), 0), None);
        assert_eq!(provider_cause(&answer(404), 0), None);
    }

    #[test]
    fn every_status_maps_to_exactly_the_documented_cause() {
        for status in 0..=u16::MAX {
            let expected = match status {
                401 | 403 => Some(ProviderCause::InvalidCredentials),
                402 => Some(ProviderCause::UsageLimit),
                410 => Some(ProviderCause::ProviderApiChanged),
                429 => Some(ProviderCause::RateLimited {
                    retry_after_secs: None,
                }),
                500..=599 => Some(ProviderCause::ProviderUnavailable),
                _ => None,
            };
            assert_eq!(provider_cause(&answer(status), 0), expected, "{status}");
        }
    }

    #[test]
    fn a_401_is_expired_only_when_the_challenge_says_so() {
        for (challenge, expired) in [
            ("Bearer error=\"invalid_token\"", true),
            ("Bearer error=\"INVALID_TOKEN\"", true),
            (
                "Bearer realm=\"api\", error_description=\"Token Expired\"",
                true,
            ),
            ("Bearer realm=\"api\"", false),
            ("Basic realm=\"api\"", false),
            ("", false),
        ] {
            let got = provider_cause(
                &ProviderAnswer {
                    www_authenticate: Some(challenge),
                    ..answer(401)
                },
                0,
            );
            let want = if expired {
                ProviderCause::AuthExpired
            } else {
                ProviderCause::InvalidCredentials
            };
            assert_eq!(got, Some(want), "{challenge}");
        }
        // The challenge only matters on a 401: a 403 stays a rights problem.
        let forbidden = ProviderAnswer {
            www_authenticate: Some("Bearer error=\"invalid_token\""),
            ..answer(403)
        };
        assert_eq!(
            provider_cause(&forbidden, 0),
            Some(ProviderCause::InvalidCredentials)
        );
    }

    #[test]
    fn a_429_reads_retry_after_relative_to_now() {
        let limited = ProviderAnswer {
            retry_after: Some("Sun, 06 Nov 1994 08:51:37 GMT"),
            ..answer(429)
        };
        assert_eq!(
            provider_cause(&limited, RFC_DATE),
            Some(ProviderCause::RateLimited {
                retry_after_secs: Some(120)
            })
        );
        let garbage = ProviderAnswer {
            retry_after: Some("soon"),
            ..answer(429)
        };
        assert_eq!(
            provider_cause(&garbage, RFC_DATE),
            Some(ProviderCause::RateLimited {
                retry_after_secs: None
            })
        );
    }

    #[test]
    fn retry_after_reads_delta_seconds() {
        assert_eq!(retry_after_secs("120", 0), Some(120));
        assert_eq!(retry_after_secs("0", RFC_DATE), Some(0));
        assert_eq!(retry_after_secs("  7 \t", 0), Some(7));
        assert_eq!(retry_after_secs("4294967295", 0), Some(u32::MAX));
    }

    #[test]
    fn retry_after_reads_http_dates_from_now() {
        let date = "Sun, 06 Nov 1994 08:49:37 GMT";
        assert_eq!(retry_after_secs(date, RFC_DATE - 90), Some(90));
        assert_eq!(retry_after_secs(date, RFC_DATE), Some(0));
        // A date already past means "now", not a failure.
        assert_eq!(retry_after_secs(date, RFC_DATE + 3600), Some(0));
        assert_eq!(
            retry_after_secs("sun, 06 nov 1994 08:49:37 gmt", 0),
            Some(784_111_777)
        );
        assert_eq!(
            retry_after_secs(&format!("  {date}  "), RFC_DATE - 1),
            Some(1)
        );
        // Far enough away to overflow u32 seconds: saturated, still "not now".
        assert_eq!(
            retry_after_secs("Fri, 31 Dec 9999 23:59:59 GMT", 0),
            Some(u32::MAX)
        );
    }

    #[test]
    fn retry_after_ignores_what_it_cannot_read() {
        for value in [
            "",
            "   ",
            "soon",
            "-5",
            "1.5",
            "4294967296",
            "99999999999999999999999",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 06 Nov 1994 25:00:00 GMT",
            "Sun, 32 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
        ] {
            assert_eq!(retry_after_secs(value, RFC_DATE), None, "{value:?}");
        }
    }
}
