//! Every plugin the build script compiles, test plugin or example connector, is used by some
//! test (as Wasmtime's test-programs insist), so a plugin cannot silently stop being exercised.

use std::path::Path;

use airlock_tests::plugins;

/// The text of every `.rs` file under `dir`, this file excepted.
fn sources_under(dir: &Path, into: &mut String) {
    for entry in std::fs::read_dir(dir).expect("tests dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            sources_under(&path, into);
        } else if path.file_name().is_some_and(|n| n != "plugins_used.rs") {
            into.push_str(&std::fs::read_to_string(&path).unwrap_or_default());
        }
    }
}

#[test]
fn every_built_test_plugin_is_used_by_a_test() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut sources = String::new();
    for dir in [root.join("tests"), root.join("src")] {
        sources_under(&dir, &mut sources);
    }
    assert!(
        plugins::ALL.contains(&"ORDER_NOTIFIER") && plugins::ALL.contains(&"SHIP_ON_PAYMENT"),
        "the example connectors are checked too: {:?}",
        plugins::ALL
    );
    for name in plugins::ALL {
        assert!(
            sources.contains(&format!("plugins::{name}")),
            "test plugin {name} is built but no test uses it"
        );
    }
}
