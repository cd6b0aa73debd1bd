"""Descriptors and generic signatures -> JavaType (JVMS 4.7.9.1), and what a value of each can be."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dubbo_recsys.provider.javaapi.errors import ClassFileError
from dubbo_recsys.provider.javaapi.signature import MAX_DEPTH, class_type_parameters, field_type, method_type
from dubbo_recsys.provider.javatype import VOID, JavaType


@pytest.mark.parametrize(
    "descriptor, signature, expected",
    [
        ("J", "", "long"),
        ("[[I", "", "int[][]"),
        ("Ljava/util/List;", "Ljava/util/List<Ljava/lang/Long;>;", "java.util.List<java.lang.Long>"),
        ("Ljava/util/Map;", "Ljava/util/Map<Ljava/lang/String;[J>;", "java.util.Map<java.lang.String, long[]>"),
        ("Ljava/util/List;", "Ljava/util/List<+Lorg/x/Item;>;", "java.util.List<org.x.Item>"),  # ? extends
        ("Ljava/util/List;", "Ljava/util/List<-Lorg/x/Item;>;", "java.util.List<java.lang.Object>"),  # ? super
        ("Ljava/util/List;", "Ljava/util/List<*>;", "java.util.List<java.lang.Object>"),
        ("Ljava/lang/Object;", "TT;", "java.lang.Object"),  # an unbounded type variable
        ("[Ljava/util/List;", "[Ljava/util/List<Ljava/lang/String;>;", "java.util.List[]"),  # generic array: erased
        ("Lp/Outer$Inner;", "Lp/Outer<TT;>.Inner<Ljava/lang/Long;>;", "p.Outer$Inner<java.lang.Long>"),
        ("Ljava/util/List;", "Ljava/util/Set<Ljava/lang/String;>;", "java.util.List"),  # disagrees: descriptor wins
    ],
)
def test_field_types(descriptor: str, signature: str, expected: str) -> None:
    assert str(field_type(descriptor, signature)) == expected


def test_type_variables_are_their_bounds() -> None:
    variables = class_type_parameters("<T:Ljava/lang/Number;U::Ljava/lang/Comparable<TU;>;>Ljava/lang/Object;")
    assert variables == {"T": JavaType("java.lang.Number"), "U": JavaType("java.lang.Comparable")}
    assert field_type("Ljava/lang/Number;", "TT;", variables) == JavaType("java.lang.Number")


def test_method_types_generic_parameters_return_and_throws() -> None:
    found = method_type(
        "(Ljava/util/List;I)Ljava/util/Map;",
        "<E:Ljava/lang/Exception;>(Ljava/util/List<Ljava/lang/Long;>;I)Ljava/util/Map<Ljava/lang/String;TE;>;^TE;",
    )
    assert [str(p) for p in found.parameters] == ["java.util.List<java.lang.Long>", "int"]
    assert str(found.returns) == "java.util.Map<java.lang.String, java.lang.Exception>"
    assert found.throws == (JavaType("java.lang.Exception"),)
    assert method_type("()V").returns == VOID


def test_a_signature_with_other_parameters_than_the_descriptor_gives_way_to_it() -> None:
    found = method_type("(Lp/Outer;I)V", "(I)V")  # javac leaves synthetic parameters out of signatures
    assert [p.name for p in found.parameters] == ["p.Outer", "int"]


@pytest.mark.parametrize(
    "descriptor, signature",
    [
        ("Ljava/util/List;", "Ljava/util/List<Ljava/lang/Long;"),
        ("Ljava/util/List;", "Ljava/util/List<>;"),
        ("Ljava/util/List;", "Ljava/util/List;;"),
        ("Ljava/util/List;", "Q"),
        ("Ljava/util/List;", "Ljava/util/List<" * (MAX_DEPTH + 2) + "Ljava/lang/Long;" + ">;" * (MAX_DEPTH + 2)),
        ("Q", ""),
        ("(J", ""),
    ],
)
def test_malformed_types_are_class_file_errors(descriptor: str, signature: str) -> None:
    parse = method_type if descriptor.startswith("(") else field_type
    with pytest.raises(ClassFileError):
        parse(descriptor, signature)


@given(st.text(alphabet="LT[;<>+-*./:^()VJIZabc", max_size=60))
def test_any_signature_text_parses_or_raises_class_file_error(signature: str) -> None:
    try:
        field_type("Ljava/lang/Object;", signature)
        method_type("(Ljava/lang/Object;)V", signature)
    except ClassFileError:
        pass
