//! Each app's data-access report on the app screen (last 30 days): what it read and changed
//! per scope, the servers it contacted, the keys it used, and scopes approved but unused over
//! the window, each optional one with a one-click revoke; and the same report as CSV or JSON
//! for a merchant's data request.

use airlock_host::data_access::{AppAccess, DEFAULT_WINDOW, DataAccessReport};
use airlock_host::{Error, Installation};
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::PageState;
use super::labels::{fill, labels};
use super::render::host_failure;
use super::session::Signed;
use super::views::{ReportView, UnusedView, html_id, shown, when};

/// The report section of `app`'s screen.
pub(crate) async fn view(
    state: &PageState,
    signed: &Signed,
    app: &Installation,
) -> Result<Option<ReportView>, Error> {
    let report = state
        .api
        .host
        .data_access(&signed.merchant, Some(app.id.as_str()), DEFAULT_WINDOW)
        .await?;
    Ok(report.apps.first().map(|a| section(a, signed)))
}

fn section(a: &AppAccess, signed: &Signed) -> ReportView {
    let l = labels(signed.lang);
    let days = (DEFAULT_WINDOW.as_secs() / 86_400).to_string();
    let uses = |scope: &str, n: u64| {
        fill(
            l.report_records,
            &[("scope", scope), ("records", &n.to_string())],
        )
    };
    let reads: Vec<String> = a.reads.iter().map(|u| uses(&u.scope, u.records)).collect();
    let writes: Vec<String> = a.writes.iter().map(|u| uses(&u.scope, u.records)).collect();
    let origins: Vec<String> = a
        .origins
        .iter()
        .map(|o| {
            fill(
                l.report_requests,
                &[("origin", &o.origin), ("requests", &o.requests.to_string())],
            )
        })
        .collect();
    let keys: Vec<String> = a
        .keys
        .iter()
        .map(|k| {
            fill(
                l.report_uses,
                &[("key", &shown(&k.name)), ("uses", &k.uses.to_string())],
            )
        })
        .collect();
    ReportView {
        heading: fill(l.report_heading, &[("days", &days)]),
        empty: reads.is_empty() && writes.is_empty() && origins.is_empty() && keys.is_empty(),
        reads,
        writes,
        origins,
        keys,
        unused: a
            .unused
            .iter()
            .map(|u| UnusedView {
                id: html_id(&u.scope),
                scope: u.scope.clone(),
                title: u.scope.clone(),
                since: fill(l.report_unused_since, &[("date", &when(u.since_ms))]),
                revoke: !u.required,
                revoke_text: fill(l.stop_sharing, &[("scope", &u.scope)]),
            })
            .collect(),
    }
}

/// The report of one app, or the page's answer when there is none.
async fn one(state: &PageState, signed: &Signed, key: &str) -> Result<DataAccessReport, Response> {
    state
        .api
        .host
        .data_access(&signed.merchant, Some(key), DEFAULT_WINDOW)
        .await
        .map_err(|err| host_failure(err, signed.lang))
}

/// A download named `access.<ext>`.
fn download(content_type: &'static str, ext: &str, body: String) -> Response {
    let disposition = format!("attachment; filename=\"access.{ext}\"");
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response()
}

/// `GET /m/apps/{key}/access.csv`.
pub(crate) async fn csv(
    State(state): State<PageState>,
    signed: Signed,
    Path(key): Path<String>,
) -> Response {
    match one(&state, &signed, &key).await {
        Ok(report) => download("text/csv; charset=utf-8", "csv", report.to_csv()),
        Err(page) => page,
    }
}

/// `GET /m/apps/{key}/access.json`.
pub(crate) async fn json(
    State(state): State<PageState>,
    signed: Signed,
    Path(key): Path<String>,
) -> Response {
    match one(&state, &signed, &key).await {
        Ok(report) => download(
            "application/json",
            "json",
            serde_json::to_string_pretty(&report).unwrap_or_default(),
        ),
        Err(page) => page,
    }
}
