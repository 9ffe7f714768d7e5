//! The error answers each kind of route can give, as OpenAPI responses: every one is an
//! [`ErrorBody`](crate::ErrorBody). A handler lists its successes itself and one of these sets.

use std::collections::BTreeMap;

use utoipa::IntoResponses;
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};

/// What each error status means, for the document.
fn described(status: u16) -> &'static str {
    match status {
        400 => "A parameter or body field is invalid (`field` names it)",
        401 => "No live API token",
        403 => "Only a platform token may do this",
        404 => "No such merchant, app, delivery or token, or not the caller's",
        409 => {
            "The app's state does not allow it, or a request with this Idempotency-Key is still running"
        }
        413 => "The body is too large",
        415 => "The body's Content-Type is not the one this route takes",
        422 => "The artifact is refused, or the Idempotency-Key was used for another request",
        429 => "This token made too many requests; see Retry-After",
        503 => "The host has no vault key, so secrets cannot be set",
        _ => "The host failed; the details are in its log",
    }
}

/// The responses for `statuses`, each an `ErrorBody`.
fn errors(statuses: &[u16]) -> BTreeMap<String, RefOr<Response>> {
    statuses
        .iter()
        .map(|&status| {
            let content = ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build();
            let response = ResponseBuilder::new()
                .description(described(status))
                .content("application/json", content)
                .build();
            (status.to_string(), RefOr::T(response))
        })
        .collect()
}

macro_rules! error_set {
    ($(#[$doc:meta])* $name:ident: $($status:literal),+) => {
        $(#[$doc])*
        pub(crate) struct $name;

        impl IntoResponses for $name {
            fn responses() -> BTreeMap<String, RefOr<Response>> {
                errors(&[$($status),+])
            }
        }
    };
}

error_set!(
    /// A read of a merchant's things.
    Reads: 400, 401, 404, 429, 500
);
error_set!(
    /// A change to a merchant's things with a JSON or no body.
    Writes: 400, 401, 404, 409, 413, 415, 422, 429, 500
);
error_set!(
    /// A secret written (the vault must have a key).
    SecretWrites: 400, 401, 404, 409, 413, 415, 422, 429, 500, 503
);
error_set!(
    /// A platform-only read.
    PlatformReads: 400, 401, 403, 404, 429, 500
);
error_set!(
    /// A platform-only change.
    PlatformWrites: 400, 401, 403, 404, 409, 413, 415, 422, 429, 500
);
