//! The checks every outbound request passes before anything leaves the host: an absolute URI
//! to an origin the manifest declares (and the merchant approved with the app), secrets only
//! only in `Authorization` or the headers declared for them, of ordinary requests, and only
//! for the origins they are declared for.

use std::collections::HashMap;

use http::HeaderName;
use wasmtime_wasi_http::Error as HttpError;

use super::placeholders::Template;
use crate::manifest::SecretRequest;
use crate::origin::Origin;
use crate::text::sanitize;

/// A request that passed: where it goes and the headers the host fills with secrets.
pub(super) struct Checked {
    /// The vetted origin.
    pub origin: Origin,
    /// Headers holding placeholders, parsed once.
    pub fills: Vec<(HeaderName, Template)>,
}

/// Why a request was refused before connecting.
pub(super) struct Refusal {
    /// What the connector receives.
    pub error: HttpError,
    /// What the report shows.
    pub why: String,
}

fn refuse(error: HttpError, why: impl Into<String>) -> Refusal {
    Refusal {
        error,
        why: why.into(),
    }
}

/// Where the host may attach one secret: the origins, and the headers besides
/// `Authorization` its manifest declares for it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecretPlacement {
    /// Origins it may be sent to.
    pub origins: Vec<Origin>,
    /// Header names (lowercase) it may go in besides `authorization`.
    pub headers: Vec<String>,
}

impl SecretPlacement {
    /// The placement `secret` declares.
    pub fn of(secret: &SecretRequest) -> SecretPlacement {
        SecretPlacement {
            origins: secret.send_to.clone(),
            headers: secret
                .headers
                .iter()
                .map(|h| h.to_ascii_lowercase())
                .collect(),
        }
    }

    /// Whether the key may go in `header` (a lowercase [`HeaderName`]). Only
    /// `Authorization` and the declared names: providers store and echo headers that merely
    /// look like credentials (`Idempotency-Key`, `X-Request-Token-Echo`), which would hand
    /// the key back to the connector or leave it in the provider's logs.
    pub(super) fn allows_header(&self, header: &str) -> bool {
        header == "authorization" || self.headers.iter().any(|h| h == header)
    }
}

/// Check `request` against the declared origins and where each secret may be sent.
pub(super) fn check<B>(
    request: &http::Request<B>,
    origin: Option<Origin>,
    allowed: &[Origin],
    send_to: &HashMap<String, SecretPlacement>,
) -> Result<Checked, Refusal> {
    let Some(origin) = origin else {
        return Err(refuse(
            HttpError::HttpRequestUriInvalid,
            "only absolute http(s) URIs are allowed",
        ));
    };
    if !allowed.contains(&origin) {
        return Err(refuse(
            HttpError::HttpRequestDenied,
            "origin not declared in the manifest and approved by the merchant",
        ));
    }
    let mut fills = Vec::new();
    for (name, value) in request.headers() {
        let Ok(text) = value.to_str() else { continue };
        let template = Template::parse(text).map_err(|_| {
            refuse(
                HttpError::HttpRequestDenied,
                format!("malformed secret placeholder in header `{name}`"),
            )
        })?;
        let Some(template) = template else { continue };
        check_placement(request.method(), name, &template, &origin, send_to)?;
        fills.push((name.clone(), template));
    }
    if request.uri().to_string().contains("secret:") {
        return Err(refuse(
            HttpError::HttpRequestDenied,
            "secret placeholders are filled in headers only",
        ));
    }
    Ok(Checked { origin, fills })
}

/// Every placeholder of one header: an ordinary method, and each secret declared for this very
/// origin and this header.
fn check_placement(
    method: &http::Method,
    header: &HeaderName,
    template: &Template,
    origin: &Origin,
    send_to: &HashMap<String, SecretPlacement>,
) -> Result<(), Refusal> {
    if matches!(method.as_str(), "TRACE" | "CONNECT") {
        return Err(refuse(
            HttpError::HttpRequestDenied,
            "no secrets in TRACE or CONNECT requests",
        ));
    }
    for secret in template.names() {
        let placement = send_to.get(secret);
        let bound = placement.is_some_and(|p| p.origins.contains(origin));
        if !bound {
            return Err(refuse(
                HttpError::HttpRequestDenied,
                format!(
                    "secret `{}` may not be sent to {origin}",
                    sanitize(secret, 64)
                ),
            ));
        }
        if !placement.is_some_and(|p| p.allows_header(header.as_str())) {
            return Err(refuse(
                HttpError::HttpRequestDenied,
                format!(
                    "secret `{}` goes only in `authorization` or a header its manifest lists \
                     under `headers`, not `{}`",
                    sanitize(secret, 64),
                    sanitize(header.as_str(), 64)
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_go_only_in_authorization_and_declared_headers() {
        let placement = SecretPlacement {
            origins: vec![],
            headers: vec!["x-api-key".into()],
        };
        for ok in ["authorization", "x-api-key"] {
            assert!(placement.allows_header(ok), "{ok}");
        }
        for echoed in [
            "idempotency-key",
            "x-request-token-echo",
            "x-auth-token",
            "origin",
            "x-request-id",
        ] {
            assert!(!placement.allows_header(echoed), "{echoed}");
        }
    }

    fn request(method: &str, uri: &str, header: (&str, &str)) -> http::Request<()> {
        http::Request::builder()
            .method(method)
            .uri(uri)
            .header(header.0, header.1)
            .body(())
            .unwrap()
    }

    #[test]
    fn a_secret_goes_only_to_its_origin_in_a_credential_header() {
        let gateway = Origin::parse("https://api.gateway.example").unwrap();
        let other = Origin::parse("https://evil.example").unwrap();
        let allowed = vec![gateway.clone(), other.clone()];
        let placement = SecretPlacement {
            origins: vec![gateway.clone()],
            headers: vec![],
        };
        let send_to = HashMap::from([("key".to_owned(), placement)]);
        let check_one = |method, uri: &str, header| {
            let req = request(method, uri, header);
            check(&req, Origin::of_uri(req.uri()), &allowed, &send_to)
        };
        let ok = check_one(
            "GET",
            "https://api.gateway.example/v1",
            ("authorization", "Bearer {{secret:key}}"),
        );
        let ok = ok.ok().unwrap();
        assert_eq!(ok.origin, gateway);
        assert_eq!(ok.fills.len(), 1);
        let refused = |r: Result<Checked, Refusal>| r.err().map(|e| e.why).unwrap_or_default();
        assert!(
            refused(check_one(
                "GET",
                "https://evil.example/",
                ("authorization", "{{secret:key}}")
            ))
            .contains("may not be sent")
        );
        assert!(
            refused(check_one(
                "GET",
                "https://api.gateway.example/",
                ("x-request-id", "{{secret:key}}")
            ))
            .contains("not `x-request-id`")
        );
        assert!(
            refused(check_one(
                "TRACE",
                "https://api.gateway.example/",
                ("authorization", "{{secret:key}}")
            ))
            .contains("TRACE")
        );
        assert!(
            refused(check_one(
                "GET",
                "https://api.gateway.example/?k={{secret:key}}",
                ("accept", "*/*")
            ))
            .contains("headers only")
        );
        assert!(
            refused(check_one(
                "GET",
                "https://unknown.example/",
                ("accept", "*/*")
            ))
            .contains("not declared")
        );
        assert!(
            refused(check_one(
                "GET",
                "https://api.gateway.example/",
                ("authorization", "{{secret:key")
            ))
            .contains("malformed")
        );
    }
}
