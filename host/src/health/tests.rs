use std::collections::HashSet;

use super::*;
use crate::failure::ConnectorFailure;
use crate::grants::Scope;

fn active() -> HealthInputs {
    HealthInputs::new(InstallationStatus::Active)
}

fn attempt(ok: bool, code: Option<&str>, at_ms: i64) -> Attempt {
    Attempt {
        ok,
        code: code.map(str::to_owned),
        at_ms,
    }
}

/// Tries from `pattern`, newest first: `x` failed with `code`, `.` succeeded.
fn tries(pattern: &str, code: &str) -> Vec<Attempt> {
    let newest = 1_000_000;
    pattern
        .chars()
        .enumerate()
        .map(|(i, c)| attempt(c == '.', (c == 'x').then_some(code), newest - i as i64))
        .collect()
}

fn en(inputs: &HealthInputs) -> Health {
    assess(inputs, ConnectorKind::Payment, Language::En)
}

fn held(cause: &str) -> HealthInputs {
    HealthInputs {
        held: Some((cause.to_owned(), "the provider said no".to_owned())),
        ..active()
    }
}

#[test]
fn every_code_is_what_json_shows_and_is_unique() {
    let mut seen = HashSet::new();
    for reason in Reason::ALL {
        assert_eq!(serde_json::to_value(reason).unwrap(), reason.code());
        assert!(seen.insert(reason.code()), "{} twice", reason.code());
        assert_eq!(Reason::from_failure_code(reason.code()), Some(reason));
    }
    assert_eq!(seen.len(), 15);
    for state in HealthState::ALL {
        assert_eq!(serde_json::to_value(state).unwrap(), state.code());
    }
}

#[test]
fn every_connector_failure_maps_to_the_reason_the_merchant_reads() {
    use ConnectorFailure as F;
    use Reason as R;
    let text = || "x".to_owned();
    let scope = Scope::OrdersRead;
    let expected = [
        (F::AuthExpired, R::AuthExpired),
        (F::InvalidCredentials, R::InvalidApiKey),
        (F::CredentialsChanged, R::CredentialsChanged),
        (F::PermissionMissing { scope }, R::PermissionMissing),
        (F::VerificationRequired, R::VerificationRequired),
        (F::PolicyRestricted { message: text() }, R::PolicyRestricted),
        (F::BillingIssue, R::BillingIssue),
        (F::PlanExpired, R::PlanExpired),
        (F::UsageLimit, R::PlanExpired),
        (F::ProviderUnavailable, R::ProviderDown),
        (
            F::ProviderApiChanged { message: text() },
            R::ProviderApiChanged,
        ),
        (
            F::RateLimited {
                retry_after_secs: Some(3),
            },
            R::ProviderDown,
        ),
        (F::Config { message: text() }, R::Configuration),
        (F::Network { message: text() }, R::Network),
        (F::Other { message: text() }, R::Network),
    ];
    for (failure, reason) in expected {
        assert_eq!(
            Reason::from_failure_code(failure.code()),
            Some(reason),
            "{failure:?}"
        );
    }
    // The host's abort codes are technical issues; an unknown code is `None`, and reads as one.
    let aborts = [
        "deadline",
        "trap",
        "memory",
        "fuel",
        "stack-overflow",
        "busy",
    ];
    for code in aborts {
        assert_eq!(
            Reason::from_failure_code(code),
            Some(Reason::Network),
            "{code}"
        );
    }
    assert_eq!(Reason::from_failure_code("made-up"), None);
    assert_eq!(en(&held("made-up")).reason, Some(Reason::Network));
    let codeless = HealthInputs {
        recent: vec![attempt(false, None, 1)],
        ..active()
    };
    assert_eq!(en(&codeless).reason, Some(Reason::Network));
}

#[test]
fn every_reason_is_reachable_and_has_text_in_every_language() {
    let mut inputs = vec![
        HealthInputs {
            installed: false,
            ..active()
        },
        HealthInputs {
            over_app_limit: true,
            ..active()
        },
        HealthInputs {
            oldest_undelivered_age_ms: Some(DEFAULT_SYNC_DELAY_THRESHOLD_MS + 1),
            ..active()
        },
        HealthInputs::new(InstallationStatus::Pending),
    ];
    let codes = [
        "auth-expired",
        "invalid-credentials",
        "credentials-changed",
        "permission-missing",
        "verification-required",
        "policy-restricted",
        "billing-issue",
        "plan-expired",
        "provider-unavailable",
        "provider-api-changed",
        "config",
        "network",
    ];
    for code in codes {
        inputs.push(held(code));
        inputs.push(HealthInputs {
            recent: tries("xxx", code),
            ..active()
        });
    }
    let reached: HashSet<Reason> = inputs.iter().filter_map(|i| en(i).reason).collect();
    for reason in Reason::ALL {
        assert!(
            reached.contains(&reason),
            "{} is unreachable",
            reason.code()
        );
        for lang in Language::ALL {
            assert!(
                !reason.title(lang).trim().is_empty(),
                "{} {lang}",
                reason.code()
            );
            assert!(
                !reason.explain(lang).trim().is_empty(),
                "{} {lang}",
                reason.code()
            );
        }
    }
}

