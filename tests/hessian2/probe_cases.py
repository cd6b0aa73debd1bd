"""What hessian-lite accepts, case by case: inputs for vectors.Probe and the Python side of each.

``CASES`` maps a case name to Hessian bytes: an object of ``vectors.Typed`` with
one field holding a value of some Hessian type (``field-F-V``: is V accepted for
a Java field of F's type, and converted to what?), BigDecimal and UUID strings
(``dec-*``, ``uuid-*``: Java's ``new BigDecimal(String)`` and ``UUID.fromString``
grammars) and java.time handles (``date-*``, ``time-*``, ``instant-*``,
``duration-*``). ``render(name, value)`` writes what the Python codec decoded in
the canonical text vectors.Probe prints for Java (``ERROR`` when it refused);
``tests/hessian2/vectors/probes.tsv`` holds Java's answers, regenerated and
compared by the java-marked test.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import struct
import uuid
from dataclasses import dataclass
from typing import Any

import hessian2
from hessian2 import Byte, Char, Float, JavaObject, Long, MapEntries, Short
from tests.hessian2.hostile import Raw
from tests.hessian2.vector_cases import VColor, VPoint


@dataclass
class PTyped(JavaObject, java_class="vectors.Typed"):
    i: int = 0
    l: Long = 0  # noqa: E741  (the Java field's name)
    d: float = 0.0
    f: Float = 0.0
    b: bool = False
    s: str | None = None
    c: Char = "\0"
    sh: Short = 0
    by: Byte = 0
    boxedInt: int | None = None
    boxedLong: Long | None = None
    longs: list[Long] | None = None
    counts: dict[str, Long] | None = None
    tags: set[str] | None = None
    amount: decimal.Decimal | None = None
    point: VPoint | None = None
    color: VColor | None = None


# Java's value of a primitive field that arrives as null (Python keeps None)
PRIMITIVE_DEFAULTS = {"i": "I0", "l": "L0", "d": "D0", "f": "D0", "b": "Zfalse", "c": "T0000", "sh": "I0", "by": "I0"}

_DECIMAL_DEF = Raw.classdef("java.math.BigDecimal", ["value"])
_POINT_DEF = Raw.classdef("vectors.Point", ["y", "x"])
_COLOR_DEF = Raw.classdef("vectors.Color", ["name"])

WIRE_VALUES: dict[str, bytes] = {
    "int5": Raw.int(5),
    "intbig": Raw.int(-70000),
    "long40": Raw.long(1 << 40),
    "longm1": bytes([0xE0 - 1]),
    "dbl27": Raw.double(2.7),
    "dblneg": Raw.double(-1e20),
    "dblnan": Raw.double(math.nan),
    "dbl1e10": Raw.double(1e10),
    "dblbyte5": b"\x5d\x05",
    "dblshort300": b"\x5e\x01\x2c",
    "dblmill": b"\x5f" + struct.pack(">i", 500),
    "dblfull5": Raw.double(5.0),
    "dblsmall": Raw.double(1.5e-5),
    "true": b"T",
    "false": b"F",
    "null": b"N",
    "str12": Raw.str("12"),
    "strempty": Raw.str(""),
    "strwide": Raw.str("\u00e9\U0001f600"),
    "list": Raw.list([Raw.int(1), Raw.long(2)]),
    "map": Raw.map([(Raw.str("k"), Raw.int(3))]),
    "date": b"J" + struct.pack(">q", 1_700_000_000_000),
    "binary": Raw.binary(b"ab"),
    "point": _POINT_DEF + Raw.instance(1) + Raw.int(2) + Raw.int(1),
    "color": _COLOR_DEF + Raw.instance(1) + Raw.str("RED"),
    "decimal": _DECIMAL_DEF + Raw.instance(1) + Raw.str("1.50"),
}
FIELDS = list(PTyped.__dataclass_fields__)

DECIMAL_STRINGS = [
    "12.34",
    "-0",
    "-0.00",
    "+1.5e-3",
    "00012.3400",
    ".5",
    "5.",
    ".",
    "+",
    "",
    "1_000",
    " 1",
    "1 ",
    "Infinity",
    "NaN",
    "0x10",
    "1e",
    "1e+",
    "1.2.3",
    "1E2147483647",
    "1E2147483648",
    "1E-2147483648",
    "0.1E-2147483648",
    "1E00000000000000000000000000005",
    "1E12345678901",
    "\u0661\u0662\u0663",
    "\uff11\uff12",
    "\U0001d7cf",
    "1e\u0665",
    "1" * 400,
]
UUID_STRINGS = [
    "12345678-1234-5678-1234-567812345678",
    "12345678-1234-5678-1234-56781234567",
    "{12345678-1234-5678-1234-567812345678}",
    "urn:uuid:12345678-1234-5678-1234-567812345678",
    "12345678123456781234567812345678",
    "+1-+1-+1-+1-+1",
    "1-1-1-1-1",
    "1ffffffff-1-1-1-1",
    "1-1-1-1-1-1",
    "g-1-1-1-1",
    "\uff11-1-1-1-1",
    "\uff21-1-1-1-1",
    "\u0661-1-1-1-1",
    "-1-1-1-1",
    "7fffffffffffffff-0-0-0-0",
    "8000000000000000-0-0-0-0",
    "000000001-0000-0000-0000-000000000000",
    "ABCDEF01-abcd-ABCD-abcd-ABCDEFabcdef",
]
_JAVA8 = "com.alibaba.com.caucho.hessian.io.java8."


def _handle(name: str, fields: dict[str, bytes]) -> bytes:
    return Raw.classdef(_JAVA8 + name, fields) + Raw.instance(0) + b"".join(fields.values())


def _cases() -> dict[str, bytes]:
    cases: dict[str, bytes] = {}
    for field in FIELDS:
        for label, wire in WIRE_VALUES.items():
            cases[f"field-{field}-{label}"] = Raw.classdef("vectors.Typed", [field]) + Raw.instance(0) + wire
    for field, label, wire in (
        ("longs", "fixedints", b"\x7a" + Raw.int(1) + Raw.int(2)),
        ("longs", "fixedstr", b"\x7a" + Raw.str("1") + Raw.int(2)),
        ("longs", "fixedmixed", b"\x7a" + WIRE_VALUES["dblmill"] + b"T"),
        ("tags", "fixedints", b"\x7a" + Raw.int(1) + Raw.int(2)),
        ("tags", "hashset", b"\x72" + Raw.str("java.util.HashSet") + Raw.str("x") + Raw.str("y")),
        ("counts", "intkey", Raw.map([(Raw.int(1), Raw.int(2))])),
        ("counts", "strvalue", Raw.map([(Raw.str("a"), Raw.str("x"))])),
        ("counts", "doublevalue", Raw.map([(Raw.str("a"), Raw.double(2.5))])),
    ):
        cases[f"field-{field}-{label}"] = Raw.classdef("vectors.Typed", [field]) + Raw.instance(0) + wire
    for index, text in enumerate(DECIMAL_STRINGS):
        cases[f"dec-{index:02d}"] = _DECIMAL_DEF + Raw.instance(0) + Raw.str(text)
    for label in ("int5", "dbl27", "dbl1e10", "true", "null"):
        cases[f"dec-{label}"] = _DECIMAL_DEF + Raw.instance(0) + WIRE_VALUES[label]
    cases["dec-missing"] = Raw.classdef("java.math.BigDecimal", ["other"]) + Raw.instance(0) + Raw.str("1")
    uuid_def = Raw.classdef("java.util.UUID", ["value"])
    for index, text in enumerate(UUID_STRINGS):
        cases[f"uuid-{index:02d}"] = uuid_def + Raw.instance(0) + Raw.str(text)
    for label, (year, month, day) in {
        "ok": (2024, 2, 29),
        "feb30": (2024, 2, 30),
        "notleap": (1900, 2, 29),
        "month13": (2024, 13, 1),
        "year0": (0, 1, 1),
        "year10000": (10000, 1, 1),
    }.items():
        cases[f"date-{label}"] = _handle(
            "LocalDateHandle", {"day": Raw.int(day), "month": Raw.int(month), "year": Raw.int(year)}
        )
    cases["date-strings"] = _handle(
        "LocalDateHandle", {"day": Raw.str("1"), "month": Raw.int(1), "year": Raw.int(2000)}
    )
    cases["date-doubles"] = _handle("LocalDateHandle", {"day": Raw.double(3.9), "month": b"T", "year": Raw.long(2000)})
    for label, (hour, minute, second, nano) in {
        "ok": (1, 2, 3, 999_999_999),
        "hour24": (24, 0, 0, 0),
        "nano1e9": (1, 2, 3, 1_000_000_000),
        "negative": (1, -1, 0, 0),
    }.items():
        cases[f"time-{label}"] = _handle(
            "LocalTimeHandle",
            {"nano": Raw.int(nano), "second": Raw.int(second), "minute": Raw.int(minute), "hour": Raw.int(hour)},
        )
    for label, (seconds, nanos) in {
        "ok": (1_700_000_000, 5000),
        "negnanos": (10, -1),
        "max": (31556889864403199, 0),
        "beyond": (31556889864403200, 0),
        "overflow": ((1 << 63) - 1, 1_000_000_000),
    }.items():
        fields = {"nanos": Raw.int(nanos), "seconds": Raw.long(seconds)}
        cases[f"instant-{label}"] = _handle("InstantHandle", fields)
        cases[f"duration-{label}"] = _handle("DurationHandle", fields)
    return cases


CASES = _cases()


def _bits(value: float) -> str:
    return format(struct.unpack(">Q", struct.pack(">d", value))[0], "x")


def _utf16(text: str) -> str:
    data = text.encode("utf-16-be", "surrogatepass")
    return "".join(f"{(data[i] << 8) | data[i + 1]:04x}" for i in range(0, len(data), 2))


def render(value: Any) -> str:
    """The text vectors.Probe.render gives the Java value this Python value stands for."""
    if value is None:
        return "N"
    kind = type(value)
    if kind is bool:
        return "Ztrue" if value else "Zfalse"
    if kind is Long:
        return f"L{int(value)}"
    if isinstance(value, int):
        return f"I{int(value)}"
    if isinstance(value, float):
        return "D" + _bits(value)
    if isinstance(value, str):
        return "T" + _utf16(value)
    if kind is decimal.Decimal:
        return f"M{value}"
    if kind is uuid.UUID:
        return f"U{value}"
    if kind is hessian2.LocalDateTime:
        return render(value.date()) + ";" + render(value.time())
    if kind is hessian2.Instant:
        delta = value - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
        return f"IN{delta.days * 86400 + delta.seconds},{delta.microseconds}"
    if kind is dt.date:
        return f"LD{value.year},{value.month},{value.day}"
    if kind is dt.time:
        return f"LT{value.hour},{value.minute},{value.second},{value.microsecond}"
    if kind is dt.timedelta:
        return f"DU{value.days * 86400 + value.seconds},{value.microseconds}"
    if kind is VColor:
        return f"E{value.name}"
    if kind is VPoint:
        return f"P{value.x},{value.y}"
    if isinstance(value, (set, frozenset)):
        return "{[" + ", ".join(sorted(render(v) for v in value)) + "]}"
    if isinstance(value, list):
        return "[" + ", ".join(render(v) for v in value) + "]"
    if isinstance(value, (dict, MapEntries)):
        return "<[" + ", ".join(sorted(f"{render(k)}={render(v)}" for k, v in value.items())) + "]>"
    return f"?{kind.__name__}"


def python_answer(name: str) -> str:
    """What the Python codec makes of case ``name``, rendered like Java's answer."""
    try:
        value = hessian2.loads(CASES[name])
    except hessian2.DecodeError:
        return "ERROR"
    if name.startswith("field-"):
        field = name.split("-")[1]
        value = getattr(value, field)
        if value is None and field in PRIMITIVE_DEFAULTS:
            return PRIMITIVE_DEFAULTS[field]
    return render(value)
