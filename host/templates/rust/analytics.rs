//! {{display_name}}: keeps a running total of sales per currency in the connector's own
//! storage. Calls exactly what `airlock.toml` declares: `orders` (orders:read); `storage` and
//! `log` need no scope.

use airlock_sdk::{Connector, ConnectorError, Event, Money, Outcome, log, orders, storage};

struct Revenue;

impl Connector for Revenue {
    fn handle_event(event: Event) -> Result<Outcome, ConnectorError> {
        if event.topic != "order.created" {
            return Ok(Outcome::ignored(format!(
                "not interested in {}",
                event.topic
            )));
        }
        // Delivery is at least once: the event id makes a repeat harmless.
        let seen = format!("seen/{}", event.id);
        if storage::get(&seen)?.is_some() {
            return Ok(Outcome::ignored("already counted this event"));
        }
        let order = orders::get(&event.subject_id)?;
        let key = format!("revenue/{}", order.total.currency);
        let before: i64 = storage::get(&key)?
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .and_then(|text| text.parse().ok())
            .unwrap_or(0);
        let after = before.saturating_add(order.total.amount_minor);
        storage::set(&key, after.to_string().as_bytes())?;
        storage::set(&seen, b"")?;
        log::info(&format!("counted {}", order.number));
        let so_far = Money {
            amount_minor: after,
            currency: order.total.currency.clone(),
        };
        Ok(Outcome::acted(format!(
            "counted {}: {} ({} so far)",
            order.number,
            money(&order.total),
            money(&so_far)
        )))
    }
}

/// `INR 1249.00`
fn money(total: &Money) -> String {
    let minor = total.amount_minor;
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    format!("{} {sign}{}.{:02}", total.currency, abs / 100, abs % 100)
}

airlock_sdk::export!(Revenue, manifest = "../airlock.toml");
