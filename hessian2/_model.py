"""Binding Python classes to Java classes, and what their annotations mean.

A Java class is bound by subclassing, with the Java name as a class keyword::

    @dataclass
    class Item(JavaObject, java_class="org.x.Item"):
        itemId: str = ""
        score: float = 0.0

    class Color(JavaEnum, java_class="org.x.Color"):
        RED = 1

Subclassing is the act of binding: there is no global registration call, and
the decoder instantiates only classes bound this way (or passed to it
explicitly), never a class named by the input.

For each bound dataclass this module computes, once and lazily (annotations may
name classes defined later), a ``ClassInfo``: the Java name, the fields in the
order hessian-lite's ``JavaSerializer`` writes them, and a ``Spec`` per field
saying which Java type the annotation stands for. The encoder and decoder turn
those specs into their own plans; this module knows nothing about bytes.

Java field order (JavaSerializer/UnsafeSerializer.introspect): the class's own
fields then its superclasses', split into "primitive" (primitives and
``java.lang.*`` types except ``Object``) and "compound" (everything else),
primitives first, and the whole list reversed. Readers match by name, so the
order matters only for byte-for-byte equality with Java.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import decimal
import enum
import inspect
import types
import typing
from collections.abc import Mapping
from typing import Any, ClassVar

from ._errors import EncodeError, known_types
from ._wrappers import Byte, Char, Double, Float, Int, Long, Short

__all__ = [
    "ClassInfo",
    "JavaEnum",
    "JavaGenericObject",
    "JavaObject",
    "MaxItems",
    "Spec",
    "bound_classes",
    "class_info",
    "resolve_spec",
]

# java class name -> Python class, filled by subclassing JavaObject / JavaEnum.
_BOUND: dict[str, type] = {}


def bound_classes() -> Mapping[str, type]:
    """A read-only view of every class bound so far (Java name -> Python class)."""
    return _BOUND.copy()


class JavaObject:
    """Base of Python dataclasses that travel as a Java object of ``java_class``."""

    __slots__ = ()
    __java_class__: str = ""

    def __init_subclass__(cls, java_class: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if java_class is None:
            # dataclass(slots=True) rebuilds the class from its dict: keep the binding
            java_class = cls.__dict__.get("__java_class__")
        if java_class is not None:
            if not java_class or not isinstance(java_class, str):
                raise TypeError(f"{cls.__name__}: java_class must be a non-empty string")
            cls.__java_class__ = java_class
            _BOUND[java_class] = cls
        cls._h2_info = None  # type: ignore[attr-defined]  # set on every bound class, read by class_info


class JavaEnum(enum.Enum):
    """Base of Python enums bound to a Java enum; the member *name* is the Java constant."""

    __java_class__: ClassVar[str]  # set by the java_class class keyword

    def __init_subclass__(cls, java_class: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if java_class is not None:
            cls.__java_class__ = java_class
            _BOUND[java_class] = cls


class JavaGenericObject:
    """An object of a Java class no Python class is bound to.

    It keeps the Java class name and the fields (in wire order) so that
    re-encoding gives Java the same object back. ``fields`` is a plain dict.
    """

    __slots__ = ("fields", "java_class")

    def __init__(self, java_class: str, fields: dict[str, Any] | None = None) -> None:
        if not java_class:
            raise EncodeError("a Java object needs a non-empty class name")
        self.java_class = java_class
        self.fields = {} if fields is None else fields

    def __repr__(self) -> str:
        return f"JavaGenericObject({self.java_class!r}, {self.fields!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, JavaGenericObject):
            return NotImplemented
        return self.java_class == other.java_class and self.fields == other.fields

    __hash__ = None  # type: ignore[assignment]  # mutable and compared by value: unhashable, like a dict


known_types(named=(JavaGenericObject,))  # describe() may name its java_class


class MaxItems:
    """The most entries a list, set or map field may hold: ``Annotated[list[str], MaxItems(1000)]``.

    Java's ``@Size(max = ...)``, checked where the cost is: the decoder refuses a longer
    container when it reads the length the sender announces, before it builds anything
    (a contract's bound then also bounds what one request costs), and any longer value
    that reaches the field another way (a back-reference, a map read as the class) is
    refused when the field is checked. Encoding is not limited."""

    __slots__ = ("count",)

    def __init__(self, count: int) -> None:
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValueError(f"MaxItems needs a count >= 0, got {count!r}")
        self.count = count

    def __repr__(self) -> str:
        return f"MaxItems({self.count})"


# A Spec is a small tuple tree naming a Java type:
#   ("any",) ("int",) ("long",) ("short",) ("byte",) ("double",) ("float",) ("char",)
#   ("bool",) ("str",) ("bytes",) ("date",) ("decimal",) ("object", cls) ("enum", cls)
#   ("list", item) ("set", item) ("map", key, value)
# A container with ``MaxItems`` carries the count last: ("list", item, most), ("map", key, value, most).
Spec = tuple[Any, ...]
ANY: Spec = ("any",)

_SCALARS: dict[Any, Spec] = {
    int: ("int",),
    Int: ("int",),
    Long: ("long",),
    Short: ("short",),
    Byte: ("byte",),
    float: ("double",),
    Double: ("double",),
    Float: ("float",),
    Char: ("char",),
    bool: ("bool",),
    str: ("str",),
    bytes: ("bytes",),
    bytearray: ("bytes",),
    _dt.datetime: ("date",),
    decimal.Decimal: ("decimal",),
    Any: ANY,
    object: ANY,
}
# Specs that hessian-lite counts as primitive or java.lang.* (see the module docstring).
_PRIMITIVE_KINDS = frozenset({"int", "long", "short", "byte", "double", "float", "char", "bool", "str"})


def resolve_spec(annotation: Any) -> Spec:
    """Turn a (resolved) type annotation into a Spec; unknown annotations mean "any"."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _limited(resolve_spec(args[0]), annotation.__metadata__)
    found = _SCALARS.get(annotation)
    if found is not None:
        return found
    if origin is typing.Union or origin is types.UnionType:
        rest = [a for a in args if a is not type(None)]
        return resolve_spec(rest[0]) if len(rest) == 1 else ANY
    if origin in (list, tuple, typing.Sequence, typing.MutableSequence) or annotation in (list, tuple):
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            return ("list", ANY)
        return ("list", resolve_spec(args[0]) if args else ANY)
    if origin in (set, frozenset, typing.AbstractSet) or annotation in (set, frozenset):
        return ("set", resolve_spec(args[0]) if args else ANY)
    if origin in (dict, typing.Mapping, typing.MutableMapping) or annotation is dict:
        if len(args) == 2:
            return ("map", resolve_spec(args[0]), resolve_spec(args[1]))
        return ("map", ANY, ANY)
    if isinstance(annotation, type):
        if issubclass(annotation, JavaObject):
            return ("object", annotation)
        if issubclass(annotation, enum.Enum):
            return ("enum", annotation)
    return ANY


def _limited(spec: Spec, metadata: tuple[Any, ...]) -> Spec:
    """``spec`` with the count of a ``MaxItems`` among ``metadata`` (other metadata is not ours)."""
    limits = [m.count for m in metadata if isinstance(m, MaxItems)]
    if not limits:
        return spec
    if spec[0] not in ("list", "set", "map"):
        raise EncodeError(f"MaxItems applies to a list, set or map, not to {spec[0]}")
    return (*spec, min(limits))


def max_items(spec: Spec) -> int | None:
    """The ``MaxItems`` count of a container spec, None when it has none."""
    if len(spec) == {"list": 3, "set": 3, "map": 4}.get(spec[0]):
        return int(spec[-1])
    return None


class ClassInfo:
    """What the codec needs to know about one bound dataclass, computed once."""

    __slots__ = ("cls", "defaults", "java_class", "names", "specs")

    def __init__(self, cls: type) -> None:
        if not dataclasses.is_dataclass(cls):
            raise EncodeError(f"{cls.__qualname__} is a JavaObject but not a dataclass")
        self.cls = cls
        self.java_class: str = cls.__java_class__  # type: ignore[attr-defined]  # JavaObject.__init_subclass__ set it
        if not self.java_class:
            raise EncodeError(f'{cls.__qualname__} has no java_class: subclass with java_class="..."')
        try:
            hints = typing.get_type_hints(cls, include_extras=True)
        except Exception as exc:  # a NameError in a forward reference, typically
            raise EncodeError(f"cannot resolve the annotations of {cls.__qualname__}: {exc}") from exc
        wire_fields = {f.name: f for f in dataclasses.fields(cls) if not f.name.startswith("_")}
        ordered: list[str] = []
        for klass in cls.__mro__:  # own fields first, then the superclasses', like getDeclaredFields
            for name in inspect.get_annotations(klass):
                if name in wire_fields and name not in ordered:
                    ordered.append(name)
        kinds = {n: resolve_spec(hints[n]) for n in ordered}
        primitive_all = [n for n in ordered if kinds[n][0] in _PRIMITIVE_KINDS]
        compound_all = [n for n in ordered if kinds[n][0] not in _PRIMITIVE_KINDS]
        names = list(reversed(primitive_all + compound_all))
        self.names: tuple[str, ...] = tuple(names)
        self.specs: tuple[Spec, ...] = tuple(kinds[n] for n in names)
        defaults = []
        for name, fld in wire_fields.items():
            if fld.default is not dataclasses.MISSING:
                defaults.append((name, False, fld.default))
            elif fld.default_factory is not dataclasses.MISSING:
                defaults.append((name, True, fld.default_factory))
            else:
                defaults.append((name, False, _zero(kinds.get(name, ANY))))
        self.defaults = tuple(defaults)

    def new_instance(self) -> Any:
        """An instance with every field at its default, built without ``__init__``.

        The decoder must hold the instance before reading its fields (a field may
        refer back to it), so it cannot call the constructor with the values.
        """
        obj = object.__new__(self.cls)
        setter = object.__setattr__
        for name, is_factory, value in self.defaults:
            setter(obj, name, value() if is_factory else value)
        return obj


def _zero(spec: Spec) -> Any:
    """What a Java field of this type holds when the sender did not send it."""
    kind = spec[0]
    if kind in ("int", "short", "byte"):
        return 0
    if kind == "long":
        return Long(0)
    if kind in ("double", "float"):
        return 0.0
    if kind == "bool":
        return False
    return None


def class_info(cls: type) -> ClassInfo:
    """The (cached) ClassInfo of a bound dataclass."""
    info = cls.__dict__.get("_h2_info")
    if info is None:
        info = ClassInfo(cls)
        cls._h2_info = info  # type: ignore[attr-defined]  # the per-class cache declared in __init_subclass__
    return info
