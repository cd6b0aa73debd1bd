"""MaxItems: a container field's bound, refused while reading, before the container is built."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

import pytest

import hessian2
from hessian2 import DecodeError, Decoder, EncodeError, JavaObject, MaxItems, _decoder
from hessian2._model import class_info

PATHS = [
    pytest.param(True, id="compiled", marks=pytest.mark.skipif(not _decoder.SPEEDUPS, reason="no compiled path")),
    pytest.param(False, id="pure"),
]


@dataclass
class Limited(JavaObject, java_class="test.limits.Limited"):
    name: str = ""
    ids: Annotated[list[str], MaxItems(3)] = field(default_factory=list)
    tags: Annotated[set[int], MaxItems(2)] = field(default_factory=set)
    context: Annotated[dict[str, str], MaxItems(2)] = field(default_factory=dict)
    nested: Annotated[list[list[int]], MaxItems(2)] = field(default_factory=list)
    free: list[int] = field(default_factory=list)


@dataclass
class Holder(JavaObject, java_class="test.limits.Holder"):
    free: list[str] = field(default_factory=list)
    limited: Limited | None = None


def dump(value: Any) -> bytes:
    return hessian2.dumps(value)


def instance(fields: list[tuple[str, bytes]], java_class: str = Limited.__java_class__) -> bytes:
    """One object of ``java_class`` with these fields, in this order, each value as raw bytes."""
    head = b"C" + dump(java_class) + dump(len(fields)) + b"".join(dump(name) for name, _ in fields)
    return head + b"\x60" + b"".join(raw for _, raw in fields)


def variable_list(items: list[Any]) -> bytes:
    return b"\x57" + b"".join(dump(item) for item in items) + b"Z"


def decoder(data: bytes, compiled: bool) -> tuple[Decoder, Any]:
    """The decoder after reading ``data`` and what it read (or the DecodeError it raised)."""
    previous = _decoder.use_compiled(compiled)
    try:
        dec = Decoder(data, memory_ratio=None)
        try:
            return dec, dec.read()
        except DecodeError as exc:
            return dec, exc
    finally:
        _decoder.use_compiled(previous)


# Three wire shapes reach three readers: the class's own order (generated, or C), the fields
# reordered (C, or the table reader) and a field missing (the table reader on both paths).
ORDERS = ["own order", "reordered", "missing"]
MOST = {"ids": 3, "tags": 2, "context": 2}


def one_field(name: str, raw: bytes, order: str) -> bytes:
    """An instance with ``name`` sent as ``raw``, every other field empty, in a wire ``order``."""
    empty = {"name": dump("n"), "ids": dump([]), "tags": dump([]), "context": dump({}), "nested": dump([])}
    fields = empty | {"free": dump([]), name: raw}
    if order == "own order":  # exactly Limited's wire order
        names = list(class_info(Limited).names)
    elif order == "reordered":
        names = sorted(fields)
    else:  # "free" and "nested" not sent
        names = ["name", "ids", "tags", "context"]
    return instance([(n, fields[n]) for n in names])


@pytest.mark.parametrize("compiled", PATHS)
@pytest.mark.parametrize("order", ORDERS)
def test_an_announced_count_beyond_the_bound_is_refused_before_the_list_is_built(compiled, order):
    count = 1_000_000
    raw = b"\x58" + dump(count) + dump("x") * count  # untyped list with its length
    dec, result = decoder(one_field("ids", raw, order), compiled)
    assert isinstance(result, DecodeError)
    assert str(result).startswith(f"{count} entries; at most 3 are accepted at $.ids")
    assert dec.spent < 10_000, "nothing was charged for the refused list: it was never made"


@pytest.mark.parametrize("compiled", PATHS)
@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize(
    "name, raw, entries",
    [
        ("ids", variable_list(["a"] * 50), 4),
        ("ids", b"\x55" + dump("java.util.ArrayList") + b"".join(dump("a") for _ in range(50)) + b"Z", 4),
        ("ids", b"\x56" + dump("java.util.LinkedList") + dump(50) + dump("a") * 50, None),
        ("ids", b"\x7c" + dump("a") * 4, None),  # untyped short list of 4
        ("tags", b"\x7b" + dump(1) * 3, None),  # a set travels as a list
        ("context", b"H" + b"".join(dump(str(n)) + dump("v") for n in range(50)) + b"Z", 3),
    ],
    ids=["variable", "typed variable", "typed fixed", "short", "set", "map"],
)
def test_every_container_form_is_bounded(compiled, order, name, raw, entries):
    dec, result = decoder(one_field(name, raw, order), compiled)
    assert isinstance(result, DecodeError), result
    assert f"at most {MOST[name]} are accepted" in str(result)
    assert f"at $.{name} " in str(result)
    if entries is not None:  # no count announced: read up to the first entry too many, no further
        assert "more than" in str(result)
        built = [ref for ref in dec.refs if isinstance(ref, (list, dict))]
        assert all(len(ref) < entries for ref in built)


@pytest.mark.parametrize("compiled", PATHS)
@pytest.mark.parametrize("order", ORDERS)
def test_up_to_the_bound_is_accepted(compiled, order):
    raw = variable_list(["a", "b", "c"])
    _, result = decoder(one_field("ids", raw, order), compiled)
    assert isinstance(result, Limited) and result.ids == ["a", "b", "c"]
    full = Limited("n", ["a", "b", "c"], {1, 2}, {"k": "v", "l": "w"}, [[1] * 50, [2] * 50], list(range(500)))
    _, result = decoder(dump(full), compiled)
    assert result == full, "a bound limits its own field's entries only, not the lists inside them"


@pytest.mark.parametrize("compiled", PATHS)
def test_a_long_value_reaching_the_field_by_reference_is_refused_by_the_field_check(compiled):
    long_list = [f"id{n}" for n in range(10)]
    # the list is first sent as an unbounded field, then as a back-reference in the bounded one
    data = dump([Limited(free=[]), Holder(free=long_list, limited=Limited(ids=long_list))])
    _, result = decoder(data, compiled)
    assert isinstance(result, DecodeError)
    assert str(result).startswith("10 entries; at most 3 are accepted at $[1].limited.ids")


def test_from_generic_applies_the_bound_too():
    with pytest.raises(EncodeError, match=r"at \$\.ids: 4 entries; at most 3 are accepted"):
        hessian2.from_generic({"class": Limited.__java_class__, "ids": ["a", "b", "c", "d"]}, Limited)
    assert hessian2.from_generic({"ids": ["a"]}, Limited).ids == ["a"]


def test_encoding_is_not_bounded():
    value = Limited(ids=["a"] * 10)
    assert hessian2.loads(dump(value), classes={}).fields["ids"] == ["a"] * 10


def test_a_bound_only_on_a_container():
    @dataclass
    class Wrong(JavaObject, java_class="test.limits.Wrong"):
        name: Annotated[str, MaxItems(3)] = ""

    with pytest.raises(EncodeError, match="MaxItems applies to a list, set or map"):
        class_info(Wrong)
    with pytest.raises(ValueError, match="count >= 0"):
        MaxItems(-1)
