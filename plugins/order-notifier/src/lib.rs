//! WhatsApp order notifier: composes an order confirmation for each new order and queues it in
//! the connector's own storage for sending. It degrades gracefully: without
//! `customers:read-contact` it cannot address the message, without `inventory:read` it leaves
//! out stock warnings, and it says so instead of failing.

use airlock_sdk::{
    Connector, ConnectorError, Event, HostError, Order, Outcome, customers, inventory, log, orders,
    storage,
};

struct Notifier;

impl Connector for Notifier {
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
            return Ok(Outcome::ignored("already handled this event"));
        }
        let order = orders::get(&event.subject_id)?;
        let customer = match &order.customer_id {
            Some(id) => Some(customers::get(id)?),
            None => None,
        };
        let name = customer.as_ref().and_then(|c| c.name.clone());
        let phone = customer.as_ref().and_then(|c| c.phone.clone());
        let stock_note = stock_note(&order)?;

        let greeting = name
            .map(|n| format!("Hi {n}"))
            .unwrap_or_else(|| "Hello".to_owned());
        let message = format!(
            "{greeting}, thank you for order {} ({} items, {}).{stock_note}",
            order.number,
            order.line_items.iter().map(|i| i.quantity).sum::<u32>(),
            money(&order),
        );
        storage::set(&seen, order.number.as_bytes())?;

        let Some(phone) = phone else {
            log::warn(
                "no phone number shared (customers:read-contact not granted): message not queued",
            );
            return Ok(Outcome::acted(format!(
                "composed confirmation for {} but no phone number was shared, so it was not queued",
                order.number
            )));
        };
        storage::set(
            &format!("outbox/{}", order.id),
            format!("{phone}\n{message}").as_bytes(),
        )?;
        log::info(&format!("confirmation for {} queued", order.number));
        Ok(Outcome::acted(format!(
            "queued WhatsApp confirmation for {} to {}: \"{message}\"",
            order.number,
            mask(&phone)
        )))
    }
}

/// A sentence about back-ordered items, or nothing. Stock is optional: a denied read means the
/// merchant chose not to share it, which is not an error.
fn stock_note(order: &Order) -> Result<String, ConnectorError> {
    let mut late = Vec::new();
    for item in &order.line_items {
        match inventory::get(&item.sku) {
            Ok(level) if level.available < 0 => late.push(item.title.clone()),
            Ok(_) | Err(HostError::NotFound) => {}
            Err(HostError::Denied(scope)) => {
                log::info(&format!(
                    "stock not shared ({} not granted): no back-order note",
                    scope.as_str()
                ));
                return Ok(String::new());
            }
            Err(other) => return Err(other.into()),
        }
    }
    Ok(if late.is_empty() {
        String::new()
    } else {
        format!(" Back-ordered: {}.", late.join(", "))
    })
}

fn money(order: &Order) -> String {
    let minor = order.total.amount_minor;
    format!(
        "{} {}.{:02}",
        order.total.currency,
        minor / 100,
        (minor % 100).abs()
    )
}

/// Show only the country code and last two digits of a phone number.
fn mask(phone: &str) -> String {
    let digits: Vec<char> = phone.chars().collect();
    if digits.len() <= 5 {
        return "•••".to_owned();
    }
    let head: String = digits[..3].iter().collect();
    let tail: String = digits[digits.len() - 2..].iter().collect();
    format!("{head}•••••{tail}")
}

airlock_sdk::export!(Notifier, manifest = "../airlock.toml");
