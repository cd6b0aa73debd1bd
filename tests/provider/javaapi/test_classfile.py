"""The class-file reader: what it reads, and that any other input is a ClassFileError, quickly."""

from __future__ import annotations

import contextlib
import struct
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dubbo_recsys.provider.javaapi.classfile import Access, parse_class
from dubbo_recsys.provider.javaapi.errors import ClassFileError
from tests.provider.javaapi.classbytes import ClassBytes


def sample() -> bytes:
    """An interface with a generic method, overloads, throws, parameter names and a constant."""
    cls = ClassBytes("org/x/Shop", access=0x0601)  # public interface abstract
    cls.interfaces.append(cls.klass("org/x/Base"))
    cls.field("VERSION", "Ljava/lang/String;", access=0x0019, constant=cls.string("1.2.0"))
    cls.field("LIMIT", "J", access=0x0019, constant=cls.long(-5))
    cls.method("find", "(J)Lorg/x/Item;", exceptions=("org/x/NotFound",), parameters=("id",))
    cls.method(
        "find",
        "(Ljava/util/List;)Ljava/util/Map;",
        signature="(Ljava/util/List<Ljava/lang/Long;>;)Ljava/util/Map<Ljava/lang/String;Lorg/x/Item;>;",
    )
    cls.inner("org/x/Shop$Entry", "org/x/Shop", "Entry")
    return cls.build()


def test_reads_names_flags_members_and_their_attributes() -> None:
    parsed = parse_class(sample())
    assert (parsed.name, parsed.superclass, parsed.interfaces) == ("org.x.Shop", "java.lang.Object", ("org.x.Base",))
    assert parsed.is_interface and parsed.access & Access.PUBLIC and parsed.version == (52, 0)
    assert [(f.name, f.constant) for f in parsed.fields] == [("VERSION", "1.2.0"), ("LIMIT", -5)]
    first, second = parsed.methods
    assert (first.name, first.descriptor, first.exceptions, first.parameter_names) == (
        "find",
        "(J)Lorg/x/Item;",
        ("org.x.NotFound",),
        ("id",),
    )
    assert second.signature.startswith("(Ljava/util/List<Ljava/lang/Long;>;)") and not second.exceptions
    (entry,) = parsed.inner_classes
    assert (entry.inner, entry.outer, entry.simple_name) == ("org.x.Shop$Entry", "org.x.Shop", "Entry")
    assert entry.access & Access.STATIC


def test_modified_utf8_nul_and_supplementary_characters() -> None:
    cls = ClassBytes("org/x/Text")
    nul = b"a\xc0\x80b"  # NUL is two bytes
    clef = "\U0001d11e".encode("utf-16-le")  # a surrogate pair, each half three bytes of UTF-8
    high, low = (int.from_bytes(clef[i : i + 2], "little") for i in (0, 2))
    pair = b"".join(chr(half).encode("utf-8", "surrogatepass") for half in (high, low))
    cls.field("f", "Ljava/lang/String;", access=0x0019, constant=cls.raw_string(nul))
    cls.field("g", "Ljava/lang/String;", access=0x0019, constant=cls.raw_string(pair))
    parsed = parse_class(cls.build())
    assert [f.constant for f in parsed.fields] == ["a\x00b", "\U0001d11e"]


def test_every_truncation_is_a_class_file_error_naming_the_offset() -> None:
    data = sample()
    for end in range(len(data)):
        with pytest.raises(ClassFileError, match=r"at byte \d+"):
            parse_class(data[:end], "Shop.class")


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: b"\xca\xfe\xba\xbf" + d[4:], "no 0xCAFEBABE magic"),
        (lambda d: d[:6] + b"\x00\x2c" + d[8:], "older than any JDK"),
        (lambda d: d + b"\x00", "after the class file's end"),
        (lambda d: d[:10] + b"\x02" + d[11:], "unknown tag 2"),
    ],
)
def test_broken_class_files_say_what_is_wrong(mutate: Callable[[bytes], bytes], message: str) -> None:
    with pytest.raises(ClassFileError, match=message):
        parse_class(mutate(sample()), "Shop.class")


def test_an_index_naming_the_wrong_kind_of_constant_is_refused() -> None:
    cls = ClassBytes("org/x/Bad")
    cls.this = cls.utf8("org/x/Bad")  # this_class must name a Class constant, not a Utf8
    with pytest.raises(ClassFileError, match="this_class names constant"):
        parse_class(cls.build())


def test_the_second_slot_of_a_long_is_no_constant() -> None:
    cls = ClassBytes("org/x/Bad")
    slot = cls.long(7)
    cls.field("f", "J", access=0x0019, constant=slot + 1)
    with pytest.raises(ClassFileError, match="not a constant value"):
        parse_class(cls.build())


def test_class_names_are_checked() -> None:
    cls = ClassBytes("org/x/[Bad")
    with pytest.raises(ClassFileError, match="is not a class name"):
        parse_class(cls.build())


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_parse_or_raise_class_file_error(data: bytes) -> None:
    with contextlib.suppress(ClassFileError):
        parse_class(b"\xca\xfe\xba\xbe" + data)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(min_value=0), st.integers(min_value=0, max_value=255)), min_size=1, max_size=6))
def test_corrupted_class_files_parse_or_raise_class_file_error(changes: list[tuple[int, int]]) -> None:
    data = bytearray(sample())
    for position, value in changes:
        data[position % len(data)] = value
    with contextlib.suppress(ClassFileError):
        parse_class(bytes(data))


def test_a_huge_count_over_a_short_input_fails_fast() -> None:
    # 65535 constant pool entries announced, none present: an error at once, not a long loop
    data = struct.pack(">IHHH", 0xCAFEBABE, 0, 52, 0xFFFF)
    with pytest.raises(ClassFileError, match="truncated"):
        parse_class(data)
