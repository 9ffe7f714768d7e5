//! The platform API's handlers, one module per resource. Each handler authenticates through
//! [`Caller`], resolves the merchant through [`Caller::merchant`] (404 for another merchant's),
//! calls one host method and answers JSON.

mod apps;
mod deliveries;
mod operate;
mod report;
mod reviews;
mod secrets;
mod tokens;

use airlock_host::tokens::Principal;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::ApiState;
use crate::auth::Caller;
use crate::error::ErrorBody;

/// Every API route.
pub(crate) fn all() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(whoami))
        .merge(apps::routes())
        .merge(secrets::routes())
        .merge(deliveries::routes())
        .merge(reviews::routes())
        .merge(report::routes())
        .merge(operate::routes())
        .merge(tokens::routes())
}

/// Nothing when `merchant` exists, else the host's 404: a list of an unknown merchant's
/// things is not an empty list. (The cheapest host read that checks the merchant.)
pub(crate) async fn known_merchant(
    state: &ApiState,
    merchant: &airlock_host::ids::MerchantId,
) -> Result<(), crate::error::ApiError> {
    let none = airlock_host::outbox::DeliveryFilter::default();
    state.host.deliveries(merchant, &none, 1).await?;
    Ok(())
}

/// Who a token belongs to.
#[derive(Debug, Serialize, ToSchema)]
pub struct WhoAmI {
    /// `platform` (every merchant) or `merchant` (one).
    pub kind: String,
    /// The merchant, for a merchant-scoped token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merchant: Option<String>,
}

/// Who the calling token belongs to.
#[utoipa::path(
    get,
    path = "/v1/whoami",
    tag = "tokens",
    responses(
        (status = 200, description = "The token's principal", body = WhoAmI),
        (status = 401, description = "No live token", body = ErrorBody),
        (status = 429, description = "Rate limited", body = ErrorBody),
    )
)]
pub(crate) async fn whoami(caller: Caller) -> Json<WhoAmI> {
    Json(match caller.principal {
        Principal::Platform => WhoAmI {
            kind: "platform".to_owned(),
            merchant: None,
        },
        Principal::Merchant { merchant } => WhoAmI {
            kind: "merchant".to_owned(),
            merchant: Some(merchant.to_string()),
        },
    })
}
