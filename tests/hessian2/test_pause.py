"""Decoder(pause=...): a long decode hands control back every few KiB of input, on both paths."""

from __future__ import annotations

import struct
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hessian2
from hessian2 import DecodeError, Decoder, JavaGenericObject, JavaObject, _decoder
from hessian2._scalars import write_int
from tests.hessian2.test_properties import trees, values

PATHS = [
    pytest.param(True, id="compiled", marks=pytest.mark.skipif(not _decoder.SPEEDUPS, reason="no compiled path")),
    pytest.param(False, id="pure"),
]


class Stop(BaseException):
    pass


def decode(data: bytes, compiled: bool, pause: Callable[[], None] | None, every: int = 64) -> object:
    previous = _decoder.use_compiled(compiled)
    try:
        return Decoder(data, pause=pause, pause_every=every, memory_ratio=None).read()
    finally:
        _decoder.use_compiled(previous)


def int_bytes(value: int) -> bytes:
    buf = bytearray()
    write_int(buf, value)
    return bytes(buf)


def counting() -> tuple[list[int], Callable[[], None]]:
    calls: list[int] = []
    return calls, lambda: calls.append(1)


@pytest.mark.parametrize("compiled", PATHS)
@settings(max_examples=150, deadline=None)
@given(value=values | trees)
def test_pausing_changes_nothing_in_what_is_decoded(compiled, value):
    data = hessian2.dumps(value)
    _, pause = counting()
    paused = decode(data, compiled, pause, every=16)
    plain = decode(data, compiled, None)
    assert paused == plain or hessian2.dumps(paused) == hessian2.dumps(plain)  # NaN is not equal to itself


def _shapes() -> dict[str, bytes]:
    ints = hessian2.dumps(list(range(20_000)))
    variable = b"\x57" + b"\x90" * 20_000 + b"Z"  # untyped list of unknown length
    mapping = hessian2.dumps({f"k{i}": i for i in range(5_000)})
    chunks = b"R\x00\x01a" * 10_000 + b"\x01b"  # a string in 10,001 one-unit chunks
    blob = b"A\x00\x01x" * 10_000 + b"\x21y"  # the same for binary
    names = (
        b"C\x05Shape" + int_bytes(10_000) + b"".join(b"\x05f%04d" % i for i in range(10_000)) + b"\x60" + b"N" * 10_000
    )
    return {"ints": ints, "variable": variable, "map": mapping, "chunks": chunks, "blob": blob, "names": names}


@pytest.mark.parametrize("compiled", PATHS)
@pytest.mark.parametrize("shape", sorted(_shapes()))
def test_every_loop_over_the_input_pauses(compiled, shape):
    """Lists, maps, runs of string and binary chunks, field names: none runs long without a pause."""
    data = _shapes()[shape]
    every = 512
    calls, pause = counting()
    expected = hessian2.dumps(hessian2.loads(data, memory_ratio=None))
    assert hessian2.dumps(decode(data, compiled, pause, every)) == expected
    assert len(calls) >= len(data) // every // 2, (len(calls), len(data))


@pytest.mark.parametrize("compiled", PATHS)
def test_what_pause_raises_ends_the_decode(compiled):
    data = hessian2.dumps([{"a": i, "b": [i, str(i)]} for i in range(2_000)])

    def stop() -> None:
        raise Stop

    with pytest.raises(Stop):
        decode(data, compiled, stop)


@pytest.mark.parametrize("compiled", PATHS)
def test_a_failed_decode_empties_what_it_built_in_steps(compiled):
    # a list of 20,000 one-element lists, then a byte no value starts with
    data = b"\x58" + int_bytes(20_001) + b"\x79\x90" * 20_000 + b"\x45"
    positions: list[int] = []
    previous = _decoder.use_compiled(compiled)
    try:
        decoder = Decoder(data, pause=lambda: positions.append(decoder.pos), pause_every=4096, memory_ratio=None)
        with pytest.raises(DecodeError):
            decoder.read()
    finally:
        _decoder.use_compiled(previous)
    assert decoder.refs == []
    after_failure = [at for at in positions if at == positions[-1]]
    assert len(after_failure) >= 20_000 // 2048  # the 20,001 containers were let go 2,048 at a time


