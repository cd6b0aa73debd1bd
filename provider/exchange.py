"""From a request frame to the whole answer frame (HeaderExchangeHandler's job).

``Exchange.answer`` decodes the body, dispatches, and encodes the response,
returning the bytes to write or ``None`` for one-way calls; it never raises for
anything the peer sent. It does no I/O, so the transport (and tests) can drive it
with frames directly.

The answers, as a Java consumer expects them:

====================================  =====================================================
situation                             answer
====================================  =====================================================
heartbeat (event, null body)          heartbeat response, same id, status 20, null body
READONLY / other events               nothing
serialization id other than hessian2  status 40, message (the id is named)
undecodable body, bad descriptor      status 40, message
unknown service / method              status 60 / 70, message
handler raised, arguments refused     status 20, exception object (flag 0/3)
too many calls in flight              status 100, message
request body over the payload limit   status 25, message
result too large or not encodable     status 50, message (Java's BAD_RESPONSE)
====================================  =====================================================

Every answer uses the serialization id of the request when we speak it, else hessian2.

A body of ``sliced_decode_from`` bytes or more is decoded beside the event loop, a
slice of at most ~0.5 ms per turn of the loop (``provider.slices``): an 8 MiB body,
valid or not, would otherwise hold every other caller for as long as it takes. Its
answer is encoded there too (``hessian2.Encoder(pause=...)``): an ``$echo`` of 2 MiB
answers with as much. A small call's answer is encoded on the loop, whatever its size.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from dubbo_recsys.provider.body import decode_invocation, encode_message, encode_result, supports_response_attachments
from dubbo_recsys.provider.dispatch import Dispatcher, Invocation, Raised, Refused, Returned
from dubbo_recsys.provider.errors import BodyError, FrameError
from dubbo_recsys.provider.observability.logs import ThrottledLog
from dubbo_recsys.provider.protocol import (
    HESSIAN2,
    OversizedFrame,
    RequestFrame,
    Status,
    encode_heartbeat_response,
    encode_response,
)
from dubbo_recsys.provider.slices import Slicer
from hessian2 import MEMORY_RATIO

__all__ = ["Exchange"]

log = logging.getLogger(__name__)
peer_log = ThrottledLog(log)  # failures a caller can cause at will: logged, but not at its rate

# What a Java caller is told when our own code failed: no Python exception names or reprs, ever.
UNDECODABLE = "Decode request failed: the body could not be read"
UNENCODABLE = "the result could not be encoded"

SUPPORTED_SERIALIZATIONS = frozenset({HESSIAN2})


class Exchange:
    """Answers request frames for one dispatcher; shared by all connections of a server."""

    __slots__ = ("decode_memory_ratio", "dispatcher", "payload_limit", "sliced_decode_from", "slicer")

    def __init__(
        self,
        dispatcher: Dispatcher,
        payload_limit: int,
        decode_memory_ratio: int = MEMORY_RATIO,
        sliced_decode_from: int = 0,
    ) -> None:
        self.dispatcher = dispatcher
        self.payload_limit = payload_limit
        self.decode_memory_ratio = decode_memory_ratio
        self.sliced_decode_from = sliced_decode_from  # 0: every body is decoded in the loop's own callback
        self.slicer = Slicer()

    def decodes_apart(self, frame: RequestFrame) -> bool:
        """Whether ``answer`` decodes this frame's body beside the loop (and calls its ``decoded``)."""
        limit = self.sliced_decode_from
        return bool(limit) and len(frame.body) >= limit and frame.serialization_id in SUPPORTED_SERIALIZATIONS

    def answer_event(self, frame: RequestFrame) -> bytes | None:
        if frame.two_way and (frame.is_heartbeat or frame.body in (b"", b"N")):
            return encode_heartbeat_response(frame.request_id, _reply_serialization(frame.serialization_id))
        return None

    def answer_status(self, request_id: int, status: Status, message: str) -> bytes:
        """A non-OK answer carrying ``message`` (the transport's own refusals: shutting down, internal error)."""
        return self._status(request_id, status, message)

    def answer_overloaded(self, frame: RequestFrame, inflight: int) -> bytes:
        return self._status(
            frame.request_id,
            Status.SERVER_THREADPOOL_EXHAUSTED_ERROR,
            f"Server side is overloaded: {inflight} calls in flight, the limit; try another provider",
        )

    def answer_oversized(self, frame: OversizedFrame, peer: str) -> bytes | None:
        if not (frame.is_request and frame.two_way) or frame.event:
            return None
        return self._status(
            frame.request_id,
            Status.SERIALIZATION_ERROR,
            f"Data length too large: {frame.length}, max payload: {frame.limit}, channel: {peer}",
        )

    def answer(
        self, frame: RequestFrame, decoded: Callable[[], None] | None = None
    ) -> Coroutine[Any, Any, bytes | None]:
        """The answer frame (to await); ``decoded`` is called once the body is decoded (or refused)
        when ``decodes_apart(frame)``: the connection reads no more meanwhile. What such a body
        decoded into is let go of beside the loop too, once the call is answered. The usual small
        body gets the answering coroutine itself: no frame in between on every call's path."""
        if not self.decodes_apart(frame):
            return self._answer(frame, None, None)
        return self._answer_apart(frame, decoded)

    async def _answer_apart(self, frame: RequestFrame, decoded: Callable[[], None] | None) -> bytes | None:
        built: list[Any] = []
        try:
            return await self._answer(frame, decoded, built)
        finally:  # the call's frame is gone: what only ``built`` holds now is garbage
            self.slicer.release_soon(built)

    async def _answer(
        self, frame: RequestFrame, decoded: Callable[[], None] | None, built: list[Any] | None
    ) -> bytes | None:
        request_id = frame.request_id
        if frame.serialization_id not in SUPPORTED_SERIALIZATIONS:
            if not frame.two_way:
                return None
            return self._status(
                request_id,
                Status.BAD_REQUEST,
                f"Unrecognized serialize type from consumer: {frame.serialization_id} "
                "(this provider speaks hessian2 = 2)",
            )
        try:
            if built is not None:
                try:
                    invocation = await self._decode_apart(frame, built)
                finally:
                    if decoded is not None:
                        decoded()
            else:
                invocation = decode_invocation(bytes(frame.body), request_id, self.decode_memory_ratio)
        except BodyError as exc:
            return (
                self._status(request_id, Status.BAD_REQUEST, f"Decode request failed: {exc}") if frame.two_way else None
            )
        except Exception:  # a codec bug on hostile input is still an undecodable request
            peer_log.exception("unexpected failure decoding request %d", request_id)
            return self._status(request_id, Status.BAD_REQUEST, UNDECODABLE) if frame.two_way else None
        outcome = await self.dispatcher.dispatch(invocation)
        if not frame.two_way:
            return None
        if isinstance(outcome, Refused):
            return self._status(request_id, outcome.status, outcome.message)
        try:
            if built is None:
                return self._encode_answer(request_id, invocation, outcome)
            # a large call's answer may be as large ($echo): encoded beside the loop, in slices
            return await self.slicer.run(functools.partial(self._encode_answer, request_id, invocation, outcome))
        except (BodyError, FrameError) as exc:  # not encodable, or too large: our messages say which
            peer_log.warning("cannot send the result of %s.%s: %s", invocation.path, invocation.method, exc)
            return self._status(
                request_id, Status.BAD_RESPONSE, f"Failed to send response of {invocation.method}: {exc}"
            )
        except Exception:  # a codec bug: logged here, never described to the caller
            peer_log.exception("cannot send the result of %s.%s", invocation.path, invocation.method)
            return self._status(
                request_id, Status.BAD_RESPONSE, f"Failed to send response of {invocation.method}: {UNENCODABLE}"
            )

    def _encode_answer(
        self,
        request_id: int,
        invocation: Invocation,
        outcome: Returned | Raised,
        pause: Callable[[], None] | None = None,
    ) -> bytes:
        body = encode_result(outcome, supports_response_attachments(invocation.dubbo_version), pause)
        return encode_response(request_id, Status.OK, body, payload_limit=self.payload_limit)

    async def _decode_apart(self, frame: RequestFrame, built: list[Any]) -> Invocation:
        """Join (a ``BodyParts``) and decode beside the loop, in slices; what it built goes to ``built``."""
        body = frame.body
        joined: list[bytes] = []

        def prepare() -> None:  # free of the loop: the join releases the GIL
            joined.append(bytes(body))

        def work(pause: Callable[[], None]) -> Invocation:
            invocation = decode_invocation(
                joined[0], frame.request_id, self.decode_memory_ratio, pause=pause, built=built
            )
            return self.dispatcher.preconvert(invocation)  # its checks of large lists pause too

        return await self.slicer.run(work, prepare)

    def close(self) -> None:
        """Let the threads of sliced decodes end."""
        self.slicer.close()

    def _status(self, request_id: int, status: Status, message: str) -> bytes:
        # a message is short, but an echoed peer string could be long: keep it in bounds
        if len(message) > 4096:
            message = message[:4093] + "..."
        return encode_response(request_id, status, encode_message(message))


def _reply_serialization(serialization_id: int) -> int:
    return serialization_id if serialization_id in SUPPORTED_SERIALIZATIONS else HESSIAN2
