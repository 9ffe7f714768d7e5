"""{{display_name}}: prepares a conversion for your ad platform from each new order and keeps
it in the connector's own storage until it is sent. Imports exactly what airlock.toml declares:
orders (orders:read); storage and log need no scope."""

import json

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports import log, orders, storage, types


def on_event(event: types.Event) -> types.Outcome:
    if event.topic != "order.created":
        return types.Outcome(acted=False, summary=f"not interested in {event.topic}")
    order = orders.get(event.subject_id)
    # No customer data: a conversion is the order's value and time, nothing about who bought.
    conversion = {
        "order": order.id,
        "value": order.total.amount_minor,
        "currency": order.total.currency,
        "at": order.created_at,
    }
    # Send it to your ad platform here: declare its origin under [[http]] in airlock.toml and
    # its API key under [[secrets]].
    storage.set(f"conversions/{order.id}", json.dumps(conversion).encode())
    log.write(log.Level.INFO, f"conversion for {order.number} prepared")
    return types.Outcome(
        acted=True,
        summary=f"conversion for {order.number} worth {money(order.total)} prepared",
    )


{{helpers}}
