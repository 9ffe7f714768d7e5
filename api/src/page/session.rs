//! Who is looking at the merchant page: a server-side session per sign-in, named by a random id
//! in an `HttpOnly; SameSite=Strict; Path=/m` cookie. The session keeps the merchant token it
//! was opened with and checks it again on every request, so a token revoked (or rotated) by the
//! platform ends its sessions at their next request. Each session has its own CSRF token, which
//! every form carries in a hidden field and every POST must match (in constant time).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use airlock_host::ids::MerchantId;
use airlock_host::prompt::Language;
use airlock_host::tokens::Principal;
use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::PageState;

/// The session cookie's name.
pub(crate) const SESSION_COOKIE: &str = "airlock_session";
/// The sign-in form's own CSRF cookie (there is no session yet to hold a token).
pub(crate) const SIGNIN_COOKIE: &str = "airlock_signin";
/// The chosen language (not a secret).
pub(crate) const LANG_COOKIE: &str = "airlock_lang";
/// A session unused this long is forgotten.
const IDLE: Duration = Duration::from_secs(8 * 60 * 60);
/// Most sessions kept at once; past it the least recently used go first. Only a live merchant
/// token opens one, so this bounds memory, not who may sign in.
const MAX_SESSIONS: usize = 10_000;

/// A one-shot notice shown on the next page (post, redirect, get).
#[derive(Debug, Clone)]
pub(crate) struct Flash {
    /// True for a failure.
    pub error: bool,
    /// The words.
    pub text: String,
}

/// One signed-in browser.
struct Session {
    /// The merchant token it was opened with (kept only in memory, never logged): checked
    /// again on every request.
    token: String,
    merchant: MerchantId,
    csrf: String,
    flash: Option<Flash>,
    seen: Instant,
}

/// Every open session, by the SHA-256 of its cookie value.
#[derive(Default)]
pub(crate) struct Sessions(Mutex<HashMap<String, Session>>);

impl Sessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        // A poisoned lock means a request panicked mid-update; the map is still a map.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Open a session for `merchant` signed in with `token`; the cookie value to send.
    pub(crate) fn open(
        &self,
        token: &str,
        merchant: MerchantId,
    ) -> Result<String, getrandom::Error> {
        let id = random_hex()?;
        let csrf = random_hex()?;
        let mut map = self.lock();
        let now = Instant::now();
        map.retain(|_, s| now.duration_since(s.seen) < IDLE);
        if map.len() >= MAX_SESSIONS
            && let Some(oldest) = map
                .iter()
                .min_by_key(|(_, s)| s.seen)
                .map(|(k, _)| k.clone())
        {
            map.remove(&oldest);
        }
        map.insert(
            key_of(&id),
            Session {
                token: token.to_owned(),
                merchant,
                csrf,
                flash: None,
                seen: now,
            },
        );
        Ok(id)
    }

    /// Forget a session.
    pub(crate) fn close(&self, key: &str) {
        self.lock().remove(key);
    }

    /// Leave a notice for the session's next page.
    pub(crate) fn flash(&self, key: &str, flash: Flash) {
        if let Some(s) = self.lock().get_mut(key) {
            s.flash = Some(flash);
        }
    }

    /// The notice left for this page, taken.
    pub(crate) fn take_flash(&self, key: &str) -> Option<Flash> {
        self.lock().get_mut(key).and_then(|s| s.flash.take())
    }

    /// The live session's token, merchant and CSRF token, marked as seen.
    fn touch(&self, key: &str) -> Option<(String, MerchantId, String)> {
        let mut map = self.lock();
        let now = Instant::now();
        let session = map.get_mut(key)?;
        if now.duration_since(session.seen) >= IDLE {
            map.remove(key);
            return None;
        }
        session.seen = now;
        Some((
            session.token.clone(),
            session.merchant.clone(),
            session.csrf.clone(),
        ))
    }
}

/// 32 random bytes as hex.
pub(crate) fn random_hex() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(hex::encode(bytes))
}

/// How a cookie value is looked up: its hash, so the map never holds the value itself.
fn key_of(cookie: &str) -> String {
    hex::encode(Sha256::digest(cookie.as_bytes()))
}

