//! Text and JSON output of the outbox's commands: `emit` (queued), `deliveries ...`.

use anyhow::Result;
use serde_json::json;

use airlock_host::Event;
use airlock_host::outbox::{Delivery, Hold, RetrySchedule};

use crate::print::value;

/// An event written to the outbox.
pub fn queued(event: &Event, json: bool) -> Result<()> {
    value(event, json, || {
        format!(
            "queued {} ({} {}): `airlock serve` delivers it to every subscribed, granted app \
             (`airlock deliveries list` shows each delivery; `emit --wait` delivers at once)",
            event.id, event.topic, event.subject_id
        )
    })
}

/// A list of deliveries, one line each.
pub fn deliveries(list: &[Delivery], json: bool) -> Result<()> {
    value(&list, json, || {
        if list.is_empty() {
            return "no deliveries match".to_owned();
        }
        list.iter().map(line).collect::<Vec<_>>().join("\n")
    })
}

fn line(d: &Delivery) -> String {
    let last = match (&d.last_code, &d.last_detail) {
        (Some(code), Some(detail)) => format!("  last: {code}: {detail}"),
        (Some(code), None) => format!("  last: {code}"),
        _ => String::new(),
    };
    format!(
        "{} {:<9} {:<22} {:<16} {:<12} tries {}{}",
        d.id,
        d.state.as_str(),
        d.installation,
        d.event.topic.as_str(),
        d.event.subject_id,
        d.attempts,
        last
    )
}

/// One delivery, with its installation's hold when there is one.
pub fn delivery(d: &Delivery, hold: Option<&Hold>, json: bool) -> Result<()> {
    let shown = json!({ "delivery": d, "hold": hold });
    value(&shown, json, || {
        let mut text = format!(
            "delivery {}\n  event:        {} ({} {})\n  installation: {}\n  state:        {}\n  tries:        {}",
            d.id,
            d.event.id,
            d.event.topic,
            d.event.subject_id,
            d.installation,
            d.state,
            d.attempts
        );
        if let Some(at) = d.next_at {
            text.push_str(&format!("\n  next try at:  {at} (ms since the epoch)"));
        }
        if let Some(code) = &d.last_code {
            text.push_str(&format!(
                "\n  last failure: {code}: {}",
                d.last_detail.as_deref().unwrap_or("")
            ));
        }
        if let Some(hold) = hold {
            text.push_str(&format!(
                "\n  HELD for the merchant since {}: {}: {}\n  fix the cause, then `airlock deliveries resume` (or set the key / approve again)",
                hold.since, hold.cause, hold.detail
            ));
        }
        text
    })
}

/// How many deliveries a replay queued.
pub fn replayed(queued: u64, json: bool) -> Result<()> {
    value(&json!({ "queued": queued }), json, || {
        format!("{queued} deliveries queued again, with their event ids unchanged")
    })
}

/// Whether a resume lifted a hold.
pub fn resumed(installation: &str, was_held: bool, json: bool) -> Result<()> {
    value(
        &json!({ "installation": installation, "was_held": was_held }),
        json,
        || {
            if was_held {
                format!("{installation}: held deliveries resumed")
            } else {
                format!("{installation}: nothing was held")
            }
        },
    )
}

/// A plan's new retry schedule.
pub fn schedule(plan: &str, schedule: Option<&RetrySchedule>, json: bool) -> Result<()> {
    let shown = json!({ "plan": plan, "retry_schedule": schedule.map(ToString::to_string) });
    value(&shown, json, || match schedule {
        Some(s) => format!(
            "plan {plan}: {} retries, {} s apart in turn (spanning {} s), then dead-lettered",
            s.retries(),
            s,
            s.span().as_secs()
        ),
        None => format!("plan {plan}: the host's default retry schedule"),
    })
}
