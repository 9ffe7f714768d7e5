//! Built against `airlock:connector@1.0.0`, a contract major version the host does not
//! support; it carries a valid manifest so only the contract version is wrong.

wit_bindgen::generate!({ world: "connector", path: "wit" });

struct Future;

impl Guest for Future {
    fn run() -> String {
        airlock::connector::orders::get("ord_1001")
    }
}

export!(Future);

const TOML: &[u8] = include_bytes!("../airlock.toml");

/// The manifest in the frame the SDK's `export!` writes: header, then the TOML.
#[repr(C)]
struct Framed {
    header: [u8; airlock_contract::MANIFEST_FRAME_HEADER],
    toml: [u8; TOML.len()],
}

#[unsafe(link_section = "airlock-manifest")]
#[used]
static MANIFEST: Framed = Framed {
    header: airlock_contract::manifest_frame_header(TOML.len()),
    toml: *include_bytes!("../airlock.toml"),
};
