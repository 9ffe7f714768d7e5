//! Signed artifacts: a platform that requires signatures accepts only artifacts signed by a
//! key registered to the manifest's publisher, and refuses any changed byte or unknown key
//! before compiling anything.

use airlock_host::artifact::ArtifactError;
use airlock_host::{Error, signing};
use airlock_tests::{TestDb, TestHost, demo_store, plugins, wasm};

fn refused(err: Error) -> ArtifactError {
    match err {
        Error::Artifact(e) => e,
        other => panic!("expected an artifact refusal, got {other}"),
    }
}

#[tokio::test]
async fn a_signed_artifact_from_a_registered_publisher_key_installs_and_others_do_not() {
    for db in TestDb::all().await {
        let host = TestHost::new(&db).require_signatures().build().await;
        let (secret, public) = signing::generate().unwrap();
        let signed = signing::sign(&wasm(plugins::ORDER_NOTIFIER), &secret).unwrap();

        // Not yet registered: unknown key. Unsigned: refused outright.
        let err = refused(
            host.install(&demo_store(), &signed, "test")
                .await
                .unwrap_err(),
        );
        assert!(
            matches!(&err, ArtifactError::UnknownKey(k) if *k == hex::encode(public)),
            "{err}"
        );
        let err = refused(
            host.install(&demo_store(), &wasm(plugins::ORDER_NOTIFIER), "test")
                .await
                .unwrap_err(),
        );
        assert!(matches!(err, ArtifactError::Unsigned), "{err}");

        // Registered to another publisher: refused, naming both.
        host.trust_key("Someone Else", &hex::encode(public), "platform")
            .await
            .unwrap();
        let err = refused(
            host.install(&demo_store(), &signed, "test")
                .await
                .unwrap_err(),
        );
        assert!(
            err.to_string().contains("Someone Else")
                && err.to_string().contains("Airlock Examples"),
            "{err}"
        );
        assert!(
            host.list(&demo_store()).await.unwrap().is_empty(),
            "nothing stored"
        );

        host.trust_key("Airlock Examples", &hex::encode(public), "platform")
            .await
            .unwrap();
        let installed = host
            .install(&demo_store(), &signed, "test")
            .await
            .expect("signed by the publisher's key");
        assert_eq!(installed.installation.connector, "airlock.order-notifier");
        db.finish().await;
    }
}

#[tokio::test]
async fn a_flipped_byte_is_refused_as_a_bad_signature_before_compilation() {
    let db = TestDb::sqlite();
    let host = TestHost::new(&db).require_signatures().build().await;
    let (secret, public) = signing::generate().unwrap();
    host.trust_key("Airlock Examples", &hex::encode(public), "platform")
        .await
        .unwrap();
    let signed = signing::sign(&wasm(plugins::ORDER_NOTIFIER), &secret).unwrap();
    // A byte in the middle of the code: still parses, would still compile, but is not what was signed.
    for at in [signed.len() / 3, signed.len() / 2, signed.len() - 10] {
        let mut tampered = signed.clone();
        tampered[at] ^= 0x20;
        let err = refused(
            host.install(&demo_store(), &tampered, "test")
                .await
                .unwrap_err(),
        );
        assert!(
            matches!(
                err,
                ArtifactError::BadSignature(_) | ArtifactError::Malformed(_)
            ),
            "byte {at}: {err}"
        );
        assert!(
            !matches!(err, ArtifactError::Compile(_)),
            "checked before compiling"
        );
    }
    let err = host
        .trust_key("Acme", "not-a-key", "platform")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("ed25519 public key"), "{err}");
    assert!(host.list(&demo_store()).await.unwrap().is_empty());
    db.finish().await;
}

/// A bare test connector `acme.sync` of `version` by "Acme", asking for `orders:read`.
fn sync_app(version: &str) -> Vec<u8> {
    airlock_tests::ManifestBuilder::new("acme.sync")
        .publisher("Acme")
        .version(version)
        .required("orders:read")
        .reason("sync")
        .artifact()
}

