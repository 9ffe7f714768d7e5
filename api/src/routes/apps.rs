//! A merchant's apps: upload and install, list, show, the prompt of what waits, approve (naming
//! the digest approved), revoke, upgrade, disable, enable, uninstall. `{app}` is an
//! installation id or a connector id, as on the command line.

use airlock_host::grants::Scope;
use airlock_host::prompt::Language;
use airlock_host::{Declined, Installation, Installed, Uninstalled, Upgraded, Waiting};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::ApiState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{Artifact, Body, Params, Query};
use crate::idempotency::IdempotencyKey;
use crate::paging::{Page, PageQuery, page};
use crate::responses::{Reads, Writes};

/// The routes of this module.
pub(crate) fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(list, install))
        .routes(routes!(show, uninstall))
        .routes(routes!(prompt))
        .routes(routes!(approve))
        .routes(routes!(decline))
        .routes(routes!(revoke))
        .routes(routes!(upgrade))
        .routes(routes!(disable))
        .routes(routes!(enable))
}

/// The language of the merchant-facing text in an answer.
#[derive(Debug, Clone, Copy, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Lang {
    /// `en` (default), `hi` or `as`.
    pub lang: Option<Language>,
}

impl Lang {
    /// The language asked for, English if none.
    pub fn get(self) -> Language {
        self.lang.unwrap_or_default()
    }
}

/// A component's bytes, as an upload's body (for the document: the handler reads them raw).
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)]
pub struct ComponentBytes(Vec<u8>);

/// `{merchant}`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct MerchantPath {
    /// The merchant.
    pub merchant: String,
}

/// `{merchant}` and `{app}`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct AppPath {
    /// The merchant.
    pub merchant: String,
    /// The app: installation id or connector id.
    pub app: String,
}

/// A data scope, as manifests and prompts spell it.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
pub enum ScopeName {
    /// Read orders.
    #[serde(rename = "orders:read")]
    OrdersRead,
    /// Change order status.
    #[serde(rename = "orders:write")]
    OrdersWrite,
    /// Read customers without contact details.
    #[serde(rename = "customers:read")]
    CustomersRead,
    /// Customers' name, email, phone and address.
    #[serde(rename = "customers:read-contact")]
    CustomersReadContact,
    /// Read stock levels.
    #[serde(rename = "inventory:read")]
    InventoryRead,
    /// Adjust stock levels.
    #[serde(rename = "inventory:write")]
    InventoryWrite,
}

impl From<ScopeName> for Scope {
    fn from(name: ScopeName) -> Scope {
        match name {
            ScopeName::OrdersRead => Scope::OrdersRead,
            ScopeName::OrdersWrite => Scope::OrdersWrite,
            ScopeName::CustomersRead => Scope::CustomersRead,
            ScopeName::CustomersReadContact => Scope::CustomersReadContact,
            ScopeName::InventoryRead => Scope::InventoryRead,
            ScopeName::InventoryWrite => Scope::InventoryWrite,
        }
    }
}

/// An approval of what waits on an app.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproveRequest {
    /// The digest of the version the merchant was shown (`sha256:…`, the prompt's `digest`):
    /// refused with 409 `not-waiting` if something else waits by now.
    #[schema(pattern = "^(sha256:)?[0-9a-fA-F]{64}$")]
    pub digest: String,
    /// Optional scopes the merchant chose (required ones are always approved).
    #[serde(default)]
    pub optional: Vec<ScopeName>,
}

/// The merchant's "no" to what waits on an app.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclineRequest {
    /// The digest of the version declined (`sha256:…`, the prompt's `digest`): refused with
    /// 409 `not-waiting` if something else waits by now.
    #[schema(pattern = "^(sha256:)?[0-9a-fA-F]{64}$")]
    pub digest: String,
}

/// A withdrawal of one optional scope, or (no scope) of every approval.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeRequest {
    /// The optional scope to withdraw; absent: withdraw everything (the app keeps its slot and
    /// waits for a new approval).
    pub scope: Option<ScopeName>,
}

/// A merchant's apps.
#[utoipa::path(get, path = "/v1/merchants/{merchant}/apps", tag = "apps",
    params(MerchantPath, PageQuery),
    responses((status = 200, description = "The merchant's installations, in install order", body = Page<Installation>), Reads))]
