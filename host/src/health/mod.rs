//! The health of one installation as its merchant sees it: a state, the cause in the merchant's
//! words, and what to check, in every language the help centre is published in (English,
//! Hindi, Assamese). Pure data: the host gathers plain [`HealthInputs`] (status, holds, recent
//! tries, queue age, revoked scopes) and [`assess`] turns them into a [`Health`]; nothing here
//! reads the database or runs a connector.
//!
//! The causes are the fifteen of the help-centre article "What happens if an integration stops
//! working?" ([`Reason`]); the checklists are its lists ([`checklist`] per connector kind,
//! [`check_first`] for every kind).
//!
//! # Rules
//!
//! [`assess`] takes the first rule that applies, in this order:
//!
//! 1. not installed: [`HealthState::Disconnected`], [`Reason::AppDisconnected`];
//! 2. status `disabled`: [`HealthState::Disabled`] with no reason (a pause by the merchant or
//!    the platform, grants kept; enabling the app resumes it);
//! 3. status `pending`: [`HealthState::NeedsAttention`], [`Reason::PermissionMissing`] (the
//!    merchant has not approved the app's permissions yet);
//! 4. more apps installed than the store plan allows: `NeedsAttention`, [`Reason::AppLimit`];
//! 5. scopes the app requires are not approved (revoked): `NeedsAttention`,
//!    [`Reason::PermissionMissing`], the scopes in [`Health::detail`];
//! 6. deliveries held for the merchant: `NeedsAttention`, the reason of the hold's cause code
//!    ([`Reason::from_failure_code`]; a code this host does not know reads as
//!    [`Reason::Network`]), the hold's detail in [`Health::detail`];
//! 7. the newest [`FAILING_RUN`] tries all failed: [`HealthState::Failing`], the reason of the
//!    newest failure (a failure without a code, or with an unknown code, reads as
//!    [`Reason::Network`]), its code in [`Health::detail`];
//! 8. some of the newest [`RECENT_WINDOW`] tries failed: [`HealthState::Degraded`], likewise;
//! 9. the oldest undelivered event is older than the threshold: `Degraded`,
//!    [`Reason::SyncDelay`];
//! 10. otherwise [`HealthState::Connected`], no reason.
//!
//! Tries are ordered by [`Attempt::at_ms`], newest first, whatever order they come in (tries
//! with the same time keep their given order).

mod checklists;
mod reasons;
#[cfg(test)]
mod tests;

use serde::Serialize;

use crate::manifest::ConnectorKind;
use crate::prompt_text::Language;
use crate::status::InstallationStatus;

pub use checklists::{Checklist, check_first, checklist};
pub use reasons::Reason;

/// How many newest tries must all have failed for the installation to be failing.
pub const FAILING_RUN: usize = 3;
/// How many newest tries are looked at for failures.
pub const RECENT_WINDOW: usize = 10;
/// A sync-delay threshold for callers without their own: 15 minutes, in milliseconds.
pub const DEFAULT_SYNC_DELAY_THRESHOLD_MS: i64 = 15 * 60 * 1000;

/// Where an installation stands, as the merchant sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum HealthState {
    /// Installed, approved and working.
    Connected,
    /// Working, but some recent tries failed or updates are late.
    Degraded,
    /// The newest tries all failed.
    Failing,
    /// Stopped until the merchant acts (approve, fix credentials, pay, free a slot).
    NeedsAttention,
    /// Paused by the merchant or the platform; enabling it resumes it.
    Disabled,
    /// Not installed (removed from the store).
    Disconnected,
}

impl HealthState {
    /// Every state, from best to worst.
    pub const ALL: [HealthState; 6] = [
        HealthState::Connected,
        HealthState::Degraded,
        HealthState::Failing,
        HealthState::NeedsAttention,
        HealthState::Disabled,
        HealthState::Disconnected,
    ];

