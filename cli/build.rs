//! Builds the example connectors in `plugins/` for wasm32-wasip2 so `airlock demo` can embed
//! the order notifier (and the CLI tests can install the pay-then-ship one).
#![allow(clippy::expect_used, clippy::unwrap_used)] // a build script fails by panicking

include!("build_wasm.rs");

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let plugins = manifest_dir.join("../plugins");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    for (name, path) in build_plugins(&plugins, &["order-notifier", "ship-on-payment"]) {
        std::fs::copy(&path, out.join(format!("{name}.wasm"))).expect("copy plugin into OUT_DIR");
    }
}
