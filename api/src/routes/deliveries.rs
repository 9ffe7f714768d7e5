//! Events and their deliveries: emit an event into the merchant's outbox (the dispatcher of
//! `airlock serve` delivers it), list deliveries with the CLI's filters, show one with its
//! app's hold, replay finished ones, and let an app's held deliveries go again.

use airlock_host::ids::MerchantId;
use airlock_host::manifest::Topic;
use airlock_host::outbox::{Delivery, DeliveryFilter, DeliveryState, Hold};
use airlock_host::{Event, Host};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::ApiState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{Body, Params, Query};
use crate::idempotency::IdempotencyKey;
use crate::paging::{Page, PageQuery, page};
use crate::responses::{Reads, Writes};
use crate::routes::apps::{AppPath, MerchantPath};

/// Most deliveries a list reads (the CLI's cap too).
const MAX_READ: u32 = 10_000;

/// The routes of this module.
pub(crate) fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(emit))
        .routes(routes!(list))
        .routes(routes!(show))
        .routes(routes!(replay))
        .routes(routes!(resume))
}

/// One delivery, and why its app's deliveries wait for the merchant, if they do.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeliveryDetail {
    /// The delivery.
    pub delivery: Delivery,
    /// The hold on its app's deliveries.
    pub hold: Option<Hold>,
}

/// An event to emit.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmitRequest {
    /// The topic, such as `order.created`.
    #[schema(
        pattern = "^(order\\.(created|paid|fulfilled|cancelled)|customer\\.created|inventory\\.changed|app\\.(installed|uninstalled))$"
    )]
    pub topic: String,
    /// The record it is about: 1 to 128 printable ASCII characters.
    #[schema(pattern = "^[ -~]{1,128}$")]
    pub subject_id: String,
}

/// Which deliveries to list.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryQuery {
    /// Only this app's (installation id or connector id).
    pub installation: Option<String>,
    /// Only in this state.
    pub state: Option<DeliveryState>,
    /// Only events that occurred at or after this time (ms since the epoch).
    #[param(minimum = 0)]
    pub since: Option<i64>,
    /// Only this event's.
    pub event: Option<String>,
}

/// Which finished deliveries to queue again.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplayRequest {
    /// One delivery, by id.
    pub id: Option<String>,
    /// Only this app's (installation id or connector id).
    pub installation: Option<String>,
    /// Only events that occurred at or after this time (ms since the epoch).
    #[schema(minimum = 0)]
    pub since: Option<i64>,
    /// Only this event's.
    pub event: Option<String>,
    /// Delivered ones too, not only dead ones.
    #[serde(default)]
    pub all: bool,
}

/// How many deliveries a replay queued.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Replayed {
    /// Deliveries queued again, with their events' ids unchanged.
    pub queued: u64,
}

/// Whether an app's deliveries were held before this resumed them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Resumed {
    /// True when they were held.
    pub was_held: bool,
}

/// Emit an event into the merchant's outbox; `airlock serve` delivers it to every active app
/// subscribed and granted for it, with retries.
#[utoipa::path(post, path = "/v1/merchants/{merchant}/events", tag = "deliveries",
    params(MerchantPath, IdempotencyKey),
    request_body = EmitRequest,
    responses((status = 202, description = "Queued", body = Event), Writes))]
pub(crate) async fn emit(
    caller: Caller,
    State(state): State<ApiState>,
    Params(MerchantPath { merchant }): Params<MerchantPath>,
    Body(request): Body<EmitRequest>,
) -> Result<(StatusCode, Json<Event>), ApiError> {
    let merchant = caller.merchant(&merchant)?;
    let topic: Topic = request
        .topic
        .parse()
        .map_err(|e: String| ApiError::bad_field("topic", e))?;
    let subject = &request.subject_id;
    if !(1..=128).contains(&subject.len()) || !subject.bytes().all(|b| (b' '..=b'~').contains(&b)) {
        return Err(ApiError::bad_field(
            "subject_id",
            "subject_id must be 1 to 128 printable ASCII characters",
        ));
    }
    let event = state
        .host
        .emit(&merchant, topic, &request.subject_id)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(event)))
}

/// The merchant's deliveries, newest first.
#[utoipa::path(get, path = "/v1/merchants/{merchant}/deliveries", tag = "deliveries",
    params(MerchantPath, DeliveryQuery, PageQuery),
    responses((status = 200, description = "Deliveries, newest first", body = Page<Delivery>), Reads))]
