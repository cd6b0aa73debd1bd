"""Java types, and the Java type a Python type hint stands for.

A service's type hints are its Java contract: ``java_type_of(hint)`` is the one
place that decides which Java type a hint means, for the dispatcher (parameter
descriptors), the registry (``methods=``) and the Java API generator alike::

    int, Int          int         (java.lang.Integer when Optional or a generic argument)
    Long              long        (java.lang.Long)
    Short, Byte       short, byte (java.lang.Short, java.lang.Byte)
    float, Double     double      (java.lang.Double)
    Float             float       (java.lang.Float)
    bool              boolean     (java.lang.Boolean)
    Char              char        (java.lang.Character)
    str               java.lang.String            bytes        byte[]
    Decimal           java.math.BigDecimal        UUID         java.util.UUID
    datetime          java.util.Date              date, time   java.time.LocalDate, LocalTime
    LocalDateTime     java.time.LocalDateTime     Instant      java.time.Instant
    timedelta         java.time.Duration          Any, object  java.lang.Object
    list[X]           java.util.List<X>           set[X]       java.util.Set<X>
    dict[K, V]        java.util.Map<K, V>         None         void (return types only)
    X | None          X, boxed when X is a primitive
    a JavaObject / JavaEnum / JavaException subclass: its ``java_class``

Where Python cannot say it (an array, a concrete collection class, a boxed type
that is not nullable), ``Annotated[hint, Java("int[]")]`` names the Java type and
the hint keeps saying what Python receives. Names are canonical source spellings
(``java.lang.String``, ``int[]``); generic arguments are part of a ``JavaType``
but not of its descriptor (erasure), as in Java.

No I/O, no codec calls: this module only reads hints.
"""

from __future__ import annotations

import datetime
import decimal
import types
import typing
import uuid
from collections.abc import Callable, Mapping, MutableMapping, MutableSequence, MutableSet, Sequence, Set
from dataclasses import dataclass
from typing import Annotated, Any

from dubbo_recsys.provider.descriptor import canonical_type_name, type_descriptor
from dubbo_recsys.provider.errors import DescriptorError, ServiceSpecError
from hessian2 import (
    Byte,
    Char,
    Double,
    Float,
    Instant,
    Int,
    JavaEnum,
    JavaException,
    JavaObject,
    LocalDateTime,
    Long,
    Short,
)

__all__ = [
    "HINT_IMPORTS",
    "VOID",
    "Java",
    "JavaType",
    "JavaTypeError",
    "PythonHint",
    "bound_java_class",
    "java_type_of",
    "python_hint",
    "unwrap_hint",
]

_NONE = type(None)


class JavaTypeError(ServiceSpecError):
    """A type hint with no Java meaning, or a Java type spelling that does not parse."""


@dataclass(frozen=True, slots=True)
class JavaType:
    """A Java type as source code writes it: ``name`` is the erasure (``java.util.List``,
    ``int``, ``long[]``, ``void``), ``args`` the generic arguments (``java.lang.Long``)."""

    name: str
    args: tuple[JavaType, ...] = ()

    def __str__(self) -> str:
        if not self.args:
            return self.name
        return f"{self.name}<{', '.join(map(str, self.args))}>"

    @classmethod
    def parse(cls, text: str) -> JavaType:
        """``"java.util.Map<java.lang.String, java.util.List<java.lang.Long>>"`` -> JavaType."""
        parsed, rest = _parse(text.strip(), text)
        if rest:
            raise JavaTypeError(f"unexpected {rest!r} in Java type {text!r}")
        return parsed

    @property
    def is_primitive(self) -> bool:
        return self.name in _BOXES

    @property
    def is_void(self) -> bool:
        return self.name == "void"

    @property
    def is_array(self) -> bool:
        return self.name.endswith("[]")

    @property
    def descriptor(self) -> str:
        """The JVM field descriptor of the erasure (``Ljava/util/List;``, ``J``, ``[B``)."""
        return type_descriptor(self.name)

    def boxed(self) -> JavaType:
        """The reference type of a primitive (``long`` -> ``java.lang.Long``); others unchanged."""
        box = _BOXES.get(self.name)
        return JavaType(box) if box else self