#[test]
fn every_kind_has_a_checklist_in_every_language() {
    for kind in ConnectorKind::ALL {
        let english = checklist(kind, Language::En);
        for lang in Language::ALL {
            let list = checklist(kind, lang);
            assert!(list.items.len() >= 5, "{kind:?} {lang}");
            assert!(list.items.len() <= 8, "{kind:?} {lang}");
            assert_eq!(list.items.len(), english.items.len(), "{kind:?} {lang}");
            assert_eq!(
                list.note.is_some(),
                english.note.is_some(),
                "{kind:?} {lang}"
            );
            assert!(!list.title.is_empty());
            assert!(list.items.iter().chain(&list.note).all(|t| !t.is_empty()));
        }
    }
    let note = |kind| checklist(kind, Language::En).note;
    assert_eq!(
        note(ConnectorKind::Payment),
        Some(
            "Do not fulfil unpaid orders unless payment is verified or another approved payment method is arranged."
        )
    );
    assert_eq!(
        note(ConnectorKind::Logistics),
        Some("You may ship manually while the integration issue is resolved.")
    );
    assert!(note(ConnectorKind::Ads).is_some_and(|n| n.contains("Pause campaigns")));
    assert!(note(ConnectorKind::Marketplace).is_some_and(|n| n.contains("overselling")));
    assert!(note(ConnectorKind::Analytics).is_some_and(|n| n.contains("only reports")));
    assert_eq!(
        checklist(ConnectorKind::Messaging, Language::En).items[2],
        "Check template approval status"
    );
    for lang in Language::ALL {
        assert_eq!(check_first(lang).items.len(), 10, "{lang}");
    }
}

#[test]
fn the_first_rule_that_applies_wins() {
    let mut inputs = HealthInputs {
        status: InstallationStatus::Disabled,
        installed: false,
        over_app_limit: true,
        held: Some(("billing-issue".into(), "invoice unpaid".into())),
        recent: tries("xxx", "auth-expired"),
        oldest_undelivered_age_ms: Some(DEFAULT_SYNC_DELAY_THRESHOLD_MS * 2),
        sync_delay_threshold_ms: DEFAULT_SYNC_DELAY_THRESHOLD_MS,
        missing_scopes: vec!["orders:write".into()],
    };
    let mut seen = Vec::new();
    let mut step = |inputs: &HealthInputs| {
        let health = en(inputs);
        seen.push((health.state, health.reason, health.detail));
    };
    step(&inputs);
    inputs.installed = true;
    step(&inputs);
    inputs.status = InstallationStatus::Pending;
    step(&inputs);
    inputs.status = InstallationStatus::Active;
    step(&inputs);
    inputs.over_app_limit = false;
    step(&inputs);
    inputs.missing_scopes.clear();
    step(&inputs);
    inputs.held = None;
    step(&inputs);
    inputs.recent = tries("x..", "rate-limited");
    step(&inputs);
    inputs.recent = tries("...", "");
    step(&inputs);
    inputs.oldest_undelivered_age_ms = Some(1);
    step(&inputs);
    use HealthState::*;
    let s = |t: &str| Some(t.to_owned());
    assert_eq!(
        seen,
        vec![
            (Disconnected, Some(Reason::AppDisconnected), None),
            (Disabled, None, None),
            (NeedsAttention, Some(Reason::PermissionMissing), None),
            (NeedsAttention, Some(Reason::AppLimit), None),
            (
                NeedsAttention,
                Some(Reason::PermissionMissing),
                s("orders:write")
            ),
            (
                NeedsAttention,
                Some(Reason::BillingIssue),
                s("invoice unpaid")
            ),
            (Failing, Some(Reason::AuthExpired), s("auth-expired")),
            (Degraded, Some(Reason::ProviderDown), s("rate-limited")),
            (Degraded, Some(Reason::SyncDelay), None),
            (Connected, None, None),
        ]
    );
}

#[test]
fn failing_needs_the_newest_tries_all_failed_and_degraded_looks_at_ten() {
    let state = |pattern: &str| {
        en(&HealthInputs {
            recent: tries(pattern, "network"),
            ..active()
        })
        .state
    };
    assert_eq!(state(""), HealthState::Connected);
    assert_eq!(state("x"), HealthState::Degraded);
    assert_eq!(state("xx"), HealthState::Degraded);
    assert_eq!(state("xxx"), HealthState::Failing);
    assert_eq!(state("xx.xxxxxx"), HealthState::Degraded);
    assert_eq!(state(".........x"), HealthState::Degraded);
    assert_eq!(state("..........x"), HealthState::Connected);
    // The order given does not matter: the newest by time are the newest.
    let mut recent = tries("xxx...", "trap");
    recent.reverse();
    let health = en(&HealthInputs { recent, ..active() });
    assert_eq!(health.state, HealthState::Failing);
    // The reason is the newest failure's.
    let mut recent = tries(".x", "billing-issue");
    recent[0] = attempt(false, Some("config"), recent[0].at_ms);
    let health = en(&HealthInputs { recent, ..active() });
    assert_eq!(health.reason, Some(Reason::Configuration));
}

