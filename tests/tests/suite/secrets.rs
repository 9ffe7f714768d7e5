//! The secrets vault with real components: set/rotate/list rules, values only ever sealed,
//! each installation reading only its own declared-readable secrets, a wrong vault key or a
//! copied row reported as such, and uninstall deleting them.

use airlock_host::db::Db;
use airlock_host::db::secrets::SecretWrite;
use airlock_host::ids::{InstallationId, MerchantId};
use airlock_host::manifest::Topic;
use airlock_host::prompt::Language;
use airlock_host::vault::VaultKey;
use airlock_host::{Error, Host};
use airlock_tests::{
    ManifestBuilder, TestDb, TestHost, demo_store, install_with_secrets, other_store, plugins,
    summary, wasm,
};
use sqlx::Row;

const VALUE: &str = "sk_test_value_0123456789";

fn key(byte: u8) -> VaultKey {
    VaultKey::from_bytes([byte; 32])
}

async fn install(host: &Host, merchant: &MerchantId) -> InstallationId {
    install_with_secrets(host, merchant, &wasm(plugins::HTTP_PROBE), &[]).await
}

async fn read(host: &Host, merchant: &MerchantId, id: &InstallationId, name: &str) -> String {
    let report = host
        .invoke(
            merchant,
            id.as_str(),
            Topic::OrderCreated,
            &format!("read {name}"),
        )
        .await
        .unwrap();
    summary(&report)
}

#[tokio::test]
async fn secrets_are_set_once_rotated_listed_without_values_and_stored_sealed() {
    for db in TestDb::all().await {
        let host = TestHost::new(&db).vault(key(1)).build().await;
        let id = install(&host, &demo_store()).await;
        let write = |name: &'static str, value: &'static str, mode| {
            let host = &host;
            let id = id.clone();
            async move {
                host.write_secret(&demo_store(), id.as_str(), name, value, "owner", mode)
                    .await
            }
        };
        let set = write("api_key", VALUE, SecretWrite::Set).await.unwrap();
        assert_eq!(set.secret.rotated_by.as_deref(), Some("owner"));
        let again = write("api_key", VALUE, SecretWrite::Set).await.unwrap_err();
        assert!(
            again.to_string().contains("airlock secrets rotate"),
            "{again}"
        );
        let unset = write("attach_only", VALUE, SecretWrite::Rotate)
            .await
            .unwrap_err();
        assert!(unset.to_string().contains("airlock secrets set"), "{unset}");
        let undeclared = write("stripe_key", VALUE, SecretWrite::Set)
            .await
            .unwrap_err();
        assert!(
            matches!(&undeclared, Error::SecretNotDeclared { declared, .. } if declared == "api_key, attach_only"),
            "{undeclared}"
        );
        let short = write("attach_only", "abc", SecretWrite::Set)
            .await
            .unwrap_err();
        assert!(short.to_string().contains("8 to 8192 bytes"), "{short}");

        let listed = host.secrets(&demo_store(), id.as_str()).await.unwrap();
        let shown: Vec<(&str, bool, bool)> = listed
            .iter()
            .map(|s| (s.name.as_str(), s.set, s.readable))
            .collect();
        assert_eq!(
            shown,
            [("api_key", true, true), ("attach_only", false, false)]
        );
        assert_eq!(listed[0].problem, None);
        assert_eq!(listed[0].key_id.as_deref(), Some(key(1).id()));
        let json = serde_json::to_string(&listed).unwrap();
        assert!(!json.contains(VALUE));

        // The table holds ciphertext only.
        let opened = Db::connect(&db.url).await.unwrap();
        let rows = sqlx::query("SELECT nonce, ciphertext FROM secrets")
            .fetch_all(opened.pool())
            .await
            .unwrap();
        assert_eq!(rows.len(), 1);
        let stored: String = rows[0].try_get("ciphertext").unwrap();
        assert!(!stored.contains(VALUE) && !stored.contains(&hex::encode(VALUE)));
        assert_eq!(
            stored.len(),
            2 * (VALUE.len() + 16),
            "ciphertext plus a 16-byte tag"
        );

        // Another merchant cannot reach this installation's secrets at all.
        let theirs = host.secrets(&other_store(), id.as_str()).await.unwrap_err();
        assert!(matches!(theirs, Error::NotInstalled { .. }), "{theirs}");
        db.finish().await;
    }
}

