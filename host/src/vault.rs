//! The secrets vault: each installation's API keys sealed with XChaCha20-Poly1305 under a key
//! the platform supplies (a file or `AIRLOCK_VAULT_KEY`), never stored beside the data.
//!
//! Each sealed value is bound to its installation and name (associated data), so a row copied
//! to another installation does not open. Rows record which key sealed them (a fingerprint),
//! so a wrong key is reported as exactly that instead of as corruption.

use std::fmt;
use std::path::Path;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use sha2::{Digest as _, Sha256};
use zeroize::{Zeroize, Zeroizing};

use crate::ids::InstallationId;

/// Environment variable holding the vault key (64 hex characters).
pub const VAULT_KEY_ENV: &str = "AIRLOCK_VAULT_KEY";
/// Longest secret value, in bytes.
pub const MAX_SECRET_BYTES: usize = 8 * 1024;
/// Shortest secret value, in bytes: shorter values are not real keys, and could not be
/// redacted from logs without erasing ordinary words.
pub const MIN_SECRET_BYTES: usize = 8;

/// Why the vault refused.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// No key was configured.
    #[error(
        "no vault key: set {VAULT_KEY_ENV} or pass --vault-key-file (create one with \
         `airlock secrets keygen --out vault.key`)"
    )]
    NoKey,
    /// The key text is not 32 bytes of hex.
    #[error("the vault key {source_name} is not 64 hex characters (32 bytes)")]
    BadKey {
        /// Where it came from.
        source_name: String,
    },
    /// The key file could not be read.
    #[error("cannot read the vault key file {path}: {cause}")]
    KeyFile {
        /// The path.
        path: String,
        /// The OS error.
        cause: std::io::Error,
    },
    /// The value was sealed under another key.
    #[error(
        "secret `{name}` was sealed with vault key {sealed_with}, but the key supplied is \
         {supplied}; supply the key it was sealed with"
    )]
    WrongKey {
        /// The secret's name.
        name: String,
        /// Fingerprint of the key that sealed it.
        sealed_with: String,
        /// Fingerprint of the key supplied.
        supplied: String,
    },
    /// Right key, but the sealed bytes do not open: edited, truncated, or moved between
    /// installations.
    #[error(
        "secret `{name}` does not open with the right key: it was altered or copied from another installation; set it again"
    )]
    Tampered {
        /// The secret's name.
        name: String,
    },
    /// The value is not acceptable.
    #[error("secret value: {0}")]
    BadValue(String),
}

/// The platform's vault key. Debug and Display show only its fingerprint.
pub struct VaultKey {
    key: Zeroizing<[u8; 32]>,
    id: String,
}

impl fmt::Debug for VaultKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VaultKey({})", self.id)
    }
}

/// A value as stored: which key sealed it, the nonce and the ciphertext, hex-encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    /// Fingerprint of the sealing key.
    pub key_id: String,
    /// 24-byte nonce, hex.
    pub nonce: String,
    /// Ciphertext with its tag, hex.
    pub ciphertext: String,
}

impl VaultKey {
    /// A key from 32 raw bytes.
    pub fn from_bytes(mut bytes: [u8; 32]) -> VaultKey {
        let key = Zeroizing::new(bytes);
        bytes.zeroize();
        let digest = Sha256::new()
            .chain_update(b"airlock vault key id v1")
            .chain_update(&key[..])
            .finalize();
        VaultKey {
            id: hex::encode(&digest[..6]),
            key,
        }
    }

    /// A key from 64 hex characters (surrounding whitespace ignored).
    pub fn from_hex(text: &str, source_name: &str) -> Result<VaultKey, VaultError> {
        let bad = || VaultError::BadKey {
            source_name: source_name.to_owned(),
        };
        let decoded = Zeroizing::new(hex::decode(text.trim()).map_err(|_| bad())?);
        let bytes: [u8; 32] = decoded.as_slice().try_into().map_err(|_| bad())?;
        Ok(VaultKey::from_bytes(bytes))
    }

    /// Read a key file written by [`VaultKey::generate_hex`].
    pub fn from_file(path: &Path) -> Result<VaultKey, VaultError> {
        let text =
            Zeroizing::new(
                std::fs::read_to_string(path).map_err(|cause| VaultError::KeyFile {
                    path: path.display().to_string(),
                    cause,
                })?,
            );
        VaultKey::from_hex(&text, &format!("in {}", path.display()))
    }

    /// The key from `AIRLOCK_VAULT_KEY`, if set.
    pub fn from_env() -> Result<Option<VaultKey>, VaultError> {
        match std::env::var(VAULT_KEY_ENV) {
            Ok(text) => {
                let text = Zeroizing::new(text);
                VaultKey::from_hex(&text, &format!("in {VAULT_KEY_ENV}")).map(Some)
            }
            Err(_) => Ok(None),
        }
    }