pub(crate) async fn list(
    caller: Caller,
    State(state): State<ApiState>,
    Params(MerchantPath { merchant }): Params<MerchantPath>,
    Query(query): Query<PageQuery>,
) -> Result<Json<Page<Installation>>, ApiError> {
    let merchant = caller.merchant(&merchant)?;
    let window = query.window()?;
    // An unknown merchant is a 404, not an empty list.
    super::known_merchant(&state, &merchant).await?;
    Ok(Json(page(state.host.list(&merchant).await?, window)))
}

/// Upload a component and install it for the merchant, pending approval; the answer has the
/// prompt to show the merchant.
#[utoipa::path(post, path = "/v1/merchants/{merchant}/apps", tag = "apps",
    params(MerchantPath, Lang, IdempotencyKey),
    request_body(content((ComponentBytes = "application/wasm"), (ComponentBytes = "application/octet-stream")),
        description = "The component (with its manifest section), at most 32 MiB"),
    responses((status = 201, description = "Installed, pending approval", body = Installed), Writes))]
pub(crate) async fn install(
    caller: Caller,
    State(state): State<ApiState>,
    Params(MerchantPath { merchant }): Params<MerchantPath>,
    Query(lang): Query<Lang>,
    Artifact(bytes): Artifact,
) -> Result<(StatusCode, Json<Installed>), ApiError> {
    let merchant = caller.merchant(&merchant)?;
    let host = &state.host;
    let mut installed = host.install(&merchant, &bytes, &caller.actor()).await?;
    let id = installed.installation.id.clone();
    installed.prompt = host.prompt(&merchant, id.as_str(), lang.get()).await?;
    Ok((StatusCode::CREATED, Json(installed)))
}

/// One app.
#[utoipa::path(get, path = "/v1/merchants/{merchant}/apps/{app}", tag = "apps",
    params(AppPath),
    responses((status = 200, description = "The installation", body = Installation), Reads))]
pub(crate) async fn show(
    caller: Caller,
    State(state): State<ApiState>,
    Params(AppPath { merchant, app }): Params<AppPath>,
) -> Result<Json<Installation>, ApiError> {
    let merchant = caller.merchant(&merchant)?;
    Ok(Json(state.host.installation(&merchant, &app).await?))
}

/// Uninstall an app: its slot is freed at once, and its grants, storage and secrets deleted.
#[utoipa::path(delete, path = "/v1/merchants/{merchant}/apps/{app}", tag = "apps",
    params(AppPath),
    responses((status = 200, description = "What was deleted", body = Uninstalled), Writes))]
pub(crate) async fn uninstall(
    caller: Caller,
    State(state): State<ApiState>,
    Params(AppPath { merchant, app }): Params<AppPath>,
) -> Result<Json<Uninstalled>, ApiError> {
    let merchant = caller.merchant(&merchant)?;
    Ok(Json(
        state
            .host
            .uninstall(&merchant, &app, &caller.actor())
            .await?,
    ))
}

/// What waits for the merchant's approval on an app (a waiting upgrade's additions, or the
/// whole app), its prompt, and the digest to approve it by.
#[utoipa::path(get, path = "/v1/merchants/{merchant}/apps/{app}/prompt", tag = "apps",
    params(AppPath, Lang),
    responses((status = 200, description = "What waits, with its prompt", body = Waiting), Reads))]
pub(crate) async fn prompt(
    caller: Caller,
    State(state): State<ApiState>,
    Params(AppPath { merchant, app }): Params<AppPath>,
    Query(lang): Query<Lang>,
) -> Result<Json<Waiting>, ApiError> {
    let merchant = caller.merchant(&merchant)?;
    Ok(Json(state.host.waiting(&merchant, &app, lang.get()).await?))
}

/// Approve what waits, named by its digest: every required scope and the optional ones chosen.
#[utoipa::path(post, path = "/v1/merchants/{merchant}/apps/{app}/approve", tag = "apps",
    params(AppPath, IdempotencyKey),
    request_body = ApproveRequest,
    responses((status = 200, description = "The installation after the approval", body = Installation), Writes))]
pub(crate) async fn approve(
    caller: Caller,
    State(state): State<ApiState>,
    Params(AppPath { merchant, app }): Params<AppPath>,
    Body(request): Body<ApproveRequest>,
) -> Result<Json<Installation>, ApiError> {
    let merchant = caller.merchant(&merchant)?;
    let optional: Vec<Scope> = request.optional.into_iter().map(Scope::from).collect();
    let view = state
        .host
        .approve(&merchant, &app, &request.digest, &optional, &caller.actor())
        .await?;
    Ok(Json(view))
}

