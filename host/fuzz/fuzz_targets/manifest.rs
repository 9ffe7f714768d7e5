//! Any bytes as a manifest: parsing never panics, and whatever it accepts renders a prompt
//! that keeps the prompt's invariants in every language.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(manifest) = airlock_host::manifest::Manifest::parse(data) {
        airlock_fuzz::check_prompt(&manifest);
    }
});