VOID = JavaType("void")
OBJECT = JavaType("java.lang.Object")
STRING = JavaType("java.lang.String")

_BOXES = {
    "boolean": "java.lang.Boolean",
    "byte": "java.lang.Byte",
    "char": "java.lang.Character",
    "double": "java.lang.Double",
    "float": "java.lang.Float",
    "int": "java.lang.Integer",
    "long": "java.lang.Long",
    "short": "java.lang.Short",
}


def _parse(text: str, whole: str) -> tuple[JavaType, str]:
    end = 0
    while end < len(text) and text[end] not in "<>,":
        end += 1
    raw, rest = text[:end].strip(), text[end:].lstrip()
    dims = 0
    while raw.endswith("[]"):
        raw, dims = raw[:-2].rstrip(), dims + 1
    args: list[JavaType] = []
    if rest.startswith("<"):
        if dims:
            raise JavaTypeError(f"generic arrays are not supported: {whole!r}")
        rest = rest[1:]
        while True:
            arg, rest = _parse(rest, whole)
            args.append(arg.boxed())
            if rest.startswith(","):
                rest = rest[1:].lstrip()
            elif rest.startswith(">"):
                rest = rest[1:].lstrip()
                break
            else:
                raise JavaTypeError(f"unterminated type arguments in {whole!r}")
        while rest.startswith("[]"):
            raise JavaTypeError(f"generic arrays are not supported: {whole!r}")
    if raw == "void" and not dims and not args:
        return VOID, rest
    try:
        name = canonical_type_name(raw + "[]" * dims)
    except DescriptorError:
        raise JavaTypeError(f"bad Java type {whole!r}") from None
    return JavaType(name, tuple(args)), rest


@dataclass(frozen=True, slots=True, init=False)
class Java:
    """``Annotated`` metadata naming the Java type of a hint where Python cannot:
    ``Annotated[list[int], Java("int[]")]``, ``Annotated[dict[str, Any], Java("java.util.HashMap<...>")]``."""

    type: JavaType

    def __init__(self, spelling: str | JavaType) -> None:
        parsed = spelling if isinstance(spelling, JavaType) else JavaType.parse(spelling)
        if parsed.is_void:
            raise JavaTypeError("Java('void') means nothing: a return hint of None is void")
        object.__setattr__(self, "type", parsed)


# hint -> (primitive, boxed) for the hints that have a primitive Java type
_PRIMITIVE_HINTS: dict[Any, str] = {
    int: "int",
    Int: "int",
    Long: "long",
    Short: "short",
    Byte: "byte",
    float: "double",
    Double: "double",
    Float: "float",
    bool: "boolean",
    Char: "char",
}
# exact classes only: LocalDateTime and Instant are datetimes, datetime is a date
_REFERENCE_HINTS: dict[Any, JavaType] = {
    str: STRING,
    bytes: JavaType("byte[]"),
    bytearray: JavaType("byte[]"),
    decimal.Decimal: JavaType("java.math.BigDecimal"),
    uuid.UUID: JavaType("java.util.UUID"),
    datetime.datetime: JavaType("java.util.Date"),
    LocalDateTime: JavaType("java.time.LocalDateTime"),
    Instant: JavaType("java.time.Instant"),
    datetime.date: JavaType("java.time.LocalDate"),
    datetime.time: JavaType("java.time.LocalTime"),
    datetime.timedelta: JavaType("java.time.Duration"),
    Any: OBJECT,
    object: OBJECT,
}
_LISTS = (list, tuple, Sequence, MutableSequence)
_SETS = (set, frozenset, Set, MutableSet)
_MAPS = (dict, Mapping, MutableMapping)


