"""Which Java type a hint stands for, Java type spellings, and the way back to a hint."""

from __future__ import annotations

import datetime
import decimal
import uuid
from typing import Annotated, Any, Optional

import pytest

from dubbo_recsys.provider.javatype import (
    HINT_IMPORTS,
    VOID,
    Java,
    JavaType,
    JavaTypeError,
    java_type_of,
    python_hint,
)
from hessian2 import Byte, Char, Double, Float, Instant, Int, JavaEnum, LocalDateTime, Long, Short
from tests.provider.contract_sample import Color, Node

HINTS = [
    (int, "int"),
    (Int, "int"),
    (Long, "long"),
    (Short, "short"),
    (Byte, "byte"),
    (float, "double"),
    (Double, "double"),
    (Float, "float"),
    (bool, "boolean"),
    (Char, "char"),
    (int | None, "java.lang.Integer"),
    (Optional[Long], "java.lang.Long"),  # noqa: UP045 - both spellings must work
    (Float | None, "java.lang.Float"),
    (bool | None, "java.lang.Boolean"),
    (str, "java.lang.String"),
    (str | None, "java.lang.String"),
    (bytes, "byte[]"),
    (decimal.Decimal, "java.math.BigDecimal"),
    (uuid.UUID, "java.util.UUID"),
    (datetime.datetime, "java.util.Date"),
    (LocalDateTime, "java.time.LocalDateTime"),
    (Instant, "java.time.Instant"),
    (datetime.date, "java.time.LocalDate"),
    (datetime.time, "java.time.LocalTime"),
    (datetime.timedelta, "java.time.Duration"),
    (Any, "java.lang.Object"),
    (list[Long], "java.util.List<java.lang.Long>"),
    (list[int], "java.util.List<java.lang.Integer>"),
    (tuple[str, ...], "java.util.List<java.lang.String>"),
    (list, "java.util.List<java.lang.Object>"),
    (set[float], "java.util.Set<java.lang.Double>"),
    (dict[str, Any], "java.util.Map<java.lang.String, java.lang.Object>"),
    (dict[str, list[Long]], "java.util.Map<java.lang.String, java.util.List<java.lang.Long>>"),
    (Node, "org.dubborecsys.test.contract.Node"),
    (Node | None, "org.dubborecsys.test.contract.Node"),
    (Color, "org.dubborecsys.test.contract.Color"),
    (list[Node], "java.util.List<org.dubborecsys.test.contract.Node>"),
    (Annotated[list[int], Java("int[]")], "int[]"),
    (Annotated[dict[str, Any], Java("java.util.HashMap")], "java.util.HashMap"),
    (Annotated[int, Java("java.lang.Integer")], "java.lang.Integer"),
    (Annotated[list[Long], "a docstring"], "java.util.List<java.lang.Long>"),
    (None, "void"),
]


@pytest.mark.parametrize("hint, java", HINTS, ids=[j for _, j in HINTS])
def test_hint_to_java(hint: Any, java: str) -> None:
    assert str(java_type_of(hint)) == java


@pytest.mark.parametrize(
    "hint", [complex, object.__class__, int | str, tuple[int, str], type("Plain", (), {}), list[complex]]
)
def test_hints_without_a_java_type_are_refused(hint: Any) -> None:
    with pytest.raises(JavaTypeError):
        java_type_of(hint)


def test_unbound_enum_is_refused() -> None:
    class Loose(JavaEnum):
        A = 1

    with pytest.raises(JavaTypeError, match="Loose"):
        java_type_of(Loose)


def test_parse_and_print() -> None:
    text = "java.util.Map<java.lang.String, java.util.List<java.lang.Long>>"
    parsed = JavaType.parse(text)
    assert str(parsed) == text and parsed.descriptor == "Ljava/util/Map;"
    assert JavaType.parse("java.util.List<long>") == JavaType("java.util.List", (JavaType("java.lang.Long"),))
    assert JavaType.parse("int[][]").descriptor == "[[I"
    assert JavaType.parse("[Ljava.lang.String;").name == "java.lang.String[]"
    assert JavaType.parse("void") is VOID and VOID.is_void
    assert JavaType("long").boxed() == JavaType("java.lang.Long") and JavaType("long").is_primitive
    for bad in ("java.util.List<", "java.util.List<java.lang.Long", "a b", "java.util.List<java.lang.Long>[]", ""):
        with pytest.raises(JavaTypeError):
            JavaType.parse(bad)
    with pytest.raises(JavaTypeError):
        Java("void")


ROUND_TRIP = [
    "int",
    "long",
    "short",
    "byte",
    "double",
    "float",
    "boolean",
    "char",
    "java.lang.Integer",
    "java.lang.Long",
    "java.lang.Boolean",
    "java.lang.Character",
    "java.lang.String",
    "byte[]",
    "int[]",
    "java.lang.String[]",
    "java.math.BigDecimal",
    "java.util.UUID",
    "java.util.Date",
    "java.time.LocalDateTime",
    "java.time.Instant",
    "java.time.LocalDate",
    "java.time.LocalTime",
    "java.time.Duration",
    "java.lang.Object",
    "java.util.List<java.lang.Long>",
    "java.util.Set<java.lang.String>",
    "java.util.Map<java.lang.String, java.lang.Object>",
    "java.util.Map<java.lang.String, java.util.List<org.dubborecsys.test.contract.Node>>",
    "java.util.ArrayList<java.lang.Long>",
    "java.util.HashMap<java.lang.String, java.lang.Integer>",
    "java.util.Collection<java.lang.String>",
    "java.math.BigInteger",
    "org.dubborecsys.test.contract.Node",
    "org.dubborecsys.test.contract.Color",
    "void",
]


@pytest.mark.parametrize("java", ROUND_TRIP)
def test_python_hint_maps_back(java: str) -> None:
    """``java_type_of(eval(python_hint(t)))`` is ``t``: one mapping, both ways."""
    parsed = JavaType.parse(java)
    hint = python_hint(parsed)
    namespace: dict[str, Any] = {"Node": Node, "Color": Color}
    for name in hint.names:
        exec(HINT_IMPORTS[name], namespace)
    assert java_type_of(eval(hint.text, namespace)) == parsed, hint


def test_python_hint_of_generic_argument_is_plain() -> None:
    assert python_hint(JavaType("java.lang.Long"), argument=True).text == "Long"
    assert python_hint(JavaType("java.lang.Long")).text == "Long | None"
    assert python_hint(JavaType("com.x.Foo"), lambda name: "Bar").text == "Bar"


def test_python_hint_of_an_unbound_class_names_it_over_any() -> None:
    hint = python_hint(JavaType.parse("java.util.List<com.x.Foo>"), lambda name: None)
    assert hint.text == 'list[Annotated[Any, Java("com.x.Foo")]]'
    assert hint.names == {"Annotated", "Any", "Java"}
    assert java_type_of(eval(hint.text)) == JavaType.parse("java.util.List<com.x.Foo>")
