//! {{display_name}}: composes an order confirmation for each new order. Calls exactly what
//! `airlock.toml` declares: `orders` (orders:read), `customers` (customers:read; the phone
//! number only under customers:read-contact) and `log`.

use airlock_sdk::{Connector, ConnectorError, Event, Money, Outcome, customers, log, orders};

struct Notifier;

impl Connector for Notifier {
    fn handle_event(event: Event) -> Result<Outcome, ConnectorError> {
        if event.topic != "order.created" {
            return Ok(Outcome::ignored(format!(
                "not interested in {}",
                event.topic
            )));
        }
        let order = orders::get(&event.subject_id)?;
        let customer = match &order.customer_id {
            Some(id) => Some(customers::get(id)?),
            None => None,
        };
        let Some(phone) = customer.as_ref().and_then(|c| c.phone.clone()) else {
            log::warn("no phone number shared (customers:read-contact not approved)");
            return Ok(Outcome::ignored(format!(
                "no phone number shared for {}, so no confirmation was sent",
                order.number
            )));
        };
        let greeting = match customer.and_then(|c| c.name) {
            Some(name) => format!("Hi {name}"),
            None => "Hello".to_owned(),
        };
        let message = format!(
            "{greeting}, thank you for order {} ({}).",
            order.number,
            money(&order.total)
        );
        // Send `message` with your messaging provider here: declare its origin under [[http]]
        // in airlock.toml and its API key under [[secrets]], then use `airlock_sdk::http`.
        log::info(&format!(
            "confirmation for {} composed ({} characters)",
            order.number,
            message.chars().count()
        ));
        let shown: String = phone.chars().take(3).collect();
        let last: String = phone
            .chars()
            .skip(phone.chars().count().saturating_sub(2))
            .collect();
        Ok(Outcome::acted(format!(
            "confirmation for {} to {shown}•••{last}",
            order.number
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

airlock_sdk::export!(Notifier, manifest = "../airlock.toml");
