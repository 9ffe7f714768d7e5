//! The page's POSTs: approve what waits (naming the digest the merchant was shown, with the
//! optional scopes ticked), deny it (a pending install is removed, a waiting upgrade
//! dropped), stop sharing one optional scope, set or replace an API key (the value only in the POST body, never echoed,
//! logged or put in a notice), and disconnect (uninstall, the freed slot shown at once). Each
//! checks the session's CSRF token first and answers with a redirect and a one-shot notice.

use airlock_host::Declined;
use airlock_host::db::secrets::SecretWrite;
use airlock_host::grants::Scope;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};

use super::PageState;
use super::labels::{fill, labels};
use super::render::host_failure;
use super::session::{Flash, Signed};
use super::signin::{expired, field};
use super::views::shown;

/// A posted form: its fields in order (checkboxes repeat a name).
type Fields = Form<Vec<(String, String)>>;

/// Back to the app's screen with a notice.
fn back(state: &PageState, signed: &Signed, key: &str, text: String) -> Response {
    state
        .sessions
        .flash(&signed.key, Flash { error: false, text });
    Redirect::to(&format!("/m/apps/{}", encode(key))).into_response()
}

/// A host refusal: not-found as a page; otherwise back to the app's screen saying why (the
/// host's words name what to do), or the failure page for a failure inside the host.
fn refused(state: &PageState, signed: &Signed, key: &str, err: airlock_host::Error) -> Response {
    let internal = matches!(
        err,
        airlock_host::Error::Db(_) | airlock_host::Error::Engine(_)
    );
    if internal || super::render::is_not_found(&err) {
        return host_failure(err, signed.lang);
    }
    refused_saying(state, signed, key, &err)
}

/// Back to the app's screen with `err`'s words as an error notice.
fn refused_saying(
    state: &PageState,
    signed: &Signed,
    key: &str,
    err: &dyn std::fmt::Display,
) -> Response {
    let l = labels(signed.lang);
    state.sessions.flash(
        &signed.key,
        Flash {
            error: true,
            text: format!("{}: {err}", l.failed),
        },
    );
    Redirect::to(&format!("/m/apps/{}", encode(key))).into_response()
}

/// A path segment as it may go into a `Location`: ids are plain, anything else is dropped.
fn encode(key: &str) -> String {
    key.chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect()
}

/// `POST /m/apps/{key}/approve`: fields `digest`, `optional` (repeated).
pub(crate) async fn approve(
    State(state): State<PageState>,
    signed: Signed,
    Path(key): Path<String>,
    Form(form): Fields,
) -> Response {
    if !signed.csrf_ok(field(&form, "csrf")) {
        return expired(&signed);
    }
    let digest = field(&form, "digest").unwrap_or_default();
    let mut optional = Vec::new();
    for (name, value) in &form {
        if name == "optional" {
            match value.parse::<Scope>() {
                Ok(scope) => optional.push(scope),
                Err(err) => return refused_saying(&state, &signed, &key, &err),
            }
        }
    }
    let actor = signed.actor();
    match state
        .api
        .host
        .approve(&signed.merchant, &key, digest, &optional, &actor)
        .await
    {
        Ok(app) => {
            let text = fill(
                labels(signed.lang).flash_approved,
                &[("name", &shown(&app.name))],
            );
            back(&state, &signed, app.id.as_str(), text)
        }
        Err(err) => refused(&state, &signed, &key, err),
    }
}

/// `POST /m/apps/{key}/deny`: fields `digest`. What waits is declined: a pending install is
/// removed (its slot freed), a waiting upgrade dropped (the running version keeps serving).
pub(crate) async fn deny(
    State(state): State<PageState>,
    signed: Signed,
    Path(key): Path<String>,
    Form(form): Fields,
) -> Response {
    if !signed.csrf_ok(field(&form, "csrf")) {
        return expired(&signed);
    }
    // The form names the version the merchant was shown, as an approval does: if another
    // version waits by now, the host refuses and the page shows what waits instead.
    let digest = field(&form, "digest").unwrap_or_default();
    let host = &state.api.host;
    let name = match host.installation(&signed.merchant, &key).await {
        Ok(app) => shown(&app.name),
        Err(err) => return refused(&state, &signed, &key, err),
    };
    let by = signed.actor();
    match host.decline(&signed.merchant, &key, digest, &by).await {
        Ok(Declined::Install { .. }) => {
            gone(&state, &signed, labels(signed.lang).flash_denied, &name).await
        }
        Ok(Declined::Upgrade {
            installation,
            version,
        }) => {
            let text = fill(
                labels(signed.lang).flash_declined,
                &[("name", &name), ("version", &version)],
            );
            back(&state, &signed, installation.id.as_str(), text)
        }
        Err(err) => refused(&state, &signed, &key, err),
    }
}

