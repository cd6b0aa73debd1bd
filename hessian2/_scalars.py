"""Null, booleans, ints, longs, doubles and dates: writers and readers.

Grammar (Hessian 2.0, as hessian-lite's Hessian2Output writes it)::

    null    ::= 'N'
    boolean ::= 'T' | 'F'
    int     ::= x80-xbf                  # -16..47, value = b0 - 0x90
            ::= xc0-xcf b0               # -2048..2047, value = (b1 - 0xc8) << 8 | b0
            ::= xd0-xd7 b1 b0            # -262144..262143, value = (b2 - 0xd4) << 16 | ...
            ::= 'I' b3 b2 b1 b0          # 32-bit signed
    long    ::= xd8-xef                  # -8..15, value = b0 - 0xe0
            ::= xf0-xff b0               # -2048..2047, (b1 - 0xf8) << 8 | b0
            ::= x38-x3f b1 b0            # -262144..262143, (b2 - 0x3c) << 16 | ...
            ::= x59 b3 b2 b1 b0          # long that fits 32 bits
            ::= 'L' b7 .. b0             # 64-bit signed
    double  ::= x5b | x5c                # 0.0, 1.0
            ::= x5d b0                   # whole number -128..127
            ::= x5e b1 b0                # whole number -32768..32767
            ::= x5f b3 b2 b1 b0          # int32 m with value == 0.001 * m (Java reads it so)
            ::= 'D' b7 .. b0             # IEEE 754 big-endian
    date    ::= x4a b7 .. b0             # java.util.Date, ms since the epoch (UTC)
            ::= x4b b3 b2 b1 b0          # whole minutes since the epoch

The double rules copy Hessian2Output.writeDouble exactly, including Java's
saturating ``(int)`` casts and the ``0.001 * mills == value`` test, so that our
bytes equal Java's (``-0.0`` becomes ``x5b`` there too).

Writers append to a ``bytearray``; readers are decoder-table handlers
``(decoder, tag) -> value`` called with ``decoder.pos`` just past the tag.
"""

from __future__ import annotations

import datetime as _dt
import struct
from typing import TYPE_CHECKING

from ._errors import EncodeError
from ._wrappers import Long

if TYPE_CHECKING:  # annotations only: the decoder imports this module
    from ._decoder import Decoder, TagReader

_INT32 = struct.Struct(">i")
_INT64 = struct.Struct(">q")
_DOUBLE = struct.Struct(">d")
_TAG_INT32 = struct.Struct(">Bi")
_TAG_INT64 = struct.Struct(">Bq")
_TAG_DOUBLE = struct.Struct(">Bd")
_TAG_SHORT = struct.Struct(">Bh")

INT_MIN, INT_MAX = -(1 << 31), (1 << 31) - 1
LONG_MIN, LONG_MAX = -(1 << 63), (1 << 63) - 1

UTC = _dt.UTC
EPOCH = _dt.datetime(1970, 1, 1, tzinfo=UTC)

# The one-byte ints and longs, made once: a stream of them then costs a pointer per byte,
# not a new object (Python caches only -5..256 itself, and never a Long).
DIRECT_INTS = tuple(range(-16, 48))
DIRECT_LONGS = tuple(Long(value) for value in range(-8, 16))


# ---------------------------------------------------------------- writers


def write_int(buf: bytearray, value: int) -> None:
    if -16 <= value <= 47:
        buf.append(0x90 + value)
    elif -2048 <= value <= 2047:
        buf.append(0xC8 + (value >> 8))
        buf.append(value & 0xFF)
    elif -262144 <= value <= 262143:
        buf.append(0xD4 + (value >> 16))
        buf.append((value >> 8) & 0xFF)
        buf.append(value & 0xFF)
    elif INT_MIN <= value <= INT_MAX:
        buf += _TAG_INT32.pack(0x49, value)
    else:
        raise EncodeError(f"{value} does not fit a Java int; use hessian2.Long for a long")


def write_long(buf: bytearray, value: int) -> None:
    if -8 <= value <= 15:
        buf.append(0xE0 + value)
    elif -2048 <= value <= 2047:
        buf.append(0xF8 + (value >> 8))
        buf.append(value & 0xFF)
    elif -262144 <= value <= 262143:
        buf.append(0x3C + (value >> 16))
        buf.append((value >> 8) & 0xFF)
        buf.append(value & 0xFF)
    elif INT_MIN <= value <= INT_MAX:
        buf += _TAG_INT32.pack(0x59, value)
    elif LONG_MIN <= value <= LONG_MAX:
        buf += _TAG_INT64.pack(0x4C, value)
    else:
        raise EncodeError(f"{value} does not fit a Java long")


def _java_int_cast(value: float) -> int:
    """Java's ``(int) double``: truncate toward zero, saturate, NaN -> 0."""
    if value != value:
        return 0
    if value >= 2147483647.0:
        return INT_MAX
    if value <= -2147483648.0:
        return INT_MIN
    return int(value)


def write_double(buf: bytearray, value: float) -> None:
    as_int = int(value) if -2147483648.0 < value < 2147483648.0 else _java_int_cast(value)
    if as_int == value:
        if as_int == 0:
            buf.append(0x5B)
            return
        if as_int == 1:
            buf.append(0x5C)
            return
        if -0x80 <= as_int < 0x80:
            buf.append(0x5D)
            buf.append(as_int & 0xFF)
            return
        if -0x8000 <= as_int < 0x8000:
            buf += _TAG_SHORT.pack(0x5E, as_int)
            return
    scaled = value * 1000
    mills = int(scaled) if -2147483648.0 < scaled < 2147483648.0 else _java_int_cast(scaled)
    if 0.001 * mills == value:
        buf += _TAG_INT32.pack(0x5F, mills)
        return
    buf += _TAG_DOUBLE.pack(0x44, value)


