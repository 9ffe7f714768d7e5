//! `airlock wit`: the WIT package a manifest allows. Its world `connector` imports exactly the
//! contract interfaces whose one scope the manifest declares (required or optional), `storage`
//! and `log` (they need none), `secrets` when a secret is declared `readable`, and
//! `wasi:http/outgoing-handler` when the manifest declares `[[http]]` origins; and it exports
//! `handler`. JavaScript and Python toolchains import every interface of the world they build
//! against, so a component built against this world imports nothing its manifest does not
//! cover. The contract's files (and the WASI packages `wasi:http` needs) are embedded at build
//! time, so the `airlock` binary writes them without a checkout.

use std::path::{Path, PathBuf};

use crate::capabilities::{CAPABILITIES, Descriptor, Requirement};
use crate::manifest::Manifest;

/// The contract's interface files, embedded from `wit/` (the world is [`CONTRACT_WORLD`]).
const CONTRACT: &[(&str, &str)] = &[
    ("types", include_str!("../../../wit/types.wit")),
    ("orders", include_str!("../../../wit/orders.wit")),
    (
        "order-updates",
        include_str!("../../../wit/order-updates.wit"),
    ),
    ("customers", include_str!("../../../wit/customers.wit")),
    ("inventory", include_str!("../../../wit/inventory.wit")),
    (
        "inventory-updates",
        include_str!("../../../wit/inventory-updates.wit"),
    ),
    ("storage", include_str!("../../../wit/storage.wit")),
    ("log", include_str!("../../../wit/log.wit")),
    ("secrets", include_str!("../../../wit/secrets.wit")),
];

/// The contract's `world.wit`: the package line, the `handler` interface and the full world.
const CONTRACT_WORLD: &str = include_str!("../../../wit/world.wit");

/// The WASI packages `wasi:http/outgoing-handler` needs, vendored in `wit/deps` from the
/// wasmtime-wasi-http crate the host runs; written under `deps/` when the world imports it.
const WASI_DEPS: &[(&str, &str)] = &[
    (
        "cli@0.2.12/cli.wit",
        include_str!("../../../wit/deps/cli@0.2.12/cli.wit"),
    ),
    (
        "clocks@0.2.12/clocks.wit",
        include_str!("../../../wit/deps/clocks@0.2.12/clocks.wit"),
    ),
    (
        "filesystem@0.2.12/filesystem.wit",
        include_str!("../../../wit/deps/filesystem@0.2.12/filesystem.wit"),
    ),
    (
        "http@0.2.12/http.wit",
        include_str!("../../../wit/deps/http@0.2.12/http.wit"),
    ),
    (
        "io@0.2.12/io.wit",
        include_str!("../../../wit/deps/io@0.2.12/io.wit"),
    ),
    (
        "random@0.2.12/random.wit",
        include_str!("../../../wit/deps/random@0.2.12/random.wit"),
    ),
    (
        "sockets@0.2.12/sockets.wit",
        include_str!("../../../wit/deps/sockets@0.2.12/sockets.wit"),
    ),
];

/// The outbound HTTP interface a world imports when its manifest declares `[[http]]` origins.
pub const WASI_HTTP_IMPORT: &str = "wasi:http/outgoing-handler@0.2.12";

/// The name of the world `airlock wit` writes (the contract's, narrowed).
pub const WORLD: &str = "connector";

/// Why a WIT package could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WitError {
    /// A file or directory could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// The embedded contract is not what this module expects (a bug in this build).
    #[error("the embedded contract is malformed: {0}")]
    Contract(&'static str),
}

/// One interface the world imports, and what the manifest declares that allows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct WorldImport {
    /// The import as the world names it: `orders`, or `wasi:http/outgoing-handler@0.2.12`.
    pub interface: String,
    /// What allows it: a scope, `no scope`, `a readable secret` or `[[http]] origins`.
    pub allowed_by: String,
}

/// A WIT package directory: the files to write (paths relative to it) and what its world
/// imports.
#[derive(Debug, Clone)]
pub struct WitPackage {
    /// Relative path and text of every file.
    pub files: Vec<(String, String)>,
    /// What world [`WORLD`] imports, in the contract's order.
    pub imports: Vec<WorldImport>,
}

