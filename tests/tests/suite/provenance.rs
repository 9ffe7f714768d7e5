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
