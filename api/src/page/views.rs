//! The page's GET screens: the merchant's apps (health, plan slots, what waits), one app
//! (health with its checklists, the prompt of what waits with approve/deny, what it may
//! access with a revoke button per optional scope, its API keys, disconnect), and the
//! confirmation step of a disconnect. Publisher-written text is sanitised by the host
//! (control and bidi characters made visible) and HTML-escaped by the templates.

use airlock_host::health::Checklist;
use airlock_host::prompt::{Prompt, PromptLine, Provenance};
use airlock_host::text::sanitize;
use airlock_host::{AppHealth, Installation, InstallationStatus, SecretStatus, Waiting};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::PageState;
use super::labels::{Labels, fill, labels};
use super::render::{Chrome, ConfirmPage, host_failure, html};
use super::session::Signed;

/// One app in a list.
pub(crate) struct AppRow {
    pub id: String,
    pub name: String,
    pub publisher_line: String,
    pub status: String,
    pub state: &'static str,
    pub health_label: &'static str,
    pub title: &'static str,
    pub explanation: String,
    pub href: Option<String>,
    pub link_text: String,
}

/// The apps screen.
#[derive(Template)]
#[template(path = "apps.html")]
pub(crate) struct AppsPage {
    pub c: Chrome,
    pub slots: String,
    /// What waits for approval, the apps, the apps removed lately: the non-empty ones.
    pub sections: Vec<Section>,
}

/// A titled list of apps.
pub(crate) struct Section {
    pub id: &'static str,
    pub heading: &'static str,
    pub rows: Vec<AppRow>,
}

/// A checklist as shown.
pub(crate) struct ListView {
    pub title: &'static str,
    pub items: Vec<&'static str>,
    pub note: Option<&'static str>,
}

impl From<Checklist> for ListView {
    fn from(c: Checklist) -> Self {
        ListView {
            title: c.title,
            items: c.items,
            note: c.note,
        }
    }
}

/// An app's health as shown.
pub(crate) struct HealthView {
    pub state: &'static str,
    pub label: &'static str,
    pub title: &'static str,
    pub explanation: String,
    pub detail: Option<String>,
    /// Checklists only when something is wrong: a healthy app needs no to-do list.
    pub show_checklists: bool,
    pub lists: Vec<ListView>,
}

/// One scope line of a prompt.
pub(crate) struct LineView {
    pub id: String,
    pub scope: &'static str,
    pub title: &'static str,
    pub covers: &'static str,
    pub flags: String,
    pub reason: String,
}

/// What waits for approval, as shown.
pub(crate) struct PromptView {
    pub heading: String,
    pub digest: String,
    pub approve_text: String,
    /// The deny button's words: remove a pending install, or decline a waiting upgrade.
    pub deny_text: String,
    /// What denying does, under the button.
    pub deny_help: &'static str,
    pub required: Vec<LineView>,
    pub optional: Vec<LineView>,
    pub events: Vec<&'static str>,
    pub connects: Vec<(String, String)>,
    pub keys: Vec<(String, String, String)>,
    pub provenance: String,
}

/// An approved scope.
pub(crate) struct ScopeRow {
    pub id: String,
    pub scope: &'static str,
    pub title: String,
    pub optional: bool,
    pub revoke_text: String,
}

/// A declared API key.
pub(crate) struct KeyRow {
    pub id: String,
    pub name: String,
    pub reason: String,
    pub status: String,
    pub label: String,
    pub button: String,
}

/// The data-access report, as shown (filled in by `report.rs` once the host has it).
pub(crate) struct ReportView {
    pub heading: String,
    pub empty: bool,
    pub reads: Vec<String>,
    pub writes: Vec<String>,
    pub origins: Vec<String>,
    pub keys: Vec<String>,
    pub unused: Vec<UnusedView>,
}

