"""JavaObject binding, field order, typed fields, generic objects, enums and streams."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

import hessian2
from hessian2 import DecodeError, Decoder, EncodeError, Encoder, JavaEnum, JavaGenericObject, JavaObject, Long


@dataclass
class Point(JavaObject, java_class="test.h2.Point"):
    x: int = 0
    y: int = 0


@dataclass
class Node(JavaObject, java_class="test.h2.Node"):
    name: str = ""
    next: Node | None = None
    ids: list[Long] = field(default_factory=list)
    weights: dict[str, float] = field(default_factory=dict)
    tags: set[str] = field(default_factory=set)


class Color(JavaEnum, java_class="test.h2.Color"):
    RED = 1
    GREEN = 2


@dataclass
class Painted(JavaObject, java_class="test.h2.Painted"):
    color: Color | None = None
    note: str = ""


@dataclass(frozen=True)
class Frozen(JavaObject, java_class="test.h2.Frozen"):
    a: int = 1


@dataclass(slots=True)
class Slotted(JavaObject, java_class="test.h2.Slotted"):
    a: int = 1
    b: str = "x"


def test_class_definition_then_instances():
    wire = hessian2.dumps([Point(1, 2), Point(3, 4)])
    # fields reversed as hessian-lite writes them: y, x
    assert wire == (b"\x7a" + b"C\x0dtest.h2.Point\x92\x01y\x01x" + b"\x60\x92\x91" + b"\x60\x94\x93")
    assert hessian2.loads(wire) == [Point(1, 2), Point(3, 4)]


def test_typed_fields_follow_annotations():
    node = Node("a", ids=[1, 2], weights={"w": 1}, tags={"t"})
    decoded = hessian2.loads(hessian2.dumps(node))
    assert decoded == node
    assert all(type(i) is Long for i in decoded.ids)
    assert type(decoded.weights["w"]) is float
    assert decoded.tags == {"t"}


def test_field_type_errors_name_the_field():
    with pytest.raises(EncodeError) as info:
        hessian2.dumps(Point("one", 2))  # type: ignore[arg-type]  # the wrong type on purpose
    assert "test.h2.Point.x" in str(info.value)
    with pytest.raises(EncodeError):
        hessian2.dumps(Point(1 << 31, 0))


def test_shared_and_cyclic_objects():
    a = Node("a")
    a.next = a
    decoded = hessian2.loads(hessian2.dumps(a))
    assert decoded.next is decoded
    p = Point(1, 1)
    pair = hessian2.loads(hessian2.dumps([p, p]))
    assert pair[0] is pair[1]


def test_unbound_class_decodes_generic_and_reencodes_identically():
    wire = hessian2.dumps(JavaGenericObject("org.other.Thing", {"b": 1, "a": "x", "c": [1]}))
    decoded = hessian2.loads(wire)
    assert isinstance(decoded, JavaGenericObject)
    assert decoded.java_class == "org.other.Thing" and decoded.fields == {"b": 1, "a": "x", "c": [1]}
    assert hessian2.dumps(decoded) == wire


def test_decoding_never_instantiates_unbound_classes():
    wire = hessian2.dumps(Point(1, 2))
    decoded = hessian2.loads(wire, classes=[])
    assert isinstance(decoded, JavaGenericObject) and decoded.fields == {"y": 2, "x": 1}
    assert hessian2.loads(wire, classes=[Point]) == Point(1, 2)
    assert hessian2.loads(wire, classes={"test.h2.Point": Point}) == Point(1, 2)
    with pytest.raises(TypeError):
        hessian2.loads(wire, classes=[dict])


def test_unknown_fields_skipped_missing_fields_defaulted():
    wire = hessian2.dumps(JavaGenericObject("test.h2.Node", {"zzz": [1, 2], "name": "n"}))
    decoded = hessian2.loads(wire)
    assert decoded == Node("n")


def test_frozen_and_slotted_dataclasses():
    assert hessian2.loads(hessian2.dumps(Frozen(5))) == Frozen(5)
    assert hessian2.loads(hessian2.dumps(Slotted(2, "y"))) == Slotted(2, "y")


def test_enum():
    wire = hessian2.dumps([Color.RED, Color.RED, Color.GREEN])
    assert wire == (b"\x7b" + b"C\x0dtest.h2.Color\x91\x04name" + b"\x60\x03RED" + b"Q\x91" + b"\x60\x05GREEN")
    assert hessian2.loads(wire) == [Color.RED, Color.RED, Color.GREEN]
    assert hessian2.loads(hessian2.dumps(Painted(Color.GREEN, "n"))) == Painted(Color.GREEN, "n")
    unbound = hessian2.loads(wire, classes=[])
    assert unbound[0] == JavaGenericObject("test.h2.Color", {"name": "RED"})


def test_unknown_enum_constant_is_a_decode_error():
    wire = hessian2.dumps(JavaGenericObject("test.h2.Color", {"name": "PURPLE"}))
    with pytest.raises(DecodeError):
        hessian2.loads(wire)


def test_plain_enum_is_refused():
    import enum

    class Loose(enum.Enum):
        A = 1

    with pytest.raises(EncodeError):
        hessian2.dumps(Loose.A)


def test_many_class_definitions_use_the_long_instance_form():
    objs = [JavaGenericObject(f"c.C{i}", {"v": i}) for i in range(20)]
    wire = hessian2.dumps(objs)
    assert b"O\xa0" in wire  # instance of definition #16
    assert hessian2.loads(wire) == objs


@pytest.mark.parametrize(
    "wire",
    [
        b"\x60",
        b"O\x91",
        b"C\x01a\x91\x01b",
        b"C\x01a\x92\x01b\x01b\x60\x91\x91",
        b"C\x01a\x91\x01b\x60",
        b"C\x91",
        b"C\x01a\xd7\xff\xff",
    ],
)
def test_bad_objects(wire):
    with pytest.raises(DecodeError):
        hessian2.loads(wire)


def test_encoder_stream_shares_definitions_and_references():
    enc = Encoder()
    shared = [1]
    enc.write("2.0.2")
    enc.write(Point(1, 2))
    enc.write(Point(3, 4))
    enc.write(shared)
    enc.write(shared)
    body = enc.getvalue()
    assert body.count(b"test.h2.Point") == 1
    assert body.endswith(b"Q\x92")  # refs: Point#0, Point#1, list#2 -> Q 2
    dec = Decoder(body)
    values = []
    while not dec.at_end():
        values.append(dec.read())
    assert values[:3] == ["2.0.2", Point(1, 2), Point(3, 4)]
    assert values[3] is values[4]
    assert dec.position == len(body)
    with pytest.raises(DecodeError):
        dec.read()


def test_loads_rejects_trailing_bytes_and_empty_input():
    with pytest.raises(DecodeError) as info:
        hessian2.loads(b"NN")
    assert info.value.offset == 1
    with pytest.raises(DecodeError):
        hessian2.loads(b"")


def test_unknown_python_type_is_an_encode_error():
    with pytest.raises(EncodeError):
        hessian2.dumps(object())


@dataclass
class Base(JavaObject, java_class="test.h2.Base"):
    id: int = 0
    extras: list[str] = field(default_factory=list)


@dataclass
class Derived(Base, java_class="test.h2.Derived"):
    label: str = ""
    children: list[int] = field(default_factory=list)


def test_inherited_fields_follow_java_order():
    # Java: own fields then the superclass's, primitives before compounds, all reversed
    wire = hessian2.dumps(Derived(1, ["e"], "l", [2]))
    assert wire.startswith(b"C\x0ftest.h2.Derived\x94\x06extras\x08children\x02id\x05label")
    assert hessian2.loads(wire) == Derived(1, ["e"], "l", [2])


def test_union_annotations():
    @dataclass
    class WithUnion(JavaObject, java_class="test.h2.WithUnion"):
        a: int | None = None
        b: Long | None = None

    decoded = hessian2.loads(hessian2.dumps(WithUnion(3, Long(4))))
    assert decoded == WithUnion(3, Long(4)) and type(decoded.b) is Long


def test_object_fields_accept_generic_objects_and_refuse_others():
    generic = JavaGenericObject("test.h2.Node", {"name": "g"})
    wire = hessian2.dumps(Node("outer", next=generic))  # type: ignore[arg-type]  # a generic object where a Node is declared, on purpose
    assert hessian2.loads(wire).next == Node("g")
    with pytest.raises(EncodeError) as info:
        hessian2.dumps(Node("outer", next=Point(1, 2)))  # type: ignore[arg-type]  # the wrong class on purpose
    assert "test.h2.Node.next" in str(info.value)