def unwrap_hint(hint: Any) -> tuple[Any, JavaType | None, bool]:
    """``(bare hint, Java(...) override or None, nullable)``: strips ``Annotated`` and ``| None``."""
    override = None
    if typing.get_origin(hint) is Annotated:
        for meta in hint.__metadata__:
            if isinstance(meta, Java):
                override = meta.type
        hint = hint.__origin__
    nullable = False
    origin = typing.get_origin(hint)
    if origin is typing.Union or origin is types.UnionType:
        options = [arg for arg in typing.get_args(hint) if arg is not _NONE]
        nullable = len(options) < len(typing.get_args(hint))
        if len(options) != 1:
            raise JavaTypeError(f"{_show(hint)} names {len(options)} types; a Java type is one (use Any for Object)")
        inner, inner_override, _ = unwrap_hint(options[0])
        hint, override = inner, override or inner_override
    return hint, override, nullable


def java_type_of(hint: Any, *, boxed: bool = False) -> JavaType:
    """The Java type ``hint`` stands for (see the module docstring); ``boxed`` for a
    generic argument. ``None`` is ``void``; a hint with no Java meaning raises ``JavaTypeError``."""
    if hint is None or hint is _NONE:
        return VOID
    bare, override, nullable = unwrap_hint(hint)
    if override is not None:
        return override
    primitive = _PRIMITIVE_HINTS.get(bare)
    if primitive is not None:
        found = JavaType(primitive)
        return found.boxed() if boxed or nullable else found
    reference = _REFERENCE_HINTS.get(bare)
    if reference is not None:
        return reference
    origin = typing.get_origin(bare) or bare
    args = typing.get_args(bare)
    if origin in _LISTS:
        if origin is tuple and args and not (len(args) == 2 and args[1] is Ellipsis):
            raise JavaTypeError(f"{_show(hint)}: a fixed-size tuple has no Java type (use tuple[X, ...] or list[X])")
        return JavaType("java.util.List", (java_type_of(args[0], boxed=True) if args else OBJECT,))
    if origin in _SETS:
        return JavaType("java.util.Set", (java_type_of(args[0], boxed=True) if args else OBJECT,))
    if origin in _MAPS:
        key, value = (args[0], args[1]) if len(args) == 2 else (Any, Any)
        return JavaType("java.util.Map", (java_type_of(key, boxed=True), java_type_of(value, boxed=True)))
    if isinstance(bare, type):
        java_class = bound_java_class(bare)
        if java_class:
            return JavaType(java_class)
    raise JavaTypeError(f"{_show(hint)} has no Java type: bind it (JavaObject, JavaEnum, JavaException) or use Any")


def bound_java_class(cls: type) -> str:
    """The Java class a Python class is bound to (``JavaObject``, ``JavaEnum``, ``JavaException``), or ``""``."""
    if not issubclass(cls, (JavaObject, JavaEnum, JavaException)):
        return ""
    name = getattr(cls, "__java_class__", "")
    return name if isinstance(name, str) else ""


def _show(hint: Any) -> str:
    return hint.__name__ if isinstance(hint, type) else repr(hint).replace("typing.", "")


# ---------------------------------------------------------------- the way back: Java -> hint source


@dataclass(frozen=True, slots=True)
class PythonHint:
    """Source text of a hint (``list[Long]``) and the names it uses that need importing
    (keys of ``HINT_IMPORTS``); bound class names are the caller's."""

    text: str
    names: frozenset[str] = frozenset()


