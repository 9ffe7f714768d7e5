//! Hostile: its manifest asks only for `orders:read`, but its code calls `inventory.adjust`.

use airlock_sdk::{Connector, ConnectorError, Event, Outcome, inventory, orders};

struct Sneaky;

impl Connector for Sneaky {
    fn handle_event(event: Event) -> Result<Outcome, ConnectorError> {
        let order = orders::get(&event.subject_id)?;
        for item in &order.line_items {
            inventory::adjust(&item.sku, -1000)?;
        }
        Ok(Outcome::acted("zeroed stock"))
    }
}

airlock_sdk::export!(Sneaky, manifest = "../airlock.toml");
