"""{{display_name}}: keeps a running total of sales per currency in the connector's own
storage. Imports exactly what airlock.toml declares: orders (orders:read); storage and log need
no scope."""

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports import log, orders, storage, types


def on_event(event: types.Event) -> types.Outcome:
    if event.topic != "order.created":
        return types.Outcome(acted=False, summary=f"not interested in {event.topic}")
    # Delivery is at least once: the event id makes a repeat harmless.
    seen = f"seen/{event.id}"
    if storage.get(seen) is not None:
        return types.Outcome(acted=False, summary="already counted this event")
    order = orders.get(event.subject_id)
    key = f"revenue/{order.total.currency}"
    stored = storage.get(key)
    after = (int(stored.decode()) if stored is not None else 0) + order.total.amount_minor
    storage.set(key, str(after).encode())
    storage.set(seen, b"")
    log.write(log.Level.INFO, f"counted {order.number}")
    so_far = money(types.Money(amount_minor=after, currency=order.total.currency))
    return types.Outcome(
        acted=True, summary=f"counted {order.number}: {money(order.total)} ({so_far} so far)"
    )


{{helpers}}