/// A scope approved but unused over the report's window.
pub(crate) struct UnusedView {
    pub id: String,
    pub scope: String,
    pub title: String,
    pub since: String,
    /// False for a required scope: only disconnecting withdraws it.
    pub revoke: bool,
    pub revoke_text: String,
}

/// One app in full.
pub(crate) struct AppDetail {
    pub id: String,
    pub name: String,
    pub publisher_line: String,
    pub version: String,
    pub status: String,
    pub health: HealthView,
    pub prompt: Option<PromptView>,
    pub scopes: Vec<ScopeRow>,
    pub keys: Vec<KeyRow>,
    pub report: Option<ReportView>,
    pub disconnect_text: String,
    /// Never approved (or every approval withdrawn): denied, not disconnected.
    pub pending: bool,
}

/// The app screen.
#[derive(Template)]
#[template(path = "app.html")]
pub(crate) struct AppPage {
    pub c: Chrome,
    pub app: AppDetail,
}

/// The frame of a signed-in page titled `title`, with the notice left for it.
fn chrome(state: &PageState, signed: &Signed, title: String) -> Chrome {
    Chrome::new(
        signed.lang,
        title,
        &signed.csrf,
        state.sessions.take_flash(&signed.key),
    )
}

/// A publisher-written name as shown: printable, bounded.
pub(crate) fn shown(text: &str) -> String {
    sanitize(text, 64)
}

