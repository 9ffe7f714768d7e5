//! Connector artifacts: one `.wasm` component carrying its manifest in a custom section.
//!
//! Everything here runs before compilation and on untrusted bytes: every failure is a typed
//! error naming what is wrong, and nothing is stored until the whole artifact checks out.

use std::sync::Arc;

use wasmparser::{Encoding, Parser, Payload};

use airlock_contract::{FrameError, frame_manifest, read_manifest_frame};

use crate::declarations::Missing;
use crate::ids::Digest;
use crate::manifest::{Manifest, ManifestError};

/// Name of the custom section that holds the manifest (the SDK's `export!` writes it).
pub const MANIFEST_SECTION: &str = "airlock-manifest";
/// Largest artifact accepted, in bytes.
pub const MAX_ARTIFACT_BYTES: usize = 32 * 1024 * 1024;
/// The contract version this host implements; components built against any 0.2.x run.
pub const CONTRACT_VERSION: &str = "0.2.0";
/// How a publisher rebuilds a component against this host's contract.
pub const REBUILD: &str = "rebuild against airlock:connector@0.2.0: update airlock-sdk and \
    rebuild, or regenerate the WIT with `airlock wit --manifest airlock.toml --out wit`";

/// Why an artifact was refused.
#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    /// Over [`MAX_ARTIFACT_BYTES`].
    #[error("artifact is {size} bytes; the limit is {MAX_ARTIFACT_BYTES}")]
    TooLarge {
        /// Its size.
        size: usize,
    },
    /// Does not start with the WebAssembly magic number.
    #[error("not a WebAssembly file: it does not start with the `\\0asm` magic number")]
    NotWasm,
    /// A core module rather than a component.
    #[error(
        "this is a core WebAssembly module, not a component; build the connector with \
         `cargo build --target wasm32-wasip2` against airlock-sdk"
    )]
    CoreModule,
    /// The binary is damaged or truncated.
    #[error("malformed component: {0}")]
    Malformed(String),
    /// No manifest section.
    #[error(
        "the component carries no `{MANIFEST_SECTION}` section; declare the manifest in the \
         connector with `airlock_sdk::export!(MyConnector, manifest = \"airlock.toml\")`"
    )]
    NoManifest,
    /// More than one manifest section: ambiguous, so refused.
    #[error(
        "the component carries {0} `{MANIFEST_SECTION}` sections (one per core module that \
         has one); exactly one is allowed"
    )]
    ManyManifests(usize),
    /// The manifest section holds something besides exactly one framed manifest.
    #[error("{}", frame_problem(.0))]
    ManifestFrame(FrameError),
    /// The manifest is wrong.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// Wasmtime could not compile it.
    #[error("the component does not compile: {0}")]
    Compile(String),
    /// Built against a contract version this host does not run (0.1, or a later one).
    #[error("{}", contract_problem(.import, .version))]
    UnsupportedContract {
        /// The import name.
        import: String,
        /// The version it was built against.
        version: String,
    },
    /// Imports something this host does not provide.
    #[error(
        "the component imports `{import}`, which this host does not provide; connectors may import \
         airlock:connector@{CONTRACT_VERSION} interfaces, wasi:http and the WASI 0.2 basics only"
    )]
    UnknownImport {
        /// The import name.
        import: String,
    },
    /// The publisher signature is missing, damaged or does not match.
    #[error("signature refused: {0}")]
    BadSignature(String),
    /// The platform requires signed artifacts and this one is not signed.
    #[error(
        "this platform requires signed connectors and the artifact carries no signature; sign it with `airlock sign`"
    )]
    Unsigned,
    /// Signed by a key the platform does not know.
    #[error(
        "signed by unknown key {0}; the platform must register it for the publisher (`airlock keys add`)"
    )]
    UnknownKey(String),
    /// Signed by a key registered to another publisher.
    #[error(
        "signed by key {key}, which belongs to `{owner}`, not to `{publisher}` named in the manifest"
    )]
    KeyOfAnotherPublisher {
        /// The key.
        key: String,
        /// Who the key is registered to.
        owner: String,
        /// The manifest's publisher.
        publisher: String,
    },
    /// The installed version is signed and the upgrade is not (or is signed by a key that is
    /// not the same publisher's).
    #[error(
        "the installed version is signed by publisher key {installed_key}; an upgrade must be \
         signed by a key registered to the same publisher: sign it with `airlock sign`"
    )]
    UnsignedUpgrade {
        /// The key that signed the installed version.
        installed_key: String,
    },
    /// Bytes read back from the database do not hash to the digest they are stored under.
    #[error(
        "the stored artifact {stored} no longer matches its digest (its bytes hash to {actual}): \
         the database copy was changed; install the publisher's file again"
    )]
    StoredDigestMismatch {
        /// The digest it is stored (and was approved) under.
        stored: String,
        /// The digest of the bytes read.
        actual: String,
    },
    /// Imports interfaces whose scopes (or a readable secret, or an origin) the manifest
    /// does not declare: every one listed at once, each with the line that fixes it.
    #[error("{}", undeclared(.0))]
    UndeclaredScopes(Vec<Missing>),
}

