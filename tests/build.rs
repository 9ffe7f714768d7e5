//! Builds the test connectors in `tests/plugins/` (some hostile) for wasm32-wasip2 and writes
//! a constant with the path of each, so `cargo test` needs nothing built beforehand.
#![allow(clippy::expect_used, clippy::unwrap_used)] // a build script fails by panicking

include!("../host/build_wasm.rs");

const TEST_PLUGINS: [&str; 6] = [
    "probe",
    "undeclared-import",
    "no-manifest",
    "hostile",
    "http-probe",
    "future-contract",
];

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let built = build_plugins(&manifest_dir.join("plugins"), &TEST_PLUGINS);
    let mut consts = String::new();
    for (name, path) in &built {
        consts.push_str(&format!(
            "/// `tests/plugins/{}`, built for wasm32-wasip2.\npub const {}: &str = {:?};\n",
            name.replace('_', "-"),
            name.to_uppercase(),
            path.display().to_string()
        ));
    }
    let names: Vec<String> = built
        .iter()
        .map(|(n, _)| format!("{:?}", n.to_uppercase()))
        .collect();
    consts.push_str(&format!(
        "/// Every test plugin's constant name; each must be used by a test.\npub const ALL: &[&str] = &[{}];\n",
        names.join(", ")
    ));
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out.join("plugins.rs"), consts).expect("write plugins.rs");
}