/// An id fit for an HTML `id` attribute: letters, digits and dashes.
pub(crate) fn html_id(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

fn status_label(status: Option<InstallationStatus>, l: &Labels) -> String {
    match status {
        Some(InstallationStatus::Pending) => l.status_pending.to_owned(),
        Some(InstallationStatus::Active) => l.status_active.to_owned(),
        Some(InstallationStatus::Disabled) => l.status_disabled.to_owned(),
        None => String::new(),
    }
}

fn row(app: Option<&Installation>, health: &AppHealth, l: &Labels) -> AppRow {
    let name = app.map_or_else(|| shown(&health.connector), |a| shown(&a.name));
    let pending = health.status == Some(InstallationStatus::Pending)
        || app.is_some_and(|a| a.pending_digest.is_some());
    AppRow {
        id: html_id(&health.installation),
        publisher_line: app.map_or_else(String::new, |a| {
            fill(l.by_publisher, &[("publisher", &shown(&a.publisher))])
        }),
        status: status_label(health.status, l),
        state: health.health.state.code(),
        health_label: health.health.label,
        title: health.health.title,
        explanation: health.health.explanation.clone(),
        href: health
            .status
            .is_some()
            .then(|| format!("/m/apps/{}", health.installation)),
        link_text: fill(
            if pending { l.review } else { l.manage },
            &[("name", &name)],
        ),
        name,
    }
}

/// The plan line: slots used and free.
pub(crate) async fn slots_line(
    state: &PageState,
    signed: &Signed,
) -> Result<String, airlock_host::Error> {
    let (plan, slots, used) = state.api.host.plan_slots(&signed.merchant).await?;
    let l = labels(signed.lang);
    Ok(fill(
        l.plan_slots,
        &[
            ("plan", &shown(&plan)),
            ("used", &used.to_string()),
            ("slots", &slots.to_string()),
            ("free", &(slots - used).max(0).to_string()),
        ],
    ))
}

/// `GET /m/apps`.
pub(crate) async fn apps(State(state): State<PageState>, signed: Signed) -> Response {
    let host = &state.api.host;
    let l = labels(signed.lang);
    let loaded = async {
        let list = host.list(&signed.merchant).await?;
        let health = host.health(&signed.merchant, signed.lang).await?;
        let slots = slots_line(&state, &signed).await?;
        Ok::<_, airlock_host::Error>((list, health, slots))
    };
    let (list, health, slots) = match loaded.await {
        Ok(found) => found,
        Err(err) => return host_failure(err, signed.lang),
    };
    let (mut waiting, mut apps, mut removed) = (Vec::new(), Vec::new(), Vec::new());
    for h in &health {
        let app = list.iter().find(|a| a.id.as_str() == h.installation);
        let r = row(app, h, l);
        match app {
            None => removed.push(r),
            Some(a) if a.status == InstallationStatus::Pending || a.pending_digest.is_some() => {
                waiting.push(r);
            }
            Some(_) => apps.push(r),
        }
    }
    let page = AppsPage {
        c: chrome(&state, &signed, l.page_title.to_owned()),
        slots,
        sections: [
            ("waiting", l.waiting_heading, waiting),
            ("apps", l.apps_heading, apps),
            ("removed", l.removed_heading, removed),
        ]
        .into_iter()
        .filter(|(_, _, rows)| !rows.is_empty())
        .map(|(id, heading, rows)| Section { id, heading, rows })
        .collect(),
    };
    html(StatusCode::OK, &page)
}

fn line(p: &PromptLine, l: &Labels) -> LineView {
    let flags: Vec<&str> = [(p.write, l.can_change), (p.personal_data, l.personal)]
        .into_iter()
        .filter_map(|(on, flag)| on.then_some(flag))
        .collect();
    LineView {
        id: html_id(p.scope.as_str()),
        scope: p.scope.as_str(),
        title: p.title,
        covers: p.covers,
        flags: flags.join(", "),
        reason: p.publisher_reason.clone(),
    }
}

fn prompt_view(app: &Installation, waiting: &Waiting, l: &Labels) -> PromptView {
    let p: &Prompt = &waiting.prompt;
    let name = shown(&app.name);
    let values = [("name", name.as_str()), ("version", p.version.as_str())];
    PromptView {
        heading: fill(
            if waiting.upgrade && app.status != InstallationStatus::Pending {
                l.prompt_upgrade
            } else {
                l.prompt_install
            },
            &values,
        ),
        digest: waiting.digest.clone(),
        approve_text: fill(l.approve, &values),
        deny_text: if app.status == InstallationStatus::Pending {
            fill(l.deny_install, &values)
        } else {
            fill(l.decline_upgrade, &values)
        },
        deny_help: if app.status == InstallationStatus::Pending {
            l.deny_install_help
        } else {
            l.decline_upgrade_help
        },
        required: p.required.iter().map(|x| line(x, l)).collect(),
        optional: p.optional.iter().map(|x| line(x, l)).collect(),
        events: p.events.clone(),
        connects: p
            .connects_to
            .iter()
            .map(|o| (o.origin.clone(), o.publisher_reason.clone()))
            .collect(),
        keys: p
            .keys
            .iter()
            .map(|k| {
                let mut how = Vec::new();
                if !k.send_to.is_empty() {
                    how.push(fill(l.key_attached, &[("origins", &k.send_to.join(", "))]));
                }
                if k.readable {
                    how.push(l.key_readable.to_owned());
                }
                (k.name.clone(), how.join(" "), k.publisher_reason.clone())
            })
            .collect(),
        provenance: match &p.provenance {
            Some(Provenance::Signed { key }) => fill(l.signed, &[("key", key)]),
            _ => l.unsigned.to_owned(),
        },
    }
}

/// A moment (ms since the epoch) as `YYYY-MM-DD HH:MM UTC`.
pub(crate) fn when(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's days-to-civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rest / 3600,
        rest % 3600 / 60
    )
}

fn key_row(k: &SecretStatus, l: &Labels) -> KeyRow {
    let name = shown(&k.name);
    let values = [("key", name.as_str())];
    KeyRow {
        id: html_id(&k.name),
        reason: k.reason.clone(),
        status: match (k.set, k.rotated_at) {
            (true, Some(at)) => fill(
                l.key_set_on,
                &[
                    ("date", &when(at)),
                    ("by", &shown(k.rotated_by.as_deref().unwrap_or("-"))),
                ],
            ),
            _ => l.key_not_set.to_owned(),
        },
        label: fill(l.new_value, &values),
        button: fill(if k.set { l.replace_key } else { l.save_key }, &values),
        name,
    }
}

