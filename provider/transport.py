"""The asyncio adapter: the only module in ``provider`` that touches sockets.

One ``Server`` listens on one port (optionally with SO_REUSEPORT so several worker
processes share it) and runs one ``_Connection`` per accepted socket. A connection
feeds bytes to a ``FrameReader`` and hands each request frame to
``provider.exchange``, which returns the whole answer frame; every frame goes out
in a single ``transport.write`` so concurrent answers never interleave, and they
go out in completion order (Dubbo multiplexes by request id).

Limits, each answered the way a Java consumer understands:

- ``max_connections``: a connection beyond it is closed at once (Java's ``accepts``);
- ``max_inflight`` calls being handled in this process: beyond it the request is
  answered at once with status 100 (Java's thread pool exhausted);
- ``payload_limit``: oversized requests get status 25, their bodies are skipped;
- ``idle_timeout``: a connection with nothing read for that long is closed (Java
  closes after three missed 60 s heartbeats).

Graceful shutdown (``Server.shutdown``): stop accepting, run ``before_readonly``
hooks (the registry deregisters there), send the READONLY event on every
connection, wait for in-flight calls (``drain_timeout`` at most), close, run
``after_close`` hooks (the registry's client shuts down). ``after_listening`` hooks
run once the socket is bound (the registry registers, the gRPC shim starts); one
that raises fails ``start`` and the listener is closed again.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import socket
import time
from collections.abc import Awaitable, Callable, Coroutine, Generator
from dataclasses import dataclass, field
from typing import Any, cast

from dubbo_recsys.provider.config import ServerConfig
from dubbo_recsys.provider.dispatch import Dispatcher
from dubbo_recsys.provider.errors import FrameError
from dubbo_recsys.provider.exchange import Exchange
from dubbo_recsys.provider.protocol import (
    NEED_DATA,
    ConnectionClosed,
    FrameReader,
    OversizedFrame,
    RequestFrame,
    encode_readonly_event,
)

__all__ = ["Lifecycle", "Server", "install_uvloop", "start_eagerly"]

log = logging.getLogger(__name__)

Hook = Callable[["Server"], Awaitable[None]]


def install_uvloop() -> bool:
    """Use uvloop's event loop policy when it is installed; say whether it is."""
    try:
        import uvloop
    except ImportError:
        return False
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    return True


def start_eagerly(coro: Coroutine[Any, Any, None]) -> asyncio.Task[None] | None:
    """Run ``coro`` now, up to its first real suspension; only then make it a Task.

    Most calls (``$echo``, the popularity recommender, cached answers) never wait
    on anything, and a Task per call halves the throughput of those. This is what
    Python 3.12's ``eager_task_factory`` does; on 3.11 we do it by hand: step the
    coroutine once, and if it yielded a future, hand the rest to a Task that
    waits for that future and then keeps stepping the same coroutine.
    """
    try:
        yielded = coro.send(None)
    except StopIteration:
        return None
    return asyncio.ensure_future(_resume(coro, yielded))


class _Yield:
    """Awaitable that re-yields what the inner coroutine yielded, so the Task waits on it."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __await__(self) -> Generator[Any, None, None]:
        yield self.value


async def _resume(coro: Coroutine[Any, Any, None], yielded: Any) -> None:
    while True:
        try:
            await _Yield(yielded)
        except BaseException as exc:  # cancelled while waiting: let the coroutine see it
            try:
                yielded = coro.throw(exc)
            except StopIteration:
                return
            continue
        try:
            yielded = coro.send(None)
        except StopIteration:
            return


@dataclass
class Lifecycle:
    """Hooks other layers attach to; each receives the server and is awaited in order."""

    before_listening: list[Hook] = field(default_factory=list)  # e.g. load models, connect Redis
    after_listening: list[Hook] = field(default_factory=list)
    before_readonly: list[Hook] = field(default_factory=list)
    after_close: list[Hook] = field(default_factory=list)


class Server:
    def __init__(self, dispatcher: Dispatcher, config: ServerConfig, lifecycle: Lifecycle | None = None) -> None:
        self.dispatcher = dispatcher
        self.config = config
        self.lifecycle = lifecycle or Lifecycle()
        self.exchange = Exchange(dispatcher, config.payload_limit)
        self.connections: set[_Connection] = set()
        self.inflight = 0
        self._event_ids = itertools.count(1)
        self._server: asyncio.base_events.Server | None = None
        self._idle_task: asyncio.Task[None] | None = None
        self._drained: asyncio.Event | None = None
        self._closing = False

    @property
    def port(self) -> int:
        if self._server is None or not self._server.sockets:
            raise RuntimeError("server is not listening")
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def closing(self) -> bool:
        return self._closing

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._drained = asyncio.Event()
        self._drained.set()
        for hook in self.lifecycle.before_listening:  # nothing can call us before these finish
            await hook(self)
        self._server = await loop.create_server(
            lambda: _Connection(self),
            self.config.host,
            self.config.port,
            reuse_address=True,
            reuse_port=self.config.reuse_port or None,
            backlog=1024,
        )
        self._idle_task = asyncio.create_task(self._close_idle())
        try:
            for hook in self.lifecycle.after_listening:
                await hook(self)
        except BaseException:  # a hook that cannot start fails the start, listener included
            self._closing = True
            self._idle_task.cancel()
            self._server.close()
            await self._server.wait_closed()
            raise

    async def shutdown(self, drain_timeout: float | None = None) -> None:
        """Graceful stop; safe to call twice. ``drain_timeout`` overrides the config's for this stop."""
        if self._closing:
            return
        self._closing = True
        if self._server is not None:
            self._server.close()
        for hook in self.lifecycle.before_readonly:
            try:
                await hook(self)
            except Exception:  # a failing hook must not block the drain
                log.exception("before_readonly hook failed")
        for conn in list(self.connections):
            conn.write(encode_readonly_event(next(self._event_ids)))
        assert self._drained is not None
        try:
            drain = self.config.drain_timeout if drain_timeout is None else max(drain_timeout, 0.0)
            await asyncio.wait_for(self._drained.wait(), drain)
        except TimeoutError:
            log.warning("drain timed out with %d calls in flight", self.inflight)
        for conn in list(self.connections):
            conn.close()
        if self._idle_task is not None:
            self._idle_task.cancel()
        if self._server is not None:
            await self._server.wait_closed()
        for hook in self.lifecycle.after_close:
            try:
                await hook(self)
            except Exception:  # closing goes on whatever a hook says
                log.exception("after_close hook failed")

    async def serve_forever(self) -> None:
        """Start, then run until cancelled or shut down."""
        if self._server is None:
            await self.start()
        assert self._server is not None
        try:
            await self._server.serve_forever()
        except asyncio.CancelledError:
            if not self._closing:
                raise

    def _call_started(self) -> None:
        self.inflight += 1
        assert self._drained is not None
        self._drained.clear()

    def _call_finished(self) -> None:
        self.inflight -= 1
        if self.inflight == 0 and self._drained is not None:
            self._drained.set()

    async def _close_idle(self) -> None:
        period = max(self.config.idle_timeout / 3, 0.05)
        while True:
            await asyncio.sleep(period)
            deadline = time.monotonic() - self.config.idle_timeout
            for conn in list(self.connections):
                if conn.last_read < deadline:
                    log.info("closing idle connection from %s", conn.peer)
                    conn.close()


