//! The merchant page under `/m/…`: server-rendered HTML (askama templates, every value
//! HTML-escaped) where a merchant signs in with the merchant-scoped token their platform
//! issued, sees each connected app's health and what it may access, approves or denies what
//! waits, stops sharing an optional scope, replaces an API key and disconnects an app. No
//! JavaScript: forms post, the server redirects back (post/redirect/get). Every response
//! carries a strict Content-Security-Policy and `nosniff`; every POST carries the session's
//! CSRF token.

mod actions;
mod labels;
mod render;
mod report;
mod session;
mod signin;
mod views;

use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use crate::ApiState;

/// What the page's handlers share: the API's state (host, rate limiter) and the sessions.
#[derive(Clone)]
pub(crate) struct PageState {
    api: ApiState,
    sessions: Arc<session::Sessions>,
}

/// The page's one stylesheet, served from here so the policy can say `style-src 'self'`.
const CSS: &str = include_str!("../../templates/page.css");

/// The policy: nothing but our own stylesheet and form targets; never framed; no scripts.
const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
                   frame-ancestors 'none'; base-uri 'none'";

/// Every route of the merchant page, with its state applied.
pub(crate) fn router(api: ApiState) -> Router {
    let state = PageState {
        api,
        sessions: Arc::new(session::Sessions::default()),
    };
    Router::new()
        .route("/m", get(|| async { Redirect::to("/m/apps") }))
        .route("/m/", get(|| async { Redirect::to("/m/apps") }))
        .route("/m/page.css", get(css))
        .route("/m/signin", get(signin::form).post(signin::submit))
        .route("/m/signout", axum::routing::post(signin::sign_out))
        .route("/m/apps", get(views::apps))
        .route("/m/apps/{key}", get(views::app))
        .route(
            "/m/apps/{key}/approve",
            axum::routing::post(actions::approve),
        )
        .route("/m/apps/{key}/deny", axum::routing::post(actions::deny))
        .route("/m/apps/{key}/revoke", axum::routing::post(actions::revoke))
        .route("/m/apps/{key}/key", axum::routing::post(actions::write_key))
        .route("/m/apps/{key}/access.csv", get(report::csv))
        .route("/m/apps/{key}/access.json", get(report::json))
        .route(
            "/m/apps/{key}/disconnect",
            get(views::confirm_disconnect).post(actions::disconnect),
        )
        .layer(middleware::from_fn(protect))
        .with_state(state)
}

/// The stylesheet.
async fn css() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], CSS).into_response()
}

/// Headers every page response carries, and the language cookie when a link chose one.
async fn protect(request: Request, next: Next) -> Response {
    let chosen = request
        .uri()
        .query()
        .unwrap_or_default()
        .split('&')
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| *k == "lang")
        .and_then(|(_, v)| labels::parse(v));
    let set_lang = chosen.map(|lang| {
        session::set_cookie(
            request.headers(),
            session::LANG_COOKIE,
            lang.code(),
            Some(365 * 24 * 3600),
        )
    });
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let fixed = [
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        // Pages show a store's apps and keys' metadata: never kept by a shared cache or
        // the browser's back-forward history after signing out.
        (header::CACHE_CONTROL, "no-store"),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if let Some(cookie) = set_lang.and_then(|c| HeaderValue::from_str(&c).ok()) {
        headers.append(header::SET_COOKIE, cookie);
    }
    response
}
