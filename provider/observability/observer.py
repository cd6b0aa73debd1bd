"""The seam between the dispatch path and whatever records calls.

``provider.dispatch.Dispatcher`` keeps a list of ``DispatchObserver`` objects and,
when the list is not empty, hands each one every invocation, its outcome and how
long dispatching took. This module imports nothing heavy (no prometheus, no
OpenTelemetry) so the dispatcher can name the protocol without paying for it.

Labels must stay bounded whatever a peer sends, so ``dispatch_labels`` maps an
unknown service or method (which a hostile consumer can spell any way it likes)
to ``UNKNOWN`` instead of copying it into a metric label.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

__all__ = ["UNKNOWN", "CallObserver", "DispatchObserver", "dispatch_labels"]

UNKNOWN = "<unknown>"

# provider.protocol.Status values the dispatcher answers for names it does not know
_SERVICE_NOT_FOUND = 60
_METHOD_NOT_FOUND = 70


@runtime_checkable
class DispatchObserver(Protocol):
    """What the dispatcher calls after every invocation; must not raise or block."""

    def observe_dispatch(self, invocation: Any, outcome: Any, seconds: float) -> None: ...


@runtime_checkable
class CallObserver(Protocol):
    """Protocol-neutral recording of one finished call (dubbo, grpc or rest)."""

    def observe_call(self, protocol: str, interface: str, method: str, status: str, seconds: float) -> None: ...


def dispatch_labels(invocation: Any, outcome: Any) -> tuple[str, str, str]:
    """``(interface, method, status)`` for a dispatched dubbo:// call, bounded in cardinality.

    ``status`` is ``ok`` (returned), ``exception`` (the handler raised: Dubbo status
    20 with an exception object) or the Dubbo status name of a refusal.
    """
    kind = type(outcome).__name__
    interface, method = str(invocation.path), str(invocation.method)
    if kind == "Returned":
        return interface, method, "ok"
    if kind == "Raised":
        return interface, method, "exception"
    status = getattr(outcome, "status", None)
    code = int(status) if status is not None else 0
    if code == _SERVICE_NOT_FOUND:
        interface, method = UNKNOWN, UNKNOWN
    elif code == _METHOD_NOT_FOUND:
        method = UNKNOWN
    name = getattr(status, "name", None) or str(code)
    return interface, method, name.lower()
