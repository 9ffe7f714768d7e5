//! Publisher signatures. A publisher signs an artifact with ed25519; the signature covers the
//! sha256 of every byte before it and travels as the component's last top-level custom section
//! `airlock-signature` (32-byte public key, then 64-byte signature), so the `.wasm` stays the
//! whole artifact. The host checks it before compiling anything.

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::Digest as _;
use wasmparser::{Parser, Payload};

use crate::artifact::{ArtifactError, append_custom_section};

/// Name of the custom section that carries the signature.
pub const SIGNATURE_SECTION: &str = "airlock-signature";
/// Domain separation: a signature over an Airlock artifact is never valid for anything else.
const CONTEXT: &[u8] = b"airlock-artifact-v1:";

/// A signature found on an artifact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    /// The publisher key that signed, as lowercase hex.
    pub key: String,
    /// How many leading bytes the signature covers (everything but its own section).
    pub covers: usize,
    key_bytes: [u8; 32],
    signature: [u8; 64],
}

fn message(unsigned: &[u8]) -> Vec<u8> {
    let mut message = CONTEXT.to_vec();
    message.extend_from_slice(&sha2::Sha256::digest(unsigned));
    message
}

fn leb_len(mut value: usize) -> usize {
    let mut n = 1;
    while value >= 0x80 {
        value >>= 7;
        n += 1;
    }
    n
}

/// Find the signature, if any. It must be a top-level section, the only one, and the last.
pub fn find(bytes: &[u8]) -> Result<Option<Signed>, ArtifactError> {
    let mut depth = 0usize;
    let mut found = Vec::new();
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.map_err(|e| ArtifactError::Malformed(e.to_string()))? {
            Payload::ModuleSection { .. } | Payload::ComponentSection { .. } => depth += 1,
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::CustomSection(section)
                if section.name() == SIGNATURE_SECTION && depth == 0 =>
            {
                found.push((section.data_offset(), section.data().to_vec()));
            }
            _ => {}
        }
    }
    let (offset, data) = match found.as_slice() {
        [] => return Ok(None),
        [one] => one.clone(),
        _ => {
            return Err(ArtifactError::BadSignature(
                "more than one signature section".into(),
            ));
        }
    };
    if offset + data.len() != bytes.len() {
        return Err(ArtifactError::BadSignature(
            "the signature must be the last section".into(),
        ));
    }
    let (Ok(key_bytes), Ok(signature)) = (
        <[u8; 32]>::try_from(&data[..data.len().min(32)]),
        <[u8; 64]>::try_from(data.get(32..).unwrap_or(&[])),
    ) else {
        return Err(ArtifactError::BadSignature(format!(
            "the section holds {} bytes, not 96",
            data.len()
        )));
    };
    let content = leb_len(SIGNATURE_SECTION.len()) + SIGNATURE_SECTION.len() + data.len();
    let covers = bytes.len() - content - leb_len(content) - 1;
    Ok(Some(Signed {
        key: hex::encode(key_bytes),
        covers,
        key_bytes,
        signature,
    }))
}

/// Check `signed` against the bytes it covers.
pub fn verify(bytes: &[u8], signed: &Signed) -> Result<(), ArtifactError> {
    let key = VerifyingKey::from_bytes(&signed.key_bytes).map_err(|_| {
        ArtifactError::BadSignature(format!("`{}` is not an ed25519 public key", signed.key))
    })?;
    let unsigned = bytes.get(..signed.covers).unwrap_or_default();
    key.verify_strict(
        &message(unsigned),
        &Signature::from_bytes(&signed.signature),
    )
    .map_err(|_| {
        ArtifactError::BadSignature(
            "the signature does not match the artifact (was it changed after signing?)".into(),
        )
    })
}

/// Sign an artifact with a publisher's secret key (32 bytes).
pub fn sign(bytes: &[u8], secret: &[u8; 32]) -> Result<Vec<u8>, ArtifactError> {
    if find(bytes)?.is_some() {
        return Err(ArtifactError::BadSignature(
            "the artifact is already signed".into(),
        ));
    }
    let key = SigningKey::from_bytes(secret);
    let signature = key.sign(&message(bytes));
    let mut data = key.verifying_key().to_bytes().to_vec();
    data.extend_from_slice(&signature.to_bytes());
    Ok(append_custom_section(bytes, SIGNATURE_SECTION, &data))
}

/// A new publisher key pair: (secret, public), from the operating system's randomness.
pub fn generate() -> Result<([u8; 32], [u8; 32]), getrandom::Error> {
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret)?;
    Ok((secret, public_key(&secret)))
}

/// The public key of a secret key.
pub fn public_key(secret: &[u8; 32]) -> [u8; 32] {
    SigningKey::from_bytes(secret).verifying_key().to_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY_COMPONENT: &[u8] = b"\0asm\x0d\0\x01\0";

    #[test]
    fn a_signature_round_trips_and_any_changed_byte_breaks_it() {
        let artifact = append_custom_section(EMPTY_COMPONENT, "airlock-manifest", b"id = 'a'");
        let (secret, public) = generate().unwrap();
        let signed = sign(&artifact, &secret).unwrap();
        let found = find(&signed).unwrap().unwrap();
        assert_eq!(found.key, hex::encode(public));
        assert_eq!(found.covers, artifact.len());
        verify(&signed, &found).unwrap();
        for i in 8..artifact.len() {
            let mut tampered = signed.clone();
            tampered[i] ^= 0x01;
            let verdict = find(&tampered).and_then(|f| match f {
                Some(f) => verify(&tampered, &f),
                None => Err(ArtifactError::BadSignature("gone".into())),
            });
            assert!(verdict.is_err(), "flipping byte {i} went unnoticed");
        }
    }

    #[test]
    fn a_signature_that_is_not_last_or_twice_is_refused() {
        let (secret, _) = generate().unwrap();
        let signed = sign(EMPTY_COMPONENT, &secret).unwrap();
        let trailing = append_custom_section(&signed, "note", b"x");
        assert!(matches!(
            find(&trailing),
            Err(ArtifactError::BadSignature(_))
        ));
        assert!(sign(&signed, &secret).is_err(), "signing twice");
        assert_eq!(find(EMPTY_COMPONENT).unwrap(), None);
    }
}
