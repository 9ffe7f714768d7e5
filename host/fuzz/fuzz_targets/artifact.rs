//! Artifact loading: the first byte picks raw bytes (a corrupt upload) or a wasm-smith
//! component built from the rest with a valid manifest attached (a well-formed but arbitrary
//! component). Parsing, compiling and the import check must refuse cleanly, never panic.
#![no_main]

use std::sync::OnceLock;

use airlock_host::artifact::with_manifest;
use airlock_host::{Limits, Sandbox};
use libfuzzer_sys::arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;

fn sandbox() -> &'static Sandbox {
    static SANDBOX: OnceLock<Sandbox> = OnceLock::new();
    SANDBOX.get_or_init(|| Sandbox::new(&Limits::default()).expect("engine"))
}

fuzz_target!(init: airlock_fuzz::seed_if_asked(), |data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let bytes = if mode % 2 == 0 {
        rest.to_vec()
    } else {
        let mut u = Unstructured::new(rest);
        let Ok(component) = u.arbitrary::<wasm_smith::Component>() else {
            return;
        };
        with_manifest(&component.to_bytes(), airlock_fuzz::MANIFEST.as_bytes())
    };
    // Refusals are expected; a panic or a hang is the bug.
    let _ = sandbox().load(&bytes);
});
