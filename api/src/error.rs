//! The API's one error shape, `{code, message, field?}`, with a stable `code` per cause and
//! the HTTP status that goes with it. Host errors are mapped here and nowhere else.

use airlock_host::Error;
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
        let (status, code) = classify(&err);
        if status.is_server_error() {
            // The details stay in the log; the caller gets the code.
            tracing::error!(error = %err, code, "request failed inside the host");
            return ApiError::new(status, code, "the host failed; the error is in its log");
        }
        ApiError::new(status, code, err.to_string())
    }
}

/// The status and stable code of a host error.
fn classify(err: &Error) -> (StatusCode, &'static str) {
    match err {
        Error::Db(_) | Error::Engine(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        Error::UnknownMerchant(_) => (StatusCode::NOT_FOUND, "unknown-merchant"),
        Error::UnknownToken(_) => (StatusCode::NOT_FOUND, "unknown-token"),
        Error::UnknownDelivery(_) => (StatusCode::NOT_FOUND, "unknown-delivery"),
        Error::UnknownPlan(_) => (StatusCode::NOT_FOUND, "unknown-plan"),
        Error::PlanLimit { .. } => (StatusCode::CONFLICT, "plan-limit"),
        Error::AlreadyInstalled { .. } => (StatusCode::CONFLICT, "already-installed"),
        Error::NotActive { .. } => (StatusCode::CONFLICT, "not-active"),
        Error::BadTransition { .. } => (StatusCode::CONFLICT, "bad-transition"),
        Error::Concurrent { .. } => (StatusCode::CONFLICT, "concurrent-change"),
        _ => (StatusCode::BAD_REQUEST, "invalid-request"),
    }
}
