//! What a component imports, read from its bytes and judged against what its manifest
//! declares: before anything compiles it, so a refusal never waits for a compile.
//!
//! The rule is per interface. Each interface of `airlock:connector` needs exactly one scope or
//! none (the one table, [`crate::CAPABILITIES`]), so importing `order-updates` needs
//! `orders:write` declared whichever of its functions the code calls. The check collects every
//! problem before refusing, so a publisher fixes the manifest once. It also tells what the
//! manifest declares that no import uses: each such line makes the merchant's prompt say the
//! app can do something its code cannot ([`ImportAudit::unused`]).
//!
//! [`audit`] is pure (no engine, no database): packaging tools run it on an artifact before
//! it is uploaded anywhere.

use std::fmt;

use wasmparser::{Chunk, Encoding, Parser, Payload};

use crate::artifact::{ArtifactError, CONTRACT_VERSION};
use crate::capabilities::{Requirement, descriptor};
use crate::grants::{Scope, ScopeSet};
use crate::manifest::Manifest;
use crate::text::sanitize_quoted;

pub use crate::declarations::{Missing, Unused};

/// The package every contract import names: `airlock:connector/<interface>@<version>`.
pub const CONTRACT_PREFIX: &str = "airlock:connector/";
/// WASI 0.2 interfaces Rust's std links in; they get a locked-down context (no files, no
/// sockets, no environment), so importing them grants nothing.
const WASI_ALLOWED: [&str; 6] = [
    "wasi:cli/",
    "wasi:io/",
    "wasi:clocks/",
    "wasi:random/",
    "wasi:filesystem/",
    "wasi:sockets/",
];

/// A component's imports judged against its manifest: what they need, what the manifest
/// lacks for them, and what it declares for nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportAudit {
    /// Every import of the component (its top level), as the component names it.
    pub imports: Vec<String>,
    /// The `airlock:connector` interfaces imported (`orders`, `order-updates`, ...), once each.
    pub interfaces: Vec<&'static str>,
    /// Scopes the imported interfaces need: each interface's one scope, if it has one.
    pub needed: ScopeSet,
    /// Whether it imports `wasi:http` (so it may call the origins its manifest declares).
    pub http: bool,
    /// What the imports need that the manifest does not declare; any refuses the artifact.
    pub missing: Vec<Missing>,
    /// Imports this host does not provide; any refuses the artifact.
    pub unknown: Vec<String>,
    /// What the manifest declares that no import uses, each with what it costs the merchant
    /// (see [`Unused::cost`]); allowed, but worth removing.
    pub unused: Vec<Unused>,
}

impl ImportAudit {
    /// True when nothing refuses the artifact (unused declarations are allowed).
    pub fn is_accepted(&self) -> bool {
        self.missing.is_empty() && self.unknown.is_empty()
    }

    /// The refusal this audit amounts to, if any: an import this host does not provide first
    /// (the artifact is not for this host at all), then every missing declaration at once.
    pub fn refusal(&self) -> Option<ArtifactError> {
        if let Some(import) = self.unknown.first() {
            return Some(ArtifactError::UnknownImport {
                import: import.clone(),
            });
        }
        if !self.missing.is_empty() {
            return Some(ArtifactError::UndeclaredScopes(self.missing.clone()));
        }
        None
    }

    /// What the unused declarations cost the merchant, in words: one line each, empty when
    /// every declaration is used.
    pub fn costs(&self) -> String {
        self.unused
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// A summary for the publisher: what the component imports and needs, then every problem
/// and every unused declaration with its cost, one per line.
impl fmt::Display for ImportAudit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let or = |list: Vec<&str>, none: &str| {
            if list.is_empty() {
                none.to_owned()
            } else {
                list.join(", ")
            }
        };
        let mut imported = self.interfaces.clone();
        if self.http {
            imported.push("wasi:http");
        }
        let needed = self.needed.iter().map(Scope::as_str).collect();
        let mut lines = vec![
            format!("imports: {}", or(imported, "none")),
            format!("needs: {}", or(needed, "no scope")),
        ];
        lines.extend(
            self.unknown
                .iter()
                .map(|u| format!("unknown import: `{}`", sanitize_quoted(u, 128))),
        );
        lines.extend(self.missing.iter().map(|m| format!("missing: {m}")));
        lines.extend(self.unused.iter().map(|u| format!("unused: {u}")));
        f.write_str(&lines.join("\n"))
    }
}

/// Read the imports of the component in `bytes` (no compiling, no validation of code) and
/// judge them against `manifest`. Errors only when the bytes cannot be judged: not a
/// component, malformed, or built against a contract version this host does not run. Every
/// other problem is listed in the audit ([`ImportAudit::refusal`] turns them into one error).
pub fn audit(bytes: &[u8], manifest: &Manifest) -> Result<ImportAudit, ArtifactError> {
    let imports = import_names(bytes)?;
    let mut audit = ImportAudit {
        imports: imports.clone(),
        interfaces: Vec::new(),
        needed: ScopeSet::EMPTY,
        http: false,
        missing: Vec::new(),
        unknown: Vec::new(),
        unused: Vec::new(),
    };
    let declared = manifest.declared();
    let readable = manifest.secrets.iter().any(|s| s.readable);
    for import in imports {
        // Names come from the component: kept short here, visibly escaped wherever shown.
        let import: String = import.chars().take(128).collect();
        let Some(rest) = import.strip_prefix(CONTRACT_PREFIX) else {
            outside_contract(import, manifest, &mut audit);
            continue;
        };
        let Some((interface, version)) = rest.split_once('@') else {
            audit.unknown.push(import);
            continue;
        };
        check_version(&import, version)?;
        let Some(found) = descriptor(interface) else {
            audit.unknown.push(import);
            continue;
        };
        if audit.interfaces.contains(&found.interface) {
            continue;
        }
        audit.interfaces.push(found.interface);
        match found.needs {
            Requirement::Scope(scope) => {
                audit.needed = audit.needed.with(scope);
                if !declared.contains(scope) {
                    audit.missing.push(Missing::Scope { import, scope });
                }
            }
            Requirement::ReadableSecret if !readable => {
                audit.missing.push(Missing::ReadableSecret { import });
            }
            Requirement::ReadableSecret | Requirement::OwnSpace | Requirement::Nothing => {}
        }
    }
    audit.unused = unused(&audit, manifest);
    Ok(audit)
}

