"""Arguments checked against their hints and converted to them; messages in Java's terms."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pytest

from dubbo_recsys.provider.convert import ArgumentError, converter_for, java_name_of
from hessian2 import JavaGenericObject, JavaObject, Long, TypedList
from tests.provider.contract_sample import Color, Node, Tagged


@dataclass
class Leaf(JavaObject, java_class="org.test.convert.Leaf"):
    name: str = ""
    weight: float = 0.0


@dataclass
class Tree(JavaObject, java_class="org.test.convert.Tree"):
    id: Long = 0
    leaves: list[Leaf] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    parent: Leaf | None = None
    on: bool = False
    labels: set[str] = field(default_factory=set)


def test_nested_maps_become_objects():
    tree = converter_for(Tree)(
        {
            "class": "org.test.convert.Tree",
            "id": 7,
            "leaves": [{"name": "a", "weight": 1}],
            "tags": {"k": "v"},
            "parent": {"name": "p"},
            "labels": ["x", "x"],
            "unknown": 1,
        }
    )
    assert tree == Tree(7, [Leaf("a", 1.0)], {"k": "v"}, Leaf("p"), False, {"x"})
    assert type(tree.id) is Long and type(tree.leaves[0].weight) is float


def test_generic_objects_of_the_class_or_a_bound_subclass_become_objects():
    assert converter_for(Leaf)(JavaGenericObject("org.test.convert.Leaf", {"name": "g", "weight": 2.5})) == Leaf(
        "g", 2.5
    )
    tagged = converter_for(Node)(JavaGenericObject("org.dubborecsys.test.contract.Tagged", {"tags": {"a": 1}}))
    assert type(tagged) is Tagged and tagged.tags == {"a": 1}
    assert converter_for(Color)(JavaGenericObject("org.dubborecsys.test.contract.Color", {"name": "GREEN"})) is (
        Color.GREEN
    )


@pytest.mark.parametrize(
    "value, message",
    [
        ({"id": "x"}, "id: expected long, got java.lang.String"),
        ({"id": 2**70}, "id: expected long, got a java.lang.Integer out of range"),
        ({"leaves": [{"name": 3}]}, "leaves[0].name: expected java.lang.String, got java.lang.Integer"),
        ({"leaves": "nope"}, "leaves: expected java.util.List<org.test.convert.Leaf>, got java.lang.String"),
        ({"tags": {"k": 1}}, "tags['k']: expected java.lang.String, got java.lang.Integer"),
        ({"tags": {1: "v"}}, "tags[key]: expected java.lang.String, got java.lang.Integer"),
        ({"on": "yes"}, "on: expected boolean, got java.lang.String"),
        ({"parent": 5}, "parent: expected org.test.convert.Leaf, got java.lang.Integer"),
        ({"labels": {"a": 1}}, "labels: expected java.util.Set<java.lang.String>, got java.util.Map"),
        (42, "expected org.test.convert.Tree, got java.lang.Integer"),
        (Leaf(), "expected org.test.convert.Tree, got org.test.convert.Leaf"),
    ],
)
def test_mismatches_say_where_in_java_terms(value, message):
    with pytest.raises(ArgumentError, match=f"^{re.escape(message)}$"):
        converter_for(Tree)(value)


def test_null_only_where_the_hint_allows_it():
    with pytest.raises(ArgumentError, match="not null"):
        converter_for(str)(None)
    assert converter_for(str | None)(None) is None
    # a POJO field that arrives null takes its default unless declared nullable
    tree = converter_for(Tree)(Tree(id=None, leaves=None, tags=None, parent=None, on=None))  # type: ignore[arg-type]  # a deliberately wrong value: the test checks its refusal
    assert (tree.id, tree.leaves, tree.tags, tree.parent, tree.on) == (0, [], {}, None, False)
    assert converter_for(list[str])(["a", None]) == ["a", None]  # Java lists hold nulls


def test_decoded_values_pass_unchanged_and_typed_lists_are_lists():
    values = TypedList("java.util.ArrayList", ["a", "b"])
    assert converter_for(list[str])(values) is values
    node = Node("n", ids=[Long(1)])
    assert converter_for(Node)(node) is node
    assert converter_for(Any)(object) is object


def test_java_names_never_python_ones():
    values: tuple[Any, ...] = (None, True, 1, Long(1), 1.5, "s", b"b", [], {}, set())
    assert [java_name_of(v) for v in values] == [
        "null",
        "java.lang.Boolean",
        "java.lang.Integer",
        "java.lang.Long",
        "java.lang.Double",
        "java.lang.String",
        "byte[]",
        "java.util.List",
        "java.util.Map",
        "java.util.Set",
    ]
    assert java_name_of(object()) == "an unsupported value"
    assert java_name_of(JavaGenericObject("x." * 200 + "Y", {})).endswith("...")