/// The WIT package whose world imports exactly what `manifest` allows.
pub fn world_for(manifest: &Manifest) -> Result<WitPackage, WitError> {
    let mut imports = Vec::new();
    let mut files = vec![("types.wit".to_owned(), contract_file("types")?.to_owned())];
    for descriptor in CAPABILITIES {
        let Some(allowed_by) = allowed_by(descriptor, manifest) else {
            continue;
        };
        let text = contract_file(descriptor.interface)?;
        files.push((format!("{}.wit", descriptor.interface), text.to_owned()));
        imports.push(WorldImport {
            interface: descriptor.interface.to_owned(),
            allowed_by,
        });
    }
    if !manifest.http.is_empty() {
        imports.push(WorldImport {
            interface: WASI_HTTP_IMPORT.to_owned(),
            allowed_by: "[[http]] origins".to_owned(),
        });
        for (path, text) in WASI_DEPS {
            files.push((format!("deps/{path}"), (*text).to_owned()));
        }
    }
    files.push(("world.wit".to_owned(), world_file(manifest, &imports)?));
    Ok(WitPackage { files, imports })
}

/// What in `manifest` allows importing the interface of `descriptor`, or `None` (for `types`
/// too: it is imported along with the interfaces that use it).
fn allowed_by(descriptor: &Descriptor, manifest: &Manifest) -> Option<String> {
    match descriptor.needs {
        Requirement::Scope(scope) => manifest
            .declared()
            .contains(scope)
            .then(|| scope.as_str().to_owned()),
        Requirement::OwnSpace => Some("no scope".to_owned()),
        Requirement::ReadableSecret => manifest
            .secrets
            .iter()
            .any(|s| s.readable)
            .then(|| "a readable secret".to_owned()),
        Requirement::Nothing => None,
    }
}

fn contract_file(interface: &str) -> Result<&'static str, WitError> {
    CONTRACT
        .iter()
        .find(|(name, _)| *name == interface)
        .map(|(_, text)| *text)
        .ok_or(WitError::Contract(
            "an interface the host provides is not embedded",
        ))
}

/// `world.wit`: the contract's package line and `handler` interface, then the narrowed world.
fn world_file(manifest: &Manifest, imports: &[WorldImport]) -> Result<String, WitError> {
    let mut out = contract_preamble()?.to_owned();
    out.push_str(&format!(
        "/// The world of connector `{}`, written by `airlock wit` from its manifest: it imports only\n\
         /// what the manifest's scopes, readable secrets and `[[http]]` origins allow (a toolchain that\n\
         /// imports every interface of its world then builds a component the host accepts). Write it\n\
         /// again after changing the manifest; do not edit it.\n\
         world {WORLD} {{\n",
        manifest.id
    ));
    for import in imports {
        out.push_str(&format!(
            "    // {}\n    import {};\n",
            import.allowed_by, import.interface
        ));
    }
    out.push_str("\n    export handler;\n}\n");
    Ok(out)
}

/// The contract's `world.wit` up to the doc comment of its world: the package line and the
/// `handler` interface.
fn contract_preamble() -> Result<&'static str, WitError> {
    let missing = WitError::Contract("wit/world.wit has no `world connector`");
    let at = CONTRACT_WORLD.find("\nworld connector").ok_or(missing)?;
    let mut start = at + 1;
    while let Some(line_start) = CONTRACT_WORLD[..start - 1].rfind('\n') {
        if !CONTRACT_WORLD[line_start + 1..start]
            .trim_start()
            .starts_with("///")
        {
            break;
        }
        start = line_start + 1;
    }
    Ok(&CONTRACT_WORLD[..start])
}

impl WitPackage {
    /// Write the package into `dir` (created if missing). Top-level `.wit` files and vendored
    /// `deps/` packages the package no longer has are removed, so a world written before a
    /// manifest changed leaves nothing behind that a toolchain would read.
    pub fn write(&self, dir: &Path) -> Result<(), WitError> {
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| WitError::Io { path, source }
        };
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        self.remove_stale(dir)?;
        for (relative, text) in &self.files {
            let path = dir.join(relative);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(io(parent))?;
            }
            std::fs::write(&path, text).map_err(io(&path))?;
        }
        Ok(())
    }

    fn remove_stale(&self, dir: &Path) -> Result<(), WitError> {
        let keeps = |relative: &str| self.files.iter().any(|(p, _)| p == relative);
        let entries = std::fs::read_dir(dir).map_err(|source| WitError::Io {
            path: dir.to_owned(),
            source,
        })?;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".wit") && !keeps(&name) {
                let path = entry.path();
                std::fs::remove_file(&path).map_err(|source| WitError::Io { path, source })?;
            }
        }
        for (relative, _) in WASI_DEPS {
            let relative = format!("deps/{relative}");
            let Some(package) = Path::new(&relative).parent() else {
                continue;
            };
            let path = dir.join(package);
            if !keeps(&relative) && path.is_dir() {
                std::fs::remove_dir_all(&path).map_err(|source| WitError::Io { path, source })?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "wit_tests.rs"]
mod tests;
