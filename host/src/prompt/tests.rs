//! The prompt's rendering in every language, and what publisher text cannot do to it.

use super::*;

fn all_scopes_manifest() -> Manifest {
    let request = |scope| ScopeRequest {
        scope,
        reason: "needed".into(),
    };
    Manifest {
        id: "acme.all".into(),
        name: "All".into(),
        publisher: "Acme".into(),
        version: "1.0.0".into(),
        kind: crate::manifest::ConnectorKind::Marketplace,
        description: String::new(),
        scopes: crate::manifest::ScopeRequests {
            required: vec![request(Scope::OrdersRead), request(Scope::CustomersRead)],
            // Every scope a capability function needs, from the one table: a capability
            // added without prompt text in every language fails here.
            optional: crate::capabilities::scopes()
                .iter()
                .filter(|s| !matches!(s, Scope::OrdersRead | Scope::CustomersRead))
                .map(request)
                .collect(),
        },
        events: crate::topics::Topic::ALL.to_vec(),
        http: vec![crate::manifest::HttpRequest {
            origin: crate::manifest::Origin::parse("https://api.gateway.example").unwrap(),
            reason: "check payments".into(),
        }],
        secrets: vec![
            crate::manifest::SecretRequest {
                name: "gateway_key".into(),
                reason: "your gateway key".into(),
                send_to: vec![
                    crate::manifest::Origin::parse("https://api.gateway.example").unwrap(),
                ],
                headers: vec![],
                readable: false,
            },
            crate::manifest::SecretRequest {
                name: "signing_key".into(),
                reason: "attached, and read to sign payloads".into(),
                send_to: vec![
                    crate::manifest::Origin::parse("https://api.gateway.example").unwrap(),
                ],
                headers: vec![],
                readable: true,
            },
            crate::manifest::SecretRequest {
                name: "webhook_secret".into(),
                reason: "to sign payloads".into(),
                send_to: vec![],
                headers: vec![],
                readable: true,
            },
        ],
    }
}

/// Characters of the script each language is written in.
fn in_script(lang: Language, text: &str) -> bool {
    let range = match lang {
        Language::En => return text.is_ascii(),
        Language::Hi => '\u{0900}'..='\u{097F}',
        Language::As => '\u{0980}'..='\u{09FF}',
    };
    text.chars().any(|c| range.contains(&c))
}

#[test]
fn every_scope_and_topic_renders_in_every_language_in_its_own_script() {
    let manifest = all_scopes_manifest();
    for lang in Language::ALL {
        let prompt = Prompt::for_manifest(&manifest, lang);
        let text = prompt.render();
        for line in prompt.required.iter().chain(&prompt.optional) {
            assert!(
                in_script(lang, line.title) && in_script(lang, line.covers),
                "{lang} {}",
                line.scope
            );
            assert!(
                text.contains(line.title),
                "{lang}: {} missing from\n{text}",
                line.scope
            );
            assert!(text.contains(line.scope.as_str()), "{lang}: scope id shown");
        }
        assert_eq!(
            prompt.required.len() + prompt.optional.len(),
            Scope::ALL.len()
        );
        assert_eq!(prompt.events.len(), crate::topics::Topic::ALL.len());
        for event in &prompt.events {
            assert!(in_script(lang, event), "{lang}: {event}");
        }
        let words = text::phrases(lang);
        for phrase in [
            words.required,
            words.optional,
            words.publisher_says,
            words.personal,
            words.can_change,
            words.connects,
            words.keys,
            words.readable,
        ] {
            assert!(text.contains(phrase), "{lang}: `{phrase}` missing");
        }
    }
    for lang in Language::ALL {
        let text = Prompt::for_manifest(&manifest, lang).render();
        let attached = fill(
            text::phrases(lang).attached,
            &[("origins", "https://api.gateway.example")],
        );
        assert!(text.contains(&attached), "{lang}: {text}");
        assert!(in_script(lang, &attached) || lang == Language::En);
        // A key the app can also read is never described as one it never sees.
        let signing = text
            .lines()
            .find(|l| l.contains("signing_key"))
            .unwrap_or_default();
        assert!(!signing.contains(&attached), "{lang}: {signing}");
        let both = fill(
            text::phrases(lang).attached_readable,
            &[("origins", "https://api.gateway.example")],
        );
        assert!(signing.contains(&both), "{lang}: {signing}");
        assert!(
            signing.contains(text::phrases(lang).readable),
            "{lang}: {signing}"
        );
    }
    // Assamese is not Bengali: its own letters (ৰ, ৱ) appear.
    let assamese = Prompt::for_manifest(&manifest, Language::As).render();
    assert!(
        assamese.contains('ৰ') && assamese.contains('ৱ'),
        "{assamese}"
    );
}

#[test]
fn translations_are_distinct_not_fallbacks() {
    for scope in Scope::ALL {
        let [en, hi, asm] = Language::ALL.map(|l| text::scope(scope, l));
        assert!(en != hi && en != asm && hi != asm, "{scope}");
    }
}

#[test]
fn placeholders_are_filled_once_so_publisher_text_cannot_expand() {
    assert_eq!(
        fill(
            "{name} by {publisher}",
            &[("name", "{publisher}"), ("publisher", "Acme")]
        ),
        "{publisher} by Acme"
    );
    assert_eq!(fill("a {unknown} b", &[]), "a {unknown} b");
    assert_eq!(fill("trailing {", &[]), "trailing {");
}

#[test]
fn publisher_text_is_quoted_capped_and_cannot_forge_host_lines() {
    let manifest = Manifest {
        id: "evil.app".into(),
        name: "Evil".into(),
        publisher: "Evil Inc".into(),
        version: "1.0.0".into(),
        kind: crate::manifest::ConnectorKind::Ads,
        description: String::new(),
        scopes: crate::manifest::ScopeRequests {
            required: vec![ScopeRequest {
                scope: Scope::CustomersRead,
                reason: format!("ok\n  - Nothing else (none): {}", "x".repeat(400)),
            }],
            optional: vec![ScopeRequest {
                scope: Scope::CustomersReadContact,
                reason: "to say hi".into(),
            }],
        },
        events: vec![],
        http: vec![],
        secrets: vec![],
    };
    let prompt = Prompt::for_manifest(&manifest, Language::En);
    let text = prompt.render();
    // The forged line stays inside the quoted reason on the same line.
    assert_eq!(
        text.lines().filter(|l| l.starts_with("  - ")).count(),
        2,
        "{text}"
    );
    assert!(prompt.required[0].publisher_reason.chars().count() <= REASON_DISPLAY_CHARS + 1);
    // Found by fuzzing: where a language puts the publisher first on a line, its name
    // could pass for a host list line. It is quoted in every language.
    let mut forged = manifest.clone();
    forged.publisher = "  - Nothing else (none)".into();
    forged.version = "1.0.0\u{8}".into();
    for lang in Language::ALL {
        let text = Prompt::for_manifest(&forged, lang).render();
        assert_eq!(
            text.lines().filter(|l| l.starts_with("  - ")).count(),
            2,
            "{lang}: {text}"
        );
        assert!(!text.contains('\u{8}'), "{lang}: {text}");
    }
    assert!(text.contains("[PERSONAL DATA]"), "{text}");
}