fn health_view(h: &AppHealth) -> HealthView {
    // A pending app needs an approval, not a troubleshooting list.
    let pending = h.status == Some(InstallationStatus::Pending);
    let health = &h.health;
    HealthView {
        state: health.state.code(),
        label: health.label,
        title: health.title,
        explanation: health.explanation.clone(),
        detail: health.detail.clone(),
        show_checklists: health.reason.is_some() && !pending,
        lists: vec![
            health.check_first.clone().into(),
            health.checklist.clone().into(),
        ],
    }
}

/// Everything the app screen shows of one installation.
async fn detail(
    state: &PageState,
    signed: &Signed,
    key: &str,
) -> Result<AppDetail, airlock_host::Error> {
    let host = &state.api.host;
    let (merchant, lang) = (&signed.merchant, signed.lang);
    let l = labels(lang);
    let app = host.installation(merchant, key).await?;
    let id = app.id.to_string();
    let health = host.health_of(merchant, &id, lang).await?;
    let waiting = host.waiting(merchant, &id, lang).await?;
    let secrets = host.secrets(merchant, &id).await?;
    let report = super::report::view(state, signed, &app).await?;
    let titles: Vec<&PromptLine> = waiting
        .prompt
        .required
        .iter()
        .chain(&waiting.prompt.optional)
        .collect();
    let name = shown(&app.name);
    let shows_prompt = app.status == InstallationStatus::Pending || app.pending_digest.is_some();
    Ok(AppDetail {
        prompt: shows_prompt.then(|| prompt_view(&app, &waiting, l)),
        scopes: app
            .effective
            .iter()
            .map(|s| ScopeRow {
                id: html_id(s.as_str()),
                scope: s.as_str(),
                title: titles
                    .iter()
                    .find(|t| t.scope == *s)
                    .map_or_else(|| s.as_str().to_owned(), |t| t.title.to_owned()),
                optional: app.optional.contains(s),
                revoke_text: fill(l.stop_sharing, &[("scope", s.as_str())]),
            })
            .collect(),
        keys: secrets.iter().map(|k| key_row(k, l)).collect(),
        report,
        disconnect_text: fill(l.disconnect, &[("name", &name)]),
        pending: app.status == InstallationStatus::Pending,
        publisher_line: fill(l.by_publisher, &[("publisher", &shown(&app.publisher))]),
        version: shown(&app.version),
        status: status_label(Some(app.status), l),
        health: health_view(&health),
        id,
        name,
    })
}

/// `GET /m/apps/{key}`.
pub(crate) async fn app(
    State(state): State<PageState>,
    signed: Signed,
    Path(key): Path<String>,
) -> Response {
    match detail(&state, &signed, &key).await {
        Ok(app) => {
            let page = AppPage {
                c: chrome(&state, &signed, app.name.clone()),
                app,
            };
            html(StatusCode::OK, &page)
        }
        Err(err) => host_failure(err, signed.lang),
    }
}

/// `GET /m/apps/{key}/disconnect`: the confirmation step, saying what goes with the app.
pub(crate) async fn confirm_disconnect(
    State(state): State<PageState>,
    signed: Signed,
    Path(key): Path<String>,
) -> Response {
    let app = match state.api.host.installation(&signed.merchant, &key).await {
        Ok(app) => app,
        Err(err) => return host_failure(err, signed.lang),
    };
    let l = labels(signed.lang);
    let name = shown(&app.name);
    let heading = fill(l.confirm_disconnect, &[("name", &name)]);
    let page = ConfirmPage {
        c: Chrome::new(signed.lang, heading.clone(), &signed.csrf, None),
        heading,
        help: l.disconnect_help.to_owned(),
        yes_text: fill(l.yes_disconnect, &[("name", &name)]),
        action: format!("/m/apps/{}/disconnect", app.id),
        cancel_href: format!("/m/apps/{}", app.id),
    };
    html(StatusCode::OK, &page)
}
