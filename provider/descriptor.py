"""JVM parameter descriptors: ``Ljava/lang/String;I[Lcom/foo/Req;`` <-> Java type names.

A Dubbo request names its method's parameter types once, as the concatenated JVM
field descriptors of the parameters (no parentheses, no return type). The provider
parses it for two reasons: to know how many argument values follow in the body,
and to pick the overload being called.

Grammar (JVMS 4.3.2)::

    descriptor := field*                    empty = no parameters
    field      := 'Z' | 'B' | 'C' | 'D' | 'F' | 'I' | 'J' | 'S'
                | 'L' binary-name ';'         slashes between package parts
                | '[' field                   one dimension per '['

Canonical type names, used everywhere else in ``provider``, are the source-code
spellings: ``int``, ``java.lang.String``, ``com.foo.Req[]``, ``int[][]``. Generic
calls (``$invoke``) name types either that way or as ``Class.getName()`` does
(``[Ljava.lang.String;``, ``[I``); ``canonical_type_name`` accepts both.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from dubbo_recsys.provider.errors import DescriptorError

__all__ = [
    "MAX_DESCRIPTOR_LENGTH",
    "MAX_TYPE_NAME_LENGTH",
    "canonical_type_name",
    "parse_descriptor",
    "to_descriptor",
    "type_descriptor",
]

MAX_DESCRIPTOR_LENGTH = 16 * 1024
MAX_TYPE_NAME_LENGTH = 4 * 1024  # javac's own limit is 65535; no real class name comes near 4096
# Callers name these strings, so what the caches below keep is bounded in bytes, not only in entries:
# a longer string is refused (an error is never cached), so each cache holds at most its entries times
# (the longest key + its result): parse_descriptor 64 x ~32 KiB, the other two 256 x ~8 KiB: 2 MiB each.
# A provider's real descriptors and type names number in the tens; functools.lru_cache keeps a hit in C.
_MAX_DIMENSIONS = 255  # the JVM's own limit

_PRIMITIVES = {
    "Z": "boolean",
    "B": "byte",
    "C": "char",
    "D": "double",
    "F": "float",
    "I": "int",
    "J": "long",
    "S": "short",
}
_PRIMITIVE_CODES = {name: code for code, name in _PRIMITIVES.items()}
_FORBIDDEN_IN_NAME = set(".;[/<>") | {" ", "\t", "\n"}


@lru_cache(maxsize=64)
def parse_descriptor(descriptor: str) -> tuple[str, ...]:
    """Canonical type names of the parameters, in order; ``DescriptorError`` if malformed."""
    if not isinstance(descriptor, str):
        raise DescriptorError(f"parameter descriptor must be a string, got {type(descriptor).__name__}")
    if len(descriptor) > MAX_DESCRIPTOR_LENGTH:
        raise DescriptorError(f"parameter descriptor of {len(descriptor)} characters is too long")
    names: list[str] = []
    pos, end = 0, len(descriptor)
    while pos < end:
        start = pos
        dims = 0
        while pos < end and descriptor[pos] == "[":
            dims += 1
            pos += 1
        if dims > _MAX_DIMENSIONS:
            raise DescriptorError(f"more than {_MAX_DIMENSIONS} array dimensions at {start} in {descriptor!r}")
        if pos >= end:
            raise DescriptorError(f"array without element type at {start} in {descriptor!r}")
        code = descriptor[pos]
        if code in _PRIMITIVES:
            base = _PRIMITIVES[code]
            pos += 1
        elif code == "L":
            semi = descriptor.find(";", pos + 1)
            if semi < 0:
                raise DescriptorError(f"unterminated class name at {pos} in {descriptor!r}")
            base = _class_name(descriptor[pos + 1 : semi], descriptor, pos)
            pos = semi + 1
        else:
            raise DescriptorError(f"unexpected {code!r} at {pos} in {descriptor!r}")
        names.append(base + "[]" * dims)
    return tuple(names)


def _class_name(internal: str, descriptor: str, pos: int) -> str:
    parts = internal.split("/")
    if any(not part or any(ch in _FORBIDDEN_IN_NAME for ch in part) for part in parts):
        raise DescriptorError(f"bad class name {internal!r} at {pos} in {descriptor!r}")
    return ".".join(parts)


@lru_cache(maxsize=256)
def canonical_type_name(name: str) -> str:
    """``[Ljava.lang.String;`` / ``java.lang.String[]`` / ``[I`` -> canonical spelling."""
    if not isinstance(name, str) or not name:
        raise DescriptorError(f"bad Java type name {name!r}")
    if len(name) > MAX_TYPE_NAME_LENGTH:
        raise DescriptorError(f"Java type name of {len(name)} characters is too long")
    if name.startswith("["):
        (parsed,) = _single(name.replace(".", "/"))
        return parsed
    base, dims = name, 0
    while base.endswith("[]"):
        base, dims = base[:-2], dims + 1
    if not base or (base not in _PRIMITIVE_CODES and any(ch in "[]/;<> \t\n" for ch in base)):
        raise DescriptorError(f"bad Java type name {name!r}")
    if any(not part for part in base.split(".")):
        raise DescriptorError(f"bad Java type name {name!r}")
    return base + "[]" * dims


def _single(descriptor: str) -> tuple[str, ...]:
    names = parse_descriptor(descriptor)
    if len(names) != 1:
        raise DescriptorError(f"expected one type in {descriptor!r}, found {len(names)}")
    return names


@lru_cache(maxsize=256)
def type_descriptor(name: str) -> str:
    """The descriptor of one canonical (or ``Class.getName()``) type name."""
    name = canonical_type_name(name)
    dims = 0
    while name.endswith("[]"):
        name, dims = name[:-2], dims + 1
    code = _PRIMITIVE_CODES.get(name)
    if code is None:
        if name == "void":
            raise DescriptorError("void is not a parameter type")
        code = "L" + name.replace(".", "/") + ";"
    return "[" * dims + code


def to_descriptor(names: Iterable[str]) -> str:
    """Concatenated descriptor of parameter type names: the inverse of ``parse_descriptor``."""
    return "".join(type_descriptor(name) for name in names)