class _Connection(asyncio.Protocol):
    __slots__ = ("_closed", "_out", "_tasks", "last_read", "peer", "reader", "server", "transport")

    def __init__(self, server: Server) -> None:
        self.server = server
        self.reader = FrameReader(server.config.payload_limit)
        self.transport: asyncio.Transport | None = None
        self.peer = "?"
        self.last_read = time.monotonic()
        self._closed = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._out: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass, but has the methods
        self.transport = transport
        self.peer = str(transport.get_extra_info("peername"))
        server = self.server
        if server.closing or len(server.connections) >= server.config.max_connections:
            log.warning("refusing connection from %s: %d connections open", self.peer, len(server.connections))
            self._closed = True
            transport.abort()
            return
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        server.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        self.server.connections.discard(self)

    def write(self, frame: bytes) -> None:
        """Queue one whole frame; frames queued in one loop iteration leave in one send."""
        if self._closed or self.transport is None:
            return
        if not self._out:
            asyncio.get_running_loop().call_soon(self._flush)
        self._out.append(frame)

    def _flush(self) -> None:
        out, self._out = self._out, []
        if out and not self._closed and self.transport is not None:
            self.transport.write(out[0] if len(out) == 1 else b"".join(out))

    def close(self) -> None:
        if not self._closed and self.transport is not None:
            self._flush()  # answers already produced still go out before the FIN
            self._closed = True
            self.transport.close()

    def pause_writing(self) -> None:
        # the peer reads slower than it sends: stop reading until our answers drain
        if self.transport is not None:
            self.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.transport is not None and not self._closed:
            self.transport.resume_reading()

    def eof_received(self) -> bool:
        self.data_received(b"")
        return False

    def data_received(self, data: bytes) -> None:
        if self._closed:
            return
        self.last_read = time.monotonic()
        reader = self.reader
        reader.receive_data(data)
        server = self.server
        exchange = server.exchange
        while True:
            try:
                event = reader.next_event()
            except FrameError as exc:
                log.warning("closing connection from %s: %s", self.peer, exc)
                self.close()
                return
            if event is NEED_DATA:
                return
            if type(event) is RequestFrame:
                if event.event:
                    answer = exchange.answer_event(event)
                    if answer is not None:
                        self.write(answer)
                    continue
                if server.inflight >= server.config.max_inflight:
                    if event.two_way:  # a one-way call nobody waits for is dropped
                        self.write(exchange.answer_overloaded(event, server.inflight))
                    continue
                server._call_started()
                task = start_eagerly(self._handle(event))
                if task is not None:
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)
            elif type(event) is OversizedFrame:
                answer = exchange.answer_oversized(event, self.peer)
                if answer is not None:
                    self.write(answer)
            elif type(event) is ConnectionClosed:
                self.close()
                return
            # response frames (answers to nothing we sent) are ignored

    async def _handle(self, frame: RequestFrame) -> None:
        try:
            answer = await self.server.exchange.answer(frame)
            if answer is not None:
                self.write(answer)
        except Exception:  # exchange answers every failure itself; this is a bug guard
            log.exception("unexpected failure answering request %d", frame.request_id)
        finally:
            self.server._call_finished()
