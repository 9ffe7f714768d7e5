//! Running the host: an app's health check run on demand (the merchant's "check again"), and
//! the platform's knobs: a plan's retry schedule, a publisher's signing key, pruning.

use std::time::Duration;

use airlock_host::CallResult;
use airlock_host::outbox::RetrySchedule;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::ApiState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{Body, Params};
use crate::idempotency::IdempotencyKey;
use crate::responses::{PlatformWrites, Writes};
use crate::routes::apps::AppPath;

/// The routes of this module.
pub(crate) fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(check))
        .routes(routes!(retry_schedule))
        .routes(routes!(trust_key))
        .routes(routes!(prune))
}

/// How an app's health check went.
#[derive(Debug, Serialize, ToSchema)]
pub struct Checked {
    /// True when the connector reached its provider with its settings.
    pub passed: bool,
    /// The failure's stable cause code (`invalid-credentials`, `provider-unavailable`, …),
    /// when it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    /// The connector's summary, or what to check (or why the host stopped it), in words.
    pub detail: String,
    /// How long it took, in milliseconds.
    pub elapsed_ms: f64,
}

/// Run the app's health check now: a passing one also lifts a hold on its deliveries.
#[utoipa::path(post, path = "/v1/merchants/{merchant}/apps/{app}/check", tag = "health",
    params(AppPath, IdempotencyKey),
    responses((status = 200, description = "How the check went", body = Checked), Writes))]
pub(crate) async fn check(
    caller: Caller,
    State(state): State<ApiState>,
    Params(AppPath { merchant, app }): Params<AppPath>,
) -> Result<Json<Checked>, ApiError> {
    let merchant = caller.merchant(&merchant)?;
    let report = state.host.health_check(&merchant, &app).await?;
    let cause = report.cause().map(|c| c.code().to_owned());
    let (passed, detail) = match &report.result {
        CallResult::Done { summary, .. } => (true, summary.clone()),
        CallResult::Failed { error } => (false, error.what_to_check().to_owned()),
        CallResult::Aborted { reason } => (false, reason.describe()),
    };
    Ok(Json(Checked {
        passed,
        cause,
        detail,
        elapsed_ms: report.elapsed_ms,
    }))
}

/// A plan's retry schedule.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleRequest {
    /// Seconds between tries such as `5,300,1800`, or `standard`, `shopify`, or `default`
    /// (the host's own).
    #[schema(pattern = "^ *(default|standard|shopify|[0-9]+( *, *[0-9]+)*) *$")]
    pub schedule: String,
}

/// The schedule now in force for a plan.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScheduleSet {
    /// The plan.
    pub plan: String,
    /// Seconds before each retry; empty when the plan uses the host's default.
    pub delays_secs: Vec<u64>,
}

/// Set how a plan's failed deliveries are retried.
#[utoipa::path(put, path = "/v1/plans/{plan}/retry-schedule", tag = "deliveries",
    params(("plan" = String, Path, description = "The plan's id")),
    request_body = ScheduleRequest,
    responses((status = 200, description = "The schedule now in force", body = ScheduleSet), PlatformWrites))]
pub(crate) async fn retry_schedule(
    caller: Caller,
    State(state): State<ApiState>,
    Params(plan): Params<String>,
    Body(request): Body<ScheduleRequest>,
) -> Result<Json<ScheduleSet>, ApiError> {
    caller.platform()?;
    if !well_formed(&request.schedule) {
        return Err(ApiError::bad_field(
            "schedule",
            "write seconds between tries, comma separated (such as `5,300,1800`), or \
             `standard`, `shopify` or `default`",
        ));
    }
    let schedule = match request.schedule.trim() {
        "default" => None,
        "standard" => Some(RetrySchedule::standard()),
        "shopify" => Some(RetrySchedule::shopify()),
        seconds => Some(
            seconds
                .parse::<RetrySchedule>()
                // Written right but refused (too many tries, a delay too long): 422.
                .map_err(|e| {
                    ApiError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "invalid-schedule",
                        e.to_string(),
                    )
                    .field("schedule")
                })?,
        ),
    };
    state
        .host
        .set_plan_retry_schedule(&plan, schedule.as_ref())
        .await?;
    let delays_secs = schedule
        .map(|s| s.delays().iter().map(Duration::as_secs).collect())
        .unwrap_or_default();
    Ok(Json(ScheduleSet {
        plan: airlock_host::text::sanitize(&plan, 64),
        delays_secs,
    }))
}