#[tokio::test]
async fn a_connector_reads_only_its_own_installations_declared_readable_secrets() {
    let db = TestDb::sqlite();
    let host = TestHost::new(&db).vault(key(1)).build().await;
    let ours = install(&host, &demo_store()).await;
    let theirs = install(&host, &other_store()).await;
    assert_eq!(
        read(&host, &demo_store(), &ours, "api_key").await,
        "error HostError::NotFound"
    );
    host.write_secret(
        &demo_store(),
        ours.as_str(),
        "api_key",
        VALUE,
        "a",
        SecretWrite::Set,
    )
    .await
    .unwrap();
    host.write_secret(
        &other_store(),
        theirs.as_str(),
        "api_key",
        "a_much_longer_value_for_the_other_store",
        "b",
        SecretWrite::Set,
    )
    .await
    .unwrap();
    host.write_secret(
        &demo_store(),
        ours.as_str(),
        "attach_only",
        VALUE,
        "a",
        SecretWrite::Set,
    )
    .await
    .unwrap();
    assert_eq!(
        read(&host, &demo_store(), &ours, "api_key").await,
        format!("read {} bytes", VALUE.len())
    );
    assert_eq!(
        read(&host, &other_store(), &theirs, "api_key").await,
        "read 39 bytes"
    );
    // Declared, but attach-only: the code may use it in a header, never read it.
    let attach_only = read(&host, &demo_store(), &ours, "attach_only").await;
    assert!(
        attach_only.starts_with(
            "error HostError::InvalidInput(\"secret `attach_only` is not declared readable"
        ),
        "{attach_only}"
    );
    let undeclared = read(&host, &demo_store(), &ours, "root_password").await;
    assert!(
        undeclared.starts_with("error HostError::InvalidInput"),
        "{undeclared}"
    );
    db.finish().await;
}

#[tokio::test]
async fn a_wrong_vault_key_or_a_copied_row_is_reported_as_such() {
    let db = TestDb::sqlite();
    let host = TestHost::new(&db).vault(key(1)).build().await;
    let ours = install(&host, &demo_store()).await;
    let theirs = install(&host, &other_store()).await;
    host.write_secret(
        &demo_store(),
        ours.as_str(),
        "api_key",
        VALUE,
        "a",
        SecretWrite::Set,
    )
    .await
    .unwrap();

    // The same database opened with another key: a clear report, never garbage.
    let wrong = TestHost::new(&db).vault(key(2)).unseeded().build().await;
    let listed = wrong.secrets(&demo_store(), ours.as_str()).await.unwrap();
    let problem = listed[0].problem.clone().unwrap();
    assert_eq!(
        problem,
        format!(
            "secret `api_key` was sealed with vault key {}, but the key supplied is {}; supply the key it was sealed with",
            key(1).id(),
            key(2).id()
        )
    );
    // The connector gets "unavailable", not someone else's bytes.
    assert_eq!(
        read(&wrong, &demo_store(), &ours, "api_key").await,
        "error HostError::Unavailable"
    );
    // No key at all: setting says how to supply one.
    let keyless = TestHost::new(&db).unseeded().build().await;
    let err = keyless
        .write_secret(
            &demo_store(),
            ours.as_str(),
            "attach_only",
            VALUE,
            "a",
            SecretWrite::Set,
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("AIRLOCK_VAULT_KEY"), "{err}");

    // A sealed row copied to another installation does not open there.
    let opened = Db::connect(&db.url).await.unwrap();
    sqlx::query(
        "INSERT INTO secrets (installation_id, name, key_id, nonce, ciphertext, created_at, rotated_at, rotated_by) \
         SELECT $1, name, key_id, nonce, ciphertext, created_at, rotated_at, rotated_by FROM secrets WHERE installation_id = $2",
    )
    .bind(theirs.as_str())
    .bind(ours.as_str())
    .execute(opened.pool())
    .await
    .unwrap();
    let copied = host.secrets(&other_store(), theirs.as_str()).await.unwrap();
    assert!(
        copied[0]
            .problem
            .as_deref()
            .unwrap_or("")
            .contains("altered or copied from another installation"),
        "{copied:?}"
    );
    assert_eq!(
        read(&host, &other_store(), &theirs, "api_key").await,
        "error HostError::Unavailable"
    );
    db.finish().await;
}

