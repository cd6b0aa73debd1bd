"""Strings (UTF-16 unit lengths, CESU-8, chunking) and binary at every boundary."""

from __future__ import annotations

import pytest

import hessian2
from hessian2 import DecodeError


def _header(units: int) -> str:
    if units <= 31:
        return f"{units:02x}"
    if units <= 1023:
        return f"{0x30 + (units >> 8):02x}{units & 0xFF:02x}"
    return f"53{units:04x}"


@pytest.mark.parametrize("units", [0, 1, 31, 32, 1023, 1024, 0x7FFF, 0x8000])
def test_string_headers(units):
    text = "a" * units
    wire = hessian2.dumps(text)
    assert wire.hex().startswith(_header(units))
    assert len(wire) == len(bytes.fromhex(_header(units))) + units
    assert hessian2.loads(wire) == text


def test_string_just_over_one_chunk():
    text = "b" * 0x8001
    wire = hessian2.dumps(text)
    assert wire[:3] == b"R\x80\x00"
    assert wire[3 + 0x8000 : 3 + 0x8000 + 1] == b"\x01"  # final chunk: one unit, short form
    assert hessian2.loads(wire) == text


def test_non_bmp_counts_two_units_and_uses_surrogates():
    wire = hessian2.dumps("\U0001f600")
    assert wire == bytes.fromhex("02eda0bdedb880")
    assert hessian2.loads(wire) == "\U0001f600"


def test_bmp_multibyte():
    assert hessian2.dumps("é中") == b"\x02\xc3\xa9\xe4\xb8\xad"
    assert hessian2.loads(b"\x02\xc3\xa9\xe4\xb8\xad") == "é中"


def test_nul_character_is_one_byte():
    assert hessian2.dumps("a\0b") == b"\x03a\x00b"


@pytest.mark.parametrize("prefix", [0x7FFF, 0x7FFE, 0x8000, 0x8001])
def test_chunks_never_split_a_surrogate_pair(prefix):
    text = "x" * prefix + "\U0001f600" * 3 + "y" * 10
    wire = hessian2.dumps(text)
    assert hessian2.loads(wire) == text
    if prefix == 0x7FFF:  # the pair would straddle 0x8000: the first chunk stops one unit early
        assert wire[:3] == b"R\x7f\xff"
    else:
        assert wire[:3] == b"R\x80\x00"
    # the first chunk's payload must not end inside a 3-byte surrogate sequence
    size = (wire[1] << 8) | wire[2]
    payload = wire[3:]
    index = 0
    for _ in range(size):
        lead = payload[index]
        index += 1 if lead < 0x80 else 3
    assert payload[index] in (0x52, 0x53) or payload[index] <= 0x1F or 0x30 <= payload[index] <= 0x33
    first = payload[:index].decode("utf-8", "surrogatepass")
    assert not ("\ud800" <= first[-1] <= "\udbff")


def test_long_non_ascii_string_round_trip():
    text = "é中\U0001f600" * 30000
    assert hessian2.loads(hessian2.dumps(text)) == text


def test_lone_surrogate_survives():
    assert hessian2.loads(hessian2.dumps("a\ud800b")) == "a\ud800b"


def test_four_byte_utf8_is_rejected_like_java():
    with pytest.raises(DecodeError) as info:
        hessian2.loads(b"\x01\xf0\x9f\x98\x80")
    assert info.value.offset == 1


@pytest.mark.parametrize(
    "wire",
    [
        b"\x05abc",
        b"\x30\x20abc",
        b"S\x00\x05ab",
        b"R\x00\x01a",
        b"R\x00\x01aZ",
        b"\x02\xe4\xb8",
        b"\x01\xc3",
        b"\x01\x80",
    ],
)
def test_bad_strings(wire):
    with pytest.raises(DecodeError):
        hessian2.loads(wire)


def test_chunked_string_accepts_any_final_form():
    assert hessian2.loads(b"R\x00\x02ab\x01c") == "abc"
    assert hessian2.loads(b"R\x00\x01aR\x00\x01bS\x00\x01c") == "abc"
    assert hessian2.loads(b"R\x00\x01a\x30\x01b") == "ab"


@pytest.mark.parametrize("size", [0, 15, 16, 1023, 1024, 0x8000, 0x8001, 100000])
def test_binary_forms(size):
    blob = bytes(i % 251 for i in range(size))
    wire = hessian2.dumps(blob)
    if size <= 15:
        assert wire[0] == 0x20 + size
    elif size <= 1023:
        assert wire[:2] == bytes([0x34 + (size >> 8), size & 0xFF])
    elif size <= 0x8000:
        assert wire[:3] == b"B" + size.to_bytes(2, "big")
    else:
        assert wire[:3] == b"A\x80\x00"
    assert hessian2.loads(wire) == blob


def test_binary_chunks_and_bytearray():
    assert hessian2.loads(b"A\x00\x02abB\x00\x01c") == b"abc"
    assert hessian2.loads(b"A\x00\x01a\x21b") == b"ab"
    assert hessian2.dumps(bytearray(b"xy")) == b"\x22xy"


@pytest.mark.parametrize("wire", [b"\x25abc", b"\x34\x10ab", b"B\x00\x09abc", b"A\x00\x01a", b"A\x00\x01aN"])
def test_bad_binary(wire):
    with pytest.raises(DecodeError):
        hessian2.loads(wire)
