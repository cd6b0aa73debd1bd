"""Dubbo2 framing without I/O: bytes in, frame events out; frame events in, bytes out.

This module knows the 16-byte header and nothing about what a body means, except the
two constant event bodies every Dubbo peer sends (a Hessian2 null for a heartbeat,
a Hessian2 ``"R"`` for READONLY), so that heartbeats never need the codec.
It does no socket work (``provider.transport`` does) and no Hessian decoding
(``provider.body`` does).

Header grammar (ExchangeCodec), big-endian::

    0-1   magic 0xda 0xbb
    2     flags: 0x80 request | 0x40 two-way | 0x20 event | serialization id (low 5 bits)
    3     status (responses; requests send 0)
    4-11  request id, int64, echoed by the response
    12-15 body length, int32

How the reader treats a broken stream, following what a Java provider does and
where Java would wedge the connection, doing the least surprising thing instead:

- wrong magic: Java hands the bytes to its telnet codec; we have no telnet, so
  ``next_event`` raises ``FrameError`` and the connection must be closed.
- negative body length: ``FrameError`` as well (Java would mis-slice the buffer).
- body longer than the payload limit: the header is reported as ``OversizedFrame``
  and the body is skipped as it streams in, so the connection stays usable and the
  caller can answer status 25 instead of leaving the consumer to time out.
- unknown serialization id: reported as is in the frame; the server answers 40.
- end of stream inside a frame: ``ConnectionClosed(truncated=True)``.

Use::

    reader = FrameReader(payload_limit=8 << 20)
    reader.receive_data(chunk)            # b"" means end of stream
    while (event := reader.next_event()) is not NEED_DATA:
        ...
    transport.write(encode_response(...))
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass
from typing import Final, TypeAlias

from dubbo_recsys.provider.errors import FrameError

__all__ = [
    "DEFAULT_PAYLOAD_LIMIT",
    "HEADER_LENGTH",
    "HESSIAN2",
    "HESSIAN2_NULL",
    "HESSIAN2_READONLY",
    "MAGIC",
    "NEED_DATA",
    "BodyParts",
    "ConnectionClosed",
    "Flag",
    "FrameEvent",
    "FrameReader",
    "OversizedFrame",
    "PartialRequest",
    "RequestFrame",
    "ResponseFrame",
    "Status",
    "encode_frame",
    "encode_heartbeat_request",
    "encode_heartbeat_response",
    "encode_readonly_event",
    "encode_request",
    "encode_response",
]

MAGIC: Final = 0xDABB
HEADER_LENGTH: Final = 16
DEFAULT_PAYLOAD_LIMIT: Final = 8 * 1024 * 1024
LARGE_BODY: Final = 256 * 1024  # a body this big that has not all arrived is collected apart (FrameReader)
_PART: Final = 64 * 1024  # chunks of a large body smaller than this are gathered before they are kept
HESSIAN2: Final = 2  # serialization id; fastjson2 would be 23
SERIALIZATION_MASK: Final = 0x1F

# The two event bodies that matter, as Hessian2 writes them: null, and the string "R".
HESSIAN2_NULL: Final = b"N"
HESSIAN2_READONLY: Final = b"\x01R"

_HEADER = struct.Struct(">HBBqi")


class Flag(enum.IntFlag):
    REQUEST = 0x80
    TWO_WAY = 0x40
    EVENT = 0x20


# plain ints for the hot path: IntFlag arithmetic costs a microsecond per operation
_REQUEST, _TWO_WAY, _EVENT = int(Flag.REQUEST), int(Flag.TWO_WAY), int(Flag.EVENT)


class Status(enum.IntEnum):
    """Response status byte (org.apache.dubbo.remoting.exchange.Response)."""

    OK = 20
    SERIALIZATION_ERROR = 25
    CLIENT_TIMEOUT = 30
    SERVER_TIMEOUT = 31
    CHANNEL_INACTIVE = 35
    BAD_REQUEST = 40
    BAD_RESPONSE = 50
    SERVICE_NOT_FOUND = 60
    SERVICE_ERROR = 70
    SERVER_ERROR = 80
    CLIENT_ERROR = 90
    SERVER_THREADPOOL_EXHAUSTED_ERROR = 100


class _NeedData:
    """Sentinel: ``next_event`` needs more bytes."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NEED_DATA"


