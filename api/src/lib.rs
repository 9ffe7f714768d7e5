//! Airlock's platform HTTP API and merchant page: what `airlock serve` answers on its listen
//! address. Everything here is a thin edge over [`airlock_host::Host`]: it authenticates the
//! caller, checks that the caller may act for the merchant named, and turns the host's answers
//! and errors into JSON (or, for the merchant page, HTML). No business rule lives here.

mod auth;
mod error;
mod extract;
mod idempotency;
mod openapi;
mod page;
mod paging;
mod rate;
mod responses;
mod routes;

use std::net::SocketAddr;
use std::sync::Arc;

use airlock_host::Host;
use axum::Router;
use utoipa_axum::router::OpenApiRouter;

pub use auth::Caller;
pub use error::{ApiError, ErrorBody};
pub use rate::RateLimit;

/// How the API behaves: the knobs `airlock serve` exposes.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Requests each token may make, on average, per second.
    pub rate: RateLimit,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            rate: RateLimit {
                per_second: 20.0,
                burst: 100,
            },
        }
    }
}

/// What every handler shares: the host, and the per-token rate limiter.
#[derive(Clone)]
pub struct ApiState {
    /// The host every request acts through.
    pub host: Arc<Host>,
    /// Per-token request budgets.
    pub(crate) limiter: Arc<rate::Limiter>,
}

impl ApiState {
    /// State for `host` under `config`.
    pub fn new(host: Arc<Host>, config: &ApiConfig) -> Self {
        ApiState {
            host,
            limiter: Arc::new(rate::Limiter::new(config.rate)),
        }
    }
}

/// Every route with its OpenAPI description, before the two are split.
fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::with_openapi(openapi::base()).merge(openapi::routes())
}

/// The OpenAPI 3.1 document of the API, generated from the handlers.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    routes().split_for_parts().1
}

/// The whole HTTP service: the platform API under `/v1`, `/openapi.json`, the merchant page.
pub fn router(state: ApiState) -> Router {
    let (api, doc) = routes().split_for_parts();
    let doc = Arc::new(doc);
    api.route(
        "/openapi.json",
        axum::routing::get(move || {
            let doc = doc.clone();
            async move { axum::Json(doc.as_ref().clone()) }
        }),
    )
    .with_state(state.clone())
    .merge(page::router(state.clone()))
    // Unknown paths answer the API's typed 404; POSTs under /v1 honour Idempotency-Key.
    .fallback(extract::no_route)
    .layer(axum::middleware::from_fn_with_state(
        state,
        idempotency::guard,
    ))
}

/// Serve `router` on `listener` until `stop` completes; open requests may then finish (the
/// caller bounds how long it waits for that).
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let addr: Option<SocketAddr> = listener.local_addr().ok();
    tracing::info!(addr = ?addr, "API and merchant page listening");
    let service = router.into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, service)
        .with_graceful_shutdown(stop)
        .await
}
