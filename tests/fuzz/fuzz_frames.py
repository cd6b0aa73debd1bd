"""Fuzz target: the Dubbo2 frame parser (``provider.protocol.FrameReader``) and what the exchange makes of its frames.

For any bytes:

- the parser yields events or raises ``FrameError``, nothing else, within the time the
  input's size allows (harness.within_time), fed whole, one byte at a time, or in chunks
  whose sizes come from the input itself, with the end of stream marked or not: every
  feeding gives the same events and the same error;
- every event is well formed: a body within the payload limit, request ids in int64,
  ``ConnectionClosed`` only at the end; ``partial_request`` never raises;
- every request frame gets from ``provider.exchange`` exactly one whole answer frame
  with its request id (two-way) or none (one-way), without an exception, and an answer
  text without Python internals.

The payload limit is 256 bytes here, so oversized frames (status 25, body skipped) are
within reach of small inputs. Seeds: frames a Java consumer sends (echo, recommend,
heartbeat, READONLY) and each broken stream of tests/provider/test_protocol.py.
"""

from __future__ import annotations

import functools
import struct
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

if __name__ == "__main__" and "--replay" not in sys.argv:  # fuzzing: coverage of our Python code guides atheris
    import atheris

    with atheris.instrument_imports(include=["dubbo_recsys.provider"]):
        from dubbo_recsys.provider import protocol
        from dubbo_recsys.provider.body import decode_message
        from dubbo_recsys.provider.errors import FrameError
        from dubbo_recsys.provider.exchange import Exchange
else:
    from dubbo_recsys.provider import protocol
    from dubbo_recsys.provider.body import decode_message
    from dubbo_recsys.provider.errors import FrameError
    from dubbo_recsys.provider.exchange import Exchange

from tests.fuzz.harness import main, within_time

LIMIT = 256
_INTERNALS = ("Traceback", "Error:", "object at 0x", "<class ", "NoneType")
_EXCHANGE: list[Exchange] = []


def _exchange() -> Exchange:
    if not _EXCHANGE:
        from dubbo_recsys.provider.dispatch import Dispatcher
        from dubbo_recsys.provider.popular import PopularRecommender
        from dubbo_recsys.provider.services import default_exports

        _EXCHANGE.append(Exchange(Dispatcher(default_exports(PopularRecommender())), LIMIT))
    return _EXCHANGE[0]


def _parse(chunks: list[bytes], end: bool) -> tuple[list[object], str | None]:
    reader = protocol.FrameReader(LIMIT)
    events: list[object] = []
    feeds = [*chunks, b""] if end else chunks
    try:
        for chunk in feeds:
            reader.receive_data(chunk)
            reader.partial_request  # noqa: B018 - must never raise
            while (event := reader.next_event()) is not protocol.NEED_DATA:
                events.append(event)
                if isinstance(event, protocol.ConnectionClosed):
                    return events, None
    except FrameError as exc:  # the kind of error; its text may show fewer bytes when fed fewer
        return events, " ".join(str(exc).split()[:2])
    return events, None


def _splits(data: bytes) -> list[bytes]:
    """Chunks whose sizes come from the input's own bytes (1..64), so the fuzzer steers them."""
    chunks, pos, i = [], 0, 0
    while pos < len(data):
        size = data[i % len(data)] % 64 + 1
        chunks.append(data[pos : pos + size])
        pos, i = pos + size, i + 1
    return chunks


def _check_event(event: object) -> None:
    if isinstance(event, (protocol.RequestFrame, protocol.ResponseFrame)):
        assert len(event.body) <= LIMIT and -(2**63) <= event.request_id < 2**63
    elif isinstance(event, protocol.OversizedFrame):
        assert event.length > LIMIT
    else:
        assert isinstance(event, protocol.ConnectionClosed), event


def _check_answer(frame: protocol.RequestFrame) -> None:
    coro = _exchange().answer(frame)
    try:
        coro.send(None)  # the popularity services never wait
    except StopIteration as done:
        answer = done.value
    else:
        coro.close()
        raise AssertionError("the exchange suspended")
    if not frame.two_way:
        assert answer is None, "an answer to a one-way call"
        return
    reader = protocol.FrameReader(1 << 20)
    reader.receive_data(answer)
    event = reader.next_event()
    assert reader.next_event() is protocol.NEED_DATA, "more than one answer frame"
    assert isinstance(event, protocol.ResponseFrame) and event.request_id == frame.request_id
    if event.status != protocol.Status.OK:
        text = decode_message(event.body)
        assert len(text) <= 4096 and not any(mark in text for mark in _INTERNALS), text


def one_input(data: bytes) -> None:
    whole: tuple[list[object], str | None] = within_time(  # type: ignore[assignment]  # within_time returns object
        lambda: _parse([data], True), len(data), "parse"
    )
    for end in (True, False):
        for chunks in ([data[i : i + 1] for i in range(len(data))], _splits(data)):
            other = _parse(chunks, end)
            expected = whole if end else (_without_close(whole[0]), whole[1])
            assert other == expected, f"feeding changed the result: {other!r:.300} / {expected!r:.300}"
    events, _ = whole
    for event in events:
        _check_event(event)
    assert all(not isinstance(e, protocol.ConnectionClosed) for e in events[:-1])
    for event in events:
        if isinstance(event, protocol.RequestFrame) and not event.event:
            within_time(functools.partial(_check_answer, event), len(event.body), "answer")


def _without_close(events: list[object]) -> list[object]:
    return [e for e in events if not isinstance(e, protocol.ConnectionClosed)]


def seeds() -> dict[str, bytes]:
    from tests.provider.attacks.frames import echo_request, garbage_body_request, recommend_request

    echo = echo_request(7, "ping")
    recommend = recommend_request(8, "u", 3)[: 16 + LIMIT]  # within the fuzz payload limit, or oversized
    found = {
        "echo": echo,
        "recommend": recommend_request(8, "u", 3),
        "recommend-cut": recommend,
        "heartbeat": protocol.encode_heartbeat_request(9),
        "readonly": protocol.encode_readonly_event(10),
        "one-way": protocol.encode_request(11, echo[16:], two_way=False),
        "response": protocol.encode_response(12, protocol.Status.SERVICE_ERROR, b"\x03bad"),
        "pipelined": echo + protocol.encode_heartbeat_request(13) + echo_request(14, [1, 2]),
        "oversized": struct.pack(">HBBqi", protocol.MAGIC, 0xC2, 0, 15, LIMIT + 100) + b"z" * 120,
        "bad-magic": b"GET / HTTP/1.1\r\n\r\n",
        "negative-length": struct.pack(">HBBqi", protocol.MAGIC, 0xC2, 0, 16, -1),
        "truncated": echo[:-3],
        "garbage-body": garbage_body_request(17, b"\x91\xff\x00garbage"),
        "serialization-9": struct.pack(">HBBqi", protocol.MAGIC, 0xC0 | 9, 0, 18, 2) + b"{}",
    }
    return found


if __name__ == "__main__":
    main(one_input)