/// Whether `text` has the schedule's documented form (its schema pattern): a preset, or whole
/// numbers separated by commas.
fn well_formed(text: &str) -> bool {
    let text = text.trim_matches(' ');
    matches!(text, "default" | "standard" | "shopify")
        || (!text.is_empty()
            && text.split(',').all(|n| {
                let n = n.trim_matches(' ');
                !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())
            }))
}

/// A publisher's ed25519 public key to trust.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrustKeyRequest {
    /// The key, 64 hex characters (as `airlock keys generate` prints it).
    #[schema(pattern = "^[0-9a-fA-F]{64}$")]
    pub public_key: String,
}

/// The key now trusted.
#[derive(Debug, Serialize, ToSchema)]
pub struct Trusted {
    /// The publisher.
    pub publisher: String,
    /// The key.
    pub public_key: String,
}

/// Trust a publisher's signing key: its signed artifacts install, and an installation of a
/// signed artifact accepts only upgrades signed by its publisher's keys.
#[utoipa::path(post, path = "/v1/publishers/{publisher}/keys", tag = "limits",
    params(("publisher" = String, Path, description = "The publisher, as its manifests name it"),
        IdempotencyKey),
    request_body = TrustKeyRequest,
    responses((status = 200, description = "The key trusted", body = Trusted), PlatformWrites))]
pub(crate) async fn trust_key(
    caller: Caller,
    State(state): State<ApiState>,
    Params(publisher): Params<String>,
    Body(request): Body<TrustKeyRequest>,
) -> Result<Json<Trusted>, ApiError> {
    caller.platform()?;
    state
        .host
        .trust_key(&publisher, &request.public_key, &caller.actor())
        .await?;
    Ok(Json(Trusted {
        publisher: airlock_host::text::sanitize(&publisher, 64),
        public_key: request.public_key.trim().to_ascii_lowercase(),
    }))
}

/// How far back to keep finished deliveries and audit lines.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PruneRequest {
    /// Keep finished deliveries and their events this many days.
    #[schema(minimum = 1, maximum = 3650)]
    pub keep_days: u32,
    /// Keep audit lines this many days.
    #[schema(minimum = 1, maximum = 3650)]
    pub audit_keep_days: u32,
}

/// What a prune deleted.
#[derive(Debug, Serialize, ToSchema)]
pub struct PrunedView {
    /// Finished deliveries deleted.
    pub deliveries: u64,
    /// Events deleted.
    pub events: u64,
    /// Audit lines deleted.
    pub audit_lines: u64,
}

/// Delete finished deliveries, their events and audit lines older than the windows (`serve`
/// also does this hourly).
#[utoipa::path(post, path = "/v1/prune", tag = "deliveries",
    params(IdempotencyKey),
    request_body = PruneRequest,
    responses((status = 200, description = "What was deleted", body = PrunedView), PlatformWrites))]
pub(crate) async fn prune(
    caller: Caller,
    State(state): State<ApiState>,
    Body(request): Body<PruneRequest>,
) -> Result<Json<PrunedView>, ApiError> {
    caller.platform()?;
    let days = |n: u32, field: &str| {
        if (1..=3650).contains(&n) {
            Ok(Duration::from_secs(u64::from(n) * 86_400))
        } else {
            Err(ApiError::bad_field(field, "days must be 1 to 3650"))
        }
    };
    let keep = days(request.keep_days, "keep_days")?;
    let keep_audit = days(request.audit_keep_days, "audit_keep_days")?;
    let pruned = state.host.prune(keep, keep_audit).await?;
    Ok(Json(PrunedView {
        deliveries: pruned.deliveries,
        events: pruned.events,
        audit_lines: pruned.audit_lines,
    }))
}
