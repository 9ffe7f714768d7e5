//! Builds the test connectors in `tests/plugins/` (some hostile) and the example connectors in
//! `plugins/` for wasm32-wasip2, and writes a constant with the path of each, so `cargo test`
//! needs nothing built beforehand.
#![allow(clippy::expect_used, clippy::unwrap_used)] // a build script fails by panicking

include!("../cli/build_wasm.rs");

const TEST_PLUGINS: [&str; 7] = [
    "probe",
    "undeclared-import",
    "no-manifest",
    "hostile",
    "http-probe",
    "future-contract",
    "extended-manifest",
];

/// The example connectors (their own workspace in `../plugins`).
const EXAMPLE_PLUGINS: [&str; 2] = ["order-notifier", "ship-on-payment"];

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let examples_dir = manifest_dir.join("../plugins");
    // `build_plugins` watches the directory it builds too; said here so it holds whatever
    // the shared helper does.
    println!("cargo:rerun-if-changed={}", examples_dir.display());
    let built = [
        (
            "tests/plugins",
            build_plugins(&manifest_dir.join("plugins"), &TEST_PLUGINS),
        ),
        ("plugins", build_plugins(&examples_dir, &EXAMPLE_PLUGINS)),
    ];
    let mut consts = String::new();
    let mut names = Vec::new();
    for (dir, plugins) in &built {
        for (name, path) in plugins {
            consts.push_str(&format!(
                "/// `{dir}/{}`, built for wasm32-wasip2.\npub const {}: &str = {:?};\n",
                name.replace('_', "-"),
                name.to_uppercase(),
                path.display().to_string()
            ));
            names.push(format!("{:?}", name.to_uppercase()));
        }
    }
    consts.push_str(&format!(
        "/// Every built plugin's constant name; each must be used by a test.\npub const ALL: &[&str] = &[{}];\n",
        names.join(", ")
    ));
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out.join("plugins.rs"), consts).expect("write plugins.rs");
}
