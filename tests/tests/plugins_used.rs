//! Every test plugin the build script compiles is used by some test (as Wasmtime's
//! test-programs insist), so a plugin cannot silently stop being exercised.

#![allow(clippy::expect_used)]
use airlock_tests::plugins;

#[test]
fn every_built_test_plugin_is_used_by_a_test() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut sources = String::new();
    for dir in [root.join("tests"), root.join("src")] {
        for entry in std::fs::read_dir(&dir).expect("tests dir") {
            let path = entry.expect("entry").path();
            if path.file_name().is_some_and(|n| n != "plugins_used.rs") {
                sources.push_str(&std::fs::read_to_string(&path).unwrap_or_default());
            }
        }
    }
    for name in plugins::ALL {
        assert!(
            sources.contains(&format!("plugins::{name}")),
            "test plugin {name} is built but no test uses it"
        );
    }
}
