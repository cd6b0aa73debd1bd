"""Hostile Hessian 2 inputs, one builder per attack class (bytes only, no I/O).

Each builder returns the bytes of exactly one Hessian value, sized by its
arguments, so a test can state "n bytes cost at most ..." and a server test can
send the same shapes over the wire. The bytes are written by hand (``Raw``),
not by our encoder, because most of them are things our encoder refuses to
write. A value here defines its own class definitions and references from
index 0, so it may follow plain strings in a stream (the header values of a
Dubbo request body) but not values that define classes or references.

Attack classes (see hessian2/README.md, "Hostile input"):

* ``fanout``: a DAG of lists, each level ``width`` references to the level
  below: ``levels * width`` bytes that a tree walk (repr, deep copy, a naive
  converter) would visit ``width ** levels`` times.
* ``error_fanout``: the same DAG as the field of an object whose reader must
  refuse it (BigDecimal, UUID, a java.time handle, an enum constant), so the
  error message is tempted to render it.
* ``colliding_keys``: map keys that are distinct but share one Python hash
  (BigDecimal -> Decimal, UUID and long keys hash deterministically).
* ``merging_keys``: keys distinct in Java but equal in Python (1, 1L, 1.0,
  true, BigDecimal 1, 1.0, 1.00, -0.0 and 0.0, equal byte arrays).
* ``fresh_names``: a class with a new name and new field names, one per
  message, to grow any cache fed by the input.
* ``deep_nesting`` and ``huge_claims``: depth past the limit, and lengths,
  counts and indexes far larger than the input.
* ``typed_field``: a bound class's field carrying a value of the wrong type.
"""

from __future__ import annotations

import builtins
import struct
from collections.abc import Iterable

__all__ = [
    "HASH_MODULUS",
    "Raw",
    "colliding_keys",
    "deep_nesting",
    "error_fanout",
    "fanout",
    "fresh_names",
    "huge_claims",
    "merging_keys",
    "typed_field",
]

HASH_MODULUS = (1 << 61) - 1  # CPython's numeric hash is the value modulo this prime


class Raw:
    """The wire forms these builders need, written without the codec under test."""

    @staticmethod
    def int(value: int) -> bytes:
        if -16 <= value <= 47:
            return bytes([0x90 + value])
        return b"I" + struct.pack(">i", value)

    @staticmethod
    def long(value: builtins.int) -> bytes:
        return b"L" + struct.pack(">q", value)

    @staticmethod
    def double(value: float) -> bytes:
        return b"D" + struct.pack(">d", value)

    @staticmethod
    def str(text: str) -> bytes:
        data = text.encode("utf-8", "surrogatepass")
        units = len(text.encode("utf-16-le", "surrogatepass")) // 2
        if units <= 31:
            return bytes([units]) + data
        if units <= 0xFFFF:
            return b"S" + struct.pack(">H", units) + data
        raise ValueError("Raw.str writes one chunk only")

    @staticmethod
    def binary(data: bytes) -> bytes:
        return b"B" + struct.pack(">H", len(data)) + data

    @staticmethod
    def classdef(java_class: builtins.str, fields: Iterable[builtins.str]) -> bytes:
        names = list(fields)
        return b"C" + Raw.str(java_class) + Raw.int(len(names)) + b"".join(Raw.str(n) for n in names)

    @staticmethod
    def instance(index: builtins.int) -> bytes:
        return bytes([0x60 + index]) if index <= 15 else b"O" + Raw.int(index)

    @staticmethod
    def ref(index: builtins.int) -> bytes:
        return b"Q" + Raw.int(index)

    @staticmethod
    def list(items: Iterable[bytes]) -> bytes:
        return b"W" + b"".join(items) + b"Z"

    @staticmethod
    def map(entries: Iterable[tuple[bytes, bytes]]) -> bytes:
        return b"H" + b"".join(k + v for k, v in entries) + b"Z"


def _dag(levels: int, width: int, first_ref: int) -> bytes:
    """One list value holding the DAG: a list of ``width`` small strings, then ``levels``
    lists of ``width`` references to the one before. ``first_ref`` is the reference
    index this holder list gets (references count every list, map and object so far)."""
    out = [b"W", b"W", b"".join(Raw.str(f"leaf-{i}") for i in range(width)), b"Z"]
    below = first_ref + 1
    for _ in range(levels):
        out.append(b"W" + Raw.ref(below) * width + b"Z")
        below += 1
    out.append(b"Z")
    return b"".join(out)


def fanout(levels: int = 20, width: int = 4) -> bytes:
    """The DAG: a few hundred bytes, linear to decode, ``width ** levels`` nodes as a tree."""
    return _dag(levels, width, 0)


_ERROR_TARGETS = {
    "decimal": ("java.math.BigDecimal", ("value",)),
    "uuid": ("java.util.UUID", ("value",)),
    "local_date": ("com.alibaba.com.caucho.hessian.io.java8.LocalDateHandle", ("day", "month", "year")),
    "instant": ("com.alibaba.com.caucho.hessian.io.java8.InstantHandle", ("nanos", "seconds")),
}