#[tokio::test]
async fn a_signed_installation_accepts_only_upgrades_signed_by_its_publisher() {
    for db in TestDb::all().await {
        // Signatures are not required on this platform: stickiness comes from the installation.
        let host = TestHost::new(&db).build().await;
        let (secret, public) = signing::generate().unwrap();
        host.trust_key("Acme", &hex::encode(public), "platform")
            .await
            .unwrap();
        let v1 = signing::sign(&sync_app("1.0.0"), &secret).unwrap();
        let id = airlock_tests::install_with_secrets(&host, &demo_store(), &v1, &[])
            .await
            .to_string();
        let lang = airlock_host::prompt::Language::En;
        // Unsigned: refused, though this platform accepts unsigned installs.
        let err = host
            .upgrade(&demo_store(), &id, &sync_app("1.1.0"), "platform", lang)
            .await
            .expect_err("an unsigned upgrade of a signed installation");
        assert!(err.to_string().contains("signed"), "{err}");
        // Signed by a key registered to another publisher: refused.
        let (other_secret, other_public) = signing::generate().unwrap();
        host.trust_key("Mallory", &hex::encode(other_public), "platform")
            .await
            .unwrap();
        let mallory = signing::sign(&sync_app("1.1.0"), &other_secret).unwrap();
        assert!(
            host.upgrade(&demo_store(), &id, &mallory, "platform", lang)
                .await
                .is_err()
        );
        let view = host.installation(&demo_store(), &id).await.unwrap();
        assert_eq!(view.version, "1.0.0");
        // Another key of the same publisher: accepted.
        let (second, second_public) = signing::generate().unwrap();
        host.trust_key("Acme", &hex::encode(second_public), "platform")
            .await
            .unwrap();
        let v2 = signing::sign(&sync_app("1.1.0"), &second).unwrap();
        let up = host
            .upgrade(&demo_store(), &id, &v2, "platform", lang)
            .await
            .expect("signed by a key of the same publisher");
        assert_eq!(up.installation.version, "1.1.0");
        db.finish().await;
    }
}

#[tokio::test]
async fn the_prompt_says_whether_the_artifact_is_signed_and_by_which_key() {
    let db = TestDb::sqlite();
    let host = TestHost::new(&db).build().await;
    let (secret, public) = signing::generate().unwrap();
    host.trust_key("Acme", &hex::encode(public), "platform")
        .await
        .unwrap();
    let signed = host
        .install(
            &demo_store(),
            &signing::sign(&sync_app("1.0.0"), &secret).unwrap(),
            "test",
        )
        .await
        .unwrap();
    let text = signed.prompt.render();
    assert!(
        text.contains("Signed") && text.contains(&hex::encode(public)),
        "{text}"
    );
    let unsigned = host
        .install(&airlock_tests::other_store(), &sync_app("1.0.0"), "test")
        .await
        .unwrap();
    let text = unsigned.prompt.render();
    assert!(text.contains("NOT SIGNED"), "{text}");
    db.finish().await;
}

/// Flip one byte of the stored component of `digest` (`sha256:...`), as a bad disk or a
/// hand edit of the database would.
async fn flip_stored_byte(host: &airlock_host::Host, digest: &str) {
    use sqlx::Row;
    let digest = digest.trim_start_matches("sha256:");
    let pool = host.db().pool();
    let row = sqlx::query("SELECT component FROM artifacts WHERE digest = $1")
        .bind(digest)
        .fetch_one(pool)
        .await
        .unwrap();
    let mut bytes: Vec<u8> = row.try_get("component").unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x01;
    sqlx::query("UPDATE artifacts SET component = $1 WHERE digest = $2")
        .bind(bytes)
        .bind(digest)
        .execute(pool)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_flipped_byte_in_a_stored_artifact_refuses_to_load() {
    for db in TestDb::all().await {
        let host = TestHost::new(&db).build().await;
        let id = airlock_tests::install_with_secrets(&host, &demo_store(), &sync_app("1.0.0"), &[])
            .await
            .to_string();
        // A waiting upgrade whose stored bytes change before the merchant approves it.
        let wider = airlock_tests::ManifestBuilder::new("acme.sync")
            .publisher("Acme")
            .version("1.1.0")
            .required("orders:read")
            .reason("sync")
            .required("inventory:read")
            .reason("stock")
            .artifact();
        let up = host
            .upgrade(
                &demo_store(),
                &id,
                &wider,
                "platform",
                airlock_host::prompt::Language::En,
            )
            .await
            .unwrap();
        assert!(!up.applied);
        let view = host.installation(&demo_store(), &id).await.unwrap();
        flip_stored_byte(&host, &airlock_host::ids::Digest::of(&wider).to_string()).await;
        let err = host
            .approve(&demo_store(), &id, &up.digest, &[], "owner")
            .await
            .expect_err("a changed stored artifact must not be approved");
        assert!(
            matches!(
                &err,
                Error::Artifact(ArtifactError::StoredDigestMismatch { .. })
            ),
            "{err}"
        );
        // The running version, loaded by a host that has not compiled it yet.
        flip_stored_byte(&host, &view.digest).await;
        let fresh = TestHost::new(&db).build().await;
        let err = fresh
            .invoke(
                &demo_store(),
                &id,
                airlock_host::manifest::Topic::OrderCreated,
                "ord_1001",
            )
            .await
            .expect_err("a changed stored artifact must not run");
        assert!(
            matches!(
                &err,
                Error::Artifact(ArtifactError::StoredDigestMismatch { .. })
            ),
            "{err}"
        );
        db.finish().await;
    }
}
