//! The merchant page's protections, through its router in process (the browser test in
//! cli/tests/merchant_page.rs drives the happy path in Chromium): every response carries the
//! strict Content-Security-Policy and its companions; a POST with a missing or wrong CSRF token
//! changes nothing; the sign-in form refuses a post without its own CSRF cookie (login CSRF)
//! and a platform token; a merchant signed in sees another merchant's app as not found; a
//! revoked token's session ends at its next request.

use std::sync::Arc;

use airlock_api::{ApiConfig, ApiState, RateLimit, router};
use airlock_host::Host;
use airlock_host::grants::Scope;
use airlock_host::ids::MerchantId;
use airlock_tests::{TestDb, TestHost, demo_store, install_probe, other_store};
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use tower::ServiceExt;

const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
                   frame-ancestors 'none'; base-uri 'none'";

struct Page {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

async fn send(app: &Router, method: &str, path: &str, cookies: &str, form: &str) -> Page {
    let mut req = Request::builder().method(method).uri(path);
    if !cookies.is_empty() {
        req = req.header(header::COOKIE, cookies);
    }
    if method == "POST" {
        req = req.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    }
    let res = app
        .clone()
        .oneshot(req.body(Body::from(form.to_owned())).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    Page {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

/// `name=value` of every cookie a response sets.
fn set_cookies(page: &Page) -> Vec<String> {
    page.headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next().map(str::to_owned))
        .collect()
}

/// The value of the first hidden `csrf` field on the page.
fn csrf_field(body: &str) -> String {
    let at = body.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    body[at..].split('"').next().unwrap_or_default().to_owned()
}

/// A bare component of connector `acme.sync` at `version` requiring `scopes`.
fn sync_app(version: &str, scopes: &[&str]) -> Vec<u8> {
    let mut manifest = airlock_tests::ManifestBuilder::new("acme.sync")
        .name("Sync")
        .publisher("Acme")
        .version(version)
        .kind("marketplace");
    for scope in scopes {
        manifest = manifest.required(scope).reason("sync");
    }
    manifest.artifact()
}

async fn token(host: &Host, merchant: Option<&MerchantId>) -> String {
    host.create_token(merchant, "page test", "test")
        .await
        .unwrap()
        .secret
        .to_string()
}

/// Sign in with `token`: the session cookie.
async fn sign_in(app: &Router, token: &str) -> Result<String, Page> {
    let form = send(app, "GET", "/m/signin", "", "").await;
    let cookies = set_cookies(&form).join("; ");
    let body = format!("csrf={}&token={token}", csrf_field(&form.body));
    let done = send(app, "POST", "/m/signin", &cookies, &body).await;
    match set_cookies(&done)
        .into_iter()
        .find(|c| c.starts_with("airlock_session="))
    {
        Some(session) => Ok(session),
        None => Err(done),
    }
}

#[tokio::test]
async fn the_page_refuses_forged_posts_and_other_merchants_and_ends_revoked_sessions() {
    for db in TestDb::all().await {
        let host = Arc::new(TestHost::new(&db).build().await);
        let rate = RateLimit {
            per_second: 1000.0,
            burst: 1000,
        };
        let app = router(ApiState::new(host.clone(), &ApiConfig { rate }));
        let m = demo_store();
        let id = install_probe(&host, &m, &[Scope::OrdersRead, Scope::InventoryRead]).await;
        let effective = || async { host.installation(&m, id.as_str()).await.unwrap().effective };

        // Sign-in: no CSRF cookie, a platform token, a wrong token: no session.
        let merchant_token = token(&host, Some(&m)).await;
        let forged = send(
            &app,
            "POST",
            "/m/signin",
            "",
            &format!("csrf=x&token={merchant_token}"),
        )
        .await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.body);
        assert!(
            set_cookies(&forged)
                .iter()
                .all(|c| !c.starts_with("airlock_session="))
        );
        let platform = sign_in(&app, &token(&host, None).await)
            .await
            .err()
            .unwrap();
        assert_eq!(platform.status, StatusCode::FORBIDDEN);
        let wrong = sign_in(&app, &format!("alk_{}", "0".repeat(64)))
            .await
            .err()
            .unwrap();
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);

        let session = sign_in(&app, &merchant_token)
            .await
            .unwrap_or_else(|p| panic!("{}", p.body));
        let page = send(&app, "GET", &format!("/m/apps/{id}"), &session, "").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let policy = page.headers.get(header::CONTENT_SECURITY_POLICY).unwrap();
        assert_eq!(policy.to_str().unwrap(), CSP);
        assert_eq!(
            page.headers.get(header::X_CONTENT_TYPE_OPTIONS).unwrap(),
            "nosniff"
        );
        assert_eq!(page.headers.get(header::X_FRAME_OPTIONS).unwrap(), "DENY");
        assert_eq!(page.headers.get(header::CACHE_CONTROL).unwrap(), "no-store");
        assert!(!page.body.contains("<script"), "the page runs no script");
        let csrf = csrf_field(&page.body);

        // Forged revokes: no token, a wrong one, the right one without the session.
        let revoke = format!("/m/apps/{id}/revoke");
        for (cookies, form, forbidden) in [
            (session.as_str(), "scope=inventory:read".to_owned(), true),
            (
                session.as_str(),
                format!("csrf={}&scope=inventory:read", "f".repeat(64)),
                true,
            ),
            // No session: sent back to sign in.
            ("", format!("csrf={csrf}&scope=inventory:read"), false),
        ] {
            let answer = send(&app, "POST", &revoke, cookies, &form).await;
            if forbidden {
                assert_eq!(answer.status, StatusCode::FORBIDDEN, "{form}");
            }
            assert!(
                effective().await.contains(&Scope::InventoryRead),
                "{form} changed the grant"
            );
        }
        let done = send(
            &app,
            "POST",
            &revoke,
            &session,
            &format!("csrf={csrf}&scope=inventory:read"),
        )
        .await;
        assert!(
            done.status.is_redirection(),
            "{}: {}",
            done.status,
            done.body
        );
        assert!(!effective().await.contains(&Scope::InventoryRead));

        // A waiting upgrade declined from its prompt: dropped, the running version stays.
        let v1 = sync_app("1.0.0", &["orders:read"]);
        let installed = host.install(&m, &v1, "test").await.unwrap().installation;
        let sync = installed.id.clone();
        host.approve(&m, sync.as_str(), &installed.digest, &[], "owner")
            .await
            .unwrap();
        let v2 = sync_app("2.0.0", &["orders:read", "customers:read"]);
        let offered = host
            .upgrade(&m, sync.as_str(), &v2, "publisher", Default::default())
            .await
            .unwrap();
        let page = send(&app, "GET", &format!("/m/apps/{sync}"), &session, "").await;
        assert!(page.body.contains("Decline version 2.0.0"), "{}", page.body);
        let deny = format!("csrf={csrf}&digest={}", offered.digest.replace(':', "%3A"));
        let done = send(
            &app,
            "POST",
            &format!("/m/apps/{sync}/deny"),
            &session,
            &deny,
        )
        .await;
        assert!(
            done.status.is_redirection(),
            "{}: {}",
            done.status,
            done.body
        );
        let now = host.installation(&m, sync.as_str()).await.unwrap();
        assert_eq!((now.version.as_str(), now.pending_digest), ("1.0.0", None));

        // Another merchant's app is not found, as if it did not exist.
        let theirs = install_probe(&host, &other_store(), &[Scope::OrdersRead]).await;
        let page = send(&app, "GET", &format!("/m/apps/{theirs}"), &session, "").await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{}", page.body);
        let missing = send(&app, "GET", "/m/apps/inst_does_not_exist", &session, "").await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
        let uninstall = send(
            &app,
            "POST",
            &format!("/m/apps/{theirs}/disconnect"),
            &session,
            &format!("csrf={csrf}"),
        )
        .await;
        assert!(!uninstall.status.is_success());
        assert!(
            host.installation(&other_store(), theirs.as_str())
                .await
                .is_ok(),
            "still installed"
        );

        // The platform revokes the token: the session ends at its next request.
        let tokens = host.tokens(Some(&m)).await.unwrap();
        for t in tokens {
            host.revoke_token(&t.id).await.unwrap();
        }
        let after = send(&app, "GET", "/m/apps", &session, "").await;
        assert!(after.status.is_redirection(), "{}", after.status);
        let location = after
            .headers
            .get(header::LOCATION)
            .unwrap()
            .to_str()
            .unwrap();
        assert!(location.starts_with("/m/signin"), "{location}");
        db.finish().await;
    }
}
