"""Arguments on the way in: checked against the parameter's hint, converted to what it says.

``converter_for(hint)`` compiles, once per hint, a function that takes a decoded
argument and returns the value the handler receives, or raises ``ArgumentError``
saying where and what in Java terms (``request.exposureList: expected
java.util.List<java.lang.String>, got java.lang.String``), never in Python's, because
the message goes back to a Java caller. What it accepts:

- the value the codec decodes for that Java type (a bound object of the class, a
  ``Long`` for a long, ...), its fields checked against their hints in turn;
- what a generic call (``$invoke``) sends instead: a map, with or without a ``"class"``
  key, for a POJO (Java's ``PojoUtils.realize``), a constant's name for an enum, any
  integer in range for a Java integer type;
- ``None`` only where the hint says ``| None``. A POJO field that arrives null but is
  not declared nullable takes its default, so handlers never see ``None`` where the
  hint does not allow it (a Java POJO's unset ``String`` field travels as null).

Refused: anything else, notably an object of another class than the declared one
(``com.evil.Foo`` where a ``RecommendRequest`` is declared) and a string where a list
is declared. No I/O; paths are only formatted when something is refused.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import itertools
import keyword
import typing
import uuid
from collections.abc import Callable, Collection
from typing import Any

from dubbo_recsys.provider.errors import ProviderError
from dubbo_recsys.provider.javatype import _LISTS, _MAPS, _SETS, java_type_of, unwrap_hint
from dubbo_recsys.provider.slices import pause_point
from hessian2 import (
    Byte,
    Char,
    Double,
    Float,
    Instant,
    Int,
    JavaException,
    JavaGenericObject,
    JavaObject,
    LocalDateTime,
    Long,
    Short,
    TypedList,
    TypedMap,
    bound_classes,
)

__all__ = ["ArgumentError", "Convert", "converter_for", "java_name_of"]

Convert = Callable[[Any], Any]


class ArgumentError(ProviderError, ValueError):
    """An argument value that does not fit its declared Java type; the message is for Java."""

    def __init__(self, expected: str, got: str, path: tuple[str, ...] = ()) -> None:
        self.expected, self.got, self.path = expected, got, path
        where = "".join(path).lstrip(".")
        super().__init__(f"{where + ': ' if where else ''}expected {expected}, got {got}")

    def at(self, segment: str) -> ArgumentError:
        """The same error one level further out (``.field`` or ``[3]``)."""
        return ArgumentError(self.expected, self.got, (segment, *self.path))


def java_name_of(value: Any) -> str:
    """What Java would call ``value``'s type (for messages; never a Python type name)."""
    if value is None:
        return "null"
    kind = type(value)
    found = _JAVA_NAMES.get(kind)
    if found:
        return found
    if isinstance(value, JavaGenericObject):
        return _short(value.java_class)
    java_class = getattr(kind, "__java_class__", None)
    if isinstance(value, JavaException):
        return _short(value.java_class)
    if isinstance(java_class, str) and java_class:
        return java_class
    if isinstance(value, TypedList):
        return _short(value.java_type)
    for base, name in _JAVA_NAMES.items():
        if isinstance(value, base):
            return name
    return "an unsupported value"


def _short(name: str) -> str:
    return name if len(name) <= 200 else name[:200] + "..."


_JAVA_NAMES: dict[type, str] = {
    bool: "java.lang.Boolean",
    int: "java.lang.Integer",
    Long: "java.lang.Long",
    Int: "java.lang.Integer",
    Short: "java.lang.Short",
    Byte: "java.lang.Byte",
    float: "java.lang.Double",
    Double: "java.lang.Double",
    Float: "java.lang.Float",
    str: "java.lang.String",
    Char: "java.lang.Character",
    bytes: "byte[]",
    list: "java.util.List",
    tuple: "java.util.List",
    dict: "java.util.Map",
    TypedMap: "java.util.Map",
    set: "java.util.Set",
    frozenset: "java.util.Set",
    decimal.Decimal: "java.math.BigDecimal",
    uuid.UUID: "java.util.UUID",
    datetime.datetime: "java.util.Date",
    LocalDateTime: "java.time.LocalDateTime",
    Instant: "java.time.Instant",
    datetime.date: "java.time.LocalDate",
    datetime.time: "java.time.LocalTime",
    datetime.timedelta: "java.time.Duration",
}

_CACHE: dict[Any, Convert] = {}