    /// The state's stable code, as JSON spells it.
    pub fn code(self) -> &'static str {
        match self {
            HealthState::Connected => "connected",
            HealthState::Degraded => "degraded",
            HealthState::Failing => "failing",
            HealthState::NeedsAttention => "needs-attention",
            HealthState::Disabled => "disabled",
            HealthState::Disconnected => "disconnected",
        }
    }

    /// The state in a few words for the merchant.
    pub fn label(self, lang: Language) -> &'static str {
        use HealthState::*;
        use Language::*;
        match (self, lang) {
            (Connected, En) => "Connected",
            (Connected, Hi) => "कनेक्टेड",
            (Connected, As) => "সংযুক্ত",
            (Degraded, En) => "Working with errors",
            (Degraded, Hi) => "कुछ त्रुटियों के साथ चल रहा है",
            (Degraded, As) => "কিছু ত্ৰুটিৰ সৈতে চলি আছে",
            (Failing, En) => "Not working",
            (Failing, Hi) => "काम नहीं कर रहा",
            (Failing, As) => "কাম কৰা নাই",
            (NeedsAttention, En) => "Needs your attention",
            (NeedsAttention, Hi) => "आपका ध्यान चाहिए",
            (NeedsAttention, As) => "আপোনাৰ মনোযোগ লাগে",
            (Disabled, En) => "Paused",
            (Disabled, Hi) => "रोका गया",
            (Disabled, As) => "স্থগিত",
            (Disconnected, En) => "Disconnected",
            (Disconnected, Hi) => "डिसकनेक्टेड",
            (Disconnected, As) => "বিচ্ছিন্ন",
        }
    }
}

/// One delivery try or health check of the installation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attempt {
    /// Whether it succeeded.
    pub ok: bool,
    /// The cause's code when it failed (a connector failure or host abort code).
    pub code: Option<String>,
    /// When, in milliseconds since the Unix epoch.
    pub at_ms: i64,
}

/// What the host knows about one installation, as plain data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HealthInputs {
    /// Where the installation stands (pending, active, disabled).
    pub status: InstallationStatus,
    /// False when the app was uninstalled (disconnected from the store).
    pub installed: bool,
    /// The store plan has fewer app slots than apps installed (after a downgrade).
    pub over_app_limit: bool,
    /// Deliveries held for the merchant: the hold's cause code and its detail.
    pub held: Option<(String, String)>,
    /// Recent delivery tries and health checks, newest first.
    pub recent: Vec<Attempt>,
    /// Age of the oldest queued delivery, in milliseconds, if any is queued.
    pub oldest_undelivered_age_ms: Option<i64>,
    /// How old the oldest queued delivery may get before updates count as late.
    pub sync_delay_threshold_ms: i64,
    /// Scopes the manifest requires that are not approved (revoked).
    pub missing_scopes: Vec<String>,
}

impl HealthInputs {
    /// An installed installation in `status` with nothing else known: no hold, no tries, the
    /// default sync-delay threshold.
    pub fn new(status: InstallationStatus) -> HealthInputs {
        HealthInputs {
            status,
            installed: true,
            over_app_limit: false,
            held: None,
            recent: Vec::new(),
            oldest_undelivered_age_ms: None,
            sync_delay_threshold_ms: DEFAULT_SYNC_DELAY_THRESHOLD_MS,
            missing_scopes: Vec::new(),
        }
    }
}

/// The health of one installation, in one language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Health {
    /// Where it stands.
    pub state: HealthState,
    /// The state in a few words ([`HealthState::label`]).
    pub label: &'static str,
    /// Why, when something is wrong.
    pub reason: Option<Reason>,
    /// The reason's stable code ([`Reason::code`]).
    pub reason_code: Option<&'static str>,
    /// The reason's title, or the state's when there is no reason ("All good", "App paused").
    pub title: &'static str,
    /// What it means for the merchant and what fixes it.
    pub explanation: String,
    /// The connector's or host's own words: the hold's detail, the missing scopes, or the
    /// newest failure's code.
    pub detail: Option<String>,
    /// What to check first, whatever the kind.
    pub check_first: Checklist,
    /// What to check for this kind of integration.
    pub checklist: Checklist,
}

/// The health of an installation of a connector of `kind`, from what the host knows, in
/// `lang` (the rules are in the module documentation).
pub fn assess(inputs: &HealthInputs, kind: ConnectorKind, lang: Language) -> Health {
    let with_reason = |state, reason: Reason, detail| Finding {
        state,
        reason: Some(reason),
        title: reason.title(lang),
        explanation: reason.explain(lang),
        detail,
    };
    let finding = if !inputs.installed {
        with_reason(HealthState::Disconnected, Reason::AppDisconnected, None)
    } else if inputs.status == InstallationStatus::Disabled {
        let (title, explanation) = paused(lang);
        Finding {
            state: HealthState::Disabled,
            reason: None,
            title,
            explanation,
            detail: None,
        }
    } else if inputs.status == InstallationStatus::Pending {
        Finding {
            explanation: awaiting_approval(lang),
            ..with_reason(HealthState::NeedsAttention, Reason::PermissionMissing, None)
        }
    } else if inputs.over_app_limit {
        with_reason(HealthState::NeedsAttention, Reason::AppLimit, None)
    } else if !inputs.missing_scopes.is_empty() {
        let scopes = inputs.missing_scopes.join(", ");
        with_reason(
            HealthState::NeedsAttention,
            Reason::PermissionMissing,
            Some(scopes),
        )
    } else if let Some((cause, detail)) = &inputs.held {
        let reason = reason_of(Some(cause));
        let detail = (!detail.is_empty()).then(|| detail.clone());
        with_reason(HealthState::NeedsAttention, reason, detail)
    } else if let Some((state, failure)) = failures(&inputs.recent) {
        let reason = reason_of(failure.code.as_deref());
        with_reason(state, reason, failure.code.clone())
    } else if inputs
        .oldest_undelivered_age_ms
        .is_some_and(|age| age > inputs.sync_delay_threshold_ms)
    {
        with_reason(HealthState::Degraded, Reason::SyncDelay, None)
    } else {
        let (title, explanation) = all_good(lang);
        Finding {
            state: HealthState::Connected,
            reason: None,
            title,
            explanation,
            detail: None,
        }
    };
    Health {
        state: finding.state,
        label: finding.state.label(lang),
        reason: finding.reason,
        reason_code: finding.reason.map(Reason::code),
        title: finding.title,
        explanation: finding.explanation.to_owned(),
        detail: finding.detail,
        check_first: check_first(lang),
        checklist: checklist(kind, lang),
    }
}

