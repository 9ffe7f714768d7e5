//! The API's one error shape, `{code, message, field?}`, with a stable `code` per cause and
//! the HTTP status that goes with it. Host errors are mapped here and nowhere else.

use airlock_host::Error;
use airlock_host::db::secrets::SecretError;
use airlock_host::tokens::TokenError;
use airlock_host::vault::VaultError;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// What every failed request answers.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable machine-readable cause, such as `unknown-installation` or `rate-limited`.
    pub code: String,
    /// What went wrong and how to fix it, in English.
    pub message: String,
    /// The request field at fault, when one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// An error answer: a status and its body.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The body.
    pub body: ErrorBody,
    /// Seconds to wait before trying again (rate limits), sent as `Retry-After`.
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// An error with `status`, stable `code` and `message`.
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            body: ErrorBody {
                code: code.to_owned(),
                message: message.into(),
                field: None,
            },
            retry_after: None,
        }
    }

    /// The same error, blaming request field `field`.
    pub fn field(mut self, field: &str) -> Self {
        self.body.field = Some(field.to_owned());
        self
    }

    /// 400 for a bad value of `field`.
    pub fn bad_field(field: &str, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid-field", message).field(field)
    }

    /// 401: no token, or one that is not live.
    pub fn unauthorized() -> Self {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "send a live API token as `Authorization: Bearer alk_…` (`airlock tokens create`)",
        )
    }

    /// 404 for something that does not exist, or belongs to a merchant the caller may not see
    /// (the two must read the same).
    pub fn not_found(what: &str) -> Self {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not-found",
            format!("{what} not found"),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body)).into_response();
        if let Some(secs) = self.retry_after
            && let Ok(value) = secs.to_string().parse()
        {
            response.headers_mut().insert("retry-after", value);
        }
        response
    }
}

impl From<Error> for ApiError {
    fn from(err: Error) -> Self {
        let (status, code, field) = classify(&err);
        if status.is_server_error() {
            // The details stay in the log; the caller gets the code.
            tracing::error!(error = %err, code, "request failed inside the host");
            return ApiError::new(status, code, server_message(code));
        }
        let out = ApiError::new(status, code, err.to_string());
        match field {
            Some(field) => out.field(field),
            None => out,
        }
    }
}

/// What a caller is told of a server-side failure: what kind it was, never its details.
fn server_message(code: &str) -> &'static str {
    match code {
        "vault-unavailable" => {
            "this host has no vault key, so secrets cannot be set or used; the platform must \
             start it with one"
        }
        _ => "the host failed; the error is in its log",
    }
}

/// The status, stable code and (where a request field is at fault) the field of a host
/// error. Exhaustive: a new variant must be given its code here before it compiles.
fn classify(err: &Error) -> (StatusCode, &'static str, Option<&'static str>) {
    use StatusCode as S;
    match err {
        Error::Db(_) | Error::Engine(_) => (S::INTERNAL_SERVER_ERROR, "internal", None),
        Error::Token(TokenError::Randomness(_)) => (S::INTERNAL_SERVER_ERROR, "internal", None),
        Error::Secret(SecretError::Db(_)) => (S::INTERNAL_SERVER_ERROR, "internal", None),
        Error::Artifact(_) => (S::UNPROCESSABLE_ENTITY, "artifact-refused", None),
        Error::PolicyForbids { .. } => (S::UNPROCESSABLE_ENTITY, "policy-forbids", None),
        Error::NotSuccessor { .. } => (S::UNPROCESSABLE_ENTITY, "not-successor", None),
        Error::NotNewer { .. } => (S::UNPROCESSABLE_ENTITY, "not-newer", None),
        Error::UnknownToken(_) => (S::NOT_FOUND, "unknown-token", None),
        Error::UnknownMerchant(_) => (S::NOT_FOUND, "unknown-merchant", None),
        Error::NotInstalled { .. } => (S::NOT_FOUND, "unknown-installation", None),
        Error::UnknownDelivery(_) => (S::NOT_FOUND, "unknown-delivery", None),
        Error::UnknownPlan(_) => (S::NOT_FOUND, "unknown-plan", None),
        Error::SecretNotDeclared { .. } => (S::NOT_FOUND, "unknown-secret", None),
        Error::Token(TokenError::BadLabel(_)) => (S::BAD_REQUEST, "invalid-field", Some("label")),
        Error::NotOptional { .. } => (S::BAD_REQUEST, "not-optional", Some("optional")),
        Error::RequiredScope { .. } => (S::BAD_REQUEST, "required-scope", Some("scope")),
        // Well-formed hex that is not a point on the curve: no schema can say so.
        Error::BadKey(_) => (S::UNPROCESSABLE_ENTITY, "invalid-key", Some("public_key")),
        Error::BadSubject => (S::BAD_REQUEST, "invalid-field", Some("subject_id")),
        Error::PlanLimit { .. } => (S::CONFLICT, "plan-limit", None),
        Error::AlreadyInstalled { .. } => (S::CONFLICT, "already-installed", None),
        Error::NotActive { .. } => (S::CONFLICT, "not-active", None),
        Error::NotApproved { .. } => (S::CONFLICT, "not-approved", Some("scope")),
        Error::BadTransition { .. } => (S::CONFLICT, "bad-transition", None),
        Error::NotWaiting { .. } => (S::CONFLICT, "not-waiting", Some("digest")),
        Error::Concurrent { .. } => (S::CONFLICT, "concurrent-change", None),
        Error::TopicNotGranted { .. } => (S::CONFLICT, "topic-not-granted", None),
        Error::SecretState { .. } => (S::CONFLICT, "secret-state", None),
        Error::Secret(SecretError::Vault(vault)) => match vault {
            VaultError::BadValue(_) => (S::BAD_REQUEST, "invalid-field", Some("value")),
            VaultError::NoKey | VaultError::BadKey { .. } | VaultError::KeyFile { .. } => {
                (S::SERVICE_UNAVAILABLE, "vault-unavailable", None)
            }
            VaultError::WrongKey { .. } | VaultError::Tampered { .. } => {
                (S::CONFLICT, "secret-unreadable", None)
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_failures_say_nothing_of_their_cause() {
        let err = ApiError::from(Error::Engine("secret detail /var/lib".into()));
        assert_eq!(err.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(err.body.code, "internal");
        assert!(!err.body.message.contains("secret detail"));
    }

    #[test]
    fn a_bad_request_field_is_named() {
        let err = ApiError::from(Error::BadSubject);
        assert_eq!(err.status, StatusCode::BAD_REQUEST);
        assert_eq!(err.body.field.as_deref(), Some("subject_id"));
    }
}