#[tokio::test]
async fn uninstall_deletes_the_installations_secrets() {
    for db in TestDb::all().await {
        let host = TestHost::new(&db).vault(key(1)).build().await;
        let id = install(&host, &demo_store()).await;
        for name in ["api_key", "attach_only"] {
            host.write_secret(
                &demo_store(),
                id.as_str(),
                name,
                VALUE,
                "a",
                SecretWrite::Set,
            )
            .await
            .unwrap();
        }
        let gone = host
            .uninstall(&demo_store(), id.as_str(), "owner")
            .await
            .unwrap();
        assert_eq!(gone.deleted.secrets, 2);
        let opened = Db::connect(&db.url).await.unwrap();
        let left: i64 = sqlx::query("SELECT COUNT(*) AS n FROM secrets")
            .fetch_one(opened.pool())
            .await
            .unwrap()
            .try_get("n")
            .unwrap();
        assert_eq!(left, 0);
        let audit = host.audit(&demo_store(), 1).await.unwrap();
        assert!(audit[0].detail.contains("2 secret(s)"), "{audit:?}");
        db.finish().await;
    }
}

/// The bare test component carrying a manifest of `version` that calls `origins` and uses
/// `secrets` (attached to the first origin).
fn app(version: &str, origins: &[&str], secrets: &[&str]) -> Vec<u8> {
    let mut manifest = ManifestBuilder::new("acme.partner-sync")
        .name("Partner Sync")
        .version(version)
        .kind("marketplace");
    for origin in origins {
        manifest = manifest.http(origin).reason("sync orders");
    }
    for name in secrets {
        manifest = manifest.secret(name, origins[0]).reason("partner key");
    }
    manifest.artifact()
}

#[tokio::test]
async fn an_upgrade_that_adds_an_origin_or_a_secret_waits_for_the_merchant() {
    let db = TestDb::sqlite();
    let host = TestHost::new(&db).vault(key(1)).build().await;
    const A: &str = "https://api.partner.example";
    const B: &str = "https://api.new-partner.example";
    let id = host
        .install(&demo_store(), &app("1.0.0", &[A], &["partner_key"]), "test")
        .await
        .unwrap()
        .installation
        .id;
    airlock_tests::approve_what_waits(&host, &demo_store(), id.as_str(), &[], "owner")
        .await
        .unwrap();
    // Same connections: applies at once.
    let same = host
        .upgrade(
            &demo_store(),
            id.as_str(),
            &app("1.0.1", &[A], &["partner_key"]),
            "p",
            Language::En,
        )
        .await
        .unwrap();
    assert!(same.applied);
    // One more origin: waits, and the prompt shows only it.
    let wider = host
        .upgrade(
            &demo_store(),
            id.as_str(),
            &app("1.1.0", &[A, B], &["partner_key"]),
            "p",
            Language::En,
        )
        .await
        .unwrap();
    assert!(!wider.applied, "a new origin must wait for the merchant");
    let prompt = wider.prompt.unwrap();
    let origins: Vec<&str> = prompt
        .connects_to
        .iter()
        .map(|o| o.origin.as_str())
        .collect();
    assert_eq!(origins, [B]);
    assert!(prompt.keys.is_empty() && prompt.required.is_empty());
    assert_eq!(
        host.installation(&demo_store(), id.as_str())
            .await
            .unwrap()
            .version,
        "1.0.1",
        "the old version keeps serving"
    );
    airlock_tests::approve_what_waits(&host, &demo_store(), id.as_str(), &[], "owner")
        .await
        .unwrap();
    assert_eq!(
        host.installation(&demo_store(), id.as_str())
            .await
            .unwrap()
            .version,
        "1.1.0"
    );
    // A new secret: waits too.
    let keyed = host
        .upgrade(
            &demo_store(),
            id.as_str(),
            &app("1.2.0", &[A, B], &["partner_key", "webhook_key"]),
            "p",
            Language::En,
        )
        .await
        .unwrap();
    assert!(!keyed.applied);
    let names: Vec<String> = keyed
        .prompt
        .unwrap()
        .keys
        .into_iter()
        .map(|k| k.name)
        .collect();
    assert_eq!(names, ["webhook_key"]);
    db.finish().await;
}
