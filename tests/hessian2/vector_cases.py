"""The Python side of the Java vector cases (tests/java/hessian-vectors/.../Cases.java).

``CASES`` maps each vector name to the Python value that the Java value of the
same name must decode to, and that must encode to Java's bytes (except the
names in ``NOT_BYTE_EXACT``, where hessian-lite's choice depends on its output
buffer). ``python_bytes(name)`` is what the Python codec writes for Java to check.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import hessian2
from dubbo_recsys.interfaces.recommend import RecommendItem, RecommendResponse
from hessian2 import (
    Instant,
    JavaEnum,
    JavaException,
    JavaObject,
    LocalDateTime,
    Long,
    StackTraceElement,
    TypedList,
    TypedMap,
)


@dataclass
class VPoint(JavaObject, java_class="vectors.Point"):
    x: int = 0
    y: int = 0


@dataclass(eq=False)
class VNode(JavaObject, java_class="vectors.Node"):
    name: str | None = None
    next: VNode | None = None
    ids: list[Long] = field(default_factory=list)
    weights: dict[str, float] = field(default_factory=dict)
    tags: set[str] = field(default_factory=set)


class VColor(JavaEnum, java_class="vectors.Color"):
    RED = 0
    GREEN = 1


UTC = dt.UTC
NOT_BYTE_EXACT = {"binary_chunked"}


def _name(value: int) -> str:
    return f"m{-value}" if value < 0 else str(value)


def _blob(size: int) -> bytes:
    return bytes(i % 251 for i in range(size))


def _cases() -> dict[str, Any]:
    c: dict[str, Any] = {"null": None, "true": True, "false": False}
    for v in (
        0,
        -16,
        47,
        -17,
        48,
        -2048,
        2047,
        -2049,
        2048,
        -262144,
        262143,
        -262145,
        262144,
        -(1 << 31),
        (1 << 31) - 1,
    ):
        c[f"int_{_name(v)}"] = v
    for v in (
        0,
        -8,
        15,
        -9,
        16,
        -2048,
        2047,
        -2049,
        2048,
        -262144,
        262143,
        -262145,
        262144,
        -(1 << 31),
        (1 << 31) - 1,
        1 << 31,
        -(1 << 63),
        (1 << 63) - 1,
    ):
        c[f"long_{_name(v)}"] = Long(v)
    c.update(
        {
            "double_zero": 0.0,
            "double_one": 1.0,
            "double_m128": -128.0,
            "double_127": 127.0,
            "double_128": 128.0,
            "double_m32768": -32768.0,
            "double_32767": 32767.0,
            "double_32768": 32768.0,
            "double_mill": 12.25,
            "double_mill_neg": -0.001,
            "double_tenth": 0.1,
            "double_pi": 3.141592653589793,
            "double_big": 3e9,
            "double_tiny": 1e-300,
            "double_inf": float("-inf"),
            "string_empty": "",
            "string_hello": "hello",
            "string_31": "a" * 31,
            "string_32": "b" * 32,
            "string_1023": "c" * 1023,
            "string_1024": "d" * 1024,
            "string_32768": "e" * 0x8000,
            "string_bmp": "é中文\0!",
            "string_non_bmp": "a\U0001f600b\U00010437",
            "string_chunked": "x" * 0x7FFF + "\U0001f600" + "y" * 0x8000 + "é" * 100,
            "binary_empty": b"",
            "binary_15": _blob(15),
            "binary_16": _blob(16),
            "binary_1023": _blob(1023),
            "binary_1024": _blob(1024),
            "binary_chunked": _blob(20000),
            "date_minute": dt.datetime.fromtimestamp(1699999980, UTC),
            "date_millis": dt.datetime.fromtimestamp(1700000000, UTC) + dt.timedelta(milliseconds=123),
            "date_before_epoch": dt.datetime(1970, 1, 1, tzinfo=UTC) - dt.timedelta(milliseconds=86400001),
            "list_empty": [],
            "list_mixed": [1, "a", None, 2.5, True, Long(7)],
            "list_ten": list(range(10)),
            "linked_list": TypedList("java.util.LinkedList", [1, 2]),
            "hash_set": TypedList("java.util.HashSet", ["only"]),
            "hash_map": {"a": 1},
            "map_odd_keys": {None: "nothing", 1: "one"},
            "linked_hash_map": TypedMap("java.util.LinkedHashMap", {"x": 1, "y": "two"}),
            "array_int": TypedList("[int", [1, 2, 300000]),
            "array_long": TypedList("[long", [Long(1), Long(-5)]),
            "array_double": TypedList("[double", [0.5, 2.0]),
            "array_string": TypedList("[string", ["a", "b"]),
            "array_object": TypedList("[object", [1, "a"]),
            "array_point": TypedList("[vectors.Point", [VPoint(1, 2)]),
            "object_point": VPoint(1, 2),
            "object_points": [VPoint(1, 2), VPoint(3, 4)],
            "object_node": VNode("n", ids=[Long(1), Long(5000000000)], weights={"w": 0.5}, tags={"t"}),
        }
    )
    inner = [1]
    c["shared_ref"] = [inner, inner]
    loop = VNode("loop")
    loop.next = loop
    c["cyclic"] = loop
    c["enum"] = VColor.RED
    c["enum_list"] = [VColor.RED, VColor.RED, VColor.GREEN]
    c["big_decimal"] = Decimal("12.34")
    c["big_decimal_exp"] = Decimal("-1.5E+12")
    cause = JavaException(
        "inner",
        java_class="java.lang.IllegalStateException",
        stack_trace=[
            StackTraceElement(declaringClass="org.x.Inner", methodName="run", fileName="Inner.java", lineNumber=7)
        ],
    )
    c["exception"] = JavaException(
        "boom",
        cause=cause,
        stack_trace=[
            StackTraceElement(declaringClass="org.x.Svc", methodName="call", fileName="Svc.java", lineNumber=42),
            StackTraceElement(declaringClass="org.x.Main", methodName="main", fileName=None, lineNumber=-2),
        ],
    )
    c["local_date"] = dt.date(2024, 2, 29)
    c["local_time"] = dt.time(1, 2, 3, 4)
    c["local_date_time"] = LocalDateTime(2024, 1, 2, 3, 4, 5, 6)
    c["instant"] = Instant(2023, 11, 14, 22, 13, 20, 123456, tzinfo=UTC)
    c["duration"] = dt.timedelta(seconds=3723, microseconds=5)
    c["recommend_response"] = RecommendResponse(
        requestId="r-1",
        items=[
            RecommendItem("i1", 0.9, "u2i"),
            RecommendItem("i2", 0.5, "hot"),
            RecommendItem("i3", 0.123456789, "icf"),
        ],
    )
    c["stream"] = ["2.0.2", VPoint(1, 2), VPoint(3, 4), inner, inner]
    return c


CASES = _cases()


def python_bytes(name: str) -> bytes:
    value = CASES[name]
    if name == "stream":
        encoder = hessian2.Encoder()
        for item in value:
            encoder.write(item)
        return encoder.getvalue()
    return hessian2.dumps(value)


def decode(name: str, data: bytes) -> Any:
    if name == "stream":
        decoder = hessian2.Decoder(data)
        values = []
        while not decoder.at_end():
            values.append(decoder.read())
        return values
    return hessian2.loads(data)
