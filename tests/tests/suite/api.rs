//! The platform HTTP API (airlock-api) on both backends, through its router in process: an
//! app installed, prompted, approved and listed over HTTP; who may do what (401 without, with
//! a wrong or a revoked token; a merchant token sees another merchant's things exactly as
//! things that do not exist); the per-token rate limit; Idempotency-Key replays and reuse;
//! typed error bodies; pagination; secrets set through the body and never echoed.

use std::sync::Arc;

use airlock_api::{ApiConfig, ApiState, RateLimit, router};
use airlock_host::Host;
use airlock_host::vault::VaultKey;
use airlock_tests::{TestDb, TestHost, demo_store, other_store, plugins, wasm};
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};
use tower::ServiceExt;

/// A router over `host` allowing `burst` requests per token at once.
pub(crate) fn api(host: &Arc<Host>, burst: u32) -> Router {
    let rate = RateLimit {
        per_second: 0.01,
        burst,
    };
    router(ApiState::new(host.clone(), &ApiConfig { rate }))
}

/// An answer: status, headers we look at, and the JSON body (Null when empty).
pub(crate) struct Answer {
    pub status: StatusCode,
    pub replayed: bool,
    pub json: Value,
    pub text: String,
}

/// Send one request: `body` is JSON unless `raw` bytes are given.
pub(crate) async fn call(
    app: &Router,
    method: &str,
    path: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<Body>,
) -> Answer {
    let mut req = Request::builder().method(method).uri(path);
    if let Some(token) = token {
        req = req.header("authorization", format!("Bearer {token}"));
    }
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let req = req.body(body.unwrap_or_else(Body::empty)).unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let replayed = res.headers().get("idempotency-replayed").is_some();
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Answer {
        status,
        replayed,
        json,
        text,
    }
}

pub(crate) async fn get(app: &Router, path: &str, token: &str) -> Answer {
    call(app, "GET", path, Some(token), &[], None).await
}

pub(crate) async fn post_json(app: &Router, path: &str, token: &str, body: Value) -> Answer {
    let json = [("content-type", "application/json")];
    call(
        app,
        "POST",
        path,
        Some(token),
        &json,
        Some(body.to_string().into()),
    )
    .await
}

pub(crate) async fn upload(app: &Router, path: &str, token: &str, bytes: Vec<u8>) -> Answer {
    let wasm = [("content-type", "application/wasm")];
    call(app, "POST", path, Some(token), &wasm, Some(bytes.into())).await
}

/// A platform token's secret.
pub(crate) async fn platform(host: &Host) -> String {
    host.create_token(None, "api test", "test")
        .await
        .unwrap()
        .secret
}

#[tokio::test]
async fn an_app_is_installed_prompted_approved_and_listed_over_the_api() {
    for db in TestDb::all().await {
        let host = Arc::new(TestHost::new(&db).build().await);
        let app = api(&host, 1000);
        let token = platform(&host).await;
        let apps = "/v1/merchants/demo-store/apps";
        let installed = upload(&app, apps, &token, wasm(plugins::ORDER_NOTIFIER)).await;
        assert_eq!(installed.status, StatusCode::CREATED, "{}", installed.text);
        assert_eq!(installed.json["installation"]["status"], "pending");
        let id = installed.json["installation"]["id"]
            .as_str()
            .unwrap()
            .to_owned();

        let prompt = get(&app, &format!("{apps}/{id}/prompt?lang=hi"), &token).await;
        assert_eq!(prompt.status, StatusCode::OK, "{}", prompt.text);
        assert_eq!(prompt.json["prompt"]["language"], "hi");
        let digest = prompt.json["digest"].as_str().unwrap().to_owned();

        // The digest approved is required, and must be what waits.
        let missing = post_json(&app, &format!("{apps}/{id}/approve"), &token, json!({})).await;
        assert_eq!(missing.status, StatusCode::BAD_REQUEST, "{}", missing.text);
        assert_eq!(missing.json["field"], "digest", "{}", missing.text);
        let wrong = json!({"digest": format!("sha256:{}", "0".repeat(64))});
        let wrong = post_json(&app, &format!("{apps}/{id}/approve"), &token, wrong).await;
        assert_eq!(wrong.status, StatusCode::CONFLICT, "{}", wrong.text);
        assert_eq!(wrong.json["code"], "not-waiting");

        let body = json!({"digest": digest, "optional": ["customers:read-contact"]});
        let approved = post_json(&app, &format!("{apps}/{id}/approve"), &token, body).await;
        assert_eq!(approved.status, StatusCode::OK, "{}", approved.text);
        assert_eq!(approved.json["status"], "active");
        assert!(
            approved.json["effective"]
                .as_array()
                .unwrap()
                .contains(&json!("customers:read-contact"))
        );

        let listed = get(&app, apps, &token).await;
        assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
        assert_eq!(listed.json["items"][0]["id"], json!(id));
        assert_eq!(listed.json["items"][0]["approved"][0]["by"], "platform");
        assert!(listed.json.get("next_cursor").is_none());

        // Revoke the optional scope, then uninstall: each answers the new state.
        let revoked = post_json(
            &app,
            &format!("{apps}/{id}/revoke"),
            &token,
            json!({"scope": "customers:read-contact"}),
        )
        .await;
        assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.text);
        let gone = call(
            &app,
            "DELETE",
            &format!("{apps}/{id}"),
            Some(&token),
            &[],
            None,
        )
        .await;
        assert_eq!(gone.status, StatusCode::OK, "{}", gone.text);
        let after = get(&app, &format!("{apps}/{id}"), &token).await;
        assert_eq!(after.status, StatusCode::NOT_FOUND);
        assert_eq!(after.json["code"], "unknown-installation");
        db.finish().await;
    }
}

