//! The format of one compiled-component file, and the check every file passes before its
//! bytes reach Wasmtime. Pure functions over bytes: no files, no Wasmtime.
//!
//! ```text
//! offset  size  field
//!      0     8  magic "AIRLKCW1" (Airlock compiled wasm, format 1)
//!      8    32  engine key: the Wasmtime compatibility hash and Airlock's engine settings
//!     40    32  artifact digest: sha256 of the component the payload was compiled from
//!     72    32  tag: HMAC-SHA256 under the cache's key of bytes 0..72 followed by the payload
//!    104     …  payload: `Component::serialize` output
//! ```
//!
//! The tag binds the payload to its digest and engine: a flipped byte anywhere, a file of
//! another digest or engine renamed into place, or a file written under another cache's key
//! is refused before deserializing, whatever its name says.

use std::hash::Hasher;

use sha2::{Digest as _, Sha256};

use crate::ids::Digest;

/// The first bytes of every file of this format.
pub(crate) const MAGIC: &[u8; 8] = b"AIRLKCW1";
/// Bytes before the payload.
pub(crate) const HEADER_BYTES: usize = 8 + 32 + 32 + 32;
/// Length of the cache's HMAC key.
pub(crate) const KEY_BYTES: usize = 32;

/// The secret that tags a cache directory's files (kept in the directory, 0600).
#[derive(Clone)]
pub(crate) struct CacheKey(pub(crate) [u8; KEY_BYTES]);

/// What one engine's compiled code is compatible with, as 32 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct EngineKey(pub(crate) [u8; 32]);

impl EngineKey {
    /// The key of an engine: Wasmtime's compatibility hash (target, compiler flags, tunables,
    /// wasm features, Wasmtime's version) and Airlock's own engine settings, each fed in by
    /// the caller through the [`Hasher`] handed to `feed`.
    pub(crate) fn of(feed: impl FnOnce(&mut dyn Hasher)) -> EngineKey {
        let mut hasher = Sha256Hasher(Sha256::new());
        hasher.0.update(b"airlock compile cache engine key 1\0");
        feed(&mut hasher);
        EngineKey(hasher.0.finalize().into())
    }

    /// The first 16 hex characters, for file names.
    pub(crate) fn short(&self) -> String {
        hex::encode(&self.0[..8])
    }
}

/// A [`Hasher`] that feeds SHA-256, so a `Hash` value becomes a stable, wide key (std's
/// `DefaultHasher` is 64 bits and may change between Rust releases).
struct Sha256Hasher(Sha256);

impl Hasher for Sha256Hasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    fn finish(&self) -> u64 {
        // Never read: the key is the full digest.
        0
    }
}

/// Why a file was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Refused {
    /// Shorter than a header.
    #[error("shorter than the header")]
    Short,
    /// Not this format (or another version of it).
    #[error("not an Airlock compiled-component file of format 1")]
    Magic,
    /// Compiled by an engine of another configuration or version.
    #[error("compiled for another engine configuration")]
    OtherEngine,
    /// Compiled from another artifact than its name says.
    #[error("compiled from another artifact")]
    OtherDigest,
    /// Changed after it was written, or written under another cache key.
    #[error("its integrity tag does not match (changed on disk, or written under another key)")]
    Tag,
}

/// A payload whose file passed [`verify`]: the only way to reach the deserializer.
pub(crate) struct Verified<'a> {
    payload: &'a [u8],
}

impl<'a> Verified<'a> {
    /// The `Component::serialize` bytes the tag vouches for.
    pub(crate) fn payload(&self) -> &'a [u8] {
        self.payload
    }
}

/// The header of a file holding `payload`, compiled by `engine` from `digest`.
pub(crate) fn header(
    key: &CacheKey,
    engine: &EngineKey,
    digest: &Digest,
    payload: &[u8],
) -> [u8; HEADER_BYTES] {
    let mut header = [0u8; HEADER_BYTES];
    header[..8].copy_from_slice(MAGIC);
    header[8..40].copy_from_slice(&engine.0);
    header[40..72].copy_from_slice(&digest.0);
    let tag = hmac_sha256(&key.0, &[&header[..72], payload]);
    header[72..].copy_from_slice(&tag);
    header
}

/// Check a whole file against what it must be: this format, this engine, this digest, and a
/// tag made with `key`. The payload is returned only if every check passes.
pub(crate) fn verify<'a>(
    key: &CacheKey,
    engine: &EngineKey,
    digest: &Digest,
    file: &'a [u8],
) -> Result<Verified<'a>, Refused> {
    if file.len() < HEADER_BYTES {
        return Err(Refused::Short);
    }
    let (header, payload) = file.split_at(HEADER_BYTES);
    if &header[..8] != MAGIC {
        return Err(Refused::Magic);
    }
    if header[8..40] != engine.0 {
        return Err(Refused::OtherEngine);
    }
    if header[40..72] != digest.0 {
        return Err(Refused::OtherDigest);
    }
    let expected = hmac_sha256(&key.0, &[&header[..72], payload]);
    if !same(&expected, &header[72..]) {
        return Err(Refused::Tag);
    }
    Ok(Verified { payload })
}

