//! API tokens (platform tokens only: a merchant token gets 403 `platform-only`, since these
//! routes are the same for every caller and refusing them reveals nothing), and the per-plan
//! and per-connector limit overrides, which reach many merchants at once (platform only too).

use airlock_host::LimitOverrides;
use airlock_host::ids::MerchantId;
use airlock_host::tokens::{IssuedToken, TokenInfo};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::ApiState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{Body, Params, Query};
use crate::idempotency::{IdempotencyKey, NoReplay};
use crate::paging::{Page, PageQuery, page};
use crate::responses::{PlatformReads, PlatformWrites};

/// The routes of this module.
pub(crate) fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(revoke))
        .routes(routes!(rotate))
        .routes(routes!(plan_limits))
        .routes(routes!(connector_limits))
}

/// A token to make.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    /// Who or what uses it: 1 to 80 characters, no control characters, not starting or
    /// ending with a space.
    #[schema(
        max_length = 80,
        pattern = "^[^\\s\\u0000-\\u001f\\u007f-\\u009f]([^\\u0000-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f])?$"
    )]
    pub label: String,
    /// The merchant it acts for; absent: a platform token (everything).
    pub merchant: Option<String>,
}

/// Whose tokens to list.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TokenQuery {
    /// Only this merchant's tokens.
    pub merchant: Option<String>,
}

/// A change of limit overrides that took effect.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LimitsSet {
    /// What they apply to.
    pub target: String,
    /// The overrides now in force (empty: the host's defaults apply).
    pub overrides: LimitOverrides,
}

/// Every token, or one merchant's, revoked ones included; never a secret.
#[utoipa::path(get, path = "/v1/tokens", tag = "tokens",
    params(TokenQuery, PageQuery),
    responses((status = 200, description = "Tokens, newest first", body = Page<TokenInfo>), PlatformReads))]
pub(crate) async fn list(
    caller: Caller,
    State(state): State<ApiState>,
    Query(query): Query<TokenQuery>,
    Query(paging): Query<PageQuery>,
) -> Result<Json<Page<TokenInfo>>, ApiError> {
    caller.platform()?;
    let window = paging.window()?;
    let merchant = query.merchant.map(MerchantId::new);
    Ok(Json(page(
        state.host.tokens(merchant.as_ref()).await?,
        window,
    )))
}

/// Make a token; its secret is in this answer and nowhere else, ever. A retry with the same
/// Idempotency-Key answers 409 `idempotent-secret-withheld` naming the token made (rotate it
/// if the secret was lost), never the secret again.
#[utoipa::path(post, path = "/v1/tokens", tag = "tokens",
    params(IdempotencyKey),
    request_body = CreateToken,
    responses((status = 201, description = "The token and its secret, shown once", body = IssuedToken), PlatformWrites))]
pub(crate) async fn create(
    caller: Caller,
    State(state): State<ApiState>,
    Body(request): Body<CreateToken>,
) -> Result<Response, ApiError> {
    caller.platform()?;
    let label = &request.label;
    let edge = |c: Option<char>| c.is_some_and(|c| !c.is_whitespace());
    if label.chars().count() > 80
        || label.chars().any(char::is_control)
        || !edge(label.chars().next())
        || !edge(label.chars().last())
    {
        return Err(ApiError::bad_field(
            "label",
            "label must be 1 to 80 characters, without control characters or spaces at either end",
        ));
    }
    let merchant = request.merchant.map(MerchantId::new);
    let issued = state
        .host
        .create_token(merchant.as_ref(), &request.label, &caller.actor())
        .await?;
    Ok(issued_answer(StatusCode::CREATED, issued))
}

/// Replace a token's secret: the old one stops working the moment the new one exists.
#[utoipa::path(post, path = "/v1/tokens/{id}/rotate", tag = "tokens",
    params(("id" = String, Path, description = "The token's id (`tok_…`)"), IdempotencyKey),
    responses((status = 200, description = "The new token and its secret, shown once", body = IssuedToken), PlatformWrites))]
