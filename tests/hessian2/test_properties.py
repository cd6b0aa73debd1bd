"""Hypothesis: round trips for every type, and arbitrary bytes never escape DecodeError.

Also feeds every sample whole, as every proper prefix (each must fail with
DecodeError, never hang or return garbage) and with trailing bytes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
from dataclasses import dataclass
from dataclasses import field as dc_field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hessian2
from hessian2 import (
    Byte,
    DecodeError,
    Decoder,
    JavaEnum,
    JavaGenericObject,
    JavaObject,
    Long,
    Short,
    TypedList,
    TypedMap,
)

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

ints = st.integers(min_value=-(1 << 31), max_value=(1 << 31) - 1)
longs = st.integers(min_value=-(1 << 63), max_value=(1 << 63) - 1).map(Long)
doubles = st.floats(allow_nan=False)
texts = st.text(max_size=40) | st.text(alphabet=st.characters(min_codepoint=0x10000), max_size=5)
blobs = st.binary(max_size=64)
dates = st.datetimes(
    min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30), timezones=st.just(dt.UTC)
).map(lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000))
decimals = st.decimals(allow_nan=False, allow_infinity=False, places=4)
scalars = st.none() | st.booleans() | ints | longs | doubles | texts | blobs | dates | decimals
keys = st.none() | st.booleans() | ints | texts | doubles


def _containers(children):
    return (
        st.lists(children, max_size=9)
        | st.dictionaries(keys, children, max_size=5)
        | st.builds(
            TypedList,
            st.sampled_from(["java.util.LinkedList", "[object", "java.util.HashSet"]),
            st.lists(children, max_size=9),
        )
        | st.builds(
            TypedMap,
            st.sampled_from(["java.util.LinkedHashMap", "java.util.TreeMap"]),
            st.dictionaries(texts, children, max_size=4),
        )
        | st.builds(
            JavaGenericObject,
            st.sampled_from(["a.B", "a.C"]),
            st.dictionaries(st.sampled_from(["x", "y", "z"]), children, max_size=3),
        )
    )


values = st.recursive(scalars, _containers, max_leaves=25)


def _same(a, b) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return a == b or (a != a and b != b)
    if isinstance(a, list):
        return (
            len(a) == len(b)
            and all(_same(x, y) for x, y in zip(a, b, strict=True))
            and getattr(a, "java_type", None) == getattr(b, "java_type", None)
        )
    if isinstance(a, dict):
        return (
            list(a) == list(b)
            and all(_same(a[k], b[k]) for k in a)
            and getattr(a, "java_type", None) == getattr(b, "java_type", None)
        )
    if isinstance(a, JavaGenericObject):
        return a.java_class == b.java_class and _same(a.fields, b.fields)
    if isinstance(a, decimal.Decimal):
        return str(a) == str(b)
    return a == b


def _normalize(value):
    """Java has no -0.0 in its compact forms; hessian-lite writes -0.0 as x5b, i.e. 0.0."""
    if isinstance(value, float) and value == 0.0:
        return 0.0
    if isinstance(value, TypedList):
        return TypedList(value.java_type, [_normalize(v) for v in value])
    if isinstance(value, list):
        return [_normalize(v) for v in value]
    if isinstance(value, TypedMap):
        return TypedMap(value.java_type, {k: _normalize(v) for k, v in value.items()})
    if isinstance(value, dict):
        return {k: _normalize(v) for k, v in value.items()}
    if isinstance(value, JavaGenericObject):
        return JavaGenericObject(value.java_class, {k: _normalize(v) for k, v in value.fields.items()})
    return value


@SETTINGS
@given(values)
def test_round_trip(value):
    wire = hessian2.dumps(value)
    decoded = hessian2.loads(wire)
    assert _same(decoded, _normalize(value))
    assert hessian2.dumps(decoded) == wire  # re-encoding is stable


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values, st.binary(min_size=1, max_size=4))
def test_whole_prefixes_and_trailing(value, tail):
    wire = hessian2.dumps(value)
    decoder = Decoder(wire + tail)
    decoder.read()
    assert decoder.position == len(wire)
    with pytest.raises(DecodeError) as refused:  # trailing bytes are never accepted
        hessian2.loads(wire + tail)
    assert refused.value.offset >= len(wire) or "trailing" not in refused.value.reason
    step = max(1, len(wire) // 64)
    for cut in range(0, len(wire), step):
        try:
            hessian2.loads(wire[:cut])
        except DecodeError:
            pass
        else:
            raise AssertionError(f"prefix of {cut} bytes decoded")


@settings(max_examples=1500, deadline=None)
@given(st.binary(max_size=64))
def test_arbitrary_bytes_decode_or_raise_decode_error(data):
    with contextlib.suppress(DecodeError):
        hessian2.loads(data)


@settings(max_examples=300, deadline=None)
@given(values, st.data())
def test_mutated_streams_decode_or_raise_decode_error(value, data):
    wire = bytearray(hessian2.dumps(value))
    if wire:
        index = data.draw(st.integers(0, len(wire) - 1))
        wire[index] = data.draw(st.integers(0, 255))
    with contextlib.suppress(DecodeError):
        hessian2.loads(bytes(wire))


# ---- bound dataclasses: every annotation kind round-trips with its Java width


class PropLevel(JavaEnum, java_class="test.prop.Level"):
    A = 1
    B = 2


@dataclass
class PropLeaf(JavaObject, java_class="test.prop.Leaf"):
    n: int = 0
    big: Long = Long(0)
    small: Short = Short(0)
    tiny: Byte = Byte(0)
    ratio: float = 0.0
    flag: bool = False
    label: str = ""
    data: bytes = b""
    when: dt.datetime | None = None
    amount: decimal.Decimal | None = None
    level: PropLevel | None = None


@dataclass
class PropTree(JavaObject, java_class="test.prop.Tree"):
    leaves: list[PropLeaf] = dc_field(default_factory=list)
    ids: list[Long] = dc_field(default_factory=list)
    index: dict[str, PropLeaf] = dc_field(default_factory=dict)
    tags: set[str] = dc_field(default_factory=set)
    child: PropTree | None = None


leaves = st.builds(
    PropLeaf,
    n=ints,
    big=longs,
    small=st.integers(-32768, 32767).map(Short),
    tiny=st.integers(-128, 127).map(Byte),
    ratio=doubles.filter(lambda f: f != 0.0) | st.just(0.0),
    flag=st.booleans(),
    label=texts,
    data=blobs,
    when=st.none() | dates,
    amount=st.none() | decimals,
    level=st.none() | st.sampled_from(PropLevel),
)
trees = st.recursive(
    st.builds(
        PropTree,
        leaves=st.lists(leaves, max_size=3),
        ids=st.lists(st.integers(-(1 << 63), (1 << 63) - 1), max_size=4),
        index=st.dictionaries(texts, leaves, max_size=2),
        tags=st.sets(texts, max_size=3),
    ),
    lambda child: st.builds(PropTree, child=child),
    max_leaves=4,
)


@settings(max_examples=100, deadline=None)
@given(trees)
def test_bound_dataclass_round_trip(tree):
    decoded = hessian2.loads(hessian2.dumps(tree))
    expected = tree
    while expected is not None:
        assert all(type(i) is Long for i in decoded.ids)
        assert [int(i) for i in decoded.ids] == [int(i) for i in expected.ids]
        assert decoded.leaves == expected.leaves and decoded.index == expected.index
        assert decoded.tags == expected.tags
        expected, decoded = expected.child, decoded.child
    assert decoded is None


@settings(max_examples=100, deadline=None)
@given(st.lists(values, min_size=1, max_size=4), st.data())
def test_streams_of_values_share_definitions_and_references(items, data):
    shared = data.draw(st.lists(values, max_size=3))
    encoder = hessian2.Encoder()
    for item in items:
        encoder.write(item)
        encoder.write(shared)  # the same list object after every value: a reference from the second on
    body = encoder.getvalue()
    decoder = Decoder(body)
    decoded = []
    while not decoder.at_end():
        decoded.append(decoder.read())
    assert len(decoded) == 2 * len(items)
    for index, item in enumerate(items):
        assert _same(decoded[2 * index], _normalize(item))
    assert all(decoded[i] is decoded[1] for i in range(3, len(decoded), 2))


@dataclass
class PropScore(JavaObject, java_class="test.prop.Score"):
    score: float = 0.0


@settings(max_examples=400, deadline=None)
@given(
    st.floats() | st.integers(-(1 << 31), (1 << 31) - 1).map(lambda m: m / 1000.0) | st.integers(-5000, 5000).map(float)
)
def test_generated_double_field_writer_matches_write_double(value):
    # the generated per-class writer inlines the usual case of write_double; both must agree
    field_bytes = hessian2.dumps(PropScore(value))
    assert field_bytes.endswith(hessian2.dumps(value))
    assert field_bytes[: -len(hessian2.dumps(value))] == hessian2.dumps(PropScore(0.0))[:-1]
