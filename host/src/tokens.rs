//! API tokens: who may call the platform's HTTP API. A platform token may do everything; a
//! merchant token only its own merchant's business (another merchant's apps answer as if they
//! did not exist). The secret is shown once, when the token is made; the host keeps only its
//! SHA-256, so neither a copy of the database nor a log line can be replayed against the API.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::ids::MerchantId;

/// What every secret starts with, so a leaked one is recognisable (secret scanners, logs).
pub const SECRET_PREFIX: &str = "alk_";
/// Random bytes in a secret: 256 bits, so guessing one is hopeless and a plain hash of it
/// (no salt, no slow hash) is enough to look it up safely.
const SECRET_BYTES: usize = 32;
/// Longest label kept, in characters.
pub const MAX_LABEL_CHARS: usize = 80;

/// Whose business a token may touch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Principal {
    /// The platform: every merchant.
    Platform,
    /// One merchant, and nothing of any other.
    Merchant {
        /// The merchant.
        #[schema(value_type = String)]
        merchant: MerchantId,
    },
}

impl Principal {
    /// Whether this principal may act for `merchant`.
    pub fn may_act_for(&self, merchant: &MerchantId) -> bool {
        match self {
            Principal::Platform => true,
            Principal::Merchant { merchant: own } => own == merchant,
        }
    }
}

/// A token as listed: never its secret.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TokenInfo {
    /// The token's id (`tok_…`), for revoking or rotating it.
    pub id: String,
    /// Whose business it may touch.
    pub principal: Principal,
    /// What the platform called it.
    pub label: String,
    /// Who made it.
    pub created_by: String,
    /// When it was made (ms since the epoch).
    pub created_at: i64,
    /// When it was revoked, if it was.
    pub revoked_at: Option<i64>,
}

/// A token just made: the only time its secret exists outside the caller's hands.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct IssuedToken {
    /// The token as listed from now on.
    #[serde(flatten)]
    pub info: TokenInfo,
    /// The bearer secret (`alk_…`): shown once, never stored.
    pub secret: String,
}

/// Why a token could not be made.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The system had no randomness to give.
    #[error("no randomness available to make a token secret: {0}")]
    Randomness(getrandom::Error),
    /// The label is empty or holds control characters.
    #[error(
        "token label must be 1 to {MAX_LABEL_CHARS} printable characters (say who or what uses the token), got {0:?}"
    )]
    BadLabel(String),
}

/// A new random secret.
pub(crate) fn new_secret() -> Result<String, TokenError> {
    let mut bytes = [0u8; SECRET_BYTES];
    getrandom::fill(&mut bytes).map_err(TokenError::Randomness)?;
    Ok(format!("{SECRET_PREFIX}{}", hex::encode(bytes)))
}

/// What is stored for `secret`, and what a presented secret is looked up by.
pub(crate) fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A presented secret worth looking up: the right prefix and length, hex after it. Anything
/// else is refused without a query.
pub(crate) fn plausible(secret: &str) -> bool {
    secret.strip_prefix(SECRET_PREFIX).is_some_and(|rest| {
        rest.len() == SECRET_BYTES * 2 && rest.bytes().all(|b| b.is_ascii_hexdigit())
    })
}

/// A label as stored: trimmed, checked.
pub(crate) fn label(text: &str) -> Result<String, TokenError> {
    let text = text.trim();
    if text.is_empty()
        || text.chars().count() > MAX_LABEL_CHARS
        || text.chars().any(char::is_control)
    {
        return Err(TokenError::BadLabel(
            text.chars().take(MAX_LABEL_CHARS + 1).collect(),
        ));
    }
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_prefixed_and_only_their_hash_is_comparable() {
        let (a, b) = (new_secret().unwrap(), new_secret().unwrap());
        assert_ne!(a, b);
        assert!(plausible(&a) && plausible(&b));
        assert_eq!(secret_hash(&a), secret_hash(&a));
        assert_ne!(secret_hash(&a), secret_hash(&b));
        assert!(!secret_hash(&a).contains(&a[SECRET_PREFIX.len()..]));
        for bad in [
            "",
            "alk_",
            "Bearer x",
            &a[..a.len() - 1],
            &a.replace("alk_", "xyz_"),
        ] {
            assert!(!plausible(bad), "{bad}");
        }
    }

    #[test]
    fn a_merchant_token_acts_for_its_merchant_only() {
        let own = MerchantId::new("demo-store");
        let token = Principal::Merchant {
            merchant: own.clone(),
        };
        assert!(token.may_act_for(&own));
        assert!(!token.may_act_for(&MerchantId::new("other-store")));
        assert!(Principal::Platform.may_act_for(&own));
    }

    #[test]
    fn labels_are_printable_and_short() {
        assert_eq!(label("  shop admin ").unwrap(), "shop admin");
        assert!(label("").is_err());
        assert!(label("a\nb").is_err());
        assert!(label(&"x".repeat(MAX_LABEL_CHARS + 1)).is_err());
    }
}