#[tokio::test]
async fn no_wrong_or_revoked_token_gets_401_and_a_merchant_token_sees_only_its_merchant() {
    for db in TestDb::all().await {
        let host = Arc::new(TestHost::new(&db).build().await);
        let app = api(&host, 1000);
        let token = platform(&host).await;
        let other = upload(
            &app,
            "/v1/merchants/other-store/apps",
            &token,
            wasm(plugins::ORDER_NOTIFIER),
        )
        .await;
        assert_eq!(other.status, StatusCode::CREATED, "{}", other.text);
        let other_id = other.json["installation"]["id"]
            .as_str()
            .unwrap()
            .to_owned();

        let path = "/v1/merchants/demo-store/apps";
        let none = call(&app, "GET", path, None, &[], None).await;
        assert_eq!(none.status, StatusCode::UNAUTHORIZED);
        assert_eq!(none.json["code"], "unauthorized");
        let wrong = get(&app, path, "alk_not_a_token").await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
        let shop = host
            .create_token(Some(&demo_store()), "demo page", "test")
            .await
            .unwrap();
        assert_eq!(get(&app, path, &shop.secret).await.status, StatusCode::OK);
        host.revoke_token(&shop.info.id).await.unwrap();
        let revoked = get(&app, path, &shop.secret).await;
        assert_eq!(revoked.status, StatusCode::UNAUTHORIZED, "{}", revoked.text);

        // The other merchant, its app, and its app under our own merchant's path: each reads
        // exactly as a thing that does not exist.
        let shop = host
            .create_token(Some(&demo_store()), "demo page", "test")
            .await
            .unwrap();
        let theirs = get(
            &app,
            &format!("/v1/merchants/other-store/apps/{other_id}"),
            &shop.secret,
        )
        .await;
        let nobody = get(
            &app,
            &format!("/v1/merchants/no-such-store/apps/{other_id}"),
            &shop.secret,
        )
        .await;
        assert_eq!(theirs.status, StatusCode::NOT_FOUND);
        assert_eq!(theirs.json["code"], nobody.json["code"]);
        assert_eq!(
            theirs.text.replace("other-store", "X"),
            nobody.text.replace("no-such-store", "X")
        );
        let under_ours = get(
            &app,
            &format!("/v1/merchants/demo-store/apps/{other_id}"),
            &shop.secret,
        )
        .await;
        let missing = get(
            &app,
            "/v1/merchants/demo-store/apps/inst_0000000000000000",
            &shop.secret,
        )
        .await;
        assert_eq!(under_ours.status, StatusCode::NOT_FOUND);
        assert_eq!(
            under_ours.text.replace(&other_id, "X"),
            missing.text.replace("inst_0000000000000000", "X")
        );
        let deliveries = get(&app, "/v1/merchants/other-store/deliveries", &shop.secret).await;
        assert_eq!(deliveries.status, StatusCode::NOT_FOUND);
        // Tokens are the platform's alone.
        let tokens = get(&app, "/v1/tokens", &shop.secret).await;
        assert_eq!(tokens.status, StatusCode::FORBIDDEN);
        assert_eq!(tokens.json["code"], "platform-only");
        assert_eq!(
            host.list(&other_store()).await.unwrap().len(),
            1,
            "nothing changed"
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn a_token_past_its_burst_gets_429_with_retry_after_and_others_do_not() {
    let db = TestDb::sqlite();
    let host = Arc::new(TestHost::new(&db).build().await);
    let app = api(&host, 3);
    let (a, b) = (platform(&host).await, platform(&host).await);
    for _ in 0..3 {
        assert_eq!(get(&app, "/v1/whoami", &a).await.status, StatusCode::OK);
    }
    let req = Request::get("/v1/whoami")
        .header("authorization", format!("Bearer {a}"))
        .body(Body::empty())
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().get("retry-after").is_some());
    assert_eq!(get(&app, "/v1/whoami", &b).await.status, StatusCode::OK);
}

#[tokio::test]
async fn an_idempotency_key_replays_the_first_answer_and_refuses_another_request() {
    for db in TestDb::all().await {
        let host = Arc::new(TestHost::new(&db).build().await);
        let app = api(&host, 1000);
        let token = platform(&host).await;
        let emit = "/v1/merchants/demo-store/events";
        let send = |body: Value, key: &'static str| {
            let (app, token) = (app.clone(), token.clone());
            async move {
                let headers = [
                    ("content-type", "application/json"),
                    ("idempotency-key", key),
                ];
                let body = Some(body.to_string().into());
                call(&app, "POST", emit, Some(&token), &headers, body).await
            }
        };
        let body = json!({"topic": "order.created", "subject_id": "ord_1001"});
        let first = send(body.clone(), "k-1").await;
        assert_eq!(first.status, StatusCode::ACCEPTED, "{}", first.text);
        assert!(!first.replayed);
        let again = send(body.clone(), "k-1").await;
        assert_eq!(again.status, StatusCode::ACCEPTED);
        assert!(again.replayed, "the stored answer, not a second event");
        assert_eq!(again.json["id"], first.json["id"]);
        let other = json!({"topic": "order.created", "subject_id": "ord_1002"});
        let reused = send(other, "k-1").await;
        assert_eq!(reused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(reused.json["code"], "idempotency-key-reused");
        // One event was written, not two.
        let events: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events")
            .fetch_one(host.db().pool())
            .await
            .unwrap();
        assert_eq!(events, 1);
        // Another token's same key is its own.
        let token2 = platform(&host).await;
        let headers = [
            ("content-type", "application/json"),
            ("idempotency-key", "k-1"),
        ];
        let mine = call(
            &app,
            "POST",
            emit,
            Some(&token2),
            &headers,
            Some(body.to_string().into()),
        )
        .await;
        assert!(!mine.replayed);
        assert_ne!(mine.json["id"], first.json["id"]);
        db.finish().await;
    }
}

#[tokio::test]
async fn bad_bodies_unknown_fields_and_routes_answer_typed_errors() {
    let db = TestDb::sqlite();
    let host = Arc::new(TestHost::new(&db).build().await);
    let app = api(&host, 1000);
    let token = platform(&host).await;
    let emit = "/v1/merchants/demo-store/events";
    let json_type = [("content-type", "application/json")];
    let syntax = call(
        &app,
        "POST",
        emit,
        Some(&token),
        &json_type,
        Some("{nope".into()),
    )
    .await;
    assert_eq!(syntax.status, StatusCode::BAD_REQUEST);
    assert_eq!(syntax.json["code"], "invalid-json", "{}", syntax.text);
    let unknown = json!({"topic": "order.created", "subject_id": "x", "extra": 1});
    let unknown = post_json(&app, emit, &token, unknown).await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert_eq!(unknown.json["field"], "extra", "{}", unknown.text);
    let topic = post_json(
        &app,
        emit,
        &token,
        json!({"topic": "nope", "subject_id": "x"}),
    )
    .await;
    assert_eq!(topic.json["field"], "topic", "{}", topic.text);
    let no_type = call(&app, "POST", emit, Some(&token), &[], Some("{}".into())).await;
    assert_eq!(no_type.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(no_type.json["code"], "unsupported-media-type");
    let query = get(&app, "/v1/merchants/demo-store/apps?limit=abc", &token).await;
    assert_eq!(query.status, StatusCode::BAD_REQUEST);
    assert_eq!(query.json["field"], "limit", "{}", query.text);
    let route = get(&app, "/v1/nowhere", &token).await;
    assert_eq!(route.status, StatusCode::NOT_FOUND);
    assert_eq!(route.json["code"], "no-route");
    let refused = upload(
        &app,
        "/v1/merchants/demo-store/apps",
        &token,
        b"PK".to_vec(),
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.json["code"], "artifact-refused");
}

#[tokio::test]
async fn lists_page_with_an_opaque_cursor() {
    for db in TestDb::all().await {
        let host = Arc::new(TestHost::new(&db).build().await);
        let app = api(&host, 1000);
        let token = platform(&host).await;
        // Five tokens (the caller's and four more), two a page.
        for i in 0..4 {
            host.create_token(None, &format!("t{i}"), "test")
                .await
                .unwrap();
        }
        let mut seen = Vec::new();
        let mut path = "/v1/tokens?limit=2".to_owned();
        loop {
            let page = get(&app, &path, &token).await;
            assert_eq!(page.status, StatusCode::OK, "{}", page.text);
            let items = page.json["items"].as_array().unwrap();
            assert!(items.len() <= 2);
            seen.extend(items.iter().map(|t| t["id"].as_str().unwrap().to_owned()));
            match page.json["next_cursor"].as_str() {
                Some(cursor) => path = format!("/v1/tokens?limit=2&cursor={cursor}"),
                None => break,
            }
        }
        assert_eq!(seen.len(), 5, "{seen:?}");
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 5, "no token twice");
        let bad = get(&app, "/v1/tokens?cursor=zzz", &token).await;
        assert_eq!(bad.json["field"], "cursor");
        let big = get(&app, "/v1/tokens?limit=501", &token).await;
        assert_eq!(big.json["field"], "limit");
        db.finish().await;
    }
}

#[tokio::test]
async fn secrets_are_set_through_the_body_and_never_echoed() {
    for db in TestDb::all().await {
        let host = Arc::new(
            TestHost::new(&db)
                .vault(VaultKey::from_bytes([7; 32]))
                .build()
                .await,
        );
        let app = api(&host, 1000);
        let token = platform(&host).await;
        let apps = "/v1/merchants/demo-store/apps";
        let installed = upload(&app, apps, &token, wasm(plugins::HTTP_PROBE)).await;
        assert_eq!(installed.status, StatusCode::CREATED, "{}", installed.text);
        let id = installed.json["installation"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let value = "sk_live_api_test_0123456789";
        let set = post_json(
            &app,
            &format!("{apps}/{id}/secrets/api_key"),
            &token,
            json!({ "value": value }),
        )
        .await;
        assert_eq!(set.status, StatusCode::CREATED, "{}", set.text);
        assert_eq!(set.json["secret"]["set"], true);
        assert!(!set.text.contains(value));
        let again = post_json(
            &app,
            &format!("{apps}/{id}/secrets/api_key"),
            &token,
            json!({ "value": value }),
        )
        .await;
        assert_eq!(again.status, StatusCode::CONFLICT);
        assert_eq!(again.json["code"], "secret-state");
        let rotated = post_json(
            &app,
            &format!("{apps}/{id}/secrets/api_key/rotate"),
            &token,
            json!({ "value": "sk_live_api_test_9876543210" }),
        )
        .await;
        assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.text);
        let listed = get(&app, &format!("{apps}/{id}/secrets"), &token).await;
        assert_eq!(listed.status, StatusCode::OK);
        assert!(!listed.text.contains("sk_live"), "{}", listed.text);
        let undeclared = post_json(
            &app,
            &format!("{apps}/{id}/secrets/nope"),
            &token,
            json!({ "value": value }),
        )
        .await;
        assert_eq!(undeclared.status, StatusCode::NOT_FOUND);
        assert_eq!(undeclared.json["code"], "unknown-secret");
        db.finish().await;
    }
}

#[tokio::test]
async fn the_openapi_document_lists_every_route_and_needs_no_token() {
    let db = TestDb::sqlite();
    let host = Arc::new(TestHost::new(&db).build().await);
    let app = api(&host, 1000);
    let doc = call(&app, "GET", "/openapi.json", None, &[], None).await;
    assert_eq!(doc.status, StatusCode::OK);
    assert!(doc.json["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/v1/merchants/{merchant}/apps",
        "/v1/merchants/{merchant}/apps/{app}/approve",
        "/v1/merchants/{merchant}/apps/{app}/secrets/{name}",
        "/v1/merchants/{merchant}/deliveries",
        "/v1/merchants/{merchant}/audit",
        "/v1/tokens",
    ] {
        assert!(doc.json["paths"].get(path).is_some(), "{path} missing");
    }
}
