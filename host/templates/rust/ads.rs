//! {{display_name}}: prepares a conversion for your ad platform from each new order and keeps
//! it in the connector's own storage until it is sent. Calls exactly what `airlock.toml`
//! declares: `orders` (orders:read); `storage` and `log` need no scope.

use airlock_sdk::{Connector, ConnectorError, Event, Outcome, log, orders, storage};

struct Conversions;

impl Connector for Conversions {
    fn handle_event(event: Event) -> Result<Outcome, ConnectorError> {
        if event.topic != "order.created" {
            return Ok(Outcome::ignored(format!(
                "not interested in {}",
                event.topic
            )));
        }
        let order = orders::get(&event.subject_id)?;
        // No customer data: a conversion is the order's value and time, nothing about who
        // bought. Order ids and ISO currency codes need no JSON escaping.
        let conversion = format!(
            "{{\"order\":\"{}\",\"value\":{},\"currency\":\"{}\",\"at\":{}}}",
            order.id, order.total.amount_minor, order.total.currency, order.created_at
        );
        // Send it to your ad platform here: declare its origin under [[http]] in airlock.toml
        // and its API key under [[secrets]], then use `airlock_sdk::http`.
        storage::set(&format!("conversions/{}", order.id), conversion.as_bytes())?;
        log::info(&format!("conversion for {} prepared", order.number));
        Ok(Outcome::acted(format!(
            "conversion for {} worth {} {}.{:02} prepared",
            order.number,
            order.total.currency,
            order.total.amount_minor / 100,
            (order.total.amount_minor % 100).abs()
        )))
    }
}

airlock_sdk::export!(Conversions, manifest = "../airlock.toml");
