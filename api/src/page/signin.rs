//! Signing in and out. A merchant pastes the merchant-scoped token their platform issued
//! (`airlock tokens create --merchant …`) into a password field; it is never put in a URL, so
//! it stays out of browser history, proxy logs and `Referer` headers. Platform tokens are
//! refused: the page acts for one store, and a token that may act for every store does not
//! belong in a browser. The form has its own CSRF check (a random value in an `HttpOnly;
//! SameSite=Strict` cookie and a hidden field), so another site cannot sign a browser in to
//! a store of its choosing.

use std::net::SocketAddr;

use airlock_host::tokens::Principal;
use axum::Form;
use axum::extract::{ConnectInfo, State};
use axum::http::{Extensions, HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::PageState;
use super::labels::labels;
use super::render::{Chrome, SigninPage, html, message};
use super::session::{
    self, SESSION_COOKIE, SIGNIN_COOKIE, Signed, cookie, random_hex, same_secret, set_cookie,
};

/// The value of form field `name`.
pub(crate) fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// `GET /m/signin`: the form, with a fresh sign-in CSRF value.
pub(crate) async fn form(headers: HeaderMap, parts: axum::http::Uri) -> Response {
    let ended = parts
        .query()
        .is_some_and(|q| q.split('&').any(|p| p == "ended=1"));
    let lang = lang_of(&headers, &parts);
    let notice = ended.then(|| labels(lang).session_ended.to_owned());
    signin_page(&headers, lang, notice, StatusCode::OK)
}

fn lang_of(headers: &HeaderMap, uri: &axum::http::Uri) -> airlock_host::prompt::Language {
    let mut request = axum::http::Request::new(());
    *request.uri_mut() = uri.clone();
    *request.headers_mut() = headers.clone();
    let (parts, ()) = request.into_parts();
    session::language(&parts)
}

/// The form with `notice`, setting a new sign-in CSRF cookie.
fn signin_page(
    headers: &HeaderMap,
    lang: airlock_host::prompt::Language,
    notice: Option<String>,
    status: StatusCode,
) -> Response {
    let Ok(csrf) = random_hex() else {
        return (StatusCode::SERVICE_UNAVAILABLE, "no randomness available").into_response();
    };
    let page = SigninPage {
        c: Chrome::new(lang, labels(lang).sign_in_title.to_owned(), "", None),
        notice,
        signin_csrf: csrf.clone(),
    };
    let mut response = html(status, &page);
    if let Ok(value) = HeaderValue::from_str(&set_cookie(headers, SIGNIN_COOKIE, &csrf, Some(3600)))
    {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// `POST /m/signin`: check the token; a live merchant token opens a session.
pub(crate) async fn submit(
    State(state): State<PageState>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    extensions: Extensions,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let lang = lang_of(&headers, &uri);
    let l = labels(lang);
    let expected = cookie(&headers, SIGNIN_COOKIE).unwrap_or_default();
    let sent = field(&form, "csrf").unwrap_or_default();
    if expected.is_empty() || !same_secret(expected, sent) {
        return signin_page(
            &headers,
            lang,
            Some(l.form_expired.to_owned()),
            StatusCode::FORBIDDEN,
        );
    }
    // Guessing a 256-bit token is hopeless, but each try costs a database read: tries are
    // charged per client address against the API's per-token budget.
    let client = extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_default();
    if let Err(err) = state.api.limiter.charge(&format!("page-signin:{client}")) {
        return err.into_response();
    }
    let token = field(&form, "token").unwrap_or_default().trim();
    let principal = match state.api.host.authenticate(token).await {
        Ok(p) => p,
        Err(err) => return super::render::host_failure(err, lang),
    };
    let merchant = match principal {
        Some(Principal::Merchant { merchant }) => merchant,
        Some(Principal::Platform) => {
            return signin_page(
                &headers,
                lang,
                Some(l.sign_in_platform.to_owned()),
                StatusCode::FORBIDDEN,
            );
        }
        None => {
            return signin_page(
                &headers,
                lang,
                Some(l.sign_in_bad.to_owned()),
                StatusCode::UNAUTHORIZED,
            );
        }
    };
    let Ok(session) = state.sessions.open(token, merchant) else {
        return (StatusCode::SERVICE_UNAVAILABLE, "no randomness available").into_response();
    };
    let mut response = Redirect::to("/m/apps").into_response();
    for cookie in [
        set_cookie(&headers, SESSION_COOKIE, &session, None),
        set_cookie(&headers, SIGNIN_COOKIE, "", Some(0)),
    ] {
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

/// `POST /m/signout`: forget the session (the token itself stays valid: only the platform
/// revokes tokens).
pub(crate) async fn sign_out(
    State(state): State<PageState>,
    signed: Signed,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    if !signed.csrf_ok(field(&form, "csrf")) {
        return expired(&signed);
    }
    state.sessions.close(&signed.key);
    let mut response = Redirect::to("/m/signin").into_response();
    if let Ok(value) = HeaderValue::from_str(&set_cookie(&headers, SESSION_COOKIE, "", Some(0))) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// The answer to a POST whose CSRF token is missing or wrong: nothing done, 403.
pub(crate) fn expired(signed: &Signed) -> Response {
    let l = labels(signed.lang);
    message(
        StatusCode::FORBIDDEN,
        signed.lang,
        l.failed,
        l.form_expired.to_owned(),
    )
}
