//! The OpenAPI document's frame (title, security scheme) and the list of every route. Handlers
//! describe themselves with `#[utoipa::path]`; nothing here is written by hand but the frame.

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

use crate::ApiState;

/// The document's frame.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Airlock platform API",
        description = "Install, approve, run and review sandboxed commerce connectors."
    ),
    // Every error answer refers to it (the route sets in `responses.rs` by name).
    components(schemas(crate::error::ErrorBody)),
    modifiers(&BearerAuth),
    security(("bearer" = []))
)]
struct Frame;

/// Declares the bearer token every route needs.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// The frame as an OpenAPI value.
pub(crate) fn base() -> utoipa::openapi::OpenApi {
    Frame::openapi()
}

/// Every API route.
pub(crate) fn routes() -> OpenApiRouter<ApiState> {
    crate::routes::all()
}
