"""Every compact form of int, long, double and date at its boundaries, both ways."""

from __future__ import annotations

import datetime as dt
import math
import struct

import pytest

import hessian2
from hessian2 import DecodeError, EncodeError, Long

INT_CASES = [
    (0, "90"),
    (-16, "80"),
    (47, "bf"),
    (-17, "c7ef"),
    (48, "c830"),
    (-2048, "c000"),
    (2047, "cfff"),
    (-2049, "d3f7ff"),
    (2048, "d40800"),
    (-262144, "d00000"),
    (262143, "d7ffff"),
    (-262145, "49fffbffff"),
    (262144, "4900040000"),
    (-(1 << 31), "4980000000"),
    ((1 << 31) - 1, "497fffffff"),
]

LONG_CASES = [
    (0, "e0"),
    (-8, "d8"),
    (15, "ef"),
    (-9, "f7f7"),
    (16, "f810"),
    (-2048, "f000"),
    (2047, "ffff"),
    (-2049, "3bf7ff"),
    (2048, "3c0800"),
    (-262144, "380000"),
    (262143, "3fffff"),
    (-262145, "59fffbffff"),
    (262144, "5900040000"),
    (-(1 << 31), "5980000000"),
    ((1 << 31) - 1, "597fffffff"),
    (1 << 31, "4c0000000080000000"),
    (-(1 << 31) - 1, "4cffffffff7fffffff"),
    ((1 << 63) - 1, "4c7fffffffffffffff"),
    (-(1 << 63), "4c8000000000000000"),
]

DOUBLE_CASES = [
    (0.0, "5b"),
    (-0.0, "5b"),
    (1.0, "5c"),
    (-1.0, "5dff"),
    (127.0, "5d7f"),
    (-128.0, "5d80"),
    (2.0, "5d02"),
    (128.0, "5e0080"),
    (-129.0, "5eff7f"),
    (32767.0, "5e7fff"),
    (-32768.0, "5e8000"),
    (32768.0, "5f01f40000"),  # whole but too big for x5e: 32768000 mills
    (0.5, "5f000001f4"),
    (-0.001, "5fffffffff"),
    (12.25, "5f00002fda"),
    (2147483.647, "5f7fffffff"),
    (0.0001, "44" + struct.pack(">d", 0.0001).hex()),
    (3e9, "44" + struct.pack(">d", 3e9).hex()),
    (math.inf, "447ff0000000000000"),
    (-math.inf, "44fff0000000000000"),
]


@pytest.mark.parametrize("value,wire", INT_CASES)
def test_int_forms(value, wire):
    assert hessian2.dumps(value).hex() == wire
    decoded = hessian2.loads(bytes.fromhex(wire))
    assert decoded == value and type(decoded) is int


@pytest.mark.parametrize("value,wire", LONG_CASES)
def test_long_forms(value, wire):
    assert hessian2.dumps(Long(value)).hex() == wire
    decoded = hessian2.loads(bytes.fromhex(wire))
    assert decoded == value and type(decoded) is Long


def test_plain_int_beyond_32_bits_is_a_long():
    assert hessian2.dumps(1 << 40).hex() == "4c0000010000000000"
    with pytest.raises(EncodeError):
        hessian2.dumps(1 << 63)


@pytest.mark.parametrize("value,wire", DOUBLE_CASES)
def test_double_forms(value, wire):
    assert hessian2.dumps(value).hex() == wire
    decoded = hessian2.loads(bytes.fromhex(wire))
    assert type(decoded) is float
    assert decoded == value


def test_nan_round_trips():
    assert math.isnan(hessian2.loads(hessian2.dumps(math.nan)))


def test_double_mill_reads_like_java():
    # Java reads x5f as 0.001 * mills, which is not always the nearest double.
    assert hessian2.loads(bytes.fromhex("5f00000172")) == 0.001 * 370


@pytest.mark.parametrize(
    "wire", ["49", "49000000", "c8", "d400", "59", "4c00", "44" + "00" * 7, "5d", "5e00", "5f000000", "4a00", "4b"]
)
def test_truncated_numbers(wire):
    with pytest.raises(DecodeError) as info:
        hessian2.loads(bytes.fromhex(wire))
    assert "truncated" in str(info.value)


def test_booleans_and_null():
    assert hessian2.dumps([True, False, None]).hex() == "7b54464e"
    assert hessian2.loads(b"T") is True and hessian2.loads(b"F") is False and hessian2.loads(b"N") is None


def test_dates():
    minute = dt.datetime(2024, 5, 6, 7, 8, tzinfo=dt.UTC)
    millis = int(minute.timestamp()) * 1000
    assert hessian2.dumps(minute).hex() == "4b" + struct.pack(">i", millis // 60000).hex()
    precise = minute + dt.timedelta(milliseconds=123)
    assert hessian2.dumps(precise).hex() == "4a" + struct.pack(">q", millis + 123).hex()
    assert hessian2.loads(hessian2.dumps(precise)) == precise
    assert hessian2.loads(hessian2.dumps(minute)) == minute
    before_epoch = dt.datetime(1960, 1, 1, 0, 0, 0, 1000, tzinfo=dt.UTC)
    assert hessian2.loads(hessian2.dumps(before_epoch)) == before_epoch


def test_naive_datetime_is_utc():
    naive = dt.datetime(2020, 1, 1, 12, 0, 0)
    assert hessian2.loads(hessian2.dumps(naive)) == naive.replace(tzinfo=dt.UTC)


def test_date_outside_python_range_is_a_decode_error():
    with pytest.raises(DecodeError):
        hessian2.loads(bytes.fromhex("4a7fffffffffffffff"))


@pytest.mark.parametrize(
    "wrapper,bad", [(hessian2.Int, 1 << 31), (hessian2.Short, 40000), (hessian2.Byte, 128), (Long, 1 << 63)]
)
def test_wrappers_check_their_range(wrapper, bad):
    with pytest.raises(EncodeError):
        wrapper(bad)


def test_narrow_wrappers_travel_as_ints():
    assert hessian2.dumps([hessian2.Short(300), hessian2.Byte(-5), hessian2.Int(7)]).hex() == "7bc92c8b97"
    assert hessian2.dumps(hessian2.Float(0.5)).hex() == "5f000001f4"