pub(crate) async fn rotate(
    caller: Caller,
    State(state): State<ApiState>,
    Params(id): Params<String>,
) -> Result<Response, ApiError> {
    caller.platform()?;
    let issued = state.host.rotate_token(&id, &caller.actor()).await?;
    Ok(issued_answer(StatusCode::OK, issued))
}

/// Revoke a token: its secret answers 401 from now on.
#[utoipa::path(delete, path = "/v1/tokens/{id}", tag = "tokens",
    params(("id" = String, Path, description = "The token's id (`tok_…`)")),
    responses((status = 204, description = "Revoked"), PlatformWrites))]
pub(crate) async fn revoke(
    caller: Caller,
    State(state): State<ApiState>,
    Params(id): Params<String>,
) -> Result<StatusCode, ApiError> {
    caller.platform()?;
    state.host.revoke_token(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An answer holding a new secret, marked so it is never kept for an idempotent replay.
fn issued_answer(status: StatusCode, issued: IssuedToken) -> Response {
    let note = format!(
        "this request already made token {}; its secret is shown only once: rotate the token \
         if the answer was lost",
        issued.info.id
    );
    let mut response = (status, Json(issued)).into_response();
    response.extensions_mut().insert(NoReplay(note));
    response
}

/// Nothing when every override is within the maximum the document gives it (`u32` fields:
/// int32's, the others 9.2e18, below int64's); else a 400 naming the field.
fn in_range(overrides: &LimitOverrides) -> Result<(), ApiError> {
    const INT32: [&str; 3] = ["max_host_calls", "max_outbound_requests", "max_concurrent"];
    let value = serde_json::to_value(overrides).unwrap_or_default();
    for (field, n) in value.as_object().into_iter().flatten() {
        let max = if INT32.contains(&field.as_str()) {
            i32::MAX as u64
        } else {
            // The document's maximum for the others (a round number below i64::MAX).
            9_200_000_000_000_000_000
        };
        if n.as_u64().is_some_and(|n| n > max) {
            return Err(ApiError::bad_field(
                field,
                format!("{field} must be at most {max}"),
            ));
        }
    }
    Ok(())
}

/// Override the per-call limits of every merchant on a plan (an empty body clears them).
#[utoipa::path(put, path = "/v1/plans/{plan}/limits", tag = "limits",
    params(("plan" = String, Path, description = "The plan's id")),
    request_body = LimitOverrides,
    responses((status = 200, description = "The overrides now in force", body = LimitsSet), PlatformWrites))]
pub(crate) async fn plan_limits(
    caller: Caller,
    State(state): State<ApiState>,
    Params(plan): Params<String>,
    Body(overrides): Body<LimitOverrides>,
) -> Result<Json<LimitsSet>, ApiError> {
    caller.platform()?;
    in_range(&overrides)?;
    state
        .host
        .set_plan_limits(&plan, &overrides, &caller.actor())
        .await?;
    Ok(Json(LimitsSet {
        target: format!("plan `{}`", airlock_host::text::sanitize(&plan, 64)),
        overrides,
    }))
}

/// Override the per-call limits of one publisher's connector wherever it is installed.
#[utoipa::path(put, path = "/v1/publishers/{publisher}/connectors/{connector}/limits", tag = "limits",
    params(("publisher" = String, Path, description = "The publisher, as its manifests name it"),
        ("connector" = String, Path, description = "The connector id")),
    request_body = LimitOverrides,
    responses((status = 200, description = "The overrides now in force", body = LimitsSet), PlatformWrites))]
pub(crate) async fn connector_limits(
    caller: Caller,
    State(state): State<ApiState>,
    Params((publisher, connector)): Params<(String, String)>,
    Body(overrides): Body<LimitOverrides>,
) -> Result<Json<LimitsSet>, ApiError> {
    caller.platform()?;
    in_range(&overrides)?;
    state
        .host
        .set_connector_limits(&publisher, &connector, &overrides, &caller.actor())
        .await?;
    Ok(Json(LimitsSet {
        target: format!(
            "connector `{}` of `{}`",
            airlock_host::text::sanitize(&connector, 64),
            airlock_host::text::sanitize(&publisher, 64)
        ),
        overrides,
    }))
}
