//! Reading a manifest: the size and UTF-8 checks, TOML into [`Manifest`] (serde names a
//! missing, unknown or mistyped field), then [`Manifest::validate`]; and [`ManifestError`],
//! whose every variant says which field is wrong, with the publisher's values visibly escaped.

use super::{MAX_MANIFEST_BYTES, Manifest};
use crate::text::terminal_safe;

/// Why a manifest was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    /// Larger than [`MAX_MANIFEST_BYTES`].
    #[error("manifest is {0} bytes; the limit is {MAX_MANIFEST_BYTES}")]
    TooLarge(usize),
    /// Not UTF-8 text.
    #[error("manifest is not UTF-8 text")]
    NotUtf8,
    /// Not valid TOML, or a field is missing, unknown or of the wrong type.
    #[error("manifest is not valid: {0}")]
    Syntax(String),
    /// A field has a value the host does not accept.
    #[error("manifest field `{field}`: {problem}")]
    Invalid {
        /// The field, such as `scopes.optional[1].reason`.
        field: String,
        /// What is wrong and how to fix it.
        problem: String,
    },
}

/// A [`ManifestError::Invalid`] for `field`.
pub(super) fn invalid(field: impl Into<String>, problem: impl Into<String>) -> ManifestError {
    ManifestError::Invalid {
        field: field.into(),
        problem: problem.into(),
    }
}

impl Manifest {
    /// Parse and validate manifest bytes (TOML).
    pub fn parse(bytes: &[u8]) -> Result<Manifest, ManifestError> {
        if bytes.len() > MAX_MANIFEST_BYTES {
            return Err(ManifestError::TooLarge(bytes.len()));
        }
        let text = std::str::from_utf8(bytes).map_err(|_| ManifestError::NotUtf8)?;
        // The parser's message quotes the offending line: escaped, so a refused manifest
        // cannot send terminal escapes or bidi overrides to whoever reads the error.
        let manifest: Manifest = toml::from_str(text)
            .map_err(|e| ManifestError::Syntax(terminal_safe(e.to_string().trim())))?;
        manifest.validate()?;
        Ok(manifest)
    }
}