def converter_for(hint: Any) -> Convert:
    """The converter for a parameter hint (``None`` refused unless the hint allows it); cached."""
    try:
        found = _CACHE.get(hint)
    except TypeError:  # unhashable Annotated metadata
        return _compile(hint, refuse_null=True)
    if found is None:
        found = _CACHE[hint] = _compile(hint, refuse_null=True)
    return found


def _compile(hint: Any, refuse_null: bool) -> Convert:
    bare, _override, nullable = unwrap_hint(hint)
    expected = str(java_type_of(hint))
    inner = _bare(bare, expected)
    if nullable or not refuse_null:

        def nullable_value(value: Any) -> Any:
            return None if value is None else inner(value)

        if getattr(inner, "exact", None) is not None:
            nullable_value.exact = inner.exact  # type: ignore[attr-defined]  # a marker attribute on the function
        return nullable_value

    def required(value: Any) -> Any:
        if value is None:
            raise ArgumentError(f"{expected} (not null)", "null")
        return inner(value)

    return required


def _bare(hint: Any, expected: str) -> Convert:
    """The converter of a hint without ``Annotated`` and ``| None``; ``value`` is never None."""
    if hint is Any or hint is object:
        return _same
    if hint in _INTEGERS:
        return _integer(hint, *_INTEGERS[hint], expected)
    if hint in (float, Double, Float):
        return _number(hint, expected)
    if hint is Char:
        return _char(expected)
    exact = _EXACT.get(hint)
    if exact is not None:
        return _instance_of(exact, expected)
    origin = typing.get_origin(hint) or hint
    args = typing.get_args(hint)
    if origin in _LISTS or origin in _SETS:
        item = _compile(args[0], refuse_null=False) if args and args[0] not in (Any, object) else None
        return _collection(item, origin in _SETS, expected)
    if origin in _MAPS:
        key = _compile(args[0], refuse_null=False) if len(args) == 2 and args[0] not in (Any, object) else None
        val = _compile(args[1], refuse_null=False) if len(args) == 2 and args[1] not in (Any, object) else None
        return _mapping(key, val, expected)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return _enum(hint, expected)
    if isinstance(hint, type) and issubclass(hint, JavaObject) and dataclasses.is_dataclass(hint):
        return _pojo(hint, expected)
    if isinstance(hint, type):
        return _instance_of((hint,), expected)
    return _same


def _same(value: Any) -> Any:
    return value


# hint -> (low, high, result type); ``int`` results stay plain ints
_INTEGERS: dict[Any, tuple[int, int, type[int]]] = {
    int: (-(1 << 31), (1 << 31) - 1, int),
    Int: (-(1 << 31), (1 << 31) - 1, int),
    Long: (-(1 << 63), (1 << 63) - 1, Long),
    Short: (-(1 << 15), (1 << 15) - 1, Short),
    Byte: (-128, 127, Byte),
}
_EXACT: dict[Any, tuple[type, ...]] = {
    bool: (bool,),
    str: (str,),
    bytes: (bytes, bytearray),
    bytearray: (bytes, bytearray),
    decimal.Decimal: (decimal.Decimal,),
    uuid.UUID: (uuid.UUID,),
    datetime.datetime: (datetime.datetime,),
    LocalDateTime: (datetime.datetime,),
    Instant: (datetime.datetime,),
    datetime.date: (datetime.date,),
    datetime.time: (datetime.time,),
    datetime.timedelta: (datetime.timedelta,),
}


def _integer(hint: Any, low: int, high: int, result: type[int], expected: str) -> Convert:
    def convert(value: Any) -> Any:
        if type(value) is result and (result is not int or low <= value <= high):  # as the codec decodes it
            return value
        if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
            return result(value)
        got = java_name_of(value)
        if isinstance(value, int) and not isinstance(value, bool):
            got = f"a {got} out of range"
        raise ArgumentError(expected, got)

    return convert


def _number(hint: Any, expected: str) -> Convert:
    def convert(value: Any) -> Any:
        if type(value) is float:
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise ArgumentError(expected, java_name_of(value))

    return convert


def _instance_of(kinds: tuple[type, ...], expected: str) -> Convert:
    single = kinds[0] if len(kinds) == 1 else None

    def convert(value: Any) -> Any:
        if type(value) is single or isinstance(value, kinds):
            return value
        raise ArgumentError(expected, java_name_of(value))

    convert.exact = single  # type: ignore[attr-defined]  # values of exactly this type pass unchanged
    return convert


