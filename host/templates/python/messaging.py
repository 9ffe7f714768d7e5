"""{{display_name}}: composes an order confirmation for each new order. Imports exactly what
airlock.toml declares: orders (orders:read), customers (customers:read; the phone number only
under customers:read-contact), and log."""

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports import customers, log, orders, types


def on_event(event: types.Event) -> types.Outcome:
    if event.topic != "order.created":
        return types.Outcome(acted=False, summary=f"not interested in {event.topic}")
    order = orders.get(event.subject_id)
    customer = customers.get(order.customer_id) if order.customer_id else None
    if customer is None or not customer.phone:
        log.write(log.Level.WARN, "no phone number shared (customers:read-contact not approved)")
        return types.Outcome(
            acted=False,
            summary=f"no phone number shared for {order.number}, so no confirmation was sent",
        )
    greeting = f"Hi {customer.name}" if customer.name else "Hello"
    message = f"{greeting}, thank you for order {order.number} ({money(order.total)})."
    # Send `message` with your messaging provider here: declare its origin under [[http]] in
    # airlock.toml and its API key under [[secrets]].
    log.write(log.Level.INFO, f"confirmation for {order.number} composed ({len(message)} characters)")
    phone = customer.phone
    return types.Outcome(
        acted=True, summary=f"confirmation for {order.number} to {phone[:3]}•••{phone[-2:]}"
    )


{{helpers}}