/// Uninstall an app after checking the form's CSRF token, and go back to the apps screen
/// saying so, with the slot it freed.
async fn remove(
    state: &PageState,
    signed: &Signed,
    key: &str,
    form: &[(String, String)],
) -> Response {
    if !signed.csrf_ok(field(form, "csrf")) {
        return expired(signed);
    }
    let host = &state.api.host;
    let app = match host.installation(&signed.merchant, key).await {
        Ok(app) => app,
        Err(err) => return refused(state, signed, key, err),
    };
    let by = signed.actor();
    if let Err(err) = host.uninstall(&signed.merchant, app.id.as_str(), &by).await {
        return refused(state, signed, key, err);
    }
    let words = labels(signed.lang).flash_disconnected;
    gone(state, signed, words, &shown(&app.name)).await
}

/// Back to the apps screen after an app was removed, saying `words` with the plan's slots as
/// they are now (the freed one shown at once).
async fn gone(state: &PageState, signed: &Signed, words: &str, name: &str) -> Response {
    let (slots, used) = match state.api.host.plan_slots(&signed.merchant).await {
        Ok((_, slots, used)) => (slots, used),
        Err(err) => return host_failure(err, signed.lang),
    };
    let values = [
        ("name", name),
        ("used", &used.to_string()),
        ("slots", &slots.to_string()),
    ];
    let text = fill(words, &values);
    state
        .sessions
        .flash(&signed.key, Flash { error: false, text });
    Redirect::to("/m/apps").into_response()
}

/// `POST /m/apps/{key}/revoke`: field `scope`, one optional scope.
pub(crate) async fn revoke(
    State(state): State<PageState>,
    signed: Signed,
    Path(key): Path<String>,
    Form(form): Fields,
) -> Response {
    if !signed.csrf_ok(field(&form, "csrf")) {
        return expired(&signed);
    }
    let scope = match field(&form, "scope").unwrap_or_default().parse::<Scope>() {
        Ok(scope) => scope,
        Err(err) => return refused_saying(&state, &signed, &key, &err),
    };
    match state
        .api
        .host
        .revoke_scope(&signed.merchant, &key, scope, &signed.actor())
        .await
    {
        Ok(app) => {
            let text = fill(
                labels(signed.lang).flash_revoked,
                &[("name", &shown(&app.name)), ("scope", scope.as_str())],
            );
            back(&state, &signed, app.id.as_str(), text)
        }
        Err(err) => refused(&state, &signed, &key, err),
    }
}

/// `POST /m/apps/{key}/key`: fields `name`, `value`. Set when not set yet, else rotate.
pub(crate) async fn write_key(
    State(state): State<PageState>,
    signed: Signed,
    Path(key): Path<String>,
    Form(form): Fields,
) -> Response {
    if !signed.csrf_ok(field(&form, "csrf")) {
        return expired(&signed);
    }
    let host = &state.api.host;
    let name = field(&form, "name").unwrap_or_default();
    let value = field(&form, "value").unwrap_or_default();
    let declared = match host.secrets(&signed.merchant, &key).await {
        Ok(list) => list,
        Err(err) => return refused(&state, &signed, &key, err),
    };
    let mode = if declared.iter().any(|s| s.name == name && s.set) {
        SecretWrite::Rotate
    } else {
        SecretWrite::Set
    };
    match host
        .write_secret(&signed.merchant, &key, name, value, &signed.actor(), mode)
        .await
    {
        Ok(changed) => {
            let text = fill(
                labels(signed.lang).flash_key,
                &[("key", &shown(&changed.secret.name))],
            );
            back(&state, &signed, changed.installation.as_str(), text)
        }
        // The host's refusal names the rule the value broke, never the value.
        Err(err) => refused(&state, &signed, &key, err),
    }
}

/// `POST /m/apps/{key}/disconnect`: uninstall; the notice shows the slot freed.
pub(crate) async fn disconnect(
    State(state): State<PageState>,
    signed: Signed,
    Path(key): Path<String>,
    Form(form): Fields,
) -> Response {
    remove(&state, &signed, &key, &form).await
}
