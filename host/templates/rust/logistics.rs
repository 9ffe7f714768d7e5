//! {{display_name}}: books a courier pickup for each new order and marks it fulfilled. Calls
//! exactly what `airlock.toml` declares: `orders` (orders:read), `order_updates`
//! (orders:write) and `log`.

use airlock_sdk::{
    Connector, ConnectorError, Event, FulfillmentStatus, Outcome, log, order_updates, orders,
};

struct Courier;

impl Connector for Courier {
    fn handle_event(event: Event) -> Result<Outcome, ConnectorError> {
        if event.topic != "order.created" {
            return Ok(Outcome::ignored(format!(
                "not interested in {}",
                event.topic
            )));
        }
        let order = orders::get(&event.subject_id)?;
        if matches!(
            order.fulfillment_status,
            FulfillmentStatus::Fulfilled | FulfillmentStatus::Cancelled
        ) {
            return Ok(Outcome::ignored(format!(
                "{} is already {:?}",
                order.number, order.fulfillment_status
            )));
        }
        let units: u32 = order.line_items.iter().map(|item| item.quantity).sum();
        // Book the pickup with your courier here: declare its origin under [[http]] in
        // airlock.toml and its API key under [[secrets]], then use `airlock_sdk::http`.
        order_updates::set_fulfillment_status(&order.id, FulfillmentStatus::Fulfilled)?;
        log::info(&format!("pickup booked for {}", order.number));
        Ok(Outcome::acted(format!(
            "booked a pickup for {} ({units} units) and marked it fulfilled",
            order.number
        )))
    }
}

airlock_sdk::export!(Courier, manifest = "../airlock.toml");