#: where each name ``python_hint`` may use comes from
HINT_IMPORTS: dict[str, str] = {
    "Any": "from typing import Any",
    "Annotated": "from typing import Annotated",
    "Java": "from dubbo_recsys.provider import Java",
    "Long": "from hessian2 import Long",
    "Short": "from hessian2 import Short",
    "Byte": "from hessian2 import Byte",
    "Float": "from hessian2 import Float",
    "Char": "from hessian2 import Char",
    "LocalDateTime": "from hessian2 import LocalDateTime",
    "Instant": "from hessian2 import Instant",
    "Decimal": "from decimal import Decimal",
    "UUID": "from uuid import UUID",
    "datetime": "from datetime import datetime",
    "date": "from datetime import date",
    "time": "from datetime import time",
    "timedelta": "from datetime import timedelta",
}
_PRIMITIVE_TEXT = {
    "int": "int",
    "long": "Long",
    "short": "Short",
    "byte": "Byte",
    "double": "float",
    "float": "Float",
    "boolean": "bool",
    "char": "Char",
}
_BOXED_TEXT = {box: _PRIMITIVE_TEXT[prim] for prim, box in _BOXES.items()}
_REFERENCE_TEXT = {
    "java.lang.String": "str",
    "byte[]": "bytes",
    "java.math.BigDecimal": "Decimal",
    "java.util.UUID": "UUID",
    "java.util.Date": "datetime",
    "java.time.LocalDateTime": "LocalDateTime",
    "java.time.Instant": "Instant",
    "java.time.LocalDate": "date",
    "java.time.LocalTime": "time",
    "java.time.Duration": "timedelta",
    "java.lang.Object": "Any",
}
_COLLECTIONS = {
    "java.util.List": "list",
    "java.util.Set": "set",
    "java.util.Map": "dict",
}
# concrete or wider Java collections: the Python shape they arrive as
_LIST_LIKE = frozenset(
    {"java.util.Collection", "java.lang.Iterable", "java.util.ArrayList", "java.util.LinkedList", "java.util.Queue"}
)
_SET_LIKE = frozenset({"java.util.HashSet", "java.util.LinkedHashSet", "java.util.TreeSet", "java.util.SortedSet"})
_MAP_LIKE = frozenset(
    {"java.util.HashMap", "java.util.LinkedHashMap", "java.util.TreeMap", "java.util.SortedMap"}
    | {"java.util.concurrent.ConcurrentHashMap", "java.util.concurrent.ConcurrentMap"}
)


def python_hint(
    java: JavaType, class_name: Callable[[str], str | None] | None = None, *, argument: bool = False
) -> PythonHint:
    """The hint ``java_type_of`` maps back to ``java`` (``java_type_of(eval(hint.text)) == java``).

    ``class_name`` names a bound class's Python class (default: the Java simple name), or
    returns None for a class with no binding, which is then typed like an unmapped JDK
    class; ``argument`` is for a generic argument, where a boxed type needs no ``| None``.
    A type with no hint of its own (an array, ``java.util.HashMap``, an unbound class) is
    an ``Annotated[shape, Java("...")]`` of the shape Python receives (``Any`` for a class)."""
    name = class_name or (lambda java_name: java_name.rpartition(".")[2])
    if java.is_void:
        return PythonHint("None")
    if java.name in _PRIMITIVE_TEXT:
        return _hint(_PRIMITIVE_TEXT[java.name])
    if java.name in _BOXED_TEXT:
        text = _BOXED_TEXT[java.name]
        return _hint(text) if argument else PythonHint(f"{text} | None", _hint(text).names)
    if java.name in _REFERENCE_TEXT and not java.args:
        return _hint(_REFERENCE_TEXT[java.name])
    if java.name in _COLLECTIONS:
        return _generic(_COLLECTIONS[java.name], java, name)
    if java.is_array:
        element = JavaType(java.name[:-2])
        shape = _generic("list", JavaType("java.util.List", (element.boxed(),)), name)
        return _annotated(shape, java)
    for shape_name, family in (("list", _LIST_LIKE), ("set", _SET_LIKE), ("dict", _MAP_LIKE)):
        if java.name in family:
            return _annotated(_generic(shape_name, java, name), java)
    bound = None if java.name.startswith(("java.", "javax.")) else name(java.name)
    return _annotated(_hint("Any"), java) if bound is None else PythonHint(bound)


def _hint(text: str) -> PythonHint:
    return PythonHint(text, frozenset({text}) if text in HINT_IMPORTS else frozenset())


def _generic(shape: str, java: JavaType, name: Callable[[str], str | None]) -> PythonHint:
    wanted = 2 if shape == "dict" else 1
    args = java.args if len(java.args) == wanted else (OBJECT,) * wanted
    parts = [python_hint(arg, name, argument=True) for arg in args]
    names = frozenset().union(*(p.names for p in parts))
    return PythonHint(f"{shape}[{', '.join(p.text for p in parts)}]", names)


def _annotated(shape: PythonHint, java: JavaType) -> PythonHint:
    return PythonHint(f'Annotated[{shape.text}, Java("{java}")]', shape.names | {"Annotated", "Java"})
