//! Request extractors that fail with the API's typed body (`{code, message, field?}`), not
//! axum's plain text: JSON bodies, path and query parameters, and uploaded artifacts. Also the
//! answer to a route that does not exist.

use airlock_host::artifact::MAX_ARTIFACT_BYTES;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// A JSON request body, refused with a typed 400/413/415 that names the field at fault. A
/// number with no fractional part (`5.0`) counts as the integer it is, as JSON Schema says.
#[derive(Debug, Clone)]
pub struct Body<T>(pub T);

/// Largest JSON body read (axum's default limit).
const MAX_JSON: usize = 2 * 1024 * 1024;

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, ApiError> {
        let json =
            media_type(&req).is_some_and(|v| v == "application/json" || v.ends_with("+json"));
        if !json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "send the body as JSON with `Content-Type: application/json`",
            ));
        }
        let bytes = axum::body::to_bytes(req.into_body(), MAX_JSON)
            .await
            .map_err(|_| too_large(MAX_JSON))?;
        let mut value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|err| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid-json",
                format!("the body is not JSON: {}", shown(&err.to_string())),
            )
        })?;
        integral(&mut value);
        serde_path_to_error::deserialize(value)
            .map(Body)
            .map_err(|err| data_error(&err.path().to_string(), &err.inner().to_string()))
    }
}

/// The request's media type (`Content-Type` without parameters), lowercase.
fn media_type(req: &Request) -> Option<String> {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
}

/// Whole numbers written with a fraction (`5.0`) as the integers they are.
fn integral(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Number(n) if n.is_f64() => {
            // A whole f64 in range converts exactly; beyond it, it stays a float and is refused.
            if let Some(f) = n.as_f64()
                && f.fract() == 0.0
            {
                if (0.0..1.8e19).contains(&f) {
                    *value = serde_json::Value::from(f as u64);
                } else if (-9.2e18..0.0).contains(&f) {
                    *value = serde_json::Value::from(f as i64);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(integral),
        serde_json::Value::Object(map) => map.values_mut().for_each(integral),
        _ => {}
    }
}

/// 400 for a body that is JSON but does not fit: the field at `path` (or, at the top, the
/// field the cause names).
fn data_error(path: &str, cause: &str) -> ApiError {
    let field = match path {
        "" | "." => unknown_field(cause),
        path => Some(path.to_owned()),
    };
    let err = ApiError::new(
        StatusCode::BAD_REQUEST,
        "invalid-field",
        format!("the JSON body does not fit: {}", shown(cause)),
    );
    match field {
        Some(field) => err.field(&field),
        None => err,
    }
}

/// The field serde's "unknown field `name`, expected …" or "missing field `name`" names.
fn unknown_field(cause: &str) -> Option<String> {
    let rest = cause
        .strip_prefix("unknown field `")
        .or_else(|| cause.strip_prefix("missing field `"))?;
    rest.split_once('`').map(|(name, _)| shown(name))
}

/// A request value as it may appear in a message: short and printable.
fn shown(text: &str) -> String {
    airlock_host::text::sanitize(text, 200)
}

/// 413: the body is larger than `limit` bytes.
pub(crate) fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload-too-large",
        format!("the request body is larger than {limit} bytes, or could not be read"),
    )
}

/// Path parameters, refused with a typed 400.
#[derive(Debug, Clone)]
pub struct Params<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| Params(value))
            .map_err(|rejection: PathRejection| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid-path",
                    shown(&rejection.body_text()),
                )
            })
    }
}

/// Query parameters, refused with a typed 400 naming the parameter.
#[derive(Debug, Clone)]
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(value)| Query(value))
            .map_err(|rejection: QueryRejection| {
                let text = rejection.body_text();
                let detail = text
                    .split_once("Failed to deserialize query string: ")
                    .map_or(text.as_str(), |(_, rest)| rest);
                let err = ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid-query",
                    format!("bad query string: {}", shown(detail)),
                );
                match detail.split_once(": ") {
                    Some((field, _)) if !field.contains(' ') => err.field(field),
                    _ => err,
                }
            })
    }
}

/// An uploaded component: the raw bytes of an `application/wasm` or
/// `application/octet-stream` body, at most [`MAX_ARTIFACT_BYTES`].
#[derive(Debug, Clone)]
pub struct Artifact(pub axum::body::Bytes);

impl<S: Send + Sync> FromRequest<S> for Artifact {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, ApiError> {
        if !matches!(
            media_type(&req).as_deref(),
            Some("application/wasm" | "application/octet-stream")
        ) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "send the component's bytes as the body, with `Content-Type: application/wasm` \
                 (or application/octet-stream)",
            ));
        }
        axum::body::to_bytes(req.into_body(), MAX_ARTIFACT_BYTES)
            .await
            .map(Artifact)
            .map_err(|_| too_large(MAX_ARTIFACT_BYTES))
    }
}

/// The answer to a path no route serves: the typed 404.
pub(crate) async fn no_route() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "no-route",
        "no such API route; /openapi.json lists them",
    )
}
