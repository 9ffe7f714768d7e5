// Shared by cli/build.rs and tests/build.rs (via `include!`): build a plugins workspace for
// wasm32-wasip2 with a nested cargo, the way Wasmtime's test-programs and Spin's
// test-components do. The nested cargo gets its own target dir (sharing the outer one would
// deadlock on its lock, cargo #6412) and none of the outer build's flags or wrappers.

use std::path::{Path, PathBuf};
use std::process::Command;

const WASM_TARGET: &str = "wasm32-wasip2";

/// The nested target dir: beside the outer profile dir, shared by every build script so the
/// guest-side dependencies compile once.
fn wasm_target_dir() -> PathBuf {
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    // OUT_DIR is <target>/<profile>/build/<pkg>-<hash>/out.
    match out.ancestors().nth(4) {
        Some(target) => target.join("wasm-plugins"),
        None => out.join("wasm-plugins"),
    }
}

fn ensure_wasm_target() {
    let sysroot = Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| PathBuf::from(s.trim()));
    let installed = sysroot.is_some_and(|s| s.join("lib/rustlib").join(WASM_TARGET).exists());
    if !installed {
        println!("cargo:warning=installing the {WASM_TARGET} target with rustup");
        let status = Command::new("rustup").args(["target", "add", WASM_TARGET]).status();
        if !matches!(status, Ok(s) if s.success()) {
            panic!("the {WASM_TARGET} target is missing and `rustup target add {WASM_TARGET}` failed");
        }
    }
}

/// Build every crate of the workspace at `dir`; returns (crate name with `_`, path of .wasm).
fn build_plugins(dir: &Path, crates: &[&str]) -> Vec<(String, PathBuf)> {
    ensure_wasm_target();
    for watched in [dir.to_path_buf(), dir.join("../sdk"), dir.join("../wit"), dir.join("../../sdk"), dir.join("../../wit")] {
        if watched.exists() {
            println!("cargo:rerun-if-changed={}", watched.display());
        }
    }
    let target_dir = wasm_target_dir();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(dir)
        .args(["build", "--release", "--target", WASM_TARGET])
        .env("CARGO_TARGET_DIR", &target_dir);
    for var in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_BUILD_TARGET",
        "CARGO_PROFILE_RELEASE_DEBUG",
    ] {
        cmd.env_remove(var);
    }
    for pkg in crates {
        cmd.args(["-p", pkg]);
    }
    let status = cmd.status().expect("failed to run cargo for the wasm plugins");
    assert!(status.success(), "building the plugins in {} failed", dir.display());
    crates
        .iter()
        .map(|pkg| {
            let name = pkg.replace('-', "_");
            let path = target_dir.join(WASM_TARGET).join("release").join(format!("{name}.wasm"));
            assert!(path.exists(), "{} was not built", path.display());
            (name, path)
        })
        .collect()
}