/// What one rule found, before the checklists are attached.
struct Finding {
    state: HealthState,
    reason: Option<Reason>,
    title: &'static str,
    explanation: &'static str,
    detail: Option<String>,
}

/// The reason of a failure code; no code, or one this host does not know, is a technical
/// issue.
fn reason_of(code: Option<&str>) -> Reason {
    code.and_then(Reason::from_failure_code)
        .unwrap_or(Reason::Network)
}

/// Failing or degraded, with the newest failure, when the newest tries say so.
fn failures(recent: &[Attempt]) -> Option<(HealthState, &Attempt)> {
    let mut tries: Vec<&Attempt> = recent.iter().collect();
    tries.sort_by_key(|t| std::cmp::Reverse(t.at_ms));
    tries.truncate(RECENT_WINDOW);
    let newest_failure = tries.iter().copied().find(|t| !t.ok)?;
    let failing = tries.len() >= FAILING_RUN && tries.iter().take(FAILING_RUN).all(|t| !t.ok);
    let state = if failing {
        HealthState::Failing
    } else {
        HealthState::Degraded
    };
    Some((state, newest_failure))
}

/// Title and explanation when nothing is wrong.
fn all_good(lang: Language) -> (&'static str, &'static str) {
    match lang {
        Language::En => (
            "All good",
            "The app is connected and working; no recent problems were seen.",
        ),
        Language::Hi => (
            "सब ठीक है",
            "ऐप कनेक्टेड है और काम कर रहा है; हाल में कोई समस्या नहीं दिखी।",
        ),
        Language::As => (
            "সকলো ঠিক আছে",
            "এপটো সংযুক্ত আৰু কাম কৰি আছে; শেহতীয়াকৈ কোনো সমস্যা দেখা পোৱা নাই।",
        ),
    }
}

/// Title and explanation of a paused (disabled) installation.
fn paused(lang: Language) -> (&'static str, &'static str) {
    match lang {
        Language::En => (
            "App paused",
            "You or the platform paused this app and its permissions are kept; enable it to resume.",
        ),
        Language::Hi => (
            "ऐप रोका गया",
            "आपने या प्लेटफ़ॉर्म ने यह ऐप रोक दिया है और इसकी अनुमतियाँ बनी हुई हैं; फिर से शुरू करने के लिए इसे चालू करें।",
        ),
        Language::As => (
            "এপ স্থগিত",
            "আপুনি বা প্লেটফৰ্মে এই এপটো স্থগিত ৰাখিছে আৰু ইয়াৰ অনুমতিবোৰ থাকি গৈছে; পুনৰ আৰম্ভ কৰিবলৈ ইয়াক সক্ৰিয় কৰক।",
        ),
    }
}

/// Explanation of an installation awaiting the merchant's approval.
fn awaiting_approval(lang: Language) -> &'static str {
    match lang {
        Language::En => {
            "The app is waiting for you to approve its permissions; it does nothing until you do."
        }
        Language::Hi => "ऐप इंतज़ार कर रहा है कि आप उसकी अनुमतियों को मंज़ूरी दें; तब तक यह कुछ नहीं करेगा।",
        Language::As => {
            "এপটোৱে ইয়াৰ অনুমতিবোৰৰ বাবে আপোনাৰ অনুমোদনৰ অপেক্ষা কৰি আছে; অনুমোদন নিদিয়ালৈকে ই একো নকৰে।"
        }
    }
}
