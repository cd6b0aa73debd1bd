"""Exchange and body without sockets: request frame in, answer bytes out."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hessian2
from dubbo_recsys.provider.body import (
    decode_invocation,
    decode_message,
    decode_result,
    encode_invocation,
    supports_response_attachments,
)
from dubbo_recsys.provider.dispatch import Dispatcher, Invocation
from dubbo_recsys.provider.errors import BodyError
from dubbo_recsys.provider.exchange import Exchange
from dubbo_recsys.provider.popular import PopularRecommender
from dubbo_recsys.provider.protocol import NEED_DATA, BodyParts, FrameReader, RequestFrame, ResponseFrame
from dubbo_recsys.provider.services import default_exports
from hessian2 import Encoder

EXCHANGE = Exchange(Dispatcher(default_exports(PopularRecommender())), 1 << 20)
SEED = "com.loki.www.infer.DubbogoInferService"


def run_to_completion(coro: Any) -> Any:
    """These services never wait, so the coroutine finishes in one step (no event loop needed)."""
    try:
        coro.send(None)
    except StopIteration as done:
        return done.value
    coro.close()
    raise AssertionError("the exchange suspended")


def answer(frame: RequestFrame) -> ResponseFrame | None:
    """The whole answer frame; None for a one-way call."""
    data = run_to_completion(EXCHANGE.answer(frame))
    if data is None:
        return None
    reader = FrameReader()
    reader.receive_data(data)
    event = reader.next_event()
    assert reader.next_event() is NEED_DATA  # exactly one frame
    assert isinstance(event, ResponseFrame)
    return event


def reply(frame: RequestFrame) -> ResponseFrame:
    """The answer to a two-way request, which must have one."""
    found = answer(frame)
    assert found is not None
    return found


def echo_body(**changes: Any) -> bytes:
    fields: dict[str, Any] = {
        "dubbo_version": "2.0.2",
        "path": SEED,
        "version": "0.0.0",
        "method": "$echo",
        "descriptor": "Ljava/lang/Object;",
        "args": ("ping",),
        "attachments": {},
    }
    fields.update(changes)
    return encode_invocation(Invocation(**fields))


def test_ok_answer_header_and_body():
    frame = reply(RequestFrame(9, 2, True, False, echo_body()))
    assert (frame.request_id, frame.serialization_id, frame.status, frame.event) == (9, 2, 20, False)
    assert decode_result(frame.body) == (4, "ping", {"dubbo": "2.0.2"})


def test_one_way_has_no_answer():
    assert answer(RequestFrame(9, 2, False, False, echo_body())) is None


def test_unknown_serialization_is_40_in_hessian2():
    frame = reply(RequestFrame(3, 23, True, False, b"{}"))
    assert frame.status == 40 and frame.serialization_id == 2
    assert "23" in decode_message(frame.body)


def test_heartbeat_answer_bytes():
    data = EXCHANGE.answer_event(RequestFrame(1, 2, True, True, b"N"))
    assert data == bytes.fromhex("dabb22140000000000000001000000014e")
    assert EXCHANGE.answer_event(RequestFrame(2, 2, False, True, b"\x01R")) is None


def test_old_consumer_without_attachments_and_null_version():
    encoder = Encoder()
    for value in ("2.0.2", SEED, None, "$echo", "Ljava/lang/Object;", 7):
        encoder.write(value)
    invocation = decode_invocation(encoder.getvalue())
    assert invocation.version == "" and invocation.attachments == {} and invocation.args == (7,)
    frame = reply(RequestFrame(4, 2, True, False, encoder.getvalue()))
    assert decode_result(frame.body)[1] == 7


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"\x05",
        echo_body()[:-3],
        echo_body(descriptor="Ljava/lang/Object"),
        b"".join(hessian2.dumps(v) for v in ("2.0.2", SEED, "0.0.0", "$echo", "Ljava/lang/Object;", "x", 5)),
    ],
)
def test_undecodable_bodies_are_body_errors_and_40(body):
    with pytest.raises(BodyError):
        decode_invocation(body)
    assert reply(RequestFrame(5, 2, True, False, body)).status == 40


def test_non_string_method_is_40():
    encoder = Encoder()
    for value in ("2.0.2", SEED, "0.0.0", 12, ""):
        encoder.write(value)
    frame = reply(RequestFrame(6, 2, True, False, encoder.getvalue()))
    assert frame.status == 40
    assert decode_message(frame.body) == "Decode request failed: method name must be a String, got a number"


@pytest.mark.parametrize(
    "value, kind",
    [(None, "null"), ([1], "a List"), ({"a": 1}, "a Map"), (hessian2.Long(3), "a number"), (b"x", "a byte[]")],
)
def test_what_a_java_caller_is_told_it_sent_is_in_java_words(value, kind):
    encoder = Encoder()
    for part in ("2.0.2", SEED, "0.0.0", value, ""):
        encoder.write(part)
    message = decode_message(reply(RequestFrame(6, 2, True, False, encoder.getvalue())).body)
    assert message == f"Decode request failed: method name must be a String, got {kind}"


@pytest.mark.parametrize(
    "version, expected",
    [
        ("2.0.2", True),
        ("2.0.99", True),
        ("2.0.1", False),
        ("2.7.23", False),
        ("3.3.0", False),
        ("", False),
        (None, False),
        ("2.0.10", True),
        ("garbage", False),
        ("2.0.2-SNAPSHOT", True),
        ("2.0.2.1", True),
        ("9" * 5005, False),  # Python's int() would refuse it; Java falls back to the legacy version
        ("2.0." + "9" * 10, False),  # a part beyond Java's int
        ("2.0.2" + "x" * 100, False),  # longer than any real version
        ("2.0.\u00b2", False),  # a superscript two: isdigit() but not int()-able
        ("2.0.2.0.0.0", False),
    ],
)
def test_response_attachment_versions(version, expected):
    assert supports_response_attachments(version) is expected


@pytest.mark.parametrize("version", ["9" * 5005, "2.0." + "9" * 4400, "\u0663" * 5000, "2.0.2" + "." * 10000])
def test_hostile_dubbo_versions_are_answered_without_python_internals(version):
    frame = reply(RequestFrame(1, 2, True, False, echo_body(dubbo_version=version, args=("v",))))
    assert frame.status == 20 and decode_result(frame.body)[:2] == (1, "v")


def test_our_own_failures_reach_the_caller_without_python_internals(monkeypatch):
    import dubbo_recsys.provider.exchange as exchange_module

    def broken_decoder(body: bytes) -> Any:
        raise KeyError("<internal state 0x7f>")

    def broken_encoder(outcome: Any, with_attachments: bool) -> bytes:
        raise TypeError("unsupported operand type(s) for +: 'NoneType' and 'int'")

    monkeypatch.setattr(exchange_module, "decode_invocation", broken_decoder)
    message = decode_message(reply(RequestFrame(1, 2, True, False, echo_body())).body)
    assert message == exchange_module.UNDECODABLE
    monkeypatch.undo()
    monkeypatch.setattr(exchange_module, "encode_result", broken_encoder)
    frame = reply(RequestFrame(2, 2, True, False, echo_body()))
    message = decode_message(frame.body)
    assert frame.status == 50 and exchange_module.UNENCODABLE in message
    for internal in ("KeyError", "TypeError", "NoneType", "0x7f", "Traceback"):
        assert internal not in message


def test_dubbo_version_cache_is_bounded_in_bytes():
    from dubbo_recsys.provider.body import _supports_response_attachments as cached

    for i in range(20_000):
        supports_response_attachments(f"2.0.{i}")
        supports_response_attachments(f"{i}" * 1000)  # never a key: too long for a version
    assert cached.cache_info().currsize <= 64 and cached.cache_info().maxsize == 64


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.binary(max_size=120))
def test_any_body_gets_an_answer_never_an_exception(body):
    frame = reply(RequestFrame(8, 2, True, False, body))
    assert frame.request_id == 8 and frame.status in (20, 40, 60, 70)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cut=st.integers(0, 200), flip=st.integers(0, 255), where=st.integers(0, 10_000))
def test_mutated_real_requests_get_an_answer(cut, flip, where):
    body = bytearray(echo_body(args=({"k": [1, 2.5, "x"]},), attachments={"group": "", "timeout": "10"}))
    body[where % len(body)] ^= flip
    frame = reply(RequestFrame(9, 2, True, False, bytes(body[: len(body) - cut % len(body)])))
    assert frame.request_id == 9 and frame.status in (20, 40, 60, 70)


def test_a_body_that_would_decode_into_too_much_memory_is_refused_before_it_is_built():
    nested: list[list[int]] = [[] for _ in range(200_000)]  # 200 KB of empty lists: ~15 MB of Python lists
    body = echo_body(args=(nested,))
    frame = reply(RequestFrame(7, 2, True, False, body))
    assert frame.status == 40  # BAD_REQUEST, as for any undecodable body
    assert "Decode request failed" in decode_message(frame.body) and "per input byte" in decode_message(frame.body)
    trusting = Exchange(Dispatcher(default_exports(PopularRecommender())), 1 << 20, decode_memory_ratio=0)
    data = run_to_completion(trusting.answer(RequestFrame(8, 2, True, False, body)))
    reader = FrameReader()
    reader.receive_data(data)
    event = reader.next_event()
    assert isinstance(event, ResponseFrame) and event.status == 20
    decoder = hessian2.Decoder(event.body, memory_ratio=None)
    assert decoder.read() == 4 and decoder.read() == nested  # VALUE_WITH_ATTACHMENTS, the echo


def test_the_server_default_is_the_codec_default_and_bad_ratios_are_refused():
    from dubbo_recsys.provider.config import ServerConfig
    from dubbo_recsys.provider.errors import ConfigError

    assert ServerConfig().decode_memory_ratio == hessian2.MEMORY_RATIO
    bad: Any
    for bad in (-1, 1.5, True):
        with pytest.raises(ConfigError, match="decode_memory_ratio"):
            ServerConfig(decode_memory_ratio=bad)


def parse(data: bytes | None) -> ResponseFrame:
    assert data is not None
    reader = FrameReader()
    reader.receive_data(data)
    event = reader.next_event()
    assert isinstance(event, ResponseFrame)
    return event


def test_large_bodies_are_decoded_beside_the_loop_and_answered_as_any_other():
    exchange = Exchange(Dispatcher(default_exports(PopularRecommender())), 8 << 20, sliced_decode_from=4096)
    payload = [f"item-{i}" for i in range(20_000)]
    big = echo_body(args=(payload,))
    decoded: list[int] = []
    jobs: list[tuple[str, int]] = []  # (what, slices it took) for each job run beside the loop
    run_apart = exchange.slicer.run

    async def spied(work: Any, prepare: Any = None) -> Any:
        before = exchange.slicer.slices
        try:
            return await run_apart(work, prepare)
        finally:
            jobs.append((getattr(work, "func", work).__name__, exchange.slicer.slices - before))

    exchange.slicer.run = spied  # type: ignore[method-assign]  # the spy counts the jobs

    async def main() -> tuple[bytes | None, bytes | None, bytes | None]:
        parts = BodyParts([big[:5000], big[5000:70_000], big[70_000:]], len(big))  # as a large frame arrives
        large = await exchange.answer(RequestFrame(5, 2, True, False, parts), lambda: decoded.append(5))
        bad = await exchange.answer(RequestFrame(6, 2, True, False, b"\x90" * 9000), lambda: decoded.append(6))
        small = await exchange.answer(RequestFrame(7, 2, True, False, echo_body()), lambda: decoded.append(7))
        exchange.close()
        return large, bad, small

    large, bad, small = asyncio.run(main())
    # the large call: decoded, then its 200 KB answer encoded, beside the loop; the bad one decoded only
    assert [what for what, _ in jobs if what != "release_unreferenced"] == ["work", "_encode_answer", "work"]
    assert exchange.slicer.slices >= 2  # 200 KB decoded in slices of 0.5 ms
    assert decoded == [5, 6]  # called for the bodies decoded apart only, once each
    answer = parse(large)
    assert answer.request_id == 5 and answer.status == 20
    decoder = hessian2.Decoder(answer.body)
    assert decoder.read() == 4 and decoder.read() == payload
    refused = parse(bad)
    assert refused.status == 40 and "Decode request failed" in decode_message(refused.body)
    assert parse(small).status == 20
    assert not exchange.decodes_apart(RequestFrame(8, 23, True, False, big))  # not hessian2: answered 40 at once
    assert not Exchange(exchange.dispatcher, 8 << 20).decodes_apart(RequestFrame(9, 2, True, False, big))


def test_the_sliced_decode_threshold_is_a_server_setting():
    from dubbo_recsys.provider.config import ServerConfig
    from dubbo_recsys.provider.errors import ConfigError

    assert ServerConfig().sliced_decode_from == 32 * 1024 and ServerConfig().bulk_read_rate == 256 << 20
    with pytest.raises(ConfigError, match="bulk_read_rate"):
        ServerConfig(bulk_read_rate=-1)
    assert ServerConfig(sliced_decode_from=0).sliced_decode_from == 0
    bad: Any
    for bad in (-1, 1.5, True):
        with pytest.raises(ConfigError, match="sliced_decode_from"):
            ServerConfig(sliced_decode_from=bad)


def test_a_request_beyond_its_contracts_bounds_is_refused_while_it_is_read():
    from dubbo_recsys.interfaces.recommend import INTERFACE, MAX_CANDIDATES, VERSION, RecommendRequest

    def call(request: RecommendRequest) -> ResponseFrame:
        body = echo_body(
            path=INTERFACE,
            version=VERSION,
            method="recommend",
            descriptor="Lorg/dubborecsys/api/RecommendRequest;",
            args=(request,),
        )
        return reply(RequestFrame(11, 2, True, False, body))

    ids = [str(n) for n in range(1_000_000)]  # 6.9 MB: one million ids where the contract ranks 1,000
    refused = call(RecommendRequest(userId="u", candidateIds=ids))
    message = decode_message(refused.body)
    assert refused.status == 40 and "Decode request failed" in message, message
    assert f"1000000 entries; at most {MAX_CANDIDATES} are accepted at $.candidateIds" in message
    answered = call(RecommendRequest(userId="u", count=5, candidateIds=ids[:MAX_CANDIDATES]))
    assert answered.status == 20
    decoder = hessian2.Decoder(answered.body)
    assert decoder.read() in (1, 4) and decoder.read().code == 200