NEED_DATA: Final = _NeedData()


class BodyParts:
    """A large request body as it arrived, not yet joined: ``bytes(parts)`` joins it.

    Joining 8 MiB is a copy and ~2,000 first-touch page faults (5-8 ms); left to whoever
    decodes the body, it can run beside the event loop (``provider.slices``), which a
    join inside the frame reader could not. ``len`` is the body's length."""

    __slots__ = ("_length", "_parts")

    def __init__(self, parts: list[bytes], length: int) -> None:
        self._parts = parts
        self._length = length

    def __len__(self) -> int:
        return self._length

    def __bytes__(self) -> bytes:
        """The body in one piece (``bytes.join`` releases the GIL while it copies a MiB or more)."""
        parts = self._parts
        if len(parts) != 1:
            parts[:] = [b"".join(parts)]
        return parts[0]

    def __eq__(self, other: object) -> bool:
        """Equal to the same bytes (lengths are compared first: a heartbeat check never joins it)."""
        if not isinstance(other, (bytes, BodyParts)):
            return NotImplemented
        return len(other) == self._length and bytes(other) == bytes(self)

    __hash__ = None  # type: ignore[assignment]  # equal to bytes, but not hashable like them

    def __repr__(self) -> str:
        return f"BodyParts({len(self._parts)} parts, {self._length} bytes)"


@dataclass(frozen=True, slots=True)
class RequestFrame:
    """A request as framed. ``event`` frames are heartbeats (``is_heartbeat``) or
    other events such as READONLY (``is_readonly``); ``body`` is still serialized:
    ``bytes``, or for a body of ``LARGE_BODY`` bytes or more that came in several reads
    ``BodyParts`` (``bytes(frame.body)`` is the body either way)."""

    request_id: int
    serialization_id: int
    two_way: bool
    event: bool
    body: bytes | BodyParts

    @property
    def is_heartbeat(self) -> bool:
        return self.event and self.serialization_id == HESSIAN2 and self.body == HESSIAN2_NULL

    @property
    def is_readonly(self) -> bool:
        return self.event and self.serialization_id == HESSIAN2 and self.body == HESSIAN2_READONLY


@dataclass(frozen=True, slots=True)
class ResponseFrame:
    """A response as framed; ``body`` is the result (status OK) or a serialized message."""

    request_id: int
    serialization_id: int
    status: int
    event: bool
    body: bytes


@dataclass(frozen=True, slots=True)
class OversizedFrame:
    """A frame whose declared body exceeds the payload limit; its body is being skipped."""

    request_id: int
    serialization_id: int
    is_request: bool
    two_way: bool
    event: bool
    status: int
    length: int
    limit: int


@dataclass(frozen=True, slots=True)
class PartialRequest:
    """The header of a request frame whose body has not all arrived (``FrameReader.partial_request``)."""

    request_id: int
    two_way: bool


@dataclass(frozen=True, slots=True)
class ConnectionClosed:
    """End of stream. ``truncated`` says a frame (header or body) was cut short."""

    truncated: bool = False


FrameEvent: TypeAlias = RequestFrame | ResponseFrame | OversizedFrame | ConnectionClosed


