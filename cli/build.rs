//! Builds the example connectors in `plugins/` for wasm32-wasip2 so `airlock demo` can embed
//! the order notifier (and the CLI tests can install the pay-then-ship one), and two test
//! connectors of `tests/plugins/` the CLI tests of `airlock dev run` use (the probe, and one
//! without a manifest).
#![allow(clippy::expect_used, clippy::unwrap_used)] // a build script fails by panicking

include!("build_wasm.rs");

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let plugins = manifest_dir.join("../plugins");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let test_plugins = manifest_dir.join("../tests/plugins");
    let built = [
        build_plugins(&plugins, &["order-notifier", "ship-on-payment"]),
        build_plugins(&test_plugins, &["probe", "no-manifest"]),
    ];
    for (name, path) in built.iter().flatten() {
        std::fs::copy(path, out.join(format!("{name}.wasm"))).expect("copy plugin into OUT_DIR");
    }
}
