//! `airlock health`: each connection's state, its cause in the merchant's words, and the
//! checklists, as text or JSON.

use anyhow::Result;
use serde_json::json;

use airlock_host::AppHealth;
use airlock_host::health::{Checklist, HealthState};
use airlock_host::ids::MerchantId;

use crate::print::value;

/// Every listed merchant's connections.
pub fn apps(all: &[(MerchantId, Vec<AppHealth>)], json: bool) -> Result<()> {
    let shown: Vec<_> = all
        .iter()
        .map(|(merchant, apps)| json!({ "merchant": merchant, "apps": apps }))
        .collect();
    value(&shown, json, || {
        let mut text = Vec::new();
        for (merchant, apps) in all {
            text.push(format!("{merchant}:"));
            if apps.is_empty() {
                text.push("  no connected apps".to_owned());
            }
            for app in apps {
                text.push(app_text(app));
            }
        }
        text.join("\n")
    })
}

/// One merchant's connections as text (the demo prints it).
pub fn apps_text(apps: &[AppHealth]) -> String {
    apps.iter().map(app_text).collect::<Vec<_>>().join("\n")
}

fn app_text(app: &AppHealth) -> String {
    let h = &app.health;
    let kind = app.kind.map_or("unknown kind", |k| k.as_str());
    let mut text = format!(
        "  {} ({kind}, {}): {}",
        app.connector,
        app.installation,
        h.label.to_uppercase()
    );
    if h.state == HealthState::Connected {
        return text;
    }
    text.push_str(&format!("\n    {}: {}", h.title, h.explanation));
    if let Some(detail) = &h.detail {
        text.push_str(&format!("\n    detail: {detail}"));
    }
    if matches!(h.state, HealthState::Disabled) {
        return text;
    }
    text.push_str(&list(&h.check_first));
    text.push_str(&list(&h.checklist));
    text
}

fn list(checklist: &Checklist) -> String {
    let mut text = format!("\n    {}:", checklist.title);
    for item in &checklist.items {
        text.push_str(&format!("\n      - {item}"));
    }
    if let Some(note) = checklist.note {
        text.push_str(&format!("\n    {note}"));
    }
    text
}
