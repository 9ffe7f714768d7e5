//! The canary test: a connector that tries to leak its key through every channel it has
//! (logs, plain and encoded; its summary; its errors; a provider that echoes the key back),
//! and the key appears nowhere the host writes: reports, the audit log, the database.

use airlock_host::manifest::Topic;
use airlock_host::outbound::NetworkPolicy;
use airlock_host::vault::VaultKey;
use airlock_host::{CallResult, ConnectorFailure};
use airlock_tests::provider::{Provider, Reply};
use airlock_tests::{TestDb, TestHost, demo_store, install_with_secrets, plugins, wasm};
use base64::Engine as _;

const CANARY: &str = "sk_live_CANARY+7Qx/e9Zt41";
const ATTACHED: &str = "att_live_CANARY2_5d6e7f80";

/// Every form a leaked key could take: as is, percent-encoded, hex, base64 (standard and
/// URL-safe, alone and inside a longer string, as the probe logs it).
fn leak_forms(secret: &str) -> Vec<String> {
    let std = base64::engine::general_purpose::STANDARD;
    let url: String = secret
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    vec![
        secret.to_owned(),
        url,
        secret.replace('/', "%2F").replace('+', "%2B"),
        hex::encode(secret),
        std.encode(secret),
        std.encode(format!("k={secret}")),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret),
    ]
}

#[tokio::test]
async fn a_canary_key_appears_nowhere_the_host_writes() {
    for db in TestDb::all().await {
        let gateway = Provider::start().await;
        // A provider that echoes the credentials it got (as some debugging endpoints do).
        gateway.answer(|r| match r.target.as_str() {
            "/echo" => Reply::json(200, r.header("authorization").unwrap_or("")),
            _ => Reply::json(401, "{}"),
        });
        let network = NetworkPolicy::default()
            .allow_private("test.http-probe", gateway.addr)
            .resolve("gateway.test", 8080, gateway.addr);
        let key = VaultKey::from_bytes([9; 32]);
        let host = TestHost::new(&db).vault(key).network(network).build().await;
        let id = install_with_secrets(
            &host,
            &demo_store(),
            &wasm(plugins::HTTP_PROBE),
            &[("api_key", CANARY), ("attach_only", ATTACHED)],
        )
        .await;
        let mut written = String::new();
        for command in [
            "leak api_key",
            "leak-error api_key",
            "get http://gateway.test:8080/echo attach_only",
            "get http://gateway.test:8080/echo api_key",
            "get http://rebind.test:8080/ api_key",
            "fail http://gateway.test:8080/deny",
            "get http://gateway.test:8080/echo api_key;leak-error api_key",
        ] {
            let report = host
                .invoke(&demo_store(), id.as_str(), Topic::OrderCreated, command)
                .await
                .unwrap();
            written.push_str(&format!("{report:?}"));
            written.push_str(&serde_json::to_string(&report).unwrap());
            if command == "fail http://gateway.test:8080/deny" {
                assert_eq!(
                    report.result,
                    CallResult::Failed {
                        error: ConnectorFailure::InvalidCredentials
                    }
                );
            }
            if command.ends_with(";leak-error api_key") {
                // The connector said only `other`; the host saw the provider's 200 and no
                // failure, so the cause stays the connector's.
                assert!(matches!(
                    report.cause(),
                    Some(ConnectorFailure::Other { .. })
                ));
            }
        }
        // The keys were used: the provider received the attached one.
        let received = gateway.received();
        assert_eq!(
            received[0].header("authorization"),
            Some(format!("Bearer {ATTACHED}").as_str())
        );
        // ...and the leaks were caught, not merely absent.
        assert!(written.contains("[REDACTED]"), "{written}");
        let audit = host.audit(&demo_store(), 500).await.unwrap();
        written.push_str(&format!("{audit:?}"));
        written.push_str(&format!(
            "{:?}",
            host.secrets(&demo_store(), id.as_str()).await.unwrap()
        ));
        // The database, as stored: every table's text for PostgreSQL, the file for SQLite.
        let stored = match db.url.strip_prefix("sqlite://") {
            Some(path) => {
                let mut bytes = std::fs::read(path).unwrap();
                if let Ok(wal) = std::fs::read(format!("{path}-wal")) {
                    bytes.extend(wal);
                }
                String::from_utf8_lossy(&bytes).into_owned()
            }
            None => {
                let opened = airlock_host::db::Db::connect(&db.url).await.unwrap();
                let mut all = String::new();
                for table in [
                    "secrets",
                    "audit_log",
                    "connector_storage",
                    "installations",
                    "grants",
                ] {
                    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "SELECT CAST(t AS TEXT) AS row FROM {table} t"
                    )))
                    .fetch_all(opened.pool())
                    .await
                    .unwrap();
                    for row in rows {
                        use sqlx::Row;
                        all.push_str(&row.try_get::<String, _>("row").unwrap());
                    }
                }
                all
            }
        };
        for secret in [CANARY, ATTACHED] {
            for form in leak_forms(secret) {
                assert!(
                    !written.contains(&form),
                    "{}: `{form}` leaked:\n{written}",
                    db.url
                );
                assert!(!stored.contains(&form), "{}: `{form}` stored", db.url);
            }
        }
        db.finish().await;
    }
}