def error_fanout(levels: int = 20, width: int = 4, target: str = "decimal", java_class: str | None = None) -> bytes:
    """An object of a converting class (``target``) whose every field is the fan-out DAG.

    ``java_class`` overrides the class name (an enum bound in the test, whose ``name``
    field then holds the DAG)."""
    name, fields = _ERROR_TARGETS.get(target, (target, ("name",)))
    name = java_class or name
    dag = _dag(levels, width, 2)  # 0: the outer list, 1: the object
    values = dag + Raw.ref(2) * (len(fields) - 1)
    return b"W" + Raw.classdef(name, fields) + Raw.instance(0) + values + b"Z"


def _decimal_keys(count: int) -> list[bytes]:
    first = Raw.classdef("java.math.BigDecimal", ("value",))
    keys = [Raw.instance(0) + Raw.str(str(k * HASH_MODULUS)) for k in range(1, count + 1)]
    keys[0] = first + keys[0]
    return keys


def _uuid_keys(count: int) -> list[bytes]:
    first = Raw.classdef("java.util.UUID", ("value",))
    keys = []
    for k in range(1, count + 1):
        text = f"{k * HASH_MODULUS:032x}"
        text = f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
        keys.append(Raw.instance(0) + Raw.str(text))
    keys[0] = first + keys[0]
    return keys


def _long_keys(count: int) -> list[bytes]:
    # every long in range congruent to 5 modulo the hash prime: few (about 8), so repeat the class
    values = [v for v in (5 + k * HASH_MODULUS for k in range(-5, 5)) if -(1 << 63) <= v < 1 << 63]
    return [Raw.long(values[i % len(values)] if i < len(values) else i) for i in range(count)]


def colliding_keys(count: int = 2000, kind: str = "decimal") -> bytes:
    """A map of ``count`` distinct keys with one Python hash (``decimal``, ``uuid``; ``long``
    has only ~8 per hash value in 64 bits, the rest are ordinary keys)."""
    keys = {"decimal": _decimal_keys, "uuid": _uuid_keys, "long": _long_keys}[kind](count)
    return Raw.map((key, Raw.int(i % 40)) for i, key in enumerate(keys))


def merging_keys(repeat: int = 1) -> bytes:
    """A HashMap whose keys Java holds apart and Python's dict would merge, ``repeat`` rounds."""
    decimal_def = Raw.classdef("java.math.BigDecimal", ("value",))
    entries = []
    for round_ in range(repeat):
        keys = [
            Raw.int(1),
            Raw.long(1),
            Raw.double(1.0),
            b"T",
            (decimal_def if round_ == 0 else b"") + Raw.instance(0) + Raw.str("1"),
            Raw.instance(0) + Raw.str("1.0"),
            Raw.instance(0) + Raw.str("1.00"),
            Raw.double(0.0),
            Raw.double(-0.0),
            Raw.int(0),
            b"F",
            Raw.binary(b"same"),
            Raw.binary(b"same"),
        ]
        entries += [(key, Raw.str(f"v{round_}-{i}")) for i, key in enumerate(keys)]
    return Raw.map(entries)


def fresh_names(seq: int, fields: int = 50, name_size: int = 40) -> bytes:
    """An object of a class no earlier message named, with ``fields`` new field names."""
    tag = f"{seq:08d}"
    names = [f"f{tag}{i:04d}".ljust(name_size, "x") for i in range(fields)]
    return Raw.classdef(f"org.hostile.C{tag}".ljust(name_size, "x"), names) + Raw.instance(0) + Raw.int(1) * fields


def deep_nesting(depth: int = 100_000) -> bytes:
    """Lists nested ``depth`` deep (open tags only; the decoder must stop at its limit)."""
    return b"\x79" * depth + b"N"


def huge_claims() -> dict[str, bytes]:
    """Values that announce far more than they carry."""
    return {
        "list_fixed": b"X" + Raw.int(0x7FFFFFFF) + b"N",
        "list_typed": b"V" + Raw.str("[int") + Raw.int(0x7FFFFFFF) + b"\x90",
        "string": b"S\xff\xff" + b"a" * 10,
        "string_chunks": b"R\xff\xff" + b"a" * 10,
        "binary": b"B\xff\xff" + b"\0" * 10,
        "classdef_fields": b"C" + Raw.str("a.B") + Raw.int(0x7FFFFFFF) + Raw.str("x"),
        "object_index": b"O" + Raw.int(0x7FFFFFFF),
        "ref_index": b"Q" + Raw.int(0x7FFFFFFF),
        "type_index": b"\x71" + Raw.int(0x7FFFFFFF) + b"N",
        "map_unterminated": b"H" + b"\x91\x92" * 1000,
    }


def typed_field(java_class: str, fields: dict[str, bytes]) -> bytes:
    """An object of ``java_class`` whose fields carry the given raw values (right or wrong)."""
    return Raw.classdef(java_class, fields) + Raw.instance(0) + b"".join(fields.values())
