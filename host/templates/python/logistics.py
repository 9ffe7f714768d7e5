"""{{display_name}}: books a courier pickup for each new order and marks it fulfilled. Imports
exactly what airlock.toml declares: orders (orders:read), order-updates (orders:write), log."""

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports import log, order_updates, orders, types


def on_event(event: types.Event) -> types.Outcome:
    if event.topic != "order.created":
        return types.Outcome(acted=False, summary=f"not interested in {event.topic}")
    order = orders.get(event.subject_id)
    done = (types.FulfillmentStatus.FULFILLED, types.FulfillmentStatus.CANCELLED)
    if order.fulfillment_status in done:
        state = order.fulfillment_status.name.lower()
        return types.Outcome(acted=False, summary=f"{order.number} is already {state}")
    units = sum(item.quantity for item in order.line_items)
    # Book the pickup with your courier here: declare its origin under [[http]] in
    # airlock.toml and its API key under [[secrets]].
    order_updates.set_fulfillment_status(order.id, types.FulfillmentStatus.FULFILLED)
    log.write(log.Level.INFO, f"pickup booked for {order.number}")
    return types.Outcome(
        acted=True,
        summary=f"booked a pickup for {order.number} ({units} units) and marked it fulfilled",
    )


{{helpers}}