/// Whether two secrets are equal, compared in constant time.
pub(crate) fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// The value of cookie `name` in the request, if sent.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value for the page: `HttpOnly; SameSite=Strict; Path=/m`, plus `Secure`
/// when the request reached us over https (`X-Forwarded-Proto: https` from the proxy that
/// terminates TLS; `airlock serve` itself speaks plain HTTP, meant for localhost or behind
/// such a proxy). `max_age` 0 deletes it.
pub(crate) fn set_cookie(
    headers: &HeaderMap,
    name: &str,
    value: &str,
    max_age: Option<u64>,
) -> String {
    let secure = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"));
    let mut out = format!("{name}={value}; HttpOnly; SameSite=Strict; Path=/m");
    if let Some(age) = max_age {
        out.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        out.push_str("; Secure");
    }
    out
}

/// The language of this request: the `lang` query parameter, else the cookie, else English.
pub(crate) fn language(parts: &Parts) -> Language {
    let query = parts.uri.query().unwrap_or_default();
    query
        .split('&')
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| *k == "lang")
        .and_then(|(_, v)| super::labels::parse(v))
        .or_else(|| cookie(&parts.headers, LANG_COOKIE).and_then(super::labels::parse))
        .unwrap_or_default()
}

/// A signed-in merchant, checked on this request: the session exists, its token is still
/// live and still a token of the same merchant. Anything else ends the session and sends the
/// browser to sign in.
pub(crate) struct Signed {
    /// The session's key in [`Sessions`].
    pub key: String,
    /// The merchant.
    pub merchant: MerchantId,
    /// The session's CSRF token, for the forms of the page.
    pub csrf: String,
    /// The language of this page.
    pub lang: Language,
}

impl Signed {
    /// Who the audit log names for what the merchant does here.
    pub(crate) fn actor(&self) -> String {
        format!("merchant:{} (page)", self.merchant)
    }

    /// Whether a submitted CSRF token is this session's.
    pub(crate) fn csrf_ok(&self, submitted: Option<&str>) -> bool {
        submitted.is_some_and(|s| same_secret(s, &self.csrf))
    }
}

/// Back to the sign-in form, saying the session ended.
fn ended() -> Response {
    Redirect::to("/m/signin?ended=1").into_response()
}

impl FromRequestParts<PageState> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &PageState) -> Result<Self, Response> {
        let Some(cookie) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(Redirect::to("/m/signin").into_response());
        };
        let key = key_of(cookie);
        let Some((token, merchant, csrf)) = state.sessions.touch(&key) else {
            return Err(ended());
        };
        let principal = match state.api.host.authenticate(&token).await {
            Ok(p) => p,
            Err(err) => return Err(super::render::host_failure(err, Language::En)),
        };
        match principal {
            Some(Principal::Merchant { merchant: now }) if now == merchant => {}
            _ => {
                state.sessions.close(&key);
                return Err(ended());
            }
        }
        // The page's requests count against the token's API budget, like the API's.
        let token_key = hex::encode(Sha256::digest(token.as_bytes()));
        if let Err(err) = state.api.limiter.charge(&token_key) {
            return Err(err.into_response());
        }
        Ok(Signed {
            key,
            merchant,
            csrf,
            lang: language(parts),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_compare_equal_only_when_identical() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
        assert!(!same_secret("", "a"));
    }

    #[test]
    fn the_session_cookie_is_http_only_strict_and_scoped_to_the_page() {
        let plain = set_cookie(&HeaderMap::new(), SESSION_COOKIE, "v", None);
        assert_eq!(
            plain,
            "airlock_session=v; HttpOnly; SameSite=Strict; Path=/m"
        );
        let mut behind_tls = HeaderMap::new();
        behind_tls.insert(
            "x-forwarded-proto",
            "https".parse().unwrap_or_else(|_| unreachable!()),
        );
        assert!(set_cookie(&behind_tls, SESSION_COOKIE, "v", None).ends_with("; Secure"));
    }

    #[test]
    fn a_closed_session_is_gone_and_a_flash_is_shown_once() {
        let sessions = Sessions::default();
        let cookie = sessions
            .open("alk_x", MerchantId::new("m"))
            .unwrap_or_default();
        let key = key_of(&cookie);
        assert!(sessions.touch(&key).is_some());
        sessions.flash(
            &key,
            Flash {
                error: false,
                text: "hi".into(),
            },
        );
        assert_eq!(sessions.take_flash(&key).map(|f| f.text), Some("hi".into()));
        assert!(sessions.take_flash(&key).is_none());
        sessions.close(&key);
        assert!(sessions.touch(&key).is_none());
    }
}
