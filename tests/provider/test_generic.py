"""realize / generalize: maps and generic objects to declared classes and back."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from dubbo_recsys.provider.generic import ArgumentError, generalize, realize
from hessian2 import JavaGenericObject, JavaObject, Long


@dataclass
class Leaf(JavaObject, java_class="org.test.generic.Leaf"):
    name: str = ""
    weight: float = 0.0


@dataclass
class Tree(JavaObject, java_class="org.test.generic.Tree"):
    id: Long = Long(0)
    leaves: list[Leaf] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    parent: Leaf | None = None
    on: bool = False


def test_nested_maps_become_objects():
    tree = realize(
        {
            "class": "org.test.generic.Tree",
            "id": 7,
            "leaves": [{"name": "a", "weight": 1}],
            "tags": {"k": "v"},
            "parent": {"name": "p"},
            "unknown": 1,
        },
        Tree,
    )
    assert tree == Tree(Long(7), [Leaf("a", 1.0)], {"k": "v"}, Leaf("p"), False)
    assert type(tree.id) is Long and type(tree.leaves[0].weight) is float


def test_generic_objects_become_objects():
    value = JavaGenericObject("org.test.generic.Leaf", {"name": "g", "weight": 2.5})
    assert realize(value, Leaf) == Leaf("g", 2.5)


@pytest.mark.parametrize(
    "value, where",
    [
        ({"id": "x"}, "$.id"),
        ({"id": 2**70}, "$.id"),
        ({"leaves": [{"name": 3}]}, "$.leaves[0].name"),
        ({"leaves": "nope"}, "$.leaves"),
        ({"tags": {"k": 1}}, "$.tags['k']"),
        ({"on": "yes"}, "$.on"),
        ({"parent": 5}, "$.parent"),
        (42, "$"),
    ],
)
def test_mismatches_say_where(value, where):
    with pytest.raises(ArgumentError, match=__import__("re").escape(f"at {where}")):
        realize(value, Tree)


def test_none_and_untyped_pass_through():
    assert realize(None, Tree) is None
    assert realize({"any": 1}, None) == {"any": 1}


def test_generalize_round_trip():
    tree = Tree(Long(3), [Leaf("a", 0.5)], {"k": "v"}, None, True)
    general = generalize(tree)
    assert general == {
        "class": "org.test.generic.Tree",
        "id": 3,
        "on": True,
        "parent": None,
        "tags": {"k": "v"},
        "leaves": [{"class": "org.test.generic.Leaf", "name": "a", "weight": 0.5}],
    }
    assert type(general["id"]) is Long  # the Java width survives
    assert realize(general, Tree) == tree
    assert generalize(JavaGenericObject("x.Y", {"a": [Leaf("b")]})) == {
        "class": "x.Y",
        "a": [{"class": "org.test.generic.Leaf", "name": "b", "weight": 0.0}],
    }
