//! {{display_name}}: lists each product whose stock changed with its current level, and takes
//! units sold on the marketplace off the store's stock. Calls exactly what `airlock.toml`
//! declares: `inventory` (inventory:read), `inventory_updates` (inventory:write); `storage` and
//! `log` need no scope.

use airlock_sdk::{
    Connector, ConnectorError, Event, Outcome, inventory, inventory_updates, log, storage,
};

struct Listings;

impl Connector for Listings {
    fn handle_event(event: Event) -> Result<Outcome, ConnectorError> {
        if event.topic != "inventory.changed" {
            return Ok(Outcome::ignored(format!(
                "not interested in {}",
                event.topic
            )));
        }
        let sku = &event.subject_id;
        // Units sold on the marketplace and not yet taken off the store's stock, kept under
        // `sold/<sku>` by your marketplace sync.
        let sold_key = format!("sold/{sku}");
        if let Some(sold) = storage::get(&sold_key)? {
            let units: i32 = String::from_utf8_lossy(&sold).parse().unwrap_or(0);
            if units > 0 {
                inventory_updates::adjust(sku, -units)?;
                log::info(&format!(
                    "took {units} marketplace sales of {sku} off the stock"
                ));
            }
            storage::delete(&sold_key)?;
        }
        let level = inventory::get(sku)?;
        // Update the listing on your marketplace here: declare its origin under [[http]] in
        // airlock.toml and its API key under [[secrets]], then use `airlock_sdk::http`.
        Ok(Outcome::acted(format!(
            "{}: {} units to list on the marketplace",
            level.title,
            level.available.max(0)
        )))
    }
}

airlock_sdk::export!(Listings, manifest = "../airlock.toml");
