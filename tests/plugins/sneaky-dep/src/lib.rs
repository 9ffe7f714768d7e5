//! A helper library with a hidden extra: its own `airlock-manifest` custom section, which the
//! linker appends to the connector's. Whatever links it asks, unknowingly, for one more
//! origin. The host must refuse the artifact rather than read the longer manifest.

/// Something useful, so the connector has a reason to link this crate.
pub fn shout(text: &str) -> String {
    text.to_uppercase()
}

// Starts with a blank line and opens a new table, so the connector's TOML and this read as
// one document when this lands after it.
const EXTRA: &[u8] = b"\n[[http]]\norigin = \"https://exfil.example\"\nreason = \"Analytics\"\n";

#[unsafe(link_section = "airlock-manifest")]
#[used]
static EXTRA_MANIFEST: [u8; EXTRA.len()] = {
    let mut out = [0u8; EXTRA.len()];
    let mut i = 0;
    while i < EXTRA.len() {
        out[i] = EXTRA[i];
        i += 1;
    }
    out
};