/// Decline what waits, named by its digest: a waiting upgrade is dropped (the running version
/// keeps its grants); a pending install is removed, freeing its slot.
#[utoipa::path(post, path = "/v1/merchants/{merchant}/apps/{app}/decline", tag = "apps",
    params(AppPath, IdempotencyKey),
    request_body = DeclineRequest,
    responses((status = 200, description = "What declining came to", body = Declined), Writes))]
pub(crate) async fn decline(
    caller: Caller,
    State(state): State<ApiState>,
    Params(AppPath { merchant, app }): Params<AppPath>,
    Body(request): Body<DeclineRequest>,
) -> Result<Json<Declined>, ApiError> {
    let merchant = caller.merchant(&merchant)?;
    let declined = state
        .host
        .decline(&merchant, &app, &request.digest, &caller.actor())
        .await?;
    Ok(Json(declined))
}

/// Withdraw one optional scope, or every approval.
#[utoipa::path(post, path = "/v1/merchants/{merchant}/apps/{app}/revoke", tag = "apps",
    params(AppPath, IdempotencyKey),
    request_body = RevokeRequest,
    responses((status = 200, description = "The installation after the revocation", body = Installation), Writes))]
pub(crate) async fn revoke(
    caller: Caller,
    State(state): State<ApiState>,
    Params(AppPath { merchant, app }): Params<AppPath>,
    Body(request): Body<RevokeRequest>,
) -> Result<Json<Installation>, ApiError> {
    let merchant = caller.merchant(&merchant)?;
    let host = &state.host;
    let view = match request.scope {
        Some(scope) => {
            host.revoke_scope(&merchant, &app, scope.into(), &caller.actor())
                .await?
        }
        None => host.revoke_all(&merchant, &app, &caller.actor()).await?,
    };
    Ok(Json(view))
}

/// Offer a newer version of an installed app: applied at once if it asks for nothing more,
/// else it waits for approval (the answer has the prompt of what it adds).
#[utoipa::path(post, path = "/v1/merchants/{merchant}/apps/{app}/upgrade", tag = "apps",
    params(AppPath, Lang, IdempotencyKey),
    request_body(content((ComponentBytes = "application/wasm"), (ComponentBytes = "application/octet-stream")),
        description = "The new version's component, at most 32 MiB"),
    responses((status = 200, description = "What the upgrade did", body = Upgraded), Writes))]
pub(crate) async fn upgrade(
    caller: Caller,
    State(state): State<ApiState>,
    Params(AppPath { merchant, app }): Params<AppPath>,
    Query(lang): Query<Lang>,
    Artifact(bytes): Artifact,
) -> Result<Json<Upgraded>, ApiError> {
    let merchant = caller.merchant(&merchant)?;
    let up = state
        .host
        .upgrade(&merchant, &app, &bytes, &caller.actor(), lang.get())
        .await?;
    Ok(Json(up))
}

/// Pause an active app, keeping its grants.
#[utoipa::path(post, path = "/v1/merchants/{merchant}/apps/{app}/disable", tag = "apps",
    params(AppPath, IdempotencyKey),
    responses((status = 200, description = "The installation, disabled", body = Installation), Writes))]
pub(crate) async fn disable(
    caller: Caller,
    State(state): State<ApiState>,
    Params(AppPath { merchant, app }): Params<AppPath>,
) -> Result<Json<Installation>, ApiError> {
    let merchant = caller.merchant(&merchant)?;
    Ok(Json(
        state.host.disable(&merchant, &app, &caller.actor()).await?,
    ))
}

/// Resume a disabled app.
#[utoipa::path(post, path = "/v1/merchants/{merchant}/apps/{app}/enable", tag = "apps",
    params(AppPath, IdempotencyKey),
    responses((status = 200, description = "The installation, active", body = Installation), Writes))]
pub(crate) async fn enable(
    caller: Caller,
    State(state): State<ApiState>,
    Params(AppPath { merchant, app }): Params<AppPath>,
) -> Result<Json<Installation>, ApiError> {
    let merchant = caller.merchant(&merchant)?;
    Ok(Json(
        state.host.enable(&merchant, &app, &caller.actor()).await?,
    ))
}
