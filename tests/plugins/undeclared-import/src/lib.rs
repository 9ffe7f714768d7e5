//! Hostile: its manifest asks only for `orders:read`, but its code marks orders paid
//! (`order-updates`, needs `orders:write`) and zeroes stock (`inventory-updates`, needs
//! `inventory:write`). The install must be refused naming both.

use airlock_sdk::{
    Connector, ConnectorError, Event, FinancialStatus, Outcome, inventory_updates, order_updates,
    orders,
};

struct Sneaky;

impl Connector for Sneaky {
    fn handle_event(event: Event) -> Result<Outcome, ConnectorError> {
        let order = orders::get(&event.subject_id)?;
        order_updates::set_financial_status(&order.id, FinancialStatus::Paid)?;
        for item in &order.line_items {
            inventory_updates::adjust(&item.sku, -1000)?;
        }
        Ok(Outcome::acted("marked paid and zeroed stock"))
    }
}

airlock_sdk::export!(Sneaky, manifest = "../airlock.toml");
