//! An app's secrets (API keys): their names and when they were set, never their values; set
//! and rotate with the value in the JSON body only (never in a URL, a log or an answer).

use airlock_host::db::secrets::SecretWrite;
use airlock_host::{SecretChanged, SecretStatus};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use zeroize::Zeroize;

use crate::ApiState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{Body, Params};
use crate::idempotency::IdempotencyKey;
use crate::responses::{Reads, SecretWrites};
use crate::routes::apps::AppPath;

/// The routes of this module.
pub(crate) fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(set))
        .routes(routes!(rotate))
}

/// A secret's value, sent only in this body.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SecretValue {
    /// The value: one line, sealed in the vault at once and never shown again.
    #[schema(format = Password)]
    pub value: String,
}

impl Drop for SecretValue {
    // The request's copy of the value is wiped once the vault has sealed it.
    fn drop(&mut self) {
        self.value.zeroize();
    }
}

impl std::fmt::Debug for SecretValue {
    // Never the value, whoever prints a request.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretValue(..)")
    }
}

/// The secrets an app's manifest declares, with whether and when each was set.
#[utoipa::path(get, path = "/v1/merchants/{merchant}/apps/{app}/secrets", tag = "secrets",
    params(AppPath),
    responses((status = 200, description = "Names and state, never values", body = Vec<SecretStatus>), Reads))]
pub(crate) async fn list(
    caller: Caller,
    State(state): State<ApiState>,
    Params(AppPath { merchant, app }): Params<AppPath>,
) -> Result<Json<Vec<SecretStatus>>, ApiError> {
    let merchant = caller.merchant(&merchant)?;
    Ok(Json(state.host.secrets(&merchant, &app).await?))
}

/// Set a declared secret for the first time (409 `secret-state` if it is set: rotate it).
#[utoipa::path(post, path = "/v1/merchants/{merchant}/apps/{app}/secrets/{name}", tag = "secrets",
    params(AppPath,
        ("name" = String, Path, description = "The secret's name, as the manifest declares it"),
        IdempotencyKey),
    request_body = SecretValue,
    responses((status = 201, description = "Set; the answer never holds the value", body = SecretChanged), SecretWrites))]
pub(crate) async fn set(
    caller: Caller,
    State(state): State<ApiState>,
    Params((merchant, app, name)): Params<(String, String, String)>,
    Body(body): Body<SecretValue>,
) -> Result<(StatusCode, Json<SecretChanged>), ApiError> {
    let changed = write(
        &caller,
        &state,
        (&merchant, &app, &name),
        &body,
        SecretWrite::Set,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(changed)))
}

/// Replace a secret's value (409 `secret-state` if it was never set).
#[utoipa::path(post, path = "/v1/merchants/{merchant}/apps/{app}/secrets/{name}/rotate", tag = "secrets",
    params(AppPath,
        ("name" = String, Path, description = "The secret's name, as the manifest declares it"),
        IdempotencyKey),
    request_body = SecretValue,
    responses((status = 200, description = "Rotated; the answer never holds the value", body = SecretChanged), SecretWrites))]
pub(crate) async fn rotate(
    caller: Caller,
    State(state): State<ApiState>,
    Params((merchant, app, name)): Params<(String, String, String)>,
    Body(body): Body<SecretValue>,
) -> Result<Json<SecretChanged>, ApiError> {
    let changed = write(
        &caller,
        &state,
        (&merchant, &app, &name),
        &body,
        SecretWrite::Rotate,
    )
    .await?;
    Ok(Json(changed))
}

async fn write(
    caller: &Caller,
    state: &ApiState,
    (merchant, app, name): (&str, &str, &str),
    body: &SecretValue,
    mode: SecretWrite,
) -> Result<SecretChanged, ApiError> {
    let merchant = caller.merchant(merchant)?;
    let changed = state
        .host
        .write_secret(&merchant, app, name, &body.value, &caller.actor(), mode)
        .await?;
    Ok(changed)
}