class FrameReader:
    """Splits a byte stream into frame events; one per connection.

    After a ``FrameError`` the reader keeps raising it: the stream has no frame
    boundary any more. After ``ConnectionClosed`` it keeps returning that event.

    A body of ``LARGE_BODY`` bytes or more that has not all arrived is collected apart
    (``_Body``): its chunks are kept as they came and joined once when it is whole (a
    response's here, a request's by whoever decodes it: ``BodyParts``). Grown in one
    ``bytearray``, an 8 MiB body was reallocated and copied at every 12.5 % of growth
    (~64 MiB of copying, 15-55 ms of one callback: every other caller's wait).
    """

    __slots__ = ("_body", "_buf", "_closed", "_eof", "_error", "_skip", "payload_limit")

    def __init__(self, payload_limit: int = DEFAULT_PAYLOAD_LIMIT) -> None:
        if payload_limit <= 0:
            raise ValueError(f"payload_limit must be positive, got {payload_limit}")
        self.payload_limit = payload_limit
        self._buf = bytearray()
        self._skip = 0  # body bytes of an oversized frame still to discard
        self._body: _Body | None = None  # a large body being collected (after its header)
        self._eof = False
        self._error: FrameError | None = None
        self._closed: ConnectionClosed | None = None

    @property
    def buffered(self) -> int:
        """Bytes received but not yet turned into events."""
        body = self._body
        return len(self._buf) if body is None else len(self._buf) + HEADER_LENGTH + body.have

    @property
    def skipping(self) -> bool:
        """Whether the body of an oversized frame is still being skipped."""
        return self._skip > 0

    @property
    def partial_request(self) -> PartialRequest | None:
        """The request whose header is buffered but whose body is not complete yet (``None`` when
        the buffer holds no such header, e.g. between frames, mid-header, or for an event): lets a
        server that must stop reading answer a request it has started to read."""
        buf = self._buf
        body = self._body
        if body is not None:
            return PartialRequest(body.request_id, body.two_way) if body.is_request and not body.event else None
        if self._error is not None or self._skip or len(buf) < HEADER_LENGTH:
            return None
        magic, flags, _status, request_id, length = _HEADER.unpack_from(buf)
        if magic != MAGIC or not flags & _REQUEST or flags & _EVENT or length < 0:
            return None
        if len(buf) >= HEADER_LENGTH + length and length <= self.payload_limit:
            return None  # complete: next_event hands it over
        return PartialRequest(request_id, bool(flags & _TWO_WAY))

    def receive_data(self, data: bytes) -> None:
        """Feed bytes from the peer; ``b""`` marks the end of the stream."""
        if self._eof:
            if data:
                raise RuntimeError("receive_data after end of stream")
            return
        if not data:
            self._eof = True
            return
        body = self._body
        if body is not None:
            data = body.take(data)  # what is left belongs to the frames after it
        elif self._skip:
            dropped = min(self._skip, len(data))
            self._skip -= dropped
            data = data[dropped:]
        self._buf += data

    def next_event(self) -> FrameEvent | _NeedData:
        if self._error is not None:
            raise self._error
        if self._closed is not None:
            return self._closed
        large = self._body
        if large is not None:
            if not large.complete:
                return self._end_or_need(truncated=True)
            self._body = None
            return large.frame()
        buf = self._buf
        if self._skip:
            # skipped bytes that arrived before the header was parsed
            dropped = min(self._skip, len(buf))
            del buf[:dropped]
            self._skip -= dropped
            if self._skip:
                return self._end_or_need(truncated=True)
        if len(buf) < HEADER_LENGTH:
            if buf and (buf[0] != 0xDA or (len(buf) > 1 and buf[1] != 0xBB)):
                return self._fail(f"bad magic 0x{bytes(buf[:2]).hex()}: not a Dubbo2 frame")
            return self._end_or_need(truncated=bool(buf))
        magic, flags, status, request_id, length = _HEADER.unpack_from(buf)
        if magic != MAGIC:
            return self._fail(f"bad magic 0x{magic:04x}: not a Dubbo2 frame")
        if length < 0:
            return self._fail(f"negative body length {length}")
        serialization_id = flags & SERIALIZATION_MASK
        is_request = bool(flags & _REQUEST)
        two_way = bool(flags & _TWO_WAY)
        event = bool(flags & _EVENT)
        if length > self.payload_limit:
            available = len(buf) - HEADER_LENGTH
            dropped = min(available, length)
            del buf[: HEADER_LENGTH + dropped]
            self._skip = length - dropped
            return OversizedFrame(
                request_id, serialization_id, is_request, two_way, event, status, length, self.payload_limit
            )
        end = HEADER_LENGTH + length
        if len(buf) < end:
            if length >= LARGE_BODY:  # collect it apart from here on (class doc)
                large = self._body = _Body(request_id, serialization_id, is_request, two_way, event, status, length)
                with memoryview(buf) as view:
                    large.take(bytes(view[HEADER_LENGTH:]))
                buf.clear()
            return self._end_or_need(truncated=True)
        with memoryview(buf) as view:  # one copy instead of slice-then-copy
            body = bytes(view[HEADER_LENGTH:end])
        del buf[:end]
        if is_request:
            return RequestFrame(request_id, serialization_id, two_way, event, body)
        return ResponseFrame(request_id, serialization_id, status, event, body)

    def _end_or_need(self, truncated: bool) -> ConnectionClosed | _NeedData:
        if not self._eof:
            return NEED_DATA
        self._closed = ConnectionClosed(truncated=truncated)
        self._buf.clear()
        self._body = None
        return self._closed

    def _fail(self, message: str) -> FrameEvent:
        self._error = FrameError(message)
        self._buf.clear()
        raise self._error


