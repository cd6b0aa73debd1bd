"""One accepted dubbo:// connection: frames in, answers out, and what it may cost the others.

``provider.transport.Server`` creates one ``Connection`` per socket. The connection feeds
bytes to a ``FrameReader``, hands each request frame to ``provider.exchange`` and writes
each whole answer frame in one piece (answers leave in completion order: Dubbo
multiplexes by request id). What one connection may cost, each bound a ``ServerConfig``
field (``serve`` flag):

- work per turn of the event loop: frames that arrive are handled at once, at most
  ``frames_per_turn`` of them, or one while other connections wait for a turn; the rest
  wait in the server's turn queue (``Server.want_turn``), which serves ``frames_per_turn``
  frames per turn of the loop in all, round robin (``--frames-per-turn``), so a connection
  that sends one call waits for at most one such turn however many connections pipeline.
  Bytes count too: once a connection has sent ``bytes_per_turn`` since it last gave way,
  it is not read until its turn in the server's reader queue (``Server.want_read``),
  which lets one such connection read on per turn of the loop, round robin
  (``--bytes-per-turn``). The event loop reads a ready socket up
  to 32 times in a row (libuv), so a peer streaming large frames had 8 MiB or more copied
  in one go while every other caller waited (20-50 ms);
- calls in flight: at ``max_inflight_per_connection`` this connection stops being read
  until one finishes (``--max-inflight-per-connection``): it waits, it is not refused;
- unsent answers: past ``write_buffer_limit`` bytes (a peer that does not read) the
  connection stops being read until the peer has taken most of them
  (``--write-buffer-limit``). The kernel's send buffer is fixed at
  ``socket_send_buffer`` (``--socket-send-buffer``) instead of growing to 4 MiB, so a
  peer that never reads gets ~2,000 ``recommend`` answers computed for it, not ~9,000;
- large bodies: one of ``sliced_decode_from`` bytes or more is decoded beside the loop, a
  slice per turn (``provider.exchange``), and the connection is not read until it is
  decoded; the body counts against the server's read budget meanwhile, as it did while
  it arrived;
- the body of an oversized frame (answered status 25 at its header) is read and dropped
  one read per ``SKIP_PAUSE`` (5 ms): ~50 MB/s, not the ~750 MB/s such a peer got before;
- a frame started must be complete within ``frame_timeout`` seconds, or the connection
  is closed (a trickled frame holds a buffer and a slot; ``--frame-timeout``).

Reading stops while any of these *holds* is on (``_hold``, a bit set; waiting for its
next turn only once 64 KiB are unparsed); frames already read stay unparsed in the
reader until it clears. So what a connection can make the server hold is one read
(256 KiB) plus one frame, one turn of answers and the write limit.

Draining (``Server.shutdown``): READONLY goes out and the connection is served as
before. It is *finished* when it has been quiet for ``drain_quiet`` seconds between
requests (a consumer that honours READONLY), or at the drain deadline (one that does
not). At the deadline it *refuses*: calls still running are cancelled and every request
read from then on is answered at once with status 80 "shutting down, not executed", so
no request read goes unanswered. Finishing waits for a frame boundary (at most
``drain_linger``), answers a request whose header was read but not its body, flushes,
and sends FIN; bytes arriving after that are read and discarded unparsed until the peer
closes (or ``drain_linger`` passes), so the peer sees every answer whole and then a clean
end of stream, never a reset or half an answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from typing import TYPE_CHECKING, cast

from dubbo_recsys.provider.eager import start_eagerly
from dubbo_recsys.provider.errors import FrameError
from dubbo_recsys.provider.heap import LARGE_FRAME
from dubbo_recsys.provider.observability.logs import ThrottledLog
from dubbo_recsys.provider.protocol import (
    NEED_DATA,
    ConnectionClosed,
    FrameReader,
    OversizedFrame,
    RequestFrame,
    Status,
)

if TYPE_CHECKING:
    from dubbo_recsys.provider.transport import Server

__all__ = ["Connection"]

log = ThrottledLog(logging.getLogger(__name__))

# reasons to stop reading (bits of Connection._hold)
_TURN = 1  # this turn's frames are handled; the next turn is scheduled
_BACKLOG = 2  # too many answers not yet taken by the peer
_INFLIGHT = 4  # too many calls of this connection running
_FINISHING = 8  # draining: no request will be read any more
_READ_TURN = 16  # bytes_per_turn read since this connection last gave way: it waits in Server.want_read
_DECODING = 32  # a large body of this connection is being decoded beside the loop (provider.slices)
_TURN_READ_AHEAD = 64 * 1024  # bytes a connection waiting for its turn may still read
# seconds a connection skipping the body of an oversized frame waits after each read: such a body
# was answered status 25 at its header and only a peer that ignores the payload limit sends one
# (Java checks it before sending); read at full speed, two such peers took ~40 % of the loop
SKIP_PAUSE = 0.005

# Connection.state
OPEN, REFUSING, LINGERING, CLOSED = "open", "refusing", "lingering", "closed"

SHUTTING_DOWN = "Provider is shutting down: the call was not executed, retry it on another provider"
CANCELLED = "Provider is shutting down: the call was cancelled before it completed"


class Connection(asyncio.Protocol):
    __slots__ = (
        "_accounted",
        "_boundary_wait",
        "_decoding",
        "_eof",
        "_frame_since",
        "_hold",
        "_linger",
        "_out",
        "_reading",
        "_tasks",
        "_turn_read",
        "_writable",
        "inflight",
        "last_read",
        "peer",
        "reader",
        "server",
        "state",
        "transport",
    )

    def __init__(self, server: Server) -> None:
        self.server = server
        self.reader = FrameReader(server.config.payload_limit)
        self.transport: asyncio.Transport | None = None
        self.peer = "?"
        self.state = OPEN
        self.last_read = self._frame_since = time.monotonic()
        self.inflight = 0
        self._hold = 0
        self._writable = False  # True while answers can go out: admitted, and no FIN sent yet
        self._accounted = 0  # bytes of self.reader charged to server.buffered
        self._decoding = 0  # bytes of the body being decoded beside the loop, charged to server.buffered too
        self._reading = True
        self._turn_read = 0  # bytes read since this connection last gave way (_READ_TURN)
        self._eof = False
        self._tasks: dict[asyncio.Task[None], int] = {}  # calls that wait -> request id
        self._out: list[bytes] = []
        self._linger: asyncio.TimerHandle | None = None
        self._boundary_wait: asyncio.TimerHandle | None = None

    # -- asyncio.Protocol ---------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass, but has the methods
        self.transport = transport
        self.peer = str(transport.get_extra_info("peername"))
        if not self.server.admit(self):
            self.state = CLOSED
            transport.abort()
            return
        sock = transport.get_extra_info("socket")
        send_buffer = self.server.config.socket_send_buffer
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                if send_buffer:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer)
        limit = self.server.config.write_buffer_limit
        transport.set_write_buffer_limits(high=limit, low=limit // 4)
        self._writable = True

    def connection_lost(self, exc: Exception | None) -> None:
        if self._hold & _BACKLOG:  # answers its peer never took (up to the write limit) are freed now
            self.server.give_back_memory()
        self._writable = False
        self.state = CLOSED
        self._release_buffer()
        self._out.clear()
        for handle in (self._linger, self._boundary_wait):
            if handle is not None:
                handle.cancel()
        self.server.forget(self)

    def pause_writing(self) -> None:
        self._set_hold(_BACKLOG)

    def resume_writing(self) -> None:
        self._clear_hold(_BACKLOG)

    def eof_received(self) -> bool:
        self.data_received(b"")
        return True  # keep our side open until the answers are out; close() ends it

    def data_received(self, data: bytes) -> None:
        state = self.state
        if state is LINGERING or state is CLOSED:
            if not data and state is LINGERING:
                self.close()
            return  # after our FIN nothing is parsed: the peer sees a clean end of stream
        now = self.last_read = time.monotonic()
        server = self.server
        server.touch(self)
        reader = self.reader
        if not reader.buffered:
            self._frame_since = now  # a frame starts arriving now
        reader.receive_data(data)
        self._pump(now)
        self._turn_read += len(data)
        if reader.skipping and not self._hold & _READ_TURN:  # bytes of a frame refused already: slowly
            self._turn_read = 0
            self._set_hold(_READ_TURN)
            asyncio.get_running_loop().call_later(SKIP_PAUSE, server.want_read, self)
        elif self._turn_read >= server.config.bytes_per_turn and not self._hold & _READ_TURN:
            self._turn_read = 0
            self._set_hold(_READ_TURN)
            server.want_read(self)
        if server.buffered > server.config.read_buffer_budget:
            server.over_budget()

    # -- the work loop ------------------------------------------------------------------------

    def _pump(self, now: float = 0.0, limit: int = 0) -> int:
        """Handle buffered frames while nothing holds this connection, ``limit`` at most (0: the
        share module doc says); how many frames it handled.

        The hot path of every call: a call that completes without waiting (most do) costs
        the loop below, ``start_eagerly`` and ``_handle``, nothing more."""
        if self.state is CLOSED:
            return 0
        server = self.server
        reader = self.reader
        config = server.config
        # nobody waiting: a whole share now; others waiting: one frame now (its caller's latency), the rest queued
        budget = per_turn = limit or (1 if server.turns else config.frames_per_turn)
        while not self._hold and self.reader is reader:
            if budget == 0:
                self._hold |= _TURN
                server.want_turn(self)
                break
            try:
                event = reader.next_event()
            except FrameError as exc:
                log.warning("closing connection from %s: %s", self.peer, exc)
                self.abort()
                return per_turn - budget
            if event is NEED_DATA:
                break
            budget -= 1
            if isinstance(event, RequestFrame):
                if len(event.body) >= LARGE_FRAME:
                    server.give_back_memory()  # once it is freed, its memory goes back to the system
                if event.event:
                    answer = server.exchange.answer_event(event)
                    if answer is not None:
                        self.write(answer)
                elif self.state is OPEN and server.inflight < config.max_inflight:
                    server.call_started()
                    if server.exchange.decodes_apart(event):  # held until decoded: one such body at a time
                        self._decoding = len(event.body)
                        server.buffered += self._decoding
                        self._hold |= _DECODING
                    task = start_eagerly(self._handle(event))
                    if task is not None:  # it waits: track it
                        self._running(task, event)
                elif event.two_way:  # a one-way call nobody waits for is dropped
                    self._refuse(event)
            elif isinstance(event, OversizedFrame):
                answer = server.exchange.answer_oversized(event, self.peer)
                if answer is not None:
                    self.write(answer)
            elif isinstance(event, ConnectionClosed):
                self._eof = True
                self._hold |= _FINISHING
                self._end_when_done()
                break
            # response frames (answers to nothing we sent) are ignored
        if budget != per_turn and reader.buffered:  # frames were completed: the next one starts now
            self._frame_since = now or time.monotonic()
        held = reader.buffered
        if held != self._accounted:
            server.buffered += held - self._accounted
            self._accounted = held
        if self._hold or not self._reading:
            self._apply_reading()  # holds changed, or reading may resume
        if self.state is REFUSING:
            self._finish_if_refused()
        return per_turn - budget

    def _finish_if_refused(self) -> None:
        """After the deadline, finish as soon as every call is answered and no frame is half-read."""
        if self.state is REFUSING and not self.inflight and not self.reader.buffered:
            self.finish()

    def take_read_turn(self) -> None:
        """Its turn in the server's reader queue: read on."""
        self._turn_read = 0
        self._clear_hold(_READ_TURN)

    def take_turn(self, limit: int) -> int:
        """Its turn in the server's queue: up to ``limit`` frames; how many it handled."""
        self._hold &= ~_TURN
        return self._pump(limit=limit)

    def _running(self, task: asyncio.Task[None], frame: RequestFrame) -> None:
        """A call that waits: count it against this connection's bound until it is done."""
        self.inflight += 1
        self._tasks[task] = frame.request_id
        task.add_done_callback(self._call_done)
        if self.inflight >= self.server.config.max_inflight_per_connection:
            self._hold |= _INFLIGHT

    def _call_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.pop(task, None)
        self.inflight -= 1
        if self._hold & _INFLIGHT and self.inflight < self.server.config.max_inflight_per_connection:
            self._clear_hold(_INFLIGHT)
        if self._eof:
            self._end_when_done()
        elif self.state is REFUSING:
            self._finish_if_refused()

    def _refuse(self, frame: RequestFrame) -> None:
        """Answer without running the call: shutting down (status 80) or overloaded (status 100)."""
        exchange = self.server.exchange
        if self.state is not OPEN:
            self.write(exchange.answer_status(frame.request_id, Status.SERVER_ERROR, SHUTTING_DOWN))
        else:
            self.write(exchange.answer_overloaded(frame, self.server.inflight))

    async def _handle(self, frame: RequestFrame) -> None:
        server = self.server
        try:
            answer = await server.exchange.answer(frame, self._decoded)
        except asyncio.CancelledError:  # the drain deadline passed while it ran
            answer = self._failed(frame, CANCELLED)
        except Exception:  # exchange answers every failure itself; this is a bug guard
            logging.getLogger(__name__).exception("unexpected failure answering request %d", frame.request_id)
            answer = self._failed(frame, "internal error")
        finally:
            server.call_finished()
            self._decoded()  # when the exchange ended before it could say so
        if answer is not None and not self.write(answer):
            server.answers_dropped += 1  # the connection closed first

    def _decoded(self) -> None:
        """The large body being decoded beside the loop is decoded (or refused): read on."""
        if self._decoding:
            self.server.buffered -= self._decoding
            self._decoding = 0
            # not from here: this runs inside the call's task, and reading on may start calls
            asyncio.get_running_loop().call_soon(self._clear_hold, _DECODING)

    def _failed(self, frame: RequestFrame, message: str) -> bytes | None:
        if not frame.two_way:
            return None
        return self.server.exchange.answer_status(frame.request_id, Status.SERVER_ERROR, message)

    # -- writing ------------------------------------------------------------------------------

    def write(self, frame: bytes) -> bool:
        """Queue one whole frame; frames queued in one loop iteration leave in one send.
        False when the connection no longer takes any (closed, or our FIN is out)."""
        if not self._writable:
            return False
        if not self._out:
            asyncio.get_running_loop().call_soon(self._flush)
        self._out.append(frame)
        return True

    def _flush(self) -> None:
        out, self._out = self._out, []
        if out and self._writable and self.transport is not None:
            self.transport.write(out[0] if len(out) == 1 else b"".join(out))

    # -- holds --------------------------------------------------------------------------------

    def _set_hold(self, reason: int) -> None:
        self._hold |= reason
        self._apply_reading()

    def _clear_hold(self, reason: int) -> None:
        was = self._hold
        self._hold &= ~reason
        if was & _TURN:
            return  # the scheduled turn picks up from here
        self._pump()

    def _apply_reading(self) -> None:
        transport = self.transport
        if transport is None or self.state == CLOSED:
            return
        hold = self._hold
        # waiting only for the next turn, a connection is read on while what it sent stays small:
        # pausing and resuming a socket each turn costs two system calls
        want = not hold or (hold == _TURN and self.reader.buffered < _TURN_READ_AHEAD) or self.state is LINGERING
        if want != self._reading:
            self._reading = want
            if want:
                transport.resume_reading()
            else:
                transport.pause_reading()

    # -- ending -------------------------------------------------------------------------------

    @property
    def between_requests(self) -> bool:
        """Nothing running, nothing half-read, nothing owed: closing now cuts no call."""
        return not self.inflight and not self.reader.buffered and not self._hold & ~(_TURN | _READ_TURN | _FINISHING)

    def refuse_from_now(self) -> None:
        """The drain deadline: cancel running calls, answer every request read from now on with status 80."""
        if self.state != OPEN:
            return
        self.state = REFUSING
        for task in list(self._tasks):
            task.cancel()
        loop = asyncio.get_running_loop()
        self._boundary_wait = loop.call_later(self.server.config.drain_linger, self.finish)
        self._pump()

    def finish(self) -> None:
        """Answer what was read, send FIN, discard what still arrives; close when the peer does."""
        if self.state in (LINGERING, CLOSED) or self.transport is None:
            return
        if self._boundary_wait is not None:
            self._boundary_wait.cancel()
        pending = self.reader.partial_request
        if pending is not None and pending.two_way and self.state is REFUSING:  # its header was read: answer it
            self.write(self.server.exchange.answer_status(pending.request_id, Status.SERVER_ERROR, SHUTTING_DOWN))
        self.server.answers_dropped += len(self._tasks)  # calls that ignored their cancellation
        for task in list(self._tasks):
            task.cancel()
        self._flush()
        self._writable = False
        self.state = LINGERING
        self._release_buffer()
        self._hold = 0
        transport = self.transport
        if transport.can_write_eof():
            transport.write_eof()
        self._apply_reading()
        self._linger = asyncio.get_running_loop().call_later(self.server.config.drain_linger, self.close)

    def _end_when_done(self) -> None:
        """The peer sent EOF: once our answers to it are out, close."""
        if not self.inflight:
            self.close()

    def close(self) -> None:
        if self.state == CLOSED or self.transport is None:
            return
        self._flush()
        self._writable = False
        self.state = CLOSED
        self._release_buffer()
        self.transport.close()
        self.server.forget(self)

    def abort(self) -> None:
        """Broken framing or a stalled frame: there is no boundary to close at; drop the connection."""
        if self.transport is not None and self.state != CLOSED:
            self._flush()
            self._writable = False
            self.state = CLOSED
            self._release_buffer()
            self.transport.close()
            self.server.forget(self)

    def _release_buffer(self) -> None:
        """Give back what this connection was charged; nothing is parsed after this."""
        if self._accounted >= LARGE_FRAME:
            self.server.give_back_memory()  # a large frame cut off: its memory goes back to the system too
        self.server.buffered -= self._accounted + self._decoding
        self._accounted = self._decoding = 0
        if self.reader.buffered:
            self.reader = FrameReader(self.server.config.payload_limit)

    @property
    def held_bytes(self) -> int:
        """Bytes of requests read but not yet decoded: what ``read_buffer_budget`` counts."""
        return self.reader.buffered + self._decoding

    def stalled_frame(self, now: float, timeout: float) -> bool:
        """A frame has been arriving for longer than ``timeout`` while we were free to read it."""
        return bool(self.reader.buffered) and not self._hold and now - self._frame_since > timeout
