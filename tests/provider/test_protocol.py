"""Frame layer: fed whole, byte by byte and with trailing bytes; broken streams."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dubbo_recsys.provider.errors import FrameError
from dubbo_recsys.provider.protocol import (
    HESSIAN2,
    NEED_DATA,
    BodyParts,
    ConnectionClosed,
    FrameReader,
    OversizedFrame,
    RequestFrame,
    ResponseFrame,
    Status,
    encode_heartbeat_request,
    encode_heartbeat_response,
    encode_readonly_event,
    encode_request,
    encode_response,
)


def drain(reader: FrameReader) -> list:
    events = []
    while (event := reader.next_event()) is not NEED_DATA:
        events.append(event)
        if isinstance(event, ConnectionClosed):
            break
    return events


def feed_whole(data: bytes, **kw) -> list:
    reader = FrameReader(**kw)
    reader.receive_data(data)
    return drain(reader)


def feed_bytewise(data: bytes, **kw) -> list:
    reader = FrameReader(**kw)
    events = []
    for i in range(len(data)):
        reader.receive_data(data[i : i + 1])
        events.extend(drain(reader))
    return events


STREAM = (
    encode_request(7, b"body-of-seven")
    + encode_heartbeat_request(8)
    + encode_request(9, b"", two_way=False)
    + encode_response(10, Status.SERVICE_ERROR, b"\x03bad")
)
EXPECTED = [
    RequestFrame(7, HESSIAN2, True, False, b"body-of-seven"),
    RequestFrame(8, HESSIAN2, True, True, b"N"),
    RequestFrame(9, HESSIAN2, False, False, b""),
    ResponseFrame(10, HESSIAN2, 70, False, b"\x03bad"),
]


@pytest.mark.parametrize("feed", [feed_whole, feed_bytewise])
def test_stream_of_frames(feed):
    assert feed(STREAM) == EXPECTED


def test_trailing_partial_frame_waits_then_reports_truncation():
    reader = FrameReader()
    reader.receive_data(STREAM + encode_request(11, b"abcdef")[:-2])
    assert drain(reader) == EXPECTED
    assert reader.buffered == 16 + 4
    reader.receive_data(b"")
    assert reader.next_event() == ConnectionClosed(truncated=True)
    assert reader.next_event() == ConnectionClosed(truncated=True)


def test_clean_end_of_stream():
    reader = FrameReader()
    reader.receive_data(encode_heartbeat_request(1))
    reader.receive_data(b"")
    assert drain(reader) == [RequestFrame(1, HESSIAN2, True, True, b"N"), ConnectionClosed(truncated=False)]


def test_truncated_header_at_end_of_stream():
    reader = FrameReader()
    reader.receive_data(b"\xda\xbb\xc2")
    assert reader.next_event() is NEED_DATA
    reader.receive_data(b"")
    assert reader.next_event() == ConnectionClosed(truncated=True)


def test_wire_vectors_from_interop_notes():
    assert encode_heartbeat_request(1) == bytes.fromhex("dabbe2000000000000000001000000014e")
    assert encode_heartbeat_response(1) == bytes.fromhex("dabb22140000000000000001000000014e")
    assert encode_readonly_event(3) == bytes.fromhex("dabba2000000000000000003000000020152")
    assert encode_request(5, b"x", two_way=False)[2] == 0x82
    assert encode_request(5, b"x")[2] == 0xC2


def test_heartbeat_and_readonly_are_recognised():
    (hb,) = feed_whole(encode_heartbeat_request(4))
    (ro,) = feed_whole(encode_readonly_event(5))
    assert hb.is_heartbeat and not hb.is_readonly
    assert ro.is_readonly and not ro.is_heartbeat and not ro.two_way


@pytest.mark.parametrize("feed", [feed_whole, feed_bytewise])
def test_oversized_body_is_reported_and_skipped(feed):
    big = encode_request(21, b"x" * 100, payload_limit=1000)
    data = big + encode_request(22, b"ok")
    events = feed(data, payload_limit=64)
    assert events == [
        OversizedFrame(21, HESSIAN2, True, True, False, 0, 100, 64),
        RequestFrame(22, HESSIAN2, True, False, b"ok"),
    ]


def test_oversized_frame_cut_by_end_of_stream():
    reader = FrameReader(payload_limit=10)
    reader.receive_data(encode_request(1, b"y" * 50)[:30])
    assert isinstance(reader.next_event(), OversizedFrame)
    reader.receive_data(b"")
    assert reader.next_event() == ConnectionClosed(truncated=True)


@pytest.mark.parametrize("feed", [feed_whole, feed_bytewise])
def test_unknown_serialization_id_is_passed_through(feed):
    frame = bytearray(encode_request(3, b"?"))
    frame[2] = 0xC0 | 31
    assert feed(bytes(frame)) == [RequestFrame(3, 31, True, False, b"?")]


def test_negative_length_is_a_frame_error():
    frame = struct.pack(">HBBqi", 0xDABB, 0xC2, 0, 1, -5)
    reader = FrameReader()
    reader.receive_data(frame)
    with pytest.raises(FrameError, match="negative"):
        reader.next_event()
    with pytest.raises(FrameError):  # stays broken
        reader.next_event()


def test_bad_magic_detected_before_a_whole_header():
    reader = FrameReader()
    reader.receive_data(b"GE")
    with pytest.raises(FrameError, match="magic"):
        reader.next_event()


def test_encode_refuses_oversized_body():
    with pytest.raises(FrameError, match="payload limit"):
        encode_request(1, b"z" * 11, payload_limit=10)


def test_payload_limit_must_be_positive():
    with pytest.raises(ValueError, match="payload_limit must be positive"):
        FrameReader(payload_limit=0)


@settings(max_examples=300, deadline=None)
@given(magic=st.integers(0, 0xFFFF).filter(lambda m: m != 0xDABB), rest=st.binary(min_size=14, max_size=64))
def test_any_frame_whose_magic_is_not_dabb_is_rejected(magic, rest):
    reader = FrameReader()
    reader.receive_data(struct.pack(">H", magic) + rest)
    with pytest.raises(FrameError):
        reader.next_event()


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=200), cut=st.integers(1, 50))
def test_arbitrary_bytes_yield_events_or_frame_error(data, cut):
    reader = FrameReader(payload_limit=64)
    try:
        for i in range(0, len(data), cut):
            reader.receive_data(data[i : i + cut])
            drain(reader)
        reader.receive_data(b"")
        assert isinstance(drain(reader)[-1], ConnectionClosed)
    except FrameError:
        pass


@settings(max_examples=200, deadline=None)
@given(
    frames=st.lists(st.tuples(st.integers(-(2**63), 2**63 - 1), st.binary(max_size=40), st.booleans()), max_size=6),
    cut=st.integers(1, 17),
)
def test_round_trip_any_split(frames, cut):
    data = b"".join(encode_request(rid, body, two_way=tw) for rid, body, tw in frames)
    reader = FrameReader()
    events = []
    for i in range(0, len(data), cut):
        reader.receive_data(data[i : i + cut])
        events.extend(drain(reader))
    assert events == [RequestFrame(rid, HESSIAN2, tw, False, body) for rid, body, tw in frames]


def test_partial_request_names_the_request_whose_body_is_still_arriving():
    frame = encode_request(41, b"x" * 100)
    reader = FrameReader()
    assert reader.partial_request is None
    reader.receive_data(frame[:10])  # not even a whole header
    assert reader.partial_request is None
    reader.receive_data(frame[10:50])
    partial = reader.partial_request
    assert partial is not None and (partial.request_id, partial.two_way) == (41, True)
    reader.receive_data(frame[50:])
    assert reader.partial_request is None  # complete: next_event hands it over
    assert drain(reader) == [RequestFrame(41, HESSIAN2, True, False, b"x" * 100)]
    reader.receive_data(encode_heartbeat_request(42)[:17])
    assert reader.partial_request is None  # events are not calls
    one_way = FrameReader()
    one_way.receive_data(encode_request(43, b"yy", two_way=False)[:17])
    assert one_way.partial_request is not None and not one_way.partial_request.two_way


@pytest.mark.parametrize("cut", [1000, 7 * 1024, 64 * 1024, 256 * 1024 + 3, 1 << 30])
def test_a_large_body_arriving_in_any_pieces_is_handed_over_whole_and_what_follows_it_too(cut):
    body = bytes(range(256)) * (3 * 1024 + 7)  # ~770 KiB: collected apart from the small frames
    data = encode_request(7, body) + encode_response(8, Status.OK, b"after") + encode_request(9, body[:300])
    reader = FrameReader()
    events = []
    held = []
    for i in range(0, len(data), cut):
        reader.receive_data(data[i : i + cut])
        events.extend(drain(reader))
        held.append(reader.buffered)
    assert events == [
        RequestFrame(7, HESSIAN2, True, False, body),
        ResponseFrame(8, HESSIAN2, Status.OK, False, b"after"),
        RequestFrame(9, HESSIAN2, True, False, body[:300]),
    ]
    assert reader.buffered == 0
    first = events[0].body
    if cut < len(body):  # a request body that came in several reads is handed over in its parts, joined by its decoder
        assert isinstance(first, BodyParts) and len(first) == len(body) and bytes(first) == body
    else:
        assert isinstance(first, bytes)
    big_response = encode_response(10, Status.OK, body)
    reader.receive_data(big_response[:1000])
    reader.receive_data(big_response[1000:])
    assert drain(reader) == [ResponseFrame(10, HESSIAN2, Status.OK, False, body)]  # responses: bytes, joined
    if cut < len(body):  # while the body was arriving, every byte of it counted as held
        assert held[0] == min(cut, len(data))


def test_a_large_body_cut_by_the_end_of_stream_is_a_truncation_and_names_its_request():
    frame = encode_request(5, b"z" * (1 << 20))
    reader = FrameReader()
    reader.receive_data(frame[: 600 * 1024])
    assert drain(reader) == []
    partial = reader.partial_request
    assert partial is not None and (partial.request_id, partial.two_way) == (5, True)
    assert reader.buffered == 600 * 1024
    reader.receive_data(b"")
    assert drain(reader) == [ConnectionClosed(truncated=True)]
    assert reader.buffered == 0


def test_body_parts_equal_the_bytes_they_hold_and_compare_lengths_first():
    parts = BodyParts([b"ab", b"cd"], 4)
    assert parts == b"abcd" and parts == BodyParts([b"abcd"], 4)
    assert parts != b"abc" and parts != b"abce"
    assert parts != "abcd" and len(parts) == 4
    unjoinable = BodyParts([b"x"], 10**9)  # a wrong length is never joined to be compared
    assert unjoinable != b"N"
    assert bytes(parts) is bytes(parts)  # joined once
    with pytest.raises(TypeError):
        hash(parts)