pub(crate) async fn list(
    caller: Caller,
    State(state): State<ApiState>,
    Params(MerchantPath { merchant }): Params<MerchantPath>,
    Query(query): Query<DeliveryQuery>,
    Query(paging): Query<PageQuery>,
) -> Result<Json<Page<Delivery>>, ApiError> {
    let merchant = caller.merchant(&merchant)?;
    let window = paging.window()?;
    let mut filter = filter(
        &state.host,
        &merchant,
        query.installation.as_deref(),
        query.since,
    )
    .await?;
    filter.state = query.state;
    filter.event = query.event;
    let found = state
        .host
        .deliveries(&merchant, &filter, window.read().min(MAX_READ))
        .await?;
    Ok(Json(page(found, window)))
}

/// One delivery, with its app's hold.
#[utoipa::path(get, path = "/v1/merchants/{merchant}/deliveries/{id}", tag = "deliveries",
    params(MerchantPath,
        ("id" = String, Path, description = "The delivery's id")),
    responses((status = 200, description = "The delivery", body = DeliveryDetail), Reads))]
pub(crate) async fn show(
    caller: Caller,
    State(state): State<ApiState>,
    Params((merchant, id)): Params<(String, String)>,
) -> Result<Json<DeliveryDetail>, ApiError> {
    let merchant = caller.merchant(&merchant)?;
    let delivery = state.host.delivery(&merchant, &id).await?;
    let hold = state
        .host
        .delivery_hold(&merchant, delivery.installation.as_str())
        .await
        .ok()
        .flatten();
    Ok(Json(DeliveryDetail { delivery, hold }))
}

/// Queue finished deliveries again (dead ones; with `all`, delivered ones too): one by id, or
/// every one matching the filters (none: every dead delivery of the merchant). Event ids are
/// unchanged, so a connector that deduplicates on them stays correct.
#[utoipa::path(post, path = "/v1/merchants/{merchant}/deliveries/replay", tag = "deliveries",
    params(MerchantPath, IdempotencyKey),
    request_body = ReplayRequest,
    responses((status = 200, description = "How many were queued", body = Replayed), Writes))]
pub(crate) async fn replay(
    caller: Caller,
    State(state): State<ApiState>,
    Params(MerchantPath { merchant }): Params<MerchantPath>,
    Body(request): Body<ReplayRequest>,
) -> Result<Json<Replayed>, ApiError> {
    let merchant = caller.merchant(&merchant)?;
    let mut filter = filter(
        &state.host,
        &merchant,
        request.installation.as_deref(),
        request.since,
    )
    .await?;
    filter.event = request.event.clone();
    if !request.all {
        filter.state = Some(DeliveryState::Dead);
    }
    let queued = state
        .host
        .replay(&merchant, &filter, request.id.as_deref())
        .await?;
    Ok(Json(Replayed { queued }))
}

/// Let an app's held deliveries go again (the merchant fixed the cause).
#[utoipa::path(post, path = "/v1/merchants/{merchant}/apps/{app}/deliveries/resume", tag = "deliveries",
    params(AppPath, IdempotencyKey),
    responses((status = 200, description = "Whether they were held", body = Resumed), Writes))]
pub(crate) async fn resume(
    caller: Caller,
    State(state): State<ApiState>,
    Params(AppPath { merchant, app }): Params<AppPath>,
) -> Result<Json<Resumed>, ApiError> {
    let merchant = caller.merchant(&merchant)?;
    let was_held = state.host.resume_deliveries(&merchant, &app).await?;
    Ok(Json(Resumed { was_held }))
}

/// The filter the request names, the app resolved to its installation id.
async fn filter(
    host: &Host,
    merchant: &MerchantId,
    installation: Option<&str>,
    since: Option<i64>,
) -> Result<DeliveryFilter, ApiError> {
    if since.is_some_and(|s| s < 0) {
        return Err(ApiError::bad_field("since", "since must be 0 or more"));
    }
    let installation = match installation {
        Some(key) => Some(host.installation(merchant, key).await?.id),
        None => None,
    };
    Ok(DeliveryFilter {
        installation,
        state: None,
        since,
        event: None,
    })
}