#[test]
fn late_updates_are_a_sync_delay_only_past_the_threshold_and_below_failing() {
    let late = |age, recent| {
        en(&HealthInputs {
            oldest_undelivered_age_ms: Some(age),
            sync_delay_threshold_ms: 60_000,
            recent,
            ..active()
        })
    };
    assert_eq!(late(60_000, vec![]).state, HealthState::Connected);
    let health = late(60_001, vec![]);
    assert_eq!(
        (health.state, health.reason),
        (HealthState::Degraded, Some(Reason::SyncDelay))
    );
    assert_eq!(
        late(60_001, tries("xxx", "network")).state,
        HealthState::Failing
    );
}

#[test]
fn health_carries_text_and_checklists_in_the_language_asked() {
    let inputs = HealthInputs {
        over_app_limit: true,
        ..active()
    };
    for lang in Language::ALL {
        let health = assess(&inputs, ConnectorKind::Marketplace, lang);
        assert_eq!(health.label, HealthState::NeedsAttention.label(lang));
        assert_eq!(health.title, Reason::AppLimit.title(lang));
        assert_eq!(health.explanation, Reason::AppLimit.explain(lang));
        assert_eq!(health.reason_code, Some("app-limit"));
        assert_eq!(health.check_first, check_first(lang));
        assert_eq!(
            health.checklist,
            checklist(ConnectorKind::Marketplace, lang)
        );
    }
    let json = serde_json::to_value(en(&inputs)).unwrap();
    assert_eq!(json["state"], "needs-attention");
    assert_eq!(json["reason"], "app-limit");
    assert_eq!(json["reason_code"], "app-limit");
    assert_eq!(
        json["checklist"]["items"][0],
        "Check payment gateway dashboard"
    );
    let paused = en(&HealthInputs::new(InstallationStatus::Disabled));
    assert!(
        paused.explanation.contains("enable"),
        "{}",
        paused.explanation
    );
}

/// Every piece of text in `lang`, in the same order for every language.
fn texts(lang: Language) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = HealthState::ALL.iter().map(|s| s.label(lang)).collect();
    for reason in Reason::ALL {
        out.extend([reason.title(lang), reason.explain(lang)]);
    }
    let lists = ConnectorKind::ALL.map(|k| checklist(k, lang));
    for list in lists.iter().chain([&check_first(lang)]) {
        out.push(list.title);
        out.extend(&list.items);
        out.extend(list.note);
    }
    let (good, good_text) = all_good(lang);
    let (paused_title, paused_text) = paused(lang);
    out.extend([
        good,
        good_text,
        paused_title,
        paused_text,
        awaiting_approval(lang),
    ]);
    out
}

#[test]
fn no_translation_is_the_english_text() {
    let english = texts(Language::En);
    for lang in [Language::Hi, Language::As] {
        let translated = texts(lang);
        assert_eq!(translated.len(), english.len(), "{lang}");
        for (t, e) in translated.iter().zip(&english) {
            assert_ne!(t, e, "{lang} text is the English one");
        }
    }
}

#[test]
fn each_language_is_written_in_its_own_script() {
    let devanagari = |c: char| ('\u{0900}'..='\u{097F}').contains(&c);
    let bengali = |c: char| ('\u{0980}'..='\u{09FF}').contains(&c);
    // The danda (।, ॥) is shared by both scripts.
    let danda = |c: char| c == '\u{0964}' || c == '\u{0965}';
    for text in texts(Language::Hi) {
        assert!(text.chars().any(devanagari), "no Devanagari in {text:?}");
        assert!(
            !text.chars().any(bengali),
            "Bengali script in Hindi {text:?}"
        );
    }
    for text in texts(Language::As) {
        assert!(text.chars().any(bengali), "no Assamese in {text:?}");
        assert!(
            !text.chars().any(|c| devanagari(c) && !danda(c)),
            "Devanagari in Assamese {text:?}"
        );
        // Assamese writes ra as ৰ, not the Bengali র.
        assert!(
            !text.contains('\u{09B0}'),
            "Bengali ra in Assamese {text:?}"
        );
    }
    for text in texts(Language::En) {
        assert!(
            !text.chars().any(|c| devanagari(c) || bengali(c)),
            "{text:?}"
        );
    }
}
