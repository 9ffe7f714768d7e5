"""{{display_name}}: asks your payment gateway whether each new order was paid and marks it
paid. Imports exactly what airlock.toml declares: orders (orders:read), order-updates
(orders:write), log, and wasi:http/outgoing-handler to call the declared origin. The API key is
never in the code: the host attaches it where the request says `{{secret:gateway_key}}`."""

import json
from urllib.parse import quote

from componentize_py_types import Err, Ok
from wit_world import exports
from wit_world.imports import log, order_updates, orders, outgoing_handler, streams, types
from wit_world.imports import wasi_http_types as http

GATEWAY = "api.paygate.example"


def get(path: str, headers: list[tuple[str, bytes]]) -> tuple[int, http.Fields, bytes]:
    """GET https://GATEWAY/path: status, headers and body. Raises `Err(connector-error)`
    when the host refuses the request or the gateway cannot be reached."""
    request = http.OutgoingRequest(http.Fields.from_list(headers))
    request.set_scheme(http.Scheme_Https())
    request.set_authority(GATEWAY)
    request.set_path_with_query(path)
    try:
        future = outgoing_handler.handle(request, None)
    except Err as e:
        raise Err(types.ConnectorError_Network(f"the request was refused: {e.value}"))
    with future:
        with future.subscribe() as ready:
            ready.block()
        answer = future.get()
    if not isinstance(answer, Ok) or not isinstance(answer.value, Ok):
        reason = answer.value if answer is not None else "no answer"
        raise Err(types.ConnectorError_Network(f"the gateway could not be reached: {reason}"))
    response = answer.value.value
    status, response_headers = response.status(), response.headers()
    body = response.consume()
    chunks = []
    with body.stream() as stream:
        while True:
            try:
                chunks.append(stream.blocking_read(16 * 1024))
            except Err as e:
                if isinstance(e.value, streams.StreamError_Closed):
                    break
                raise Err(types.ConnectorError_Network("the gateway's answer was cut short"))
    return status, response_headers, b"".join(chunks)


def provider_cause(status: int, headers: http.Fields):
    """The cause a provider's answer points to, or None when it is a success."""
    if status < 400:
        return None
    if status in (401, 403):
        return types.ConnectorError_InvalidCredentials()
    if status == 402:
        return types.ConnectorError_BillingIssue()
    if status == 429:
        values = headers.get("retry-after")
        text = values[0].decode(errors="replace") if values else ""
        return types.ConnectorError_RateLimited(int(text) if text.isdigit() else None)
    if status >= 500:
        return types.ConnectorError_ProviderUnavailable()
    return types.ConnectorError_ProviderApiChanged(f"the gateway answered {status}")


def on_event(event: types.Event) -> types.Outcome:
    if event.topic != "order.created":
        return types.Outcome(acted=False, summary=f"not interested in {event.topic}")
    order = orders.get(event.subject_id)
    if order.financial_status == types.FinancialStatus.PAID:
        return types.Outcome(acted=False, summary=f"{order.number} is already marked paid")
    path = f"/v1/payments?reference={quote(order.number, safe='')}"
    status, headers, body = get(path, [("authorization", b"Bearer {{secret:gateway_key}}")])
    cause = provider_cause(status, headers)
    if cause is not None:
        raise Err(cause)
    payment = json.loads(body or b"{}")
    if payment.get("status") != "captured":
        state = payment.get("status", "unknown")
        return types.Outcome(
            acted=False, summary=f"{order.number}: the payment is {state}, not captured yet"
        )
    order_updates.set_financial_status(order.id, types.FinancialStatus.PAID)
    log.write(log.Level.INFO, f"{order.number} confirmed paid")
    return types.Outcome(
        acted=True, summary=f"{order.number} confirmed paid by the gateway and marked paid"
    )


{{helpers}}