/// A parsed artifact: its bytes, digest and validated manifest, not yet compiled.
#[derive(Debug, Clone)]
pub struct Artifact {
    /// The component bytes exactly as uploaded.
    pub bytes: Arc<[u8]>,
    /// sha256 of `bytes`.
    pub digest: Digest,
    /// The manifest read from the component.
    pub manifest: Manifest,
}

impl Artifact {
    /// Check the bytes are a component with exactly one valid manifest.
    pub fn parse(bytes: &[u8]) -> Result<Artifact, ArtifactError> {
        if bytes.len() > MAX_ARTIFACT_BYTES {
            return Err(ArtifactError::TooLarge { size: bytes.len() });
        }
        if !bytes.starts_with(b"\0asm") {
            return Err(ArtifactError::NotWasm);
        }
        let manifest = find_manifest(bytes)?;
        Ok(Artifact {
            bytes: Arc::from(bytes),
            digest: Digest::of(bytes),
            manifest: Manifest::parse(manifest)?,
        })
    }
}

impl Artifact {
    /// An artifact read back from the database under `stored` (hex): its bytes are hashed
    /// again first, so a changed byte is refused before anything parses or compiles them.
    pub fn from_stored(bytes: &[u8], stored: &str) -> Result<Artifact, ArtifactError> {
        let actual = Digest::of(bytes);
        if actual.to_hex() != stored {
            return Err(ArtifactError::StoredDigestMismatch {
                stored: format!("sha256:{}", stored.chars().take(64).collect::<String>()),
                actual: actual.to_string(),
            });
        }
        Artifact::parse(bytes)
    }
}

/// Walk every section, nested core modules included (the SDK's section lands in the core
/// module), and return the TOML of the one manifest: one section holding exactly one frame.
/// The linker joins same-named sections of every object it links, so a dependency's
/// `airlock-manifest` data sits in the same section as the connector's; the frame (magic and
/// length) is what tells the two apart.
fn find_manifest(bytes: &[u8]) -> Result<&[u8], ArtifactError> {
    let mut found: Vec<&[u8]> = Vec::new();
    let mut first = true;
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload.map_err(|e| ArtifactError::Malformed(e.to_string()))?;
        match payload {
            Payload::Version { encoding, .. } if first => {
                first = false;
                if encoding == Encoding::Module {
                    return Err(ArtifactError::CoreModule);
                }
            }
            Payload::CustomSection(section) if section.name() == MANIFEST_SECTION => {
                found.push(section.data());
            }
            _ => {}
        }
    }
    match found.as_slice() {
        [] => Err(ArtifactError::NoManifest),
        [one] => read_manifest_frame(one).map_err(ArtifactError::ManifestFrame),
        many => Err(ArtifactError::ManyManifests(many.len())),
    }
}

/// Why a contract version is refused, and how to rebuild.
fn contract_problem(import: &str, version: &str) -> String {
    let supported = semver::Version::parse(CONTRACT_VERSION).ok();
    let older = match (semver::Version::parse(version), supported) {
        (Ok(v), Some(s)) => v < s,
        _ => false,
    };
    let which = if older {
        "an older contract this host no longer runs"
    } else {
        "a contract version this host does not know"
    };
    format!(
        "the component imports `{import}`, built against airlock:connector@{version}, {which}; \
         this host runs airlock:connector@{CONTRACT_VERSION} (0.2.x): {REBUILD}"
    )
}

/// Every missing declaration, one per line.
fn undeclared(missing: &[Missing]) -> String {
    let mut out = format!(
        "the manifest does not declare what the component's imports need ({} to fix):",
        missing.len()
    );
    for m in missing {
        out.push_str(&format!("\n  - {m}"));
    }
    out
}

/// What is wrong with the manifest section, and what to do.
fn frame_problem(problem: &FrameError) -> String {
    const DEPENDENCY: &str = "a dependency of the connector adds its own data to the section (the \
        linker joins custom sections of the same name), which could add origins, secrets or \
        scopes the publisher never declared; remove the dependency or its \
        `#[link_section = \"airlock-manifest\"]` static";
    match problem {
        FrameError::NotFramed => format!(
            "the `{MANIFEST_SECTION}` section holds no framed manifest; build the connector with \
             a current airlock-sdk `export!`, or frame the TOML with \
             `airlock_contract::frame_manifest`"
        ),
        FrameError::Truncated {
            declared,
            available,
        } => format!(
            "the `{MANIFEST_SECTION}` section is cut short: its frame declares {declared} bytes \
             of manifest and {available} follow"
        ),
        FrameError::Leading { bytes } => format!(
            "the `{MANIFEST_SECTION}` section holds {bytes} byte(s) before the manifest: {DEPENDENCY}"
        ),
        FrameError::Several { frames } => format!(
            "the `{MANIFEST_SECTION}` section holds {frames} manifests, exactly one is allowed: \
             {DEPENDENCY}"
        ),
        FrameError::Trailing { bytes } => format!(
            "the `{MANIFEST_SECTION}` section holds {bytes} byte(s) after the manifest: {DEPENDENCY}"
        ),
    }
}

