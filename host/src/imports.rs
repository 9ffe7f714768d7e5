//! What a compiled component really imports, checked against what its manifest declares.
//!
//! wit-component keeps only the functions a guest actually calls, so the import list is the
//! truth about which capabilities the code can reach: a function whose scope the manifest does
//! not declare refuses the install, before any merchant is asked to approve anything. What
//! each function needs comes from the one table in [`crate::capabilities`].

use wasmtime::Engine;
use wasmtime::component::Component;
use wasmtime::component::types::ComponentItem;

use crate::artifact::ArtifactError;
use crate::capabilities::{Requirement, requirement};
use crate::grants::ScopeSet;
use crate::manifest::Manifest;

const CONTRACT_PREFIX: &str = "airlock:connector/";
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

/// Check every import of `component` and return the scopes its code can ask for.
pub fn check(
    engine: &Engine,
    component: &Component,
    manifest: &Manifest,
) -> Result<ScopeSet, ArtifactError> {
    let declared = manifest.declared();
    let mut needed = ScopeSet::EMPTY;
    for (name, item) in component.component_type().imports(engine) {
        let Some(rest) = name.strip_prefix(CONTRACT_PREFIX) else {
            check_outside_contract(name, manifest)?;
            continue;
        };
        let (interface, version) =
            rest.split_once('@')
                .ok_or_else(|| ArtifactError::UnknownImport {
                    import: name.to_owned(),
                })?;
        check_version(name, version)?;
        let ComponentItem::ComponentInstance(instance) = item.ty else {
            return Err(ArtifactError::UnknownImport {
                import: name.to_owned(),
            });
        };
        for (function, export) in instance.exports(engine) {
            if !matches!(export.ty, ComponentItem::ComponentFunc(_)) {
                continue;
            }
            let import = format!("{name}#{function}");
            match requirement(interface, function) {
                None => return Err(ArtifactError::UnknownImport { import }),
                Some(Requirement::ReadableSecret)
                    if !manifest.secrets.iter().any(|s| s.readable) =>
                {
                    return Err(ArtifactError::UndeclaredConnection {
                        import,
                        what: "a readable secret",
                        fix: "declare the secret under [[secrets]] with `readable = true`, or \
                              attach it with a {{secret:NAME}} header instead of reading it",
                    });
                }
                Some(Requirement::OwnSpace | Requirement::ReadableSecret) => {}
                Some(Requirement::Scope(scope)) if declared.contains(scope) => {
                    needed = needed.with(scope)
                }
                Some(Requirement::Scope(scope)) => {
                    return Err(ArtifactError::UndeclaredScope { import, scope });
                }
            }
        }
    }
    Ok(needed)
}

/// An import outside `airlock:connector`: WASI 0.2's locked-down basics, or `wasi:http` for
/// a manifest that declares the origins it calls; anything else refuses the install.
fn check_outside_contract(name: &str, manifest: &Manifest) -> Result<(), ArtifactError> {
    if name.starts_with("wasi:http/") && name.contains("@0.2.") {
        if manifest.http.is_empty() {
            return Err(ArtifactError::UndeclaredConnection {
                import: name.to_owned(),
                what: "any origin it calls",
                fix: "add an [[http]] entry with `origin` and `reason` for each",
            });
        }
        return Ok(());
    }
    if WASI_ALLOWED.iter().any(|p| name.starts_with(p)) && name.contains("@0.2.") {
        return Ok(());
    }
    Err(ArtifactError::UnknownImport {
        import: name.to_owned(),
    })
}

fn check_version(import: &str, version: &str) -> Result<(), ArtifactError> {
    let supported = semver::Version::parse(crate::artifact::CONTRACT_VERSION).ok();
    match (semver::Version::parse(version), supported) {
        (Ok(v), Some(s)) if v.major == s.major && v.minor == s.minor => Ok(()),
        _ => Err(ArtifactError::UnsupportedContract {
            import: import.to_owned(),
            version: version.chars().take(32).collect(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_0_1_contract_is_accepted() {
        assert!(check_version("x", "0.1.0").is_ok());
        assert!(check_version("x", "0.1.7").is_ok());
        for bad in ["0.2.0", "1.0.0", "banana"] {
            let err = check_version("airlock:connector/orders", bad).unwrap_err();
            assert!(err.to_string().contains("0.1.0"), "{err}");
        }
    }
}