@pytest.mark.parametrize("compiled", PATHS)
def test_an_announced_length_costs_nothing_until_its_values_arrive(compiled):
    """A list of 1M elements announced, whose first element is bad: no 8 MB of slots first."""
    data = b"\x58" + int_bytes(1_000_000) + b"Z" + b"\x00" * 1_000_000
    tracemalloc.start()
    try:
        with pytest.raises(DecodeError):
            decode(data, compiled, None)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 512 * 1024, peak


def test_a_decoder_without_pause_never_reaches_a_checkpoint_and_bad_settings_are_refused():
    assert Decoder(b"N").checkpoint > 1 << 60
    with pytest.raises(ValueError, match="pause_every"):
        Decoder(b"N", pause=lambda: None, pause_every=0)


# ---------------------------------------------------------------- strings: the counted fast path


def reference_units(data: bytes, pos: int, units: int) -> tuple[str, int] | None:
    """Where ``units`` UTF-16 units of CESU-8 end, one unit at a time (the scan the codec keeps
    for input the count cannot take): (text, end), or None where it refuses."""
    index = pos
    for _ in range(units):
        if index >= len(data):
            return None
        lead = data[index]
        if lead < 0x80:
            index += 1
        elif 0xC0 <= lead < 0xE0:
            index += 2
        elif 0xE0 <= lead < 0xF0:
            index += 3
        else:
            return None
    if index > len(data):
        return None
    try:
        return data[pos:index].decode("utf-8", "surrogatepass"), index
    except UnicodeDecodeError:
        return None


def _join(text: str) -> str:
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")


_PIECES = [b"a", b"\xc3\xa9", b"\xe2\x9c\x93", b"\xed\xa0\xbd", b"\xed\xb8\x80", b"\x80", b"\xf0\x9f\x98\x80", b"\xc3"]


@settings(max_examples=500, deadline=None)
@given(
    payload=st.one_of(st.binary(max_size=60), st.lists(st.sampled_from(_PIECES), max_size=24).map(b"".join)),
    units=st.integers(0, 40),
    trailer=st.binary(max_size=4),
)
def test_strings_decode_exactly_as_the_unit_by_unit_scan_does(payload, units, trailer):
    """CESU-8 (surrogates as two 3-byte sequences), ASCII, stray and 4-byte sequences, cut ones."""
    data = b"S" + struct.pack(">H", units) + payload + trailer
    expected = reference_units(data, 3, units)
    decoder = Decoder(data)
    try:
        got: tuple[str, int] | None = (decoder.read(), decoder.pos)
    except DecodeError:
        got = None
    assert got == (None if expected is None else (_join(expected[0]), expected[1]))


@dataclass
class Bag(JavaObject, java_class="test.pause.Bag"):
    ids: list[str] = field(default_factory=list)


@pytest.mark.parametrize("compiled", PATHS)
def test_a_long_list_field_is_checked_in_chunks_with_pauses_and_its_bad_element_named(compiled):
    ids = [f"c{i}" for i in range(150_000)]
    calls, pause = counting()
    bag = decode(hessian2.dumps(Bag(ids)), compiled, pause, every=1 << 30)  # no checkpoint by position
    assert isinstance(bag, Bag) and bag.ids == ids
    assert len(calls) >= 2  # one pause per 65,536 elements checked
    bad = JavaGenericObject("test.pause.Bag", {"ids": [*ids[:140_000], [1], *ids[140_001:]]})  # as a sender may
    with pytest.raises(DecodeError, match=r"ids\[140000\]"):
        decode(hessian2.dumps(bad), compiled, None)
