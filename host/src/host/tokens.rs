//! The host's side of API tokens: make (shown once), rotate, revoke, list, and turn a
//! presented secret into the principal it stands for.

use super::Host;
use crate::db::{registry, tokens as rows};
use crate::error::Error;
use crate::ids::MerchantId;
use crate::tokens::{self, IssuedToken, Principal, TokenInfo};

impl Host {
    /// Make a token for the platform (`merchant` None) or for one merchant. The secret is in
    /// the answer and nowhere else.
    pub async fn create_token(
        &self,
        merchant: Option<&MerchantId>,
        label: &str,
        by: &str,
    ) -> Result<IssuedToken, Error> {
        self.issue(merchant, label, by, None).await
    }

    /// Replace a live token with a new one for the same principal and label: the old secret
    /// stops working the moment the new one exists.
    pub async fn rotate_token(&self, id: &str, by: &str) -> Result<IssuedToken, Error> {
        let old = match rows::get(&self.db, id).await? {
            Some(old) if old.revoked_at.is_none() => old,
            _ => return Err(Error::UnknownToken(id.chars().take(80).collect())),
        };
        let merchant = match &old.principal {
            Principal::Platform => None,
            Principal::Merchant { merchant } => Some(merchant.clone()),
        };
        self.issue(merchant.as_ref(), &old.label, by, Some(id))
            .await
    }

    /// Revoke a live token: its secret answers 401 from now on.
    pub async fn revoke_token(&self, id: &str) -> Result<(), Error> {
        if !rows::revoke(&self.db, id).await? {
            return Err(Error::UnknownToken(id.chars().take(80).collect()));
        }
        tracing::info!(token = id, "API token revoked");
        Ok(())
    }

    /// Every token (or one merchant's), revoked ones included, never a secret.
    pub async fn tokens(&self, merchant: Option<&MerchantId>) -> Result<Vec<TokenInfo>, Error> {
        Ok(rows::list(&self.db, merchant).await?)
    }

    /// Who a presented bearer secret stands for: None for anything that is not a live
    /// token's secret (malformed, unknown or revoked alike).
    pub async fn authenticate(&self, secret: &str) -> Result<Option<Principal>, Error> {
        if !tokens::plausible(secret) {
            return Ok(None);
        }
        let found = rows::by_hash(&self.db, &tokens::secret_hash(secret)).await?;
        Ok(found.map(|t| t.principal))
    }

    async fn issue(
        &self,
        merchant: Option<&MerchantId>,
        label: &str,
        by: &str,
        replaces: Option<&str>,
    ) -> Result<IssuedToken, Error> {
        if let Some(m) = merchant
            && registry::plan_of(&self.db, m).await?.is_none()
        {
            return Err(Error::UnknownMerchant(m.clone()));
        }
        let label = tokens::label(label)?;
        let secret = tokens::new_secret()?;
        let id = format!("tok_{}", uuid::Uuid::now_v7().simple());
        let new = rows::NewToken {
            id: &id,
            merchant,
            label: &label,
            secret_hash: &tokens::secret_hash(&secret),
            by,
        };
        let Some(info) = rows::insert(&self.db, &new, replaces).await? else {
            // Rotated or revoked meanwhile: one rotation makes one token.
            let old = replaces.unwrap_or_default();
            return Err(Error::UnknownToken(old.chars().take(80).collect()));
        };
        tracing::info!(token = %id, merchant = merchant.map(MerchantId::as_str), "API token made");
        Ok(IssuedToken { info, secret })
    }
}
