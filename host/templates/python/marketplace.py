"""{{display_name}}: lists each product whose stock changed with its current level, and takes
units sold on the marketplace off the store's stock. Imports exactly what airlock.toml
declares: inventory (inventory:read), inventory-updates (inventory:write); storage and log need
no scope."""

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports import inventory, inventory_updates, log, storage, types


def on_event(event: types.Event) -> types.Outcome:
    if event.topic != "inventory.changed":
        return types.Outcome(acted=False, summary=f"not interested in {event.topic}")
    sku = event.subject_id
    # Units sold on the marketplace and not yet taken off the store's stock, kept under
    # `sold/<sku>` by your marketplace sync.
    sold = storage.get(f"sold/{sku}")
    if sold is not None:
        units = int(sold.decode()) if sold.decode().isdigit() else 0
        if 0 < units < 2**31:
            inventory_updates.adjust(sku, -units)
            log.write(log.Level.INFO, f"took {units} marketplace sales of {sku} off the stock")
        storage.delete(f"sold/{sku}")
    level = inventory.get(sku)
    listed = max(level.available, 0)
    # Update the listing on your marketplace here: declare its origin under [[http]] in
    # airlock.toml and its API key under [[secrets]].
    return types.Outcome(
        acted=True, summary=f"{level.title}: {listed} units to list on the marketplace"
    )


{{helpers}}