/// [`audit`], then refuse on any problem; on success, the scopes the imports need.
pub fn check(bytes: &[u8], manifest: &Manifest) -> Result<ScopeSet, ArtifactError> {
    let audit = audit(bytes, manifest)?;
    match audit.refusal() {
        Some(refused) => Err(refused),
        None => Ok(audit.needed),
    }
}

/// An import outside `airlock:connector`: `wasi:http` (which needs a declared origin), WASI
/// 0.2's locked-down basics, or something this host does not provide.
fn outside_contract(import: String, manifest: &Manifest, audit: &mut ImportAudit) {
    if import.starts_with("wasi:http/") && import.contains("@0.2.") {
        audit.http = true;
        if manifest.http.is_empty() && !audit.missing.iter().any(|m| m.is_origin()) {
            audit.missing.push(Missing::Origin { import });
        }
    } else if !(WASI_ALLOWED.iter().any(|p| import.starts_with(p)) && import.contains("@0.2.")) {
        audit.unknown.push(import);
    }
}

/// What the manifest declares that no import uses. A scope counts as used when an imported
/// interface needs it or unlocks more of what it returns, or when an event the connector
/// subscribes to needs it (the event tells it ids under that scope).
fn unused(audit: &ImportAudit, manifest: &Manifest) -> Vec<Unused> {
    let unlocked: ScopeSet = audit
        .interfaces
        .iter()
        .filter_map(|i| descriptor(i))
        .flat_map(|d| d.unlocks.iter().copied())
        .collect();
    let events: ScopeSet = manifest.events.iter().filter_map(|t| t.needs()).collect();
    let used = audit.needed.union(unlocked).union(events);
    let mut out: Vec<Unused> = manifest
        .declared()
        .minus(used)
        .iter()
        .map(|scope| Unused::Scope {
            scope,
            required: manifest.required().contains(scope),
        })
        .collect();
    if !audit.interfaces.contains(&"secrets") {
        out.extend(manifest.secrets.iter().filter(|s| s.readable).map(|s| {
            Unused::ReadableSecret {
                name: s.name.clone(),
            }
        }));
    }
    if !audit.http && !manifest.http.is_empty() {
        out.push(Unused::Origins {
            count: manifest.http.len(),
        });
    }
    out
}

/// The names of the component's own imports, in order. Nested core modules and components
/// are skipped unread: their imports are satisfied inside the component, and a large
/// JavaScript or Python runtime is most of the bytes.
fn import_names(bytes: &[u8]) -> Result<Vec<String>, ArtifactError> {
    let malformed = |e: wasmparser::BinaryReaderError| ArtifactError::Malformed(e.to_string());
    let mut parser = Parser::new(0);
    let mut rest = bytes;
    let mut names = Vec::new();
    loop {
        let (payload, consumed) = match parser.parse(rest, true).map_err(malformed)? {
            Chunk::Parsed { payload, consumed } => (payload, consumed),
            Chunk::NeedMoreData(_) => return Err(ArtifactError::Malformed("truncated".into())),
        };
        rest = rest.get(consumed..).unwrap_or_default();
        match payload {
            Payload::Version {
                encoding: Encoding::Module,
                ..
            } => return Err(ArtifactError::CoreModule),
            Payload::ComponentImportSection(reader) => {
                for import in reader {
                    names.push(import.map_err(malformed)?.name.name.to_owned());
                }
            }
            Payload::ModuleSection {
                unchecked_range, ..
            }
            | Payload::ComponentSection {
                unchecked_range, ..
            } => {
                rest = rest.get(unchecked_range.len()..).ok_or_else(|| {
                    ArtifactError::Malformed("a nested module runs past the end".into())
                })?;
            }
            Payload::End(_) => return Ok(names),
            _ => {}
        }
    }
}

/// Only contract 0.2.x runs here. Contract 0.1 components are refused rather than served
/// beside 0.2: 0.1 was never released outside this repository, and serving both would need a
/// second set of bindings and a second import rule (per function), the one that made least
/// privilege impossible outside Rust (JavaScript and Python toolchains import every function
/// of every interface in the world).
fn check_version(import: &str, version: &str) -> Result<(), ArtifactError> {
    let supported = semver::Version::parse(CONTRACT_VERSION).ok();
    match (semver::Version::parse(version), supported) {
        (Ok(v), Some(s)) if v.major == s.major && v.minor == s.minor => Ok(()),
        _ => Err(ArtifactError::UnsupportedContract {
            import: import.chars().take(128).collect(),
            version: version.chars().take(32).collect(),
        }),
    }
}

#[cfg(test)]
mod tests;