/// HMAC-SHA256 (RFC 2104) of the concatenated `parts`. Written out here because the `hmac`
/// release that matches this workspace's sha2 0.10 is not otherwise in the build.
pub(crate) fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(block.map(|b| b ^ 0x36));
    for part in parts {
        inner.update(part);
    }
    let mut outer = Sha256::new();
    outer.update(block.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

/// Equal bytes, compared in time that does not depend on where they differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len()
        && std::hint::black_box(a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y))) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u8) -> CacheKey {
        CacheKey([n; KEY_BYTES])
    }

    fn engine(n: u8) -> EngineKey {
        EngineKey([n; 32])
    }

    fn file(key: &CacheKey, engine: &EngineKey, digest: &Digest, payload: &[u8]) -> Vec<u8> {
        let mut file = header(key, engine, digest, payload).to_vec();
        file.extend_from_slice(payload);
        file
    }

    #[test]
    fn hmac_matches_rfc_4231() {
        // Test cases 1, 2 and 6 (a key longer than the block is hashed first).
        let cases: [(&[u8], &[u8], &str); 3] = [
            (
                &[0x0b; 20],
                b"Hi There",
                "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
            ),
            (
                b"Jefe",
                b"what do ya want for nothing?",
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
            ),
            (
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First",
                "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
            ),
        ];
        for (key, data, tag) in cases {
            assert_eq!(hex::encode(hmac_sha256(key, &[data])), tag);
        }
        // Parts are concatenated.
        assert_eq!(
            hmac_sha256(b"Jefe", &[b"what do ya ", b"want for nothing?"]),
            hmac_sha256(b"Jefe", &[b"what do ya want for nothing?"])
        );
    }

    #[test]
    fn a_file_verifies_only_for_its_key_engine_and_digest() {
        let (k, e, d) = (key(1), engine(2), Digest([3; 32]));
        let payload = b"compiled code".as_slice();
        let good = file(&k, &e, &d, payload);
        assert_eq!(good.len(), HEADER_BYTES + payload.len());
        let verified = verify(&k, &e, &d, &good).map(|v| v.payload());
        assert_eq!(verified, Ok(payload));

        let refused = |f: &[u8]| verify(&k, &e, &d, f).err();
        assert_eq!(refused(&good[..HEADER_BYTES - 1]), Some(Refused::Short));
        assert_eq!(
            verify(&k, &engine(9), &d, &good).err(),
            Some(Refused::OtherEngine)
        );
        assert_eq!(
            verify(&k, &e, &Digest([9; 32]), &good).err(),
            Some(Refused::OtherDigest)
        );
        assert_eq!(verify(&key(9), &e, &d, &good).err(), Some(Refused::Tag));
    }

    #[test]
    fn every_flipped_byte_is_refused() {
        let (k, e, d) = (key(1), engine(2), Digest([3; 32]));
        let good = file(&k, &e, &d, b"payload bytes");
        for at in 0..good.len() {
            let mut bad = good.clone();
            bad[at] ^= 0x01;
            assert!(verify(&k, &e, &d, &bad).is_err(), "byte {at} flipped");
        }
        // Truncated or extended payloads too.
        assert_eq!(
            verify(&k, &e, &d, &good[..good.len() - 1]).err(),
            Some(Refused::Tag)
        );
        let mut longer = good.clone();
        longer.push(0);
        assert_eq!(verify(&k, &e, &d, &longer).err(), Some(Refused::Tag));
    }

    #[test]
    fn a_header_rewritten_to_another_digest_fails_its_tag() {
        // Someone renames digest A's file to B's name and patches the digest field.
        let (k, e) = (key(1), engine(2));
        let (a, b) = (Digest([0xa; 32]), Digest([0xb; 32]));
        let mut swapped = file(&k, &e, &a, b"code of a");
        assert_eq!(
            verify(&k, &e, &b, &swapped).err(),
            Some(Refused::OtherDigest)
        );
        swapped[40..72].copy_from_slice(&b.0);
        assert_eq!(verify(&k, &e, &b, &swapped).err(), Some(Refused::Tag));
    }

    #[test]
    fn engine_keys_follow_what_is_fed() {
        let of = |n: u64| EngineKey::of(|h| h.write_u64(n));
        assert_eq!(of(1), of(1));
        assert_ne!(of(1), of(2));
        assert_eq!(of(1).short().len(), 16);
    }
}