/// Attach `toml` to a component as its framed manifest section: how tools and tests attach a
/// manifest to a component built without the SDK macro.
pub fn with_manifest(component: &[u8], toml: &[u8]) -> Vec<u8> {
    append_custom_section(component, MANIFEST_SECTION, &frame_manifest(toml))
}

/// Append a top-level custom section to a component: how tools attach a manifest to a
/// component built without the SDK macro.
pub fn append_custom_section(component: &[u8], name: &str, data: &[u8]) -> Vec<u8> {
    let mut body = Vec::with_capacity(name.len() + data.len() + 5);
    leb128(&mut body, name.len());
    body.extend_from_slice(name.as_bytes());
    body.extend_from_slice(data);
    let mut out = component.to_vec();
    out.push(0);
    leb128(&mut out, body.len());
    out.extend_from_slice(&body);
    out
}

fn leb128(out: &mut Vec<u8>, mut value: usize) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_wasm_bytes_are_refused_before_parsing() {
        assert!(matches!(
            Artifact::parse(b"PK\x03\x04zip"),
            Err(ArtifactError::NotWasm)
        ));
        assert!(matches!(Artifact::parse(b""), Err(ArtifactError::NotWasm)));
    }

    #[test]
    fn a_core_module_is_told_to_build_a_component() {
        let module = b"\0asm\x01\0\0\0";
        let err = Artifact::parse(module).unwrap_err();
        assert!(matches!(err, ArtifactError::CoreModule), "{err}");
        assert!(err.to_string().contains("wasm32-wasip2"));
    }

    #[test]
    fn an_empty_component_has_no_manifest() {
        let component = b"\0asm\x0d\0\x01\0";
        assert!(matches!(
            Artifact::parse(component),
            Err(ArtifactError::NoManifest)
        ));
    }

    #[test]
    fn truncated_sections_are_malformed_not_panics() {
        let mut bytes = b"\0asm\x0d\0\x01\0".to_vec();
        bytes.extend_from_slice(&[0, 0x7f, 3]);
        assert!(matches!(
            Artifact::parse(&bytes),
            Err(ArtifactError::Malformed(_))
        ));
    }

    const EMPTY_COMPONENT: &[u8] = b"\0asm\x0d\0\x01\0";

    #[test]
    fn a_section_holding_more_than_one_framed_manifest_is_refused_naming_the_cause() {
        let frame = frame_manifest(b"id = 'x'");
        let extra = frame_manifest(b"[[http]]\norigin = 'https://exfil.example'");
        for (data, cause) in [
            ([frame.clone(), extra.clone()].concat(), "holds 2 manifests"),
            (
                [frame.clone(), b"\n[[http]]".to_vec()].concat(),
                "after the manifest",
            ),
            ([extra.clone(), frame.clone()].concat(), "holds 2 manifests"),
            (
                [b"[[http]]\n".to_vec(), frame.clone()].concat(),
                "before the manifest",
            ),
        ] {
            let artifact = append_custom_section(EMPTY_COMPONENT, MANIFEST_SECTION, &data);
            let err = Artifact::parse(&artifact).unwrap_err();
            assert!(matches!(err, ArtifactError::ManifestFrame(_)), "{err}");
            let shown = err.to_string();
            assert!(
                shown.contains(cause) && shown.contains("a dependency"),
                "{shown}"
            );
        }
        let plain = append_custom_section(EMPTY_COMPONENT, MANIFEST_SECTION, b"id = 'x'");
        let err = Artifact::parse(&plain).unwrap_err();
        assert!(
            matches!(err, ArtifactError::ManifestFrame(FrameError::NotFramed)),
            "{err}"
        );
        assert!(err.to_string().contains("frame_manifest"), "{err}");
    }

    #[test]
    fn two_manifest_sections_are_ambiguous() {
        let manifest = b"id = 'x'";
        let once = with_manifest(EMPTY_COMPONENT, manifest);
        let twice = with_manifest(&once, manifest);
        assert!(matches!(
            Artifact::parse(&twice),
            Err(ArtifactError::ManyManifests(2))
        ));
        // One section is found and its contents reach the manifest parser.
        assert!(matches!(
            Artifact::parse(&once),
            Err(ArtifactError::Manifest(ManifestError::Syntax(_)))
        ));
    }

    #[test]
    fn oversized_artifacts_are_refused_unread() {
        let big = vec![0u8; MAX_ARTIFACT_BYTES + 1];
        assert!(matches!(
            Artifact::parse(&big),
            Err(ArtifactError::TooLarge { .. })
        ));
    }
}
