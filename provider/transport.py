"""The asyncio adapter: the listening socket, its connections, and the server's life.

One ``Server`` listens on one port (optionally with SO_REUSEPORT so several worker
processes share it) and runs one ``provider.connection.Connection`` per accepted socket;
that module says what a single connection may cost (work per loop turn, calls in flight,
unsent answers, a stalled frame). This one bounds what they cost together:

- work per turn of the loop: connections with frames left over from their last turn
  wait in one queue (``want_turn``); each turn of the loop serves it round robin with
  ``frames_per_turn`` frames in all, however many connections wait, so a caller that sends
  one request waits for at most that much of the others' work (40 pipelining peers
  served one frame each per turn made every other call wait ~2 ms); connections that
  stream bytes wait in another (``want_read``): one of them reads on per turn;

- ``max_connections``: at the limit a new connection evicts the least recently active
  one that has no call running (a consumer reconnects; Java closes idle channels too);
  when every connection has a call running the newcomer is closed at once;
- ``max_inflight`` calls handled in this process: beyond it the request is answered
  at once with status 100 (Java's thread pool exhausted);
- ``read_buffer_budget``: bytes of frames not yet complete, over all connections; past
  it the connection holding the most is closed (frames of up to ``payload_limit`` are
  legal, so without this ``max_connections`` trickled frames could hold gigabytes);
- ``payload_limit``: oversized requests get status 25, their bodies are skipped; after
  a frame of a MiB or more, or a connection closed with answers its peer never took, the
  heap's free pages go back to the system (``provider.heap``);
- ``idle_timeout``: a connection with nothing read for that long is closed (Java
  closes after three missed 60 s heartbeats); ``frame_timeout``: one whose frame has
  been arriving for that long (slowloris) is closed.

Graceful shutdown (``Server.shutdown``): stop accepting, run ``before_readonly`` hooks
(the registry deregisters there), send READONLY on every connection, keep serving;
a connection is finished once it is quiet between requests, and at the drain deadline
every connection still open refuses (``Connection.refuse_from_now``), then finishes.
Every request read is answered: ``answers_dropped`` counts answers that found their
connection closed, and the drain logs them with the calls still running, if any.
``after_close`` hooks run last (the registry's client shuts down). ``after_listening``
hooks run once the socket is bound (the registry registers, the gRPC shim starts); one
that raises fails ``start`` and the listener is closed again.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from dubbo_recsys.provider import heap
from dubbo_recsys.provider.config import ServerConfig
from dubbo_recsys.provider.connection import CLOSED, OPEN, Connection
from dubbo_recsys.provider.dispatch import Dispatcher
from dubbo_recsys.provider.eager import start_eagerly  # re-exported: where callers found it
from dubbo_recsys.provider.exchange import Exchange
from dubbo_recsys.provider.observability.logs import ThrottledLog
from dubbo_recsys.provider.protocol import encode_readonly_event

__all__ = ["Lifecycle", "Server", "install_uvloop", "start_eagerly"]

log = logging.getLogger(__name__)
peer_log = ThrottledLog(log)  # what peers cause: bounded, whatever they do

Hook = Callable[["Server"], Awaitable[None]]


def install_uvloop() -> bool:
    """Use uvloop's event loop policy when it is installed; say whether it is."""
    try:
        import uvloop
    except ImportError:
        return False
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    return True


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
        self.exchange = Exchange(
            dispatcher, config.payload_limit, config.decode_memory_ratio, config.sliced_decode_from
        )
        # open connections, least recently read first (``touch`` moves one to the end)
        self.connections: dict[Connection, None] = {}
        self.inflight = 0
        self.buffered = 0  # bytes read but not yet parsed, over all connections
        self.turns: collections.deque[Connection] = collections.deque()  # waiting for a turn (want_turn)
        self._turn_scheduled = False
        self.readers: collections.deque[Connection] = collections.deque()  # waiting to read on (want_read)
        self._read_scheduled = False
        self._read_tokens = 0.0  # bulk_read_rate's budget, in bytes (want_read)
        self._read_refilled = 0.0
        self.answers_dropped = 0  # answers whose connection had closed (or sent its FIN) first
        self._event_ids = itertools.count(1)
        self._server: asyncio.base_events.Server | None = None
        self._sweep_task: asyncio.Task[None] | None = None
        self._drained: asyncio.Event | None = None
        self._emptied: asyncio.Event | None = None  # set when the last connection goes, while draining
        self._closing = False
        self._heap_trim: asyncio.TimerHandle | None = None

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
        heap.configure()
        self._drained = asyncio.Event()
        self._drained.set()
        for hook in self.lifecycle.before_listening:  # nothing can call us before these finish
            await hook(self)
        self._server = await loop.create_server(
            lambda: Connection(self),
            self.config.host,
            self.config.port,
            reuse_address=True,
            reuse_port=self.config.reuse_port or None,
            backlog=1024,
        )
        self._sweep_task = asyncio.create_task(self._sweep())
        try:
            for hook in self.lifecycle.after_listening:
                await hook(self)
        except BaseException:  # a hook that cannot start fails the start, listener included
            self._closing = True
            self._sweep_task.cancel()
            self._server.close()
            await self._server.wait_closed()
            raise

    async def shutdown(self, drain_timeout: float | None = None) -> None:
        """Graceful stop (see the module doc); safe to call twice. ``drain_timeout`` overrides the config's
        for this stop."""
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
        await self._drain(self.config.drain_timeout if drain_timeout is None else max(drain_timeout, 0.0))
        if self._sweep_task is not None:
            self._sweep_task.cancel()
        if self._heap_trim is not None:
            self._heap_trim.cancel()
        if self._server is not None:
            await self._server.wait_closed()
        self.exchange.close()
        for hook in self.lifecycle.after_close:
            try:
                await hook(self)
            except Exception:  # closing goes on whatever a hook says
                log.exception("after_close hook failed")

    async def _drain(self, drain_timeout: float) -> None:
        config = self.config
        dropped_before = self.answers_dropped
        for conn in list(self.connections):
            conn.write(encode_readonly_event(next(self._event_ids)))
        told = time.monotonic()
        deadline = told + drain_timeout
        while self.connections and time.monotonic() < deadline:
            now = time.monotonic()
            for conn in list(self.connections):
                if (
                    conn.state == OPEN
                    and conn.between_requests
                    and now - max(told, conn.last_read) >= config.drain_quiet
                ):
                    conn.finish()
            await asyncio.sleep(min(0.05, config.drain_quiet / 2))
        still_open = [conn for conn in self.connections if conn.state == OPEN]
        if still_open:
            log.warning("drain deadline: %d connections still sending; refusing what they send next", len(still_open))
        for conn in still_open:
            conn.refuse_from_now()
        if self.connections:
            emptied = self._emptied = asyncio.Event()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(emptied.wait(), 2 * config.drain_linger + 0.5)
        for conn in list(self.connections):
            conn.abort()
        unanswered = self.answers_dropped - dropped_before + self.inflight
        if unanswered:
            log.warning("drain: %d requests read were not answered", unanswered)
        else:  # worth a line when consumers kept sending past the deadline
            log.log(logging.WARNING if still_open else logging.INFO, "drain: every request read was answered")

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

    # -- what connections ask of the server ----------------------------------------------------

    def admit(self, conn: Connection) -> bool:
        """Whether a new connection may stay; at the limit, make room by evicting an idle one."""
        if self._closing:
            return False
        connections = self.connections
        if len(connections) >= self.config.max_connections:
            victim = next((c for c in connections if not c.inflight), None)
            if victim is None:
                peer_log.warning("refusing connection from %s: %d connections, all busy", conn.peer, len(connections))
                return False
            peer_log.info("connection limit: closing the least recently active one, from %s", victim.peer)
            victim.close()
        connections[conn] = None
        return True

    def touch(self, conn: Connection) -> None:
        """``conn`` read something: it becomes the most recently active connection."""
        connections = self.connections
        if conn in connections:
            del connections[conn]
            connections[conn] = None

    def forget(self, conn: Connection) -> None:
        self.connections.pop(conn, None)
        if not self.connections and self._emptied is not None:
            self._emptied.set()

    def over_budget(self) -> None:
        """Frames not yet complete hold more than ``read_buffer_budget``: close the biggest holder."""
        victim = max(self.connections, key=lambda c: c.held_bytes, default=None)
        if victim is not None and victim.held_bytes:
            peer_log.warning(
                "closing connection from %s: %d bytes of unfinished frames held, %d in all",
                victim.peer,
                victim.held_bytes,
                self.buffered,
            )
            victim.abort()

    def want_turn(self, conn: Connection) -> None:
        """``conn`` has frames left after its share: it is served again on a later turn of the loop."""
        self.turns.append(conn)
        if not self._turn_scheduled:
            self._turn_scheduled = True
            asyncio.get_running_loop().call_soon(self._run_turns)

    def _run_turns(self) -> None:
        """One turn: ``frames_per_turn`` frames in all, shared round robin by the connections waiting."""
        self._turn_scheduled = False
        turns = self.turns
        budget = self.config.frames_per_turn
        for _ in range(len(turns)):  # those queued again during this turn wait for the next one
            if budget <= 0:
                break
            share = max(1, budget // len(turns))
            budget -= turns.popleft().take_turn(share)
        if turns and not self._turn_scheduled:
            self._turn_scheduled = True
            asyncio.get_running_loop().call_soon(self._run_turns)

    def want_read(self, conn: Connection) -> None:
        """``conn`` read ``bytes_per_turn`` since it last gave way: it reads on when its turn comes.
        One such connection reads on per turn of the loop, round robin, however many stream,
        and all of them together at ``bulk_read_rate`` bytes a second at most: each read of
        256 KiB is ~0.1-0.2 ms of copying that every other caller waits for, and what it
        brings costs more (a large body is joined and decoded); four connections streaming
        8 MiB frames, read as fast as they came, kept the loop ~65-90 % busy and a 2-core
        machine's other core with them."""
        self.readers.append(conn)
        if not self._read_scheduled:
            self._schedule_reader()

    def _schedule_reader(self) -> None:
        """The next read turn: at once, or when the bulk budget has refilled for one."""
        self._read_scheduled = True
        loop = asyncio.get_running_loop()
        rate = self.config.bulk_read_rate
        if not rate:
            loop.call_soon(self._next_reader)
            return
        now = loop.time()
        turn = self.config.bytes_per_turn
        self._read_tokens = min(float(turn), self._read_tokens + (now - self._read_refilled) * rate)
        self._read_refilled = now
        if self._read_tokens >= turn:
            loop.call_soon(self._next_reader)
        else:
            loop.call_later((turn - self._read_tokens) / rate, self._next_reader)

    def _next_reader(self) -> None:
        self._read_scheduled = False
        readers = self.readers
        while readers:
            conn = readers.popleft()
            if conn.state is not CLOSED:
                self._read_tokens -= self.config.bytes_per_turn
                conn.take_read_turn()
                break
        if readers and not self._read_scheduled:
            self._schedule_reader()

    def give_back_memory(self) -> None:
        """A MiB or more is being freed (a large frame read or cut off, a connection closed with the
        answers its peer never took): give the heap's free pages back to the system once no such
        call came for a second (``provider.heap`` says why). Not while they keep coming: the next
        large frame would fault the same pages in again, 2-5 ms of one callback for 8 MiB, and
        what a stream of them holds meanwhile is bounded by the read budget."""
        if self._heap_trim is not None:
            self._heap_trim.cancel()
        self._heap_trim = asyncio.get_running_loop().call_later(1.0, self._trim_heap)

    def _trim_heap(self) -> None:
        """In a thread: ``malloc_trim`` of 8 MiB of free pages takes 4-8 ms, and ctypes lets the
        event loop run meanwhile (it releases the GIL for the call)."""
        self._heap_trim = None
        asyncio.get_running_loop().run_in_executor(None, heap.trim)
        self.exchange.slicer.in_worker(heap.trim_thread_arena)

    def call_started(self) -> None:
        self.inflight += 1
        assert self._drained is not None
        self._drained.clear()

    def call_finished(self) -> None:
        self.inflight -= 1
        if self.inflight == 0 and self._drained is not None:
            self._drained.set()

    async def _sweep(self) -> None:
        config = self.config
        period = max(min(config.idle_timeout, config.frame_timeout) / 3, 0.05)
        while True:
            await asyncio.sleep(period)
            now = time.monotonic()
            idle_since = now - config.idle_timeout
            for conn in list(self.connections):
                if conn.state != OPEN:
                    continue
                if conn.last_read < idle_since:
                    peer_log.info("closing idle connection from %s", conn.peer)
                    conn.close()
                elif conn.stalled_frame(now, config.frame_timeout):
                    peer_log.warning(
                        "closing connection from %s: a frame stalled for %ss", conn.peer, config.frame_timeout
                    )
                    conn.abort()
