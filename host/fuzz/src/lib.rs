//! Shared pieces of the fuzz targets: a valid manifest to attach to generated components, and
//! the invariants every rendered prompt must keep.

use std::path::Path;

use airlock_host::prompt::{Language, Prompt};

/// A manifest the host accepts, so a generated component gets past the manifest checks and
/// its bytes reach compilation and the import check.
pub const MANIFEST: &str = r#"id = "fuzz.component"
name = "Fuzz"
publisher = "Fuzz"
version = "1.0.0"
kind = "analytics"

[[scopes.optional]]
scope = "orders:read"
reason = "fuzzing"
"#;

/// Render `prompt` in every language and check what the merchant sees: no control, bidi,
/// zero-width, separator or other invisible character but the host's own line breaks (each
/// shown as a visible escape instead), and exactly one host-written list line per scope,
/// topic, origin and key (publisher text can never add a line that looks like the host's).
pub fn check_prompt(manifest: &airlock_host::manifest::Manifest) {
    for language in Language::ALL {
        let prompt = Prompt::for_manifest(manifest, language);
        let text = prompt.render();
        assert!(
            !text
                .chars()
                .any(|c| airlock_host::text::is_unsafe_char(c) && c != '\n'),
            "unsafe character in {text:?}"
        );
        let listed = text.lines().filter(|l| l.starts_with("  - ")).count();
        let expected = prompt.required.len()
            + prompt.optional.len()
            + prompt.events.len()
            + prompt.connects_to.len()
            + prompt.keys.len();
        assert_eq!(listed, expected, "forged list line in:\n{text}");
    }
}

/// Write seed corpora under `dir`: for `artifact`, inputs that the target turns into
/// wasm-smith components (odd first byte, then the generator's bytes) plus a few raw corrupt
/// uploads; for `manifest`, valid and broken manifests. Returns how many components.
pub fn write_seeds(dir: &Path, count: u64) -> std::io::Result<u64> {
    let artifact = dir.join("artifact");
    let manifest = dir.join("manifest");
    std::fs::create_dir_all(&artifact)?;
    std::fs::create_dir_all(&manifest)?;
    let mut generated = 0;
    // A deterministic byte stream per seed: xorshift, so runs are reproducible.
    for seed in 1..=count {
        let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let raw: Vec<u8> = (0..4096)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 24) as u8
            })
            .collect();
        let mut u = arbitrary::Unstructured::new(&raw);
        if let Ok(component) = u.arbitrary::<wasm_smith::Component>() {
            // Check the generator really produced a component before seeding with it.
            let bytes = component.to_bytes();
            if bytes.starts_with(b"\0asm") {
                let mut input = vec![1u8];
                input.extend_from_slice(&raw);
                std::fs::write(artifact.join(format!("smith-{seed}")), input)?;
                generated += 1;
            }
        }
    }
    for (name, bytes) in [
        ("empty", b"\0".to_vec()),
        ("magic-only", b"\0\0asm".to_vec()),
        ("core-module", b"\0\0asm\x01\0\0\0".to_vec()),
        ("component-header", b"\0\0asm\x0d\0\x01\0".to_vec()),
    ] {
        std::fs::write(artifact.join(name), bytes)?;
    }
    std::fs::write(manifest.join("valid"), MANIFEST)?;
    std::fs::write(
        manifest.join("connected"),
        format!(
            "{}\n[[http]]\norigin = \"https://api.example.com\"\nreason = \"x\"\n\n[[secrets]]\nname = \"k\"\nreason = \"y\"\nsend_to = [\"https://api.example.com\"]\n",
            MANIFEST
        ),
    )?;
    std::fs::write(manifest.join("broken"), "id = \"x\"\n[[scopes.required]]\nscope = 1\n")?;
    Ok(generated)
}

/// When `AIRLOCK_FUZZ_SEEDS=<dir>[:count]` is set, write the seeds and exit: how CI and people
/// seed a corpus with the instrumented build (a plain binary cannot link against it).
pub fn seed_if_asked() {
    let Ok(spec) = std::env::var("AIRLOCK_FUZZ_SEEDS") else {
        return;
    };
    let (dir, count) = match spec.rsplit_once(':') {
        Some((dir, n)) => (dir.to_owned(), n.parse().unwrap_or(100)),
        None => (spec, 100),
    };
    match write_seeds(Path::new(&dir), count) {
        Ok(n) => {
            println!("{n} wasm-smith components and 4 raw inputs seeded under {dir}");
            std::process::exit(0);
        }
        Err(e) => {
            eprintln!("writing seeds under {dir}: {e}");
            std::process::exit(1);
        }
    }
}