    /// A new random key as 64 hex characters.
    pub fn generate_hex() -> Result<Zeroizing<String>, VaultError> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        getrandom::fill(&mut bytes[..])
            .map_err(|e| VaultError::BadValue(format!("no randomness for a key: {e}")))?;
        Ok(Zeroizing::new(hex::encode(&bytes[..])))
    }

    /// The key's fingerprint (not secret): 12 hex characters.
    pub fn id(&self) -> &str {
        &self.id
    }

    fn aad(installation: &InstallationId, name: &str) -> Vec<u8> {
        format!("airlock secret v1\0{installation}\0{name}").into_bytes()
    }

    /// Seal `value` for `name` of `installation`.
    pub fn seal(
        &self,
        installation: &InstallationId,
        name: &str,
        value: &[u8],
    ) -> Result<Sealed, VaultError> {
        let mut nonce = [0u8; 24];
        getrandom::fill(&mut nonce)
            .map_err(|e| VaultError::BadValue(format!("no randomness for a nonce: {e}")))?;
        let cipher = XChaCha20Poly1305::new((&*self.key).into());
        let aad = Self::aad(installation, name);
        let ciphertext = cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: value,
                    aad: &aad,
                },
            )
            .map_err(|_| VaultError::BadValue("could not be sealed".into()))?;
        Ok(Sealed {
            key_id: self.id.clone(),
            nonce: hex::encode(nonce),
            ciphertext: hex::encode(ciphertext),
        })
    }

    /// Open a value sealed for `name` of `installation`.
    pub fn open(
        &self,
        installation: &InstallationId,
        name: &str,
        sealed: &Sealed,
    ) -> Result<Zeroizing<String>, VaultError> {
        if sealed.key_id != self.id {
            return Err(VaultError::WrongKey {
                name: name.to_owned(),
                sealed_with: sealed.key_id.clone(),
                supplied: self.id.clone(),
            });
        }
        let tampered = || VaultError::Tampered {
            name: name.to_owned(),
        };
        let nonce: [u8; 24] = hex::decode(&sealed.nonce)
            .ok()
            .and_then(|n| n.try_into().ok())
            .ok_or_else(tampered)?;
        let ciphertext = hex::decode(&sealed.ciphertext).map_err(|_| tampered())?;
        let cipher = XChaCha20Poly1305::new((&*self.key).into());
        let aad = Self::aad(installation, name);
        let plain = cipher
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: &ciphertext,
                    aad: &aad,
                },
            )
            .map_err(|_| tampered())?;
        String::from_utf8(plain).map(Zeroizing::new).map_err(|e| {
            let mut bytes = e.into_bytes();
            bytes.zeroize();
            tampered()
        })
    }
}

/// Check a value before it is sealed: printable, one line, of a sensible length.
pub fn check_value(value: &str) -> Result<(), VaultError> {
    if value.len() < MIN_SECRET_BYTES || value.len() > MAX_SECRET_BYTES {
        return Err(VaultError::BadValue(format!(
            "must be {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} bytes"
        )));
    }
    if value.chars().any(char::is_control) {
        return Err(VaultError::BadValue(
            "must be one line without control characters (a trailing newline is trimmed)".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> VaultKey {
        VaultKey::from_bytes([byte; 32])
    }

    #[test]
    fn a_sealed_value_opens_only_with_its_key_installation_and_name() {
        let a = InstallationId::new("ins_a");
        let b = InstallationId::new("ins_b");
        let sealed = key(1)
            .seal(&a, "gateway_key", b"sk_live_canary_123")
            .unwrap();
        assert_eq!(
            key(1).open(&a, "gateway_key", &sealed).unwrap().as_str(),
            "sk_live_canary_123"
        );
        assert!(!sealed.ciphertext.contains(&hex::encode("sk_live")));
        assert!(matches!(
            key(2).open(&a, "gateway_key", &sealed),
            Err(VaultError::WrongKey { .. })
        ));
        assert!(matches!(
            key(1).open(&b, "gateway_key", &sealed),
            Err(VaultError::Tampered { .. })
        ));
        assert!(matches!(
            key(1).open(&a, "courier_key", &sealed),
            Err(VaultError::Tampered { .. })
        ));
        let mut flipped = sealed.clone();
        flipped.ciphertext.replace_range(
            0..2,
            if &sealed.ciphertext[0..2] == "00" {
                "01"
            } else {
                "00"
            },
        );
        assert!(matches!(
            key(1).open(&a, "gateway_key", &flipped),
            Err(VaultError::Tampered { .. })
        ));
    }

    #[test]
    fn nonces_differ_so_equal_values_do_not_look_equal() {
        let a = InstallationId::new("ins_a");
        let one = key(1).seal(&a, "k", b"same value").unwrap();
        let two = key(1).seal(&a, "k", b"same value").unwrap();
        assert_ne!(one.ciphertext, two.ciphertext);
    }

    #[test]
    fn keys_parse_from_hex_and_never_print() {
        let hex_key = VaultKey::generate_hex().unwrap();
        let k = VaultKey::from_hex(&format!("{}\n", hex_key.as_str()), "test").unwrap();
        assert_eq!(k.id().len(), 12);
        assert!(!format!("{k:?}").contains(&hex_key[..16]));
        assert!(matches!(
            VaultKey::from_hex("abcd", "test"),
            Err(VaultError::BadKey { .. })
        ));
    }

    #[test]
    fn values_are_checked_before_sealing() {
        assert!(check_value("short").is_err());
        assert!(check_value("line one\nline two").is_err());
        assert!(check_value("sk_live_0123456789").is_ok());
    }
}
