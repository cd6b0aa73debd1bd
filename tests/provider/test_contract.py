"""The contract model of a service class: what a Java API generator and the dispatcher read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from dubbo_recsys.provider.contract import JavaKind, contract_of, export_of, java_class_of
from dubbo_recsys.provider.errors import ServiceSpecError
from dubbo_recsys.provider.javatype import JavaType
from dubbo_recsys.provider.service import Service, java_method
from hessian2 import JavaObject, Long
from tests.provider.contract_sample import BadName, Color, ContractError, Node, NotFound, Sample, Tagged


def test_interface_version_group_and_docs() -> None:
    contract = contract_of(Sample)
    assert (contract.interface, contract.version, contract.group) == (
        "org.dubborecsys.test.contract.SampleService",
        "1.0.0",
        "g",
    )
    assert contract.doc == "A sample service." and contract.service is Sample
    assert contract_of(Sample()) is contract  # cached, instance or class


def test_methods_in_declaration_order_with_overloads_and_aliases() -> None:
    contract = contract_of(Sample)
    assert [m.signature for m in contract.methods] == [
        "get(long)",
        "get(java.lang.String)",
        "put(org.dubborecsys.test.contract.Node, java.util.Map)",
        "ids(org.dubborecsys.test.contract.Color, int)",
        "primitives(boolean, byte, short, int, long, float, double, char, java.lang.Integer)",
        "blob(byte[])",
        "totals(int[])",
        "tagged(org.dubborecsys.test.contract.Tagged)",
        "lookup(long)",
    ]
    assert contract.method_names == ("get", "put", "ids", "primitives", "blob", "totals", "tagged", "lookup")
    by_python = {m.python_name: m for m in contract.methods}
    assert by_python["get"].doc == "The node with this id."
    assert by_python["get_by_name"].throws == (JavaType("org.dubborecsys.test.contract.NotFoundException"),)
    assert by_python["get_by_name"].returns == JavaType("org.dubborecsys.test.contract.Node")
    assert by_python["put"].returns.is_void and by_python["put"].is_async
    assert str(by_python["put"].parameters[1].type) == "java.util.Map<java.lang.String, java.lang.Object>"
    assert str(by_python["ids"].returns) == "java.util.List<java.lang.Long>"
    assert by_python["primitives"].descriptor == "ZBSIJFDCLjava/lang/Integer;"
    assert [p.nullable for p in by_python["primitives"].parameters][-2:] == [False, True]
    assert by_python["lookup"].python_name == "lookup" and by_python["lookup"].descriptor == "J"


def test_classes_reached_with_fields_constants_superclasses_and_docs() -> None:
    classes = {c.python: c for c in contract_of(Sample).classes()}
    assert set(classes) == {Node, Color, Tagged, NotFound, ContractError}
    order = list(classes)
    assert order.index(Color) < order.index(Node) < order.index(Tagged)  # dependencies first
    assert order.index(ContractError) < order.index(NotFound)
    node = classes[Node]
    assert (node.kind, node.name, node.superclass, node.doc) == (
        JavaKind.CLASS,
        "org.dubborecsys.test.contract.Node",
        "",
        "A node of a chain.",
    )
    assert [(f.name, str(f.type), f.doc) for f in node.fields] == [
        ("name", "java.lang.String", "What the node is called."),
        ("next", "org.dubborecsys.test.contract.Node", ""),
        ("color", "org.dubborecsys.test.contract.Color", ""),
        ("ids", "java.util.List<java.lang.Long>", ""),
    ]
    assert node.package == "org.dubborecsys.test.contract" and node.simple_name == "Node"
    tagged = classes[Tagged]
    assert tagged.superclass == node.name and [f.name for f in tagged.fields] == ["tags"]
    assert classes[Color].kind is JavaKind.ENUM and classes[Color].constants == ("RED", "GREEN")
    base, not_found = classes[ContractError], classes[NotFound]
    assert (base.kind, base.superclass, [(f.name, str(f.type), f.doc) for f in base.fields]) == (
        JavaKind.EXCEPTION,
        "java.lang.RuntimeException",
        [("code", "int", "Why it failed.")],
    )
    assert not_found.superclass == base.name and [(f.name, str(f.type)) for f in not_found.fields] == [("key", "long")]
    bad = java_class_of(BadName)
    assert bad.superclass == "java.lang.IllegalArgumentException" and not bad.is_jdk


def test_field_docs_of_nested_and_local_classes_are_their_own() -> None:
    """Docstrings are found by the class's qualified name in its module, parsed once per module."""

    @dataclass
    class Outer(JavaObject, java_class="org.dubborecsys.test.contract.LocalOuter"):
        size: int = 0
        """The outer size."""

        @dataclass
        class Inner(JavaObject, java_class="org.dubborecsys.test.contract.LocalOuter$Inner"):
            size: int = 0
            """The inner size."""

    assert [f.doc for f in java_class_of(Outer).fields] == ["The outer size."]
    assert [f.doc for f in java_class_of(Outer.Inner).fields] == ["The inner size."]


def test_export_checks_the_implementation() -> None:
    export = export_of(Sample())
    assert export.contract is contract_of(Sample)
    with pytest.raises(ServiceSpecError, match="instance"):
        export_of(Sample)  # type: ignore[arg-type]  # a class where an instance belongs, on purpose


def test_subclass_inherits_and_overrides_keywords() -> None:
    class Failing(Sample, group="failing"):
        def get(self, id: Long) -> Node:
            raise RuntimeError("no")

    contract = contract_of(Failing)
    assert (contract.interface, contract.version, contract.group) == (contract_of(Sample).interface, "1.0.0", "failing")
    assert [m.signature for m in contract.methods][:2] == ["get(long)", "get(java.lang.String)"]


def _contract_error(body: dict[str, Any], match: str, **keywords: Any) -> None:
    cls = type("Broken", (Service,), body, **({"interface": "org.x.Broken"} | keywords))
    with pytest.raises(ServiceSpecError, match=match):
        contract_of(cls)


def test_contract_errors_name_what_is_wrong() -> None:
    def no_hint(self, x) -> int:
        return 0

    def no_return(self, x: int):
        return 0

    def star(self, *xs: int) -> int:
        return 0

    def meaningless(self, x: complex) -> int:
        return 0

    def twice(self, x: int) -> int:
        return 0

    _contract_error({"f": no_hint}, "parameter 'x' has no type hint")
    _contract_error({"f": no_return}, "no return hint")
    _contract_error({"f": star}, "not positional")
    _contract_error({"f": meaningless}, "complex")
    _contract_error({"f": twice, "g": java_method("f")(twice)}, "cannot tell them apart")
    _contract_error({}, "no public methods")
    with pytest.raises(ServiceSpecError, match="names no Java interface"):
        contract_of(type("Nameless", (Service,), {"f": twice}))
    with pytest.raises(ServiceSpecError, match="bad Java interface"):
        type("Bad", (Service,), {}, interface="not a name")
    with pytest.raises(ServiceSpecError, match="bound Java exception"):
        java_method(throws=(ValueError,))  # type: ignore[arg-type]  # not a Java exception class, on purpose


def test_unused_color_import_is_the_enum() -> None:
    assert java_class_of(Color).constants == ("RED", "GREEN") and Long(1) == 1