def _char(expected: str) -> Convert:
    def convert(value: Any) -> Any:
        if isinstance(value, str) and len(value) == 1:
            return value
        raise ArgumentError(expected, "a java.lang.String" if isinstance(value, str) else java_name_of(value))

    return convert


def _collection(item: Convert | None, as_set: bool, expected: str) -> Convert:
    exact = getattr(item, "exact", None)

    def convert(value: Any) -> Any:
        if not isinstance(value, (list, tuple, set, frozenset)) or (not as_set and isinstance(value, (set, frozenset))):
            raise ArgumentError(expected, java_name_of(value))
        if item is None or not value:
            return set(value) if as_set else value
        if exact is not None and all(type(element) is exact for element in value):  # the usual case, no copy
            return set(value) if as_set else value
        out = []
        for index, element in enumerate(value):
            try:
                out.append(item(element))
            except ArgumentError as exc:
                raise exc.at(f"[{index}]") from None
        return set(out) if as_set else out

    return convert


def _mapping(key: Convert | None, val: Convert | None, expected: str) -> Convert:
    key_exact, val_exact = getattr(key, "exact", None), getattr(val, "exact", None)

    def convert(value: Any) -> Any:
        if not isinstance(value, dict):
            raise ArgumentError(expected, java_name_of(value))
        if (key is None and val is None) or not value:
            return value
        exact = (key is None or key_exact is not None) and (val is None or val_exact is not None)
        if exact and all(
            (key is None or type(k) is key_exact) and (val is None or type(v) is val_exact) for k, v in value.items()
        ):
            return value
        out = {}
        for k, v in value.items():
            try:
                converted_key = k if key is None else key(k)
            except ArgumentError as exc:
                raise exc.at("[key]") from None
            try:
                out[converted_key] = v if val is None else val(v)
            except ArgumentError as exc:
                raise exc.at(f"[{_label(k)}]") from None
        return out

    return convert


def _label(key: Any) -> str:
    text = repr(key) if isinstance(key, (str, int)) and not isinstance(key, bool) else "?"
    return text if len(text) <= 40 else text[:37] + "..."


def _enum(cls: type[enum.Enum], expected: str) -> Convert:
    java_class = getattr(cls, "__java_class__", "")

    def convert(value: Any) -> Any:
        if type(value) is cls:
            return value
        name = value
        if isinstance(value, JavaGenericObject) and value.java_class == java_class:
            name = value.fields.get("name")
        member = cls.__members__.get(name) if isinstance(name, str) else None
        if member is None:
            got = f"{name!r}"[:60] if isinstance(name, str) else java_name_of(value)
            raise ArgumentError(expected, got)
        return member

    return convert


class _Field:
    __slots__ = ("bare", "convert", "default", "exact", "factory", "name", "nullable")

    def __init__(self, name: str, hint: Any, spec: dataclasses.Field[Any]) -> None:
        bare, _, nullable = unwrap_hint(hint)
        self.name = name
        self.bare = bare
        self.convert = _bare(bare, str(java_type_of(hint)))  # never given None (see value)
        self.exact = getattr(self.convert, "exact", None)  # a value of this type passes unchanged
        self.nullable = nullable or bare in (Any, object)
        self.default = spec.default
        self.factory = spec.default_factory

    def value(self, value: Any) -> Any:
        """The field's value from what arrived; null where the hint does not allow it: the default."""
        if value is not None:
            return self.convert(value)
        if self.nullable:
            return None
        if self.factory is not dataclasses.MISSING:
            return self.factory()
        if self.default is not dataclasses.MISSING:
            return self.default
        raise ArgumentError("a value (not null)", "null")

    def missing(self) -> Any:
        """The field's value when the sender did not send it at all."""
        if self.factory is not dataclasses.MISSING:
            return self.factory()
        return None if self.default is dataclasses.MISSING else self.default


