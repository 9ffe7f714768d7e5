//! `Idempotency-Key` on every POST of the API: the first request with a key runs and, when it
//! succeeds, its answer is kept for 24 hours under the caller's token and the key; the same
//! request again gets that answer back (`Idempotency-Replayed: true`) instead of acting twice,
//! and the key sent with a different request is refused (422 `idempotency-key-reused`).
//! A request that failed is not kept (it changed nothing, so a retry should run it again).
//! An answer that carries a secret (a new token) is never stored: its replay says it was done.

use airlock_host::db::idempotency::{self, Claim, MAX_KEY_CHARS, Stored};
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use utoipa::IntoParams;

use crate::ApiState;
use crate::auth::bearer;
use crate::error::ApiError;

/// The header a client names a request by.
pub const HEADER: &str = "idempotency-key";
/// The header on an answer replayed from an earlier request.
pub const REPLAYED: &str = "idempotency-replayed";
/// Largest body read to fingerprint a request: the largest upload.
const MAX_BODY: usize = airlock_host::artifact::MAX_ARTIFACT_BYTES;
/// Largest answer kept for replay.
const MAX_ANSWER: usize = 4 * 1024 * 1024;

/// The `Idempotency-Key` header as the OpenAPI document describes it on every POST.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Header)]
// For the document only: the middleware reads the header itself.
#[allow(dead_code)]
pub struct IdempotencyKey {
    /// Any 1 to 255 visible ASCII characters the client chooses per logical request: the same
    /// request sent again with it within 24 hours is answered as the first was, not done twice.
    #[param(
        rename = "Idempotency-Key",
        min_length = 1,
        max_length = 255,
        pattern = "^[!-~]+$"
    )]
    pub key: Option<String>,
}

/// Put on a response (as an extension) whose body must never be stored, such as one holding a
/// new token's secret; a replay answers 409 with this message instead.
#[derive(Debug, Clone)]
pub struct NoReplay(pub String);

/// The middleware: runs around every request, acts on POSTs under `/v1/` that carry a key.
pub(crate) async fn guard(State(state): State<ApiState>, req: Request, next: Next) -> Response {
    if req.method() != Method::POST || !req.uri().path().starts_with("/v1/") {
        return next.run(req).await;
    }
    let Some(key) = req.headers().get(HEADER) else {
        return next.run(req).await;
    };
    let key = match key.to_str() {
        Ok(k) if valid_key(k) => k.to_owned(),
        _ => {
            return ApiError::bad_field(
                "Idempotency-Key",
                format!("Idempotency-Key must be 1 to {MAX_KEY_CHARS} visible ASCII characters"),
            )
            .into_response();
        }
    };
    // Only a live token's requests are kept or replayed; the handler answers the rest 401.
    let Some(secret) = bearer(req.headers()).map(str::to_owned) else {
        return next.run(req).await;
    };
    match state.host.authenticate(&secret).await {
        Ok(Some(_)) => {}
        Ok(None) => return next.run(req).await,
        Err(err) => return ApiError::from(err).into_response(),
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        return crate::extract::too_large(MAX_BODY).into_response();
    };
    let token = hex::encode(Sha256::digest(secret.as_bytes()));
    let request = fingerprint(&secret, &parts, &bytes);
    let db = state.host.db();
    let claim = match idempotency::claim(db, &token, &key, &request).await {
        Ok(claim) => claim,
        Err(err) => return ApiError::from(airlock_host::Error::Db(err)).into_response(),
    };
    match claim {
        Claim::Done(stored) => {
            if let Err(err) = state.limiter.charge(&token) {
                return err.into_response();
            }
            replay(stored)
        }
        Claim::Running => ApiError::new(
            StatusCode::CONFLICT,
            "idempotency-in-progress",
            "a request with this Idempotency-Key is still running; retry in a moment",
        )
        .field("Idempotency-Key")
        .into_response(),
        Claim::Reused => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency-key-reused",
            "this Idempotency-Key was used for a different request in the last 24 hours; \
             use a new key for a new request",
        )
        .field("Idempotency-Key")
        .into_response(),
        Claim::New => {
            let response = next
                .run(Request::from_parts(parts, Body::from(bytes)))
                .await;
            keep(&state, &token, &key, response).await
        }
    }
}

/// Store `response` as the answer to `key` when it succeeded (and give the key up when it did
/// not), then send it on.
async fn keep(state: &ApiState, token: &str, key: &str, response: Response) -> Response {
    let db = state.host.db();
    if !response.status().is_success() {
        if let Err(err) = idempotency::release(db, token, key).await {
            tracing::warn!(error = %err, "could not release an idempotency key");
        }
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_ANSWER).await else {
        return ApiError::from(airlock_host::Error::Engine("answer unreadable".into()))
            .into_response();
    };
    let stored = match parts.extensions.remove::<NoReplay>() {
        Some(NoReplay(message)) => {
            let body = ApiError::new(StatusCode::CONFLICT, "idempotent-secret-withheld", message);
            Stored {
                status: StatusCode::CONFLICT.as_u16(),
                content_type: Some("application/json".to_owned()),
                body: serde_json::to_string(&body.body).unwrap_or_default(),
            }
        }
        None => Stored {
            status: parts.status.as_u16(),
            content_type: parts
                .headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            body: String::from_utf8_lossy(&bytes).into_owned(),
        },
    };
    if let Err(err) = idempotency::complete(db, token, key, &stored).await {
        tracing::warn!(error = %err, "could not keep an idempotent answer");
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// An answer kept from an earlier request.
fn replay(stored: Stored) -> Response {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let mut response = (status, Bytes::from(stored.body)).into_response();
    let headers = response.headers_mut();
    if let Some(value) = stored
        .content_type
        .and_then(|c| HeaderValue::from_str(&c).ok())
    {
        headers.insert(header::CONTENT_TYPE, value);
    }
    headers.insert(REPLAYED, HeaderValue::from_static("true"));
    response
}

fn valid_key(key: &str) -> bool {
    (1..=MAX_KEY_CHARS).contains(&key.len()) && key.bytes().all(|b| (0x21..=0x7e).contains(&b))
}

/// What makes two requests the same: method, path and query, content type and body, hashed
/// with the caller's secret first so a stored fingerprint cannot be used to guess a secret
/// value sent in a body (a key being set) without the token.
fn fingerprint(secret: &str, parts: &axum::http::request::Parts, body: &[u8]) -> String {
    let mut hash = Sha256::new();
    hash.update((secret.len() as u64).to_le_bytes());
    hash.update(secret.as_bytes());
    hash.update(parts.method.as_str().as_bytes());
    hash.update([0]);
    let target = parts.uri.path_and_query().map_or("", |p| p.as_str());
    hash.update(target.as_bytes());
    hash.update([0]);
    let content_type = parts.headers.get(header::CONTENT_TYPE);
    hash.update(content_type.map_or(&b""[..], HeaderValue::as_bytes));
    hash.update([0]);
    hash.update(body);
    hex::encode(hash.finalize())
}
