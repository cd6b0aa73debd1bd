"""What slow or many HTTP callers may hold of the REST shim, so that a probe is always answered.

uvicorn's own bound (``limit_concurrency``) counts open *connections*: 1,000 slowloris
connections that never finish a request made every new request, ``/healthz`` included,
answer 503, and a Kubernetes liveness probe would restart a healthy pod. Instead:

- ``GuardedConnections`` (the HTTP protocol uvicorn runs, h11's with three additions):
  a request, head and body, must arrive within ``request_timeout`` of when the connection
  started waiting for it (connect, or the previous answer), or the connection is closed:
  trickling a request holds a connection for 15 s at most. At ``max_connections`` a new
  connection closes the one that has waited longest for its request (the trickler, not
  the probe that just connected and sends at once); only when every connection is being
  answered is the newcomer closed.
- ``ConcurrencyLimitMiddleware`` (``provider.rest.middleware``) bounds requests inside
  the app, answering 503 with ``Retry-After`` beyond it; ``/healthz`` and ``/readyz`` are
  exempt, so liveness and readiness say what they mean (the process answers; it is
  SERVING) and never "busy".
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from dubbo_recsys.provider.observability.logs import ThrottledLog

__all__ = ["ConnectionGuard"]

log = ThrottledLog(logging.getLogger(__name__))

_WAITING = (h11.IDLE, h11.SEND_BODY)  # the client owes us (the rest of) a request


class ConnectionGuard:
    """The connections of one REST shim; ``protocol()`` is the class uvicorn is given."""

    def __init__(self, max_connections: int, request_timeout: float) -> None:
        self.max_connections = max_connections
        self.request_timeout = request_timeout
        self.open: dict[Any, None] = {}
        self.timed_out = 0
        self.evicted = 0

    def protocol(self) -> type[H11Protocol]:
        guard = self

        class GuardedConnections(_Guarded):
            pass

        GuardedConnections.guard = guard
        return GuardedConnections

    def admit(self, conn: _Guarded) -> bool:
        if len(self.open) >= self.max_connections:
            waiting = [c for c in self.open if c.waiting_since is not None]
            if not waiting:
                log.warning("REST: refusing a connection: %d open, all being answered", len(self.open))
                return False
            oldest = min(waiting, key=lambda c: c.waiting_since)
            self.evicted += 1
            log.info("REST: connection limit: closing the one waiting longest for its request")
            oldest.transport.close()
            self.open.pop(oldest, None)
        self.open[conn] = None
        return True


class _Guarded(H11Protocol):
    guard: ConnectionGuard
    waiting_since: float | None = None
    _timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]  # as uvicorn's
        super().connection_made(transport)
        if not self.guard.admit(self):
            transport.close()
            return
        self._wait()

    def connection_lost(self, exc: Exception | None) -> None:
        self.guard.open.pop(self, None)
        if self._timer is not None:
            self._timer.cancel()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state not in _WAITING:
            self.waiting_since = None  # the whole request is in: the wait is ours now

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._wait()

    def _wait(self) -> None:
        self.waiting_since = time.monotonic()
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self.loop.call_later(self.guard.request_timeout, self._check)

    def _check(self) -> None:
        since = self.waiting_since
        if since is None or self.transport.is_closing():
            return
        late = time.monotonic() - since - self.guard.request_timeout
        if late < 0:
            self._timer = self.loop.call_later(-late, self._check)
            return
        self.guard.timed_out += 1
        log.info("REST: closing a connection whose request did not arrive within %ss", self.guard.request_timeout)
        self.transport.close()
