# A refused host call raises `Err(host_error)`; the handler answers with a WIT
# `connector-error`, the cause the merchant sees and can act on.


def cause_of(error):
    """The merchant-facing cause for a failed host call (what `?` does in the Rust SDK); a
    connector error raised on purpose passes through."""
    if isinstance(error, types.HostError_Denied):
        return types.ConnectorError_PermissionMissing(error.value)
    if isinstance(error, types.HostError_NotFound):
        return types.ConnectorError_Other("record not found")
    if isinstance(error, types.HostError_InvalidInput):
        return types.ConnectorError_Other(f"invalid input: {error.value}")
    if isinstance(error, types.HostError_LimitExceeded):
        return types.ConnectorError_Other(f"host limit reached: {error.value}")
    if isinstance(error, types.HostError_Unavailable):
        return types.ConnectorError_Other("store data temporarily unavailable")
    return error


def money(total: types.Money) -> str:
    """`INR 1249.00`"""
    sign = "-" if total.amount_minor < 0 else ""
    units, cents = divmod(abs(total.amount_minor), 100)
    return f"{total.currency} {sign}{units}.{cents:02d}"


class Handler(exports.Handler):
    """The export: a failed host call becomes its cause. Any other exception is a bug: it is
    not caught, so the call fails and the host reports its traceback (from stderr)."""

    def handle_event(self, event: types.Event) -> types.Outcome:
        try:
            return on_event(event)
        except Err as e:
            raise Err(cause_of(e.value))

    def health_check(self) -> None:
        return None
