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

#[unsafe(link_section = "airlock-manifest")]
#[used]
static MANIFEST: [u8; include_bytes!("../airlock.toml").len()] = *include_bytes!("../airlock.toml");
