//! Who is calling: the bearer token on every API request, checked against the host's hashed
//! tokens, and the rule that a merchant-scoped token sees only its own merchant. Another
//! merchant's things answer 404, exactly as things that do not exist.

use airlock_host::ids::MerchantId;
use airlock_host::tokens::Principal;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use sha2::{Digest, Sha256};

use crate::ApiState;
use crate::error::ApiError;

/// An authenticated caller, extracted from `Authorization: Bearer …` (and charged one request
/// against its token's rate limit).
#[derive(Debug, Clone)]
pub struct Caller {
    /// Whose business the token may touch.
    pub principal: Principal,
    /// A hash of the token, naming it in rate limits and idempotency records (never the
    /// secret itself).
    pub token_key: String,
}

impl Caller {
    /// `merchant` parsed, when this caller may act for it; otherwise the 404 an unknown
    /// merchant gets, so a merchant token cannot learn which other merchants exist.
    pub fn merchant(&self, merchant: &str) -> Result<MerchantId, ApiError> {
        let id = MerchantId::new(merchant);
        if self.principal.may_act_for(&id) {
            Ok(id)
        } else {
            // Word for word what a merchant that does not exist answers.
            Err(airlock_host::Error::UnknownMerchant(MerchantId::new(shown(merchant))).into())
        }
    }

    /// Nothing, when this is a platform token; otherwise the 403 a merchant token gets for
    /// what only the platform may do (tokens, plan and connector limits). Not a 404: these
    /// routes are the same for everyone, so refusing them reveals nothing.
    pub fn platform(&self) -> Result<(), ApiError> {
        match self.principal {
            Principal::Platform => Ok(()),
            Principal::Merchant { .. } => Err(ApiError::new(
                axum::http::StatusCode::FORBIDDEN,
                "platform-only",
                "only a platform token may do this; a merchant token acts for its merchant alone",
            )),
        }
    }

    /// Who the audit log names for what this caller does.
    pub fn actor(&self) -> String {
        match &self.principal {
            Principal::Platform => "platform".to_owned(),
            Principal::Merchant { merchant } => format!("merchant:{merchant}"),
        }
    }
}

/// The secret of an `Authorization: Bearer …` header, if there is one.
pub(crate) fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
}

/// A caller-chosen value as it may appear in a message: short, printable.
fn shown(value: &str) -> String {
    airlock_host::text::sanitize(value, 64)
}

impl FromRequestParts<ApiState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, ApiError> {
        let secret = bearer(&parts.headers).ok_or_else(ApiError::unauthorized)?;
        let principal = state
            .host
            .authenticate(secret)
            .await?
            .ok_or_else(ApiError::unauthorized)?;
        let token_key = hex::encode(Sha256::digest(secret.as_bytes()));
        state.limiter.charge(&token_key)?;
        Ok(Caller {
            principal,
            token_key,
        })
    }
}