def _pojo(cls: type, expected: str) -> Convert:
    fields: list[_Field] = []  # filled on first use: field hints may name classes defined later
    java_class = cls.__java_class__  # type: ignore[attr-defined]  # every JavaObject subclass has one

    generated: Convert | None = None  # the generated check, made on first use too

    def plan() -> list[_Field]:
        if not fields:
            hints = typing.get_type_hints(cls, include_extras=True)
            fields.extend(_Field(f.name, hints[f.name], f) for f in dataclasses.fields(cls) if f.init)
        return fields

    def check(obj: Any) -> Any:
        """A decoded instance: its fields converted in place (it is ours, fresh from the codec)."""
        nonlocal generated
        if generated is None:
            generated = _generate_check(plan())
        return generated(obj)

    def build(source: dict[str, Any]) -> Any:
        """A generic object's or a map's fields as an instance (unknown keys ignored, as Java does)."""
        obj: Any = object.__new__(cls)
        for item in fields or plan():
            try:
                value = item.value(source[item.name]) if item.name in source else item.missing()
            except ArgumentError as exc:
                raise exc.at(f".{item.name}") from None
            object.__setattr__(obj, item.name, value)
        return obj

    def convert(value: Any) -> Any:
        kind = type(value)
        if kind is cls:
            return check(value)
        if isinstance(value, cls):  # a bound subclass: Java passes subclasses too
            return converter_for(kind | None)(value)
        named: Any
        if isinstance(value, JavaGenericObject):
            named, source = value.java_class, value.fields
        elif isinstance(value, dict):
            named, source = value.get("class"), value
        else:
            raise ArgumentError(expected, java_name_of(value))
        if named is None or named == java_class:
            return build(source)
        bound = bound_classes().get(named) if isinstance(named, str) else None
        if isinstance(bound, type) and issubclass(bound, cls):
            return converter_for(bound | None)(value)
        raise ArgumentError(expected, _short(named) if isinstance(named, str) else java_name_of(named))

    return convert


def _generate_check(fields: list[_Field]) -> Convert:
    """Straight-line Python checking one class's fields (the way ``hessian2._encoder`` generates its
    writers): a field whose value already is what its hint says (a ``str``, an ``int`` in range, a
    list of ``str``, ...) costs a test inline, anything else goes through its converter. Only our
    identifiers and ``repr``-quoted names enter the source."""
    env: dict[str, Any] = {"ArgumentError": ArgumentError, "setattr": object.__setattr__}
    body = []
    for i, item in enumerate(fields):
        env[f"F{i}"] = item
        get = f"obj.{item.name}" if item.name.isidentifier() and not keyword.iskeyword(item.name) else None
        body += [f"name = {item.name!r}", f"v = {get or f'getattr(obj, {item.name!r}, None)'}"]
        fast = _fast_test(item.bare, env, f"T{i}")
        if fast and item.nullable:
            fast = f"v is None or ({fast})"
        if fast:
            body += [
                f"if not ({fast}):",
                f"    c = F{i}.value(v)",
                "    if c is not v:",
                "        setattr(obj, name, c)",
            ]
        else:
            body += [f"c = F{i}.value(v)", "if c is not v:", "    setattr(obj, name, c)"]
    lines = ["def check(obj):", "    name = ''", "    try:"]
    lines += ["        " + line for line in body] or ["        pass"]
    lines += ["    except ArgumentError as exc:", "        raise exc.at('.' + name) from None", "    return obj"]
    exec("\n".join(lines), env)
    check: Convert = env["check"]
    return check


_INLINE_EXACT = (str, bool, bytes, Long, float)


_CHUNK = 65_536  # items whose types are counted between two pause points (~0.7 ms)


def _all_of(items: Collection[Any], kind: type) -> bool:
    """Whether every item is exactly ``kind``: the types counted in C (a generator step per item
    was 2.6x slower: 28 ms for a million ids), a chunk at a time between which a sliced job
    gives the event loop its turn (``provider.slices.pause_point``)."""
    size = len(items)
    if size <= _CHUNK:
        return list(map(type, items)).count(kind) == size
    rest = iter(items)
    for _ in range(0, size, _CHUNK):
        kinds = list(map(type, itertools.islice(rest, _CHUNK)))
        if kinds.count(kind) != len(kinds):
            return False
        pause_point()
    return True


def _fast_test(hint: Any, env: dict[str, Any], slot: str) -> str:
    """An expression true when ``v`` needs no conversion for ``hint`` ("" when there is none)."""
    if hint in _INLINE_EXACT:
        env[slot] = hint
        return f"type(v) is {slot}"
    if hint in (int, Int):
        return "type(v) is int and -2147483648 <= v <= 2147483647"
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is list and len(args) == 1 and args[0] in _INLINE_EXACT:
        env[slot], env["all_of"] = args[0], _all_of
        return f"type(v) is list and all_of(v, {slot})"
    if origin is dict and len(args) == 2 and args[0] in _INLINE_EXACT and args[1] in _INLINE_EXACT:
        env[slot], env[slot + "v"], env["all_of"] = *args, _all_of
        return f"type(v) is dict and all_of(v, {slot}) and all_of(v.values(), {slot}v)"
    return ""