def datetime_to_millis(value: _dt.datetime) -> int:
    """Milliseconds since the epoch; a naive datetime is taken as UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    delta = value - EPOCH
    return (delta.days * 86400 + delta.seconds) * 1000 + delta.microseconds // 1000


def write_date_millis(buf: bytearray, millis: int) -> None:
    if millis % 60000 == 0:
        minutes = millis // 60000
        if INT_MIN <= minutes <= INT_MAX:
            buf += _TAG_INT32.pack(0x4B, minutes)
            return
    buf += _TAG_INT64.pack(0x4A, millis)


# ---------------------------------------------------------------- readers


def _need(dec: Decoder, count: int) -> int:
    """Position of ``count`` more bytes, or a DecodeError if the input ends first."""
    pos = dec.pos
    if pos + count > dec.end:
        dec.fail(f"truncated: need {count} more byte(s), have {dec.end - pos}", pos)
    dec.pos = pos + count
    return pos


def read_null(dec: Decoder, tag: int) -> None:
    return None


def read_true(dec: Decoder, tag: int) -> bool:
    return True


def read_false(dec: Decoder, tag: int) -> bool:
    return False


def read_int_direct(dec: Decoder, tag: int) -> int:
    return DIRECT_INTS[tag - 0x80]


def read_int_byte(dec: Decoder, tag: int) -> int:
    pos = _need(dec, 1)
    return ((tag - 0xC8) << 8) + dec.data[pos]


def read_int_short(dec: Decoder, tag: int) -> int:
    pos = _need(dec, 2)
    data = dec.data
    return ((tag - 0xD4) << 16) + (data[pos] << 8) + data[pos + 1]


def read_int32(dec: Decoder, tag: int) -> int:
    value: int = _INT32.unpack_from(dec.data, _need(dec, 4))[0]
    return value


def read_long_direct(dec: Decoder, tag: int) -> Long:
    return DIRECT_LONGS[tag - 0xD8]


def read_long_byte(dec: Decoder, tag: int) -> Long:
    pos = _need(dec, 1)
    return Long(((tag - 0xF8) << 8) + dec.data[pos])


def read_long_short(dec: Decoder, tag: int) -> Long:
    pos = _need(dec, 2)
    data = dec.data
    return Long(((tag - 0x3C) << 16) + (data[pos] << 8) + data[pos + 1])


def read_long_int32(dec: Decoder, tag: int) -> Long:
    return Long(_INT32.unpack_from(dec.data, _need(dec, 4))[0])


def read_long64(dec: Decoder, tag: int) -> Long:
    return Long(_INT64.unpack_from(dec.data, _need(dec, 8))[0])


def read_double_zero(dec: Decoder, tag: int) -> float:
    return 0.0


def read_double_one(dec: Decoder, tag: int) -> float:
    return 1.0


def read_double_byte(dec: Decoder, tag: int) -> float:
    pos = _need(dec, 1)
    byte = dec.data[pos]
    return float(byte - 256 if byte > 127 else byte)


def read_double_short(dec: Decoder, tag: int) -> float:
    pos = _need(dec, 2)
    data = dec.data
    value = (data[pos] << 8) | data[pos + 1]
    return float(value - 65536 if value > 32767 else value)


def read_double_mill(dec: Decoder, tag: int) -> float:
    mills: int = _INT32.unpack_from(dec.data, _need(dec, 4))[0]
    return 0.001 * mills


def read_double64(dec: Decoder, tag: int) -> float:
    value: float = _DOUBLE.unpack_from(dec.data, _need(dec, 8))[0]
    return value


def millis_to_datetime(dec: Decoder, millis: int, at: int) -> _dt.datetime:
    try:
        return EPOCH + _dt.timedelta(milliseconds=millis)
    except OverflowError:
        dec.fail(f"date {millis} ms since the epoch is outside Python's datetime range", at)
        raise  # unreachable: fail() raises


def read_date_millis(dec: Decoder, tag: int) -> _dt.datetime:
    pos = _need(dec, 8)
    return millis_to_datetime(dec, _INT64.unpack_from(dec.data, pos)[0], pos - 1)


def read_date_minutes(dec: Decoder, tag: int) -> _dt.datetime:
    pos = _need(dec, 4)
    return millis_to_datetime(dec, _INT32.unpack_from(dec.data, pos)[0] * 60000, pos - 1)


def register(table: list[TagReader]) -> None:
    """Install this family's readers into a 256-entry decoder table."""
    table[0x4E] = read_null
    table[0x54] = read_true
    table[0x46] = read_false
    for tag in range(0x80, 0xC0):
        table[tag] = read_int_direct
    for tag in range(0xC0, 0xD0):
        table[tag] = read_int_byte
    for tag in range(0xD0, 0xD8):
        table[tag] = read_int_short
    table[0x49] = read_int32
    for tag in range(0xD8, 0xF0):
        table[tag] = read_long_direct
    for tag in range(0xF0, 0x100):
        table[tag] = read_long_byte
    for tag in range(0x38, 0x40):
        table[tag] = read_long_short
    table[0x59] = read_long_int32
    table[0x4C] = read_long64
    table[0x5B] = read_double_zero
    table[0x5C] = read_double_one
    table[0x5D] = read_double_byte
    table[0x5E] = read_double_short
    table[0x5F] = read_double_mill
    table[0x44] = read_double64
    table[0x4A] = read_date_millis
    table[0x4B] = read_date_minutes
