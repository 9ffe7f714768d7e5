//! The API's operating routes: an app's health check run on demand (merchant tokens may), and
//! the platform's knobs (a plan's retry schedule, a publisher's key, pruning), which a
//! merchant token is refused with 403 `platform-only`.

use std::sync::Arc;

use airlock_tests::{TestDb, TestHost, demo_store, plugins, wasm};
use axum::http::StatusCode;
use serde_json::json;

use super::api::{api, call, platform, post_json, upload};

#[tokio::test]
async fn a_health_check_runs_on_demand_and_only_the_platform_sets_schedules_keys_and_prunes() {
    for db in TestDb::all().await {
        let host = Arc::new(TestHost::new(&db).build().await);
        let app = api(&host, 1000);
        let token = platform(&host).await;
        let merchant = host
            .create_token(Some(&demo_store()), "store", "test")
            .await
            .unwrap()
            .secret;
        let apps = "/v1/merchants/demo-store/apps";
        let installed = upload(&app, apps, &token, wasm(plugins::ORDER_NOTIFIER)).await;
        let id = installed.json["installation"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let digest = installed.json["installation"]["digest"]
            .as_str()
            .unwrap()
            .to_owned();
        let approve = json!({ "digest": digest });
        let approved = post_json(&app, &format!("{apps}/{id}/approve"), &token, approve).await;
        assert_eq!(approved.status, StatusCode::OK, "{}", approved.text);

        let checked = post_json(&app, &format!("{apps}/{id}/check"), &merchant, json!(null)).await;
        assert_eq!(checked.status, StatusCode::OK, "{}", checked.text);
        assert!(checked.json["passed"].is_boolean(), "{}", checked.text);
        let theirs = "/v1/merchants/other-store/apps/airlock.order-notifier/check";
        let hidden = post_json(&app, theirs, &merchant, json!(null)).await;
        assert_eq!(hidden.status, StatusCode::NOT_FOUND, "{}", hidden.text);

        let schedule = "/v1/plans/starter/retry-schedule";
        let body = json!({ "schedule": "5,300,1800" }).to_string();
        let json_type = [("content-type", "application/json")];
        let put = |token: String, body: String| {
            let app = app.clone();
            async move {
                call(
                    &app,
                    "PUT",
                    schedule,
                    Some(&token),
                    &json_type,
                    Some(body.into()),
                )
                .await
            }
        };
        let refused = put(merchant.clone(), body.clone()).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
        assert_eq!(refused.json["code"], "platform-only");
        let set = put(token.clone(), body).await;
        assert_eq!(set.status, StatusCode::OK, "{}", set.text);
        assert_eq!(set.json["delays_secs"], json!([5, 300, 1800]));
        let bad = put(token.clone(), json!({ "schedule": "soon" }).to_string()).await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text);
        assert_eq!(bad.json["field"], "schedule");
        let long = put(
            token.clone(),
            json!({ "schedule": "99999999999" }).to_string(),
        )
        .await;
        assert_eq!(
            long.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            long.text
        );

        let key = json!({ "public_key": "00".repeat(31) });
        let short = post_json(&app, "/v1/publishers/acme/keys", &token, key).await;
        assert!(short.status.is_client_error(), "{}", short.text);
        let prune = json!({ "keep_days": 30, "audit_keep_days": 365 });
        let pruned = post_json(&app, "/v1/prune", &merchant, prune.clone()).await;
        assert_eq!(pruned.status, StatusCode::FORBIDDEN, "{}", pruned.text);
        let pruned = post_json(&app, "/v1/prune", &token, prune).await;
        assert_eq!(pruned.status, StatusCode::OK, "{}", pruned.text);
        assert_eq!(pruned.json["deliveries"], 0);
        db.finish().await;
    }
}
