//! Write seed corpora: for `artifact`, wasm-smith components (odd first byte, so the target
//! rebuilds them from the bytes that follow) and a few raw corrupt uploads; for `manifest`,
//! valid and broken manifests. Run: `cargo run --bin seed -- <corpus dir> <count>`.

use std::path::PathBuf;

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().unwrap_or_else(|| "corpus".into()));
    let count: u64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(100);
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
    std::fs::write(manifest.join("valid"), airlock_fuzz::MANIFEST)?;
    std::fs::write(
        manifest.join("connected"),
        format!(
            "{}\n[[http]]\norigin = \"https://api.example.com\"\nreason = \"x\"\n\n[[secrets]]\nname = \"k\"\nreason = \"y\"\nsend_to = [\"https://api.example.com\"]\n",
            airlock_fuzz::MANIFEST
        ),
    )?;
    std::fs::write(manifest.join("broken"), "id = \"x\"\n[[scopes.required]]\nscope = 1\n")?;
    println!("{generated} wasm-smith components and 4 raw inputs in {}", artifact.display());
    Ok(())
}