class _Body:
    """The body of one large frame, collected as it streams in: chunks of at least
    ``_PART`` bytes are kept as they came (smaller ones are gathered into one first, so a
    trickled body is not a million small objects) and joined once, one copy in all."""

    __slots__ = (
        "event",
        "have",
        "is_request",
        "length",
        "parts",
        "request_id",
        "serialization_id",
        "small",
        "status",
        "two_way",
    )

    def __init__(
        self,
        request_id: int,
        serialization_id: int,
        is_request: bool,
        two_way: bool,
        event: bool,
        status: int,
        length: int,
    ) -> None:
        self.request_id = request_id
        self.serialization_id = serialization_id
        self.is_request = is_request
        self.two_way = two_way
        self.event = event
        self.status = status
        self.length = length
        self.have = 0
        self.parts: list[bytes] = []
        self.small = bytearray()

    @property
    def complete(self) -> bool:
        return self.have == self.length

    def take(self, data: bytes) -> bytes:
        """Keep what of ``data`` belongs to this body; return the rest."""
        wanted = self.length - self.have
        rest = b""
        if len(data) > wanted:
            data, rest = data[:wanted], data[wanted:]
        self.have += len(data)
        small = self.small
        if len(data) >= _PART:
            if small:
                self.parts.append(bytes(small))
                small.clear()
            self.parts.append(data)
        else:
            small += data
            if len(small) >= _PART or self.complete:
                self.parts.append(bytes(small))
                small.clear()
        return rest

    def frame(self) -> RequestFrame | ResponseFrame:
        parts, self.parts = self.parts, []
        if self.is_request:  # joined by whoever decodes it (BodyParts)
            body = parts[0] if len(parts) == 1 else BodyParts(parts, self.length)
            return RequestFrame(self.request_id, self.serialization_id, self.two_way, self.event, body)
        return ResponseFrame(self.request_id, self.serialization_id, self.status, self.event, b"".join(parts))


def encode_frame(
    flags: int, status: int, request_id: int, body: bytes, payload_limit: int = DEFAULT_PAYLOAD_LIMIT
) -> bytes:
    """One whole frame; raises ``FrameError`` when ``body`` exceeds ``payload_limit``
    (the peer would refuse it anyway: both sides check)."""
    if len(body) > payload_limit:
        raise FrameError(f"body of {len(body)} bytes exceeds the payload limit of {payload_limit}")
    return _HEADER.pack(MAGIC, flags, status, request_id, len(body)) + body


def encode_request(
    request_id: int,
    body: bytes,
    *,
    two_way: bool = True,
    serialization_id: int = HESSIAN2,
    payload_limit: int = DEFAULT_PAYLOAD_LIMIT,
) -> bytes:
    flags = _REQUEST | serialization_id | (_TWO_WAY if two_way else 0)
    return encode_frame(flags, 0, request_id, body, payload_limit)


def encode_response(
    request_id: int,
    status: int,
    body: bytes,
    *,
    serialization_id: int = HESSIAN2,
    payload_limit: int = DEFAULT_PAYLOAD_LIMIT,
) -> bytes:
    return encode_frame(serialization_id, status, request_id, body, payload_limit)


def encode_heartbeat_request(request_id: int) -> bytes:
    """``da bb e2 00 <id> 00000001 4e``: two-way event with a null body."""
    return encode_frame(_REQUEST | _TWO_WAY | _EVENT | HESSIAN2, 0, request_id, HESSIAN2_NULL)


def encode_heartbeat_response(request_id: int, serialization_id: int = HESSIAN2) -> bytes:
    """``da bb 22 14 <id> 00000001 4e``: answers a heartbeat with the same id."""
    return encode_frame(_EVENT | serialization_id, 20, request_id, HESSIAN2_NULL)


def encode_readonly_event(request_id: int) -> bytes:
    """``da bb a2 00 <id> 00000002 01 52``: one-way READONLY event sent before shutdown."""
    return encode_frame(_REQUEST | _EVENT | HESSIAN2, 0, request_id, HESSIAN2_READONLY)
