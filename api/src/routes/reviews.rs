//! What a merchant reviews: each app's health (state, cause, the checklist for its kind), the
//! audit log, and the limits an app's calls run under.

use airlock_host::db::audit::AuditEntry;
use airlock_host::{AppHealth, Limits};
use axum::Json;
use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::ApiState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{Params, Query};
use crate::paging::{Page, PageQuery, page};
use crate::responses::Reads;
use crate::routes::apps::{AppPath, Lang, MerchantPath};

/// The routes of this module.
pub(crate) fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(app_health))
        .routes(routes!(audit))
        .routes(routes!(limits))
}

/// The health of every app of the merchant, and of apps removed in the last 30 days.
#[utoipa::path(get, path = "/v1/merchants/{merchant}/health", tag = "health",
    params(MerchantPath, Lang),
    responses((status = 200, description = "Each connection's health", body = Vec<AppHealth>), Reads))]
pub(crate) async fn health(
    caller: Caller,
    State(state): State<ApiState>,
    Params(MerchantPath { merchant }): Params<MerchantPath>,
    Query(lang): Query<Lang>,
) -> Result<Json<Vec<AppHealth>>, ApiError> {
    let merchant = caller.merchant(&merchant)?;
    Ok(Json(state.host.health(&merchant, lang.get()).await?))
}

/// One app's health.
#[utoipa::path(get, path = "/v1/merchants/{merchant}/apps/{app}/health", tag = "health",
    params(AppPath, Lang),
    responses((status = 200, description = "The connection's health", body = AppHealth), Reads))]
pub(crate) async fn app_health(
    caller: Caller,
    State(state): State<ApiState>,
    Params(AppPath { merchant, app }): Params<AppPath>,
    Query(lang): Query<Lang>,
) -> Result<Json<AppHealth>, ApiError> {
    let merchant = caller.merchant(&merchant)?;
    Ok(Json(
        state.host.health_of(&merchant, &app, lang.get()).await?,
    ))
}

/// The merchant's audit log, newest first: who did what, and what each call touched (counts
/// and scopes, never contents).
#[utoipa::path(get, path = "/v1/merchants/{merchant}/audit", tag = "audit",
    params(MerchantPath, PageQuery),
    responses((status = 200, description = "Audit lines, newest first", body = Page<AuditEntry>), Reads))]
pub(crate) async fn audit(
    caller: Caller,
    State(state): State<ApiState>,
    Params(MerchantPath { merchant }): Params<MerchantPath>,
    Query(paging): Query<PageQuery>,
) -> Result<Json<Page<AuditEntry>>, ApiError> {
    let merchant = caller.merchant(&merchant)?;
    let window = paging.window()?;
    super::known_merchant(&state, &merchant).await?;
    // The host answers the newest `n`, oldest first.
    let mut entries = state.host.audit(&merchant, window.read()).await?;
    entries.reverse();
    Ok(Json(page(entries, window)))
}

/// The limits the app's calls run under: the host's, then the plan's, then the connector's.
#[utoipa::path(get, path = "/v1/merchants/{merchant}/apps/{app}/limits", tag = "limits",
    params(AppPath),
    responses((status = 200, description = "The effective limits", body = Limits), Reads))]
pub(crate) async fn limits(
    caller: Caller,
    State(state): State<ApiState>,
    Params(AppPath { merchant, app }): Params<AppPath>,
) -> Result<Json<Limits>, ApiError> {
    let merchant = caller.merchant(&merchant)?;
    Ok(Json(state.host.limits_for(&merchant, &app).await?))
}
