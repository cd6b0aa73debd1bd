"""Lists, maps, typed collections, type references and shared/cyclic references."""

from __future__ import annotations

import pytest

import hessian2
from hessian2 import DecodeError, MapEntries, TypedList, TypedMap


@pytest.mark.parametrize("size, head", [(0, "78"), (7, "7f"), (8, "5898"), (100, "58c864")])
def test_untyped_list_forms(size, head):
    items = list(range(size))
    wire = hessian2.dumps(items)
    assert wire.hex().startswith(head)
    assert hessian2.loads(wire) == items


def test_tuple_is_an_arraylist():
    assert hessian2.dumps((1, 2)) == hessian2.dumps([1, 2])


def test_typed_lists_and_type_references():
    wire = hessian2.dumps([TypedList("[int", [1, 2]), TypedList("[int", list(range(9)))])
    # second occurrence of "[int" is written as type reference #0
    assert wire.hex().startswith("7a72045b696e749192" + "56" + "90" + "99")
    decoded = hessian2.loads(wire)
    assert decoded == [TypedList("[int", [1, 2]), TypedList("[int", list(range(9)))]
    assert decoded[0].java_type == "[int"


def test_set_is_a_hashset():
    wire = hessian2.dumps({5})
    assert wire == b"\x71\x11java.util.HashSet\x95"
    decoded = hessian2.loads(wire)
    assert isinstance(decoded, TypedList) and decoded.java_type == "java.util.HashSet" and decoded == [5]


def test_variable_length_lists():
    assert hessian2.loads(b"\x57\x91\x92Z") == [1, 2]
    decoded = hessian2.loads(b"\x55\x0bjava.util.X\x91Z")
    assert decoded == TypedList("java.util.X", [1])


def test_maps():
    assert hessian2.dumps({"a": 1}) == b"Ha\x91Z".replace(b"a", b"\x01a", 1)
    assert hessian2.loads(b"H\x01a\x91Z") == {"a": 1}
    linked = TypedMap("java.util.LinkedHashMap", {"k": "v"})
    wire = hessian2.dumps(linked)
    assert wire == b"M\x17java.util.LinkedHashMap\x01k\x01vZ"
    assert hessian2.loads(wire) == linked and type(hessian2.loads(wire)) is TypedMap
    assert type(hessian2.loads(b"M\x11java.util.HashMapZ")) is dict


def test_map_with_non_string_keys():
    value = {1: "a", None: "b", 2.5: [1]}
    assert hessian2.loads(hessian2.dumps(value)) == value


def test_unhashable_map_key_keeps_every_entry():
    # a Java map with a list key: a dict cannot hold it, MapEntries does (and writes it back)
    wire = b"H\x79\x91\x91\x01a\x92Z"
    decoded = hessian2.loads(wire)
    assert type(decoded) is MapEntries and decoded.entries == [([1], 1), ("a", 2)]
    assert hessian2.dumps(decoded) == wire


def test_shared_reference():
    inner = [1]
    wire = hessian2.dumps([inner, inner])
    assert wire == b"\x7a\x79\x91Q\x91"
    decoded = hessian2.loads(wire)
    assert decoded[0] is decoded[1]


def test_cycles():
    outer: list = []
    outer.append(outer)
    decoded = hessian2.loads(hessian2.dumps(outer))
    assert decoded[0] is decoded
    mapping: dict = {}
    mapping["self"] = mapping
    decoded_map = hessian2.loads(hessian2.dumps(mapping))
    assert decoded_map["self"] is decoded_map


@pytest.mark.parametrize("wire", [b"Q\x90", b"\x79Q\x91", b"Q", b"QN"])
def test_bad_references(wire):
    with pytest.raises(DecodeError):
        hessian2.loads(wire)


@pytest.mark.parametrize(
    "wire",
    [
        b"\x7a\x91",
        b"\x57\x91",
        b"H\x91",
        b"H\x91\x91",
        b"\x58\xd7\xff\xff",
        b"\x58\x80",
        b"V\x01a\x95\x91",
        b"\x72\x90\x91\x91",
        b"Z",
        b"\x70",
    ],
)
def test_bad_lists_and_maps(wire):
    with pytest.raises(DecodeError):
        hessian2.loads(wire)


def test_huge_announced_length_fails_before_allocating():
    with pytest.raises(DecodeError) as info:
        hessian2.loads(b"\x58\x49\x7f\xff\xff\xff\x91")
    assert "exceeds" in str(info.value)


def test_depth_is_bounded_both_ways():
    with pytest.raises(DecodeError):
        hessian2.loads(b"\x79" * 5000 + b"N")
    deep: list = []
    for _ in range(1000):
        deep = [deep]
    with pytest.raises(hessian2.EncodeError):
        hessian2.dumps(deep)
    ok: list = []
    for _ in range(150):
        ok = [ok]
    assert hessian2.loads(hessian2.dumps(ok)) == ok
