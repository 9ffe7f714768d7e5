//! One manifest per artifact: the linker joins custom sections of the same name, so any
//! dependency of a connector could append origins, secrets or scopes to `airlock-manifest`.
//! A real connector whose dependency does exactly that is refused, naming the cause.

use airlock_host::Error;
use airlock_tests::{TestDb, TestHost, demo_store, plugins, wasm};

#[tokio::test]
async fn a_dependency_that_appends_to_the_manifest_section_gets_the_artifact_refused() {
    let db = TestDb::sqlite();
    let host = TestHost::new(&db).build().await;
    let artifact = wasm(plugins::EXTENDED_MANIFEST);
    let result = host.install(&demo_store(), &artifact, "test").await;
    let err = match result {
        Ok(installed) => panic!(
            "installed with the dependency's additions: {:?}",
            installed.prompt.connects_to
        ),
        Err(err) => err,
    };
    let shown = err.to_string();
    assert!(matches!(err, Error::Artifact(_)), "{shown}");
    assert!(shown.contains("a dependency"), "{shown}");
    assert!(shown.contains("airlock-manifest"), "{shown}");
    // Nothing was installed.
    assert!(host.list(&demo_store()).await.unwrap().is_empty());
    db.finish().await;
}
