//! Each app's data-access report over a window, as JSON or as CSV for a merchant's data
//! request.

use std::time::Duration;

use airlock_host::data_access::DataAccessReport;
use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::ApiState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{Params, Query};
use crate::responses::Reads;

/// The routes of this module.
pub(crate) fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new().routes(routes!(report))
}

/// Which report, over how long, in which form.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// Only this app (installation id or connector id; also one removed within the window).
    pub app: Option<String>,
    /// The window in days back from now, 1 to 400 (default 30).
    #[param(minimum = 1, maximum = 400)]
    pub days: Option<u32>,
    /// `json` (default) or `csv`.
    pub format: Option<ReportFormat>,
}

/// The form of the report.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReportFormat {
    /// The report as JSON.
    Json,
    /// One row per app and item, every field quoted.
    Csv,
}

/// What each of the merchant's apps accessed: records read and changed per scope, origins
/// called, keys opened, granted scopes left unused.
#[utoipa::path(get, path = "/v1/merchants/{merchant}/report", tag = "audit",
    params(("merchant" = String, Path, description = "The merchant"), ReportQuery),
    responses((status = 200, description = "The data-access report",
        content((DataAccessReport = "application/json"), (String = "text/csv"))), Reads))]
pub(crate) async fn report(
    caller: Caller,
    State(state): State<ApiState>,
    Params(merchant): Params<String>,
    Query(query): Query<ReportQuery>,
) -> Result<Response, ApiError> {
    let merchant = caller.merchant(&merchant)?;
    let days = query.days.unwrap_or(30);
    if !(1..=400).contains(&days) {
        return Err(ApiError::bad_field("days", "days must be 1 to 400"));
    }
    super::known_merchant(&state, &merchant).await?;
    let window = Duration::from_secs(u64::from(days) * 86_400);
    let report = state
        .host
        .data_access(&merchant, query.app.as_deref(), window)
        .await?;
    Ok(match query.format.unwrap_or(ReportFormat::Json) {
        ReportFormat::Json => Json(report).into_response(),
        ReportFormat::Csv => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"data-access.csv\"",
                ),
            ],
            report.to_csv(),
        )
            .into_response(),
    })
}
