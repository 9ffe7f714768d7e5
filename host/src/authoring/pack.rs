//! `airlock pack`: attach a manifest to a component built without the Rust SDK (JavaScript,
//! Python, anything wit-component made), after checking the manifest against what the
//! component really imports. Pure: bytes in, bytes out, nothing compiled.
//!
//! The order is the publisher's: the manifest must parse (the error names the field), then
//! the component's imports are audited against it and every missing declaration is listed at
//! once, then an existing manifest is refused unless replacing was asked for.

use crate::artifact::{
    Artifact, ArtifactError, MANIFEST_SECTION, MAX_ARTIFACT_BYTES, with_manifest,
};
use crate::ids::Digest;
use crate::imports::{ImportAudit, audit};
use crate::manifest::{Manifest, ManifestError};
use crate::signing::SIGNATURE_SECTION;

/// Why a component could not be packed.
#[derive(Debug, thiserror::Error)]
pub enum PackError {
    /// The manifest does not parse or validate.
    #[error("the manifest is refused: {0}")]
    Manifest(#[from] ManifestError),
    /// The component cannot be read as one (not wasm, a core module, malformed, too large, or
    /// built against another contract version).
    #[error("{0}")]
    Component(#[from] ArtifactError),
    /// The component imports what the manifest does not declare; every problem is listed.
    #[error("the component imports what its manifest does not declare:\n{}", missing(.0))]
    Undeclared(Box<ImportAudit>),
    /// The component already carries a manifest.
    #[error(
        "the component already carries an `{MANIFEST_SECTION}` section (built with the Rust SDK's \
         `export!`, or packed before); pass --replace to put this manifest in its place"
    )]
    HasManifest,
    /// The component is signed: a signature must cover the manifest, so it comes last.
    #[error(
        "the component is signed; pack the unsigned component, then sign what `pack` writes \
         (`airlock sign`)"
    )]
    Signed,
}

/// Every refusal of an audit, one per line.
fn missing(audit: &ImportAudit) -> String {
    let unknown = audit.unknown.iter().map(|u| {
        format!(
            "- `{}` is not provided by this host",
            crate::text::sanitize_quoted(u, 128)
        )
    });
    let missing = audit.missing.iter().map(|m| format!("- {m}"));
    unknown.chain(missing).collect::<Vec<_>>().join("\n")
}

/// A packed artifact, ready to install.
#[derive(Debug, Clone)]
pub struct Packed {
    /// The component with its manifest attached.
    pub bytes: Vec<u8>,
    /// sha256 of `bytes`: what a merchant's approval will name.
    pub digest: Digest,
    /// The manifest attached.
    pub manifest: Manifest,
    /// The component's imports judged against the manifest (unused declarations included).
    pub audit: ImportAudit,
    /// Whether a manifest the component already carried was removed.
    pub replaced: bool,
}

/// Attach `manifest` (TOML) to `component`. `replace` removes a manifest the component
/// already carries (anywhere in it, nested modules included) instead of refusing.
pub fn pack(component: &[u8], manifest: &[u8], replace: bool) -> Result<Packed, PackError> {
    if component.len() > MAX_ARTIFACT_BYTES {
        return Err(ArtifactError::TooLarge {
            size: component.len(),
        }
        .into());
    }
    if !component.starts_with(b"\0asm") {
        return Err(ArtifactError::NotWasm.into());
    }
    let parsed = Manifest::parse(manifest)?;
    let audit = audit(component, &parsed)?;
    if !audit.is_accepted() {
        return Err(PackError::Undeclared(Box::new(audit)));
    }
    let sections = sections_named(component)?;
    if sections.signed {
        return Err(PackError::Signed);
    }
    let replaced = sections.manifests > 0;
    let bare = match (replaced, replace) {
        (false, _) => component.to_vec(),
        (true, true) => strip_custom_sections(component, MANIFEST_SECTION)?,
        (true, false) => return Err(PackError::HasManifest),
    };
    let bytes = with_manifest(&bare, manifest);
    let artifact = Artifact::parse(&bytes)?;
    Ok(Packed {
        digest: artifact.digest,
        manifest: parsed,
        bytes,
        audit,
        replaced,
    })
}

/// How many manifest sections a component carries (nested ones included), and whether it
/// carries a signature.
struct Sections {
    manifests: usize,
    signed: bool,
}

fn sections_named(bytes: &[u8]) -> Result<Sections, ArtifactError> {
    let mut found = Sections {
        manifests: 0,
        signed: false,
    };
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        let payload = payload.map_err(|e| ArtifactError::Malformed(e.to_string()))?;
        if let wasmparser::Payload::CustomSection(section) = payload {
            match section.name() {
                MANIFEST_SECTION => found.manifests += 1,
                SIGNATURE_SECTION => found.signed = true,
                _ => {}
            }
        }
    }
    Ok(found)
}

/// `bytes` (a component or core module) without its custom sections called `name`, in nested
/// core modules and components too (the SDK's section sits in the main core module).
fn strip_custom_sections(bytes: &[u8], name: &str) -> Result<Vec<u8>, ArtifactError> {
    let malformed =
        |what: &str| ArtifactError::Malformed(format!("{what} while removing the old manifest"));
    let header = bytes
        .get(..8)
        .ok_or_else(|| malformed("truncated header"))?;
    let is_component = header.get(4..6) == Some(&[0x0d, 0x00]);
    let mut out = header.to_vec();
    let mut at = 8;
    while at < bytes.len() {
        let id = bytes[at];
        let (size, len_bytes) =
            read_leb(&bytes[at + 1..]).ok_or_else(|| malformed("a bad section size"))?;
        let start = at + 1 + len_bytes;
        let end = start
            .checked_add(size)
            .filter(|end| *end <= bytes.len())
            .ok_or_else(|| malformed("a section past the end"))?;
        let body = &bytes[start..end];
        at = end;
        let nested = is_component && (id == 1 || id == 4);
        if id == 0 && custom_name(body) == Some(name) {
            continue;
        }
        let body = if nested {
            std::borrow::Cow::Owned(strip_custom_sections(body, name)?)
        } else {
            std::borrow::Cow::Borrowed(body)
        };
        out.push(id);
        leb(&mut out, body.len());
        out.extend_from_slice(&body);
    }
    Ok(out)
}

/// The name of a custom section, from its body.
fn custom_name(body: &[u8]) -> Option<&str> {
    let (len, len_bytes) = read_leb(body)?;
    let name = body.get(len_bytes..len_bytes.checked_add(len)?)?;
    std::str::from_utf8(name).ok()
}

/// An unsigned LEB128 of at most 5 bytes, and how many bytes it took.
fn read_leb(bytes: &[u8]) -> Option<(usize, usize)> {
    let mut value = 0usize;
    for (i, byte) in bytes.iter().take(5).enumerate() {
        value |= usize::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

fn leb(out: &mut Vec<u8>, mut value: usize) {
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
#[path = "pack_tests.rs"]
mod tests;
