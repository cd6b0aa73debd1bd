"""Descriptor parsing both ways, and garbage rejected with DescriptorError."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dubbo_recsys.provider.descriptor import canonical_type_name, parse_descriptor, to_descriptor, type_descriptor
from dubbo_recsys.provider.errors import DescriptorError


@pytest.mark.parametrize(
    "descriptor, names",
    [
        ("", ()),
        ("Ljava/lang/String;I[Lcom/foo/Req;", ("java.lang.String", "int", "com.foo.Req[]")),
        ("ZBCDFIJS", ("boolean", "byte", "char", "double", "float", "int", "long", "short")),
        ("[[I[Ljava/lang/Object;", ("int[][]", "java.lang.Object[]")),
        ("Lcom/loki/www/infer/RecRequest;", ("com.loki.www.infer.RecRequest",)),
    ],
)
def test_parse_and_back(descriptor, names):
    assert parse_descriptor(descriptor) == names
    assert to_descriptor(names) == descriptor


@pytest.mark.parametrize(
    "garbage", ["X", "L", "Ljava/lang/String", "[", "I[", "L;", "Ljava//String;", "Lfoo.bar;", "V", "L a;"]
)
def test_garbage_descriptors(garbage):
    with pytest.raises(DescriptorError):
        parse_descriptor(garbage)


def test_non_string_descriptor():
    with pytest.raises(DescriptorError):
        parse_descriptor(42)  # not a string


def test_too_many_dimensions():
    with pytest.raises(DescriptorError, match="dimensions"):
        parse_descriptor("[" * 256 + "I")


@pytest.mark.parametrize(
    "name, canonical",
    [
        ("[Ljava.lang.String;", "java.lang.String[]"),
        ("java.lang.String[]", "java.lang.String[]"),
        ("[I", "int[]"),
        ("int", "int"),
        ("com.foo.Req", "com.foo.Req"),
    ],
)
def test_canonical_names(name, canonical):
    assert canonical_type_name(name) == canonical


@pytest.mark.parametrize("bad", ["", "a..b", "x;y", "void[]x", "[", "[Q"])
def test_bad_type_names(bad):
    with pytest.raises(DescriptorError):
        type_descriptor(bad)


@given(st.text(max_size=40))
def test_any_text_parses_or_raises_descriptor_error(text):
    try:
        names = parse_descriptor(text)
    except DescriptorError:
        return
    assert to_descriptor(names) == text
