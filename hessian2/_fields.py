"""Decoded field values against their declared Java types, the way hessian-lite reads them.

hessian-lite reads each field of an object with the field's Java type in mind
(``IntFieldDeserializer`` calls ``readInt``, which turns a double into
``(int) d``; a ``List<Long>`` field reads its elements as ``Long``) and throws
where it cannot convert. We decode untyped, then give each field of a bound
class the same treatment, from its annotation (a ``Spec``, see ``_model``)::

    Java type           accepted, converted as hessian-lite converts           else
    int, short, byte    int; long (wrapped to 32/16/8 bits); double            DecodeError
                        ((int) cast: truncated, saturated, NaN 0); boolean 1/0
    long                int, long, double ((long) cast), boolean
    double              int, long, double, boolean (1.0/0.0)
    float               the same, rounded to float precision
    boolean             boolean; a number is ``!= 0``
    String              string; boolean "true"/"false"; int and long in
                        decimal; double as Java's Double.toString writes it
    char                the first UTF-16 unit of that string ("\\0" if empty)
    byte[] / Date / BigDecimal   that type only
    a bound class       an instance of it (or of a bound subclass); any other
                        object or a map becomes one, field by field by name, as
                        hessian-lite reads a wire object with the field's class
    an enum             one of its constants
    List<T>, Set<T>     a list (a Set field gets a Python set), elements as T
    Map<K, V>           a map (dict, TypedMap, MapEntries), keys as K, values as V
    anything else       anything (``Any``, ``object``, unions, unknown types)

Elements of lists, sets and maps: hessian-lite converts them as above only when
T (K, V) is a boxed primitive (Long, Integer, Double, Boolean, ...); for String
and object element types it converts nothing and lets any element in (Java
fails later, with a ClassCastException). We are stricter there on purpose: an
element that is not already a T is refused, with its path.

``null`` is accepted everywhere and stays ``None`` (a Java primitive would read
0/false). Java's String form of a double depends on the wire form (a compact
double 5 reads as "5", a full one as "5.0"); untyped decoding keeps only the
value, so we use the form hessian-lite's own writer produces for that value,
and Java 19+'s shortest digits (Java 17 prints a few values with more digits).

Converters are ``convert(decoder, value, at) -> value`` and fail with
``DecodeError`` at ``at`` (the object's first field); the reader adds the field
to the path. ``accepted(spec)`` is the set of types that need no conversion
(the readers' fast check; None means anything). Lists, sets and maps are
converted in place, once per object per declared type (``Decoder.checked``), so
a list shared by a million objects costs one pass, and a set field sharing one
list shares one set, as in Java.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import enum
import math
import struct
import uuid
from collections.abc import Callable
from sys import getsizeof
from typing import Any

from ._errors import DecodeError, MapKey, describe, too_many
from ._keys import FloodError, to_set
from ._model import JavaGenericObject, JavaObject, Spec, class_info, max_items
from ._wrappers import Long, MapEntries, TypedList, TypedMap

__all__ = ["Converter", "accepted", "converter", "java_double_string", "java_string"]

Converter = Callable[[Any, Any, int], Any]
NONE = type(None)
_LISTS = (list, TypedList)
_MAPS = (dict, TypedMap, MapEntries)
_SIZED = (list, TypedList, set)
_FLOAT32 = struct.Struct("<f")


def _wrap(value: int, bits: int) -> int:
    """Java's narrowing of an integer to ``bits`` bits (two's complement)."""
    half = 1 << (bits - 1)
    return ((value + half) & ((1 << bits) - 1)) - half


def _cast(value: float, bits: int) -> int:
    """Java's ``(int)``/``(long)`` of a double: truncate, saturate, NaN -> 0."""
    if value != value:
        return 0
    high = (1 << (bits - 1)) - 1
    if value >= high:
        return high
    if value <= -high - 1:
        return -high - 1
    return int(value)


def _integer(value: Any, bits: int) -> int | None:
    """hessian-lite's readInt (bits 32) / readLong (64) of a decoded value, or None if it throws."""
    kind = type(value)
    if kind is bool:
        return int(value)
    if kind is int or kind is Long:
        return _wrap(int.__index__(value), bits) if bits < 64 else int.__index__(value)
    if kind is float:
        return _cast(value, bits)
    return None


def java_double_string(value: float) -> str:
    """``String.valueOf(double)`` as hessian-lite's readString returns it for this value."""
    if value != value:
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    if value.is_integer() and -32768 <= value <= 32767 and value != 1:  # written compact: read as an int
        return str(int(value))
    sign, digits, exponent = decimal.Decimal(repr(value)).as_tuple()
    text = "".join(map(str, digits)).rstrip("0") or "0"
    point = len(digits) + int(exponent)  # digits before the decimal point
    prefix = "-" if sign else ""
    if 1e-3 <= abs(value) < 1e7:
        if point <= 0:
            return f"{prefix}0.{'0' * -point}{text}"
        whole, fraction = text[:point].ljust(point, "0"), text[point:]
        return f"{prefix}{whole}.{fraction or '0'}"
    return f"{prefix}{text[0]}.{text[1:] or '0'}E{point - 1}"


def java_string(value: Any) -> str | None:
    """hessian-lite's readString of a decoded value, or None if it throws."""
    kind = type(value)
    if kind is str:
        text: str = value
        return text
    if kind is bool:
        return "true" if value else "false"
    if kind is int or kind is Long:
        return int.__repr__(value)
    if kind is float:
        return java_double_string(value)
    return None


# ---------------------------------------------------------------- scalar converters


def _refuse(dec: Any, java: str, value: Any, at: int) -> Any:
    dec.fail(f"expected a Java {java}, got {describe(value)}", at)


def _integer_converter(bits: int, java: str, wide: bool = False) -> Converter:
    def convert(dec: Any, value: Any, at: int) -> Any:
        if value is None:
            return None
        number = _integer(value, 64 if wide else 32)
        if number is None:
            return _refuse(dec, java, value, at)
        if wide:
            return Long(number)
        return number if bits == 32 else _wrap(number, bits)

    return convert


def _double(value: Any) -> float | None:
    kind = type(value)
    if kind is float:
        number: float = value
        return number
    if kind is bool:
        return 1.0 if value else 0.0
    if kind is int or kind is Long:
        return float(int.__index__(value))
    return None


def _convert_double(dec: Any, value: Any, at: int) -> Any:
    if value is None:
        return None
    number = _double(value)
    return _refuse(dec, "double", value, at) if number is None else number


def _convert_float(dec: Any, value: Any, at: int) -> Any:
    if value is None:
        return None
    number = _double(value)
    if number is None:
        return _refuse(dec, "float", value, at)
    try:
        return _FLOAT32.unpack(_FLOAT32.pack(number))[0]
    except OverflowError:  # beyond float's range: Java's (float) gives an infinity
        return math.copysign(math.inf, number)


def _convert_bool(dec: Any, value: Any, at: int) -> Any:
    kind = type(value)
    if kind is bool or value is None:
        return value
    if kind is int or kind is Long or kind is float:
        return value != 0
    return _refuse(dec, "boolean", value, at)


def _convert_str(dec: Any, value: Any, at: int) -> Any:
    if value is None:
        return None
    text = java_string(value)
    return _refuse(dec, "String", value, at) if text is None else text


def _convert_char(dec: Any, value: Any, at: int) -> Any:
    if value is None:
        return None
    text = java_string(value)
    if text is None:
        return _refuse(dec, "char", value, at)
    if not text:
        return "\0"
    code = ord(text[0])
    return text[0] if code <= 0xFFFF else chr(0xD800 + ((code - 0x10000) >> 10))  # Java's charAt(0)


def _exact(kind: type, java: str) -> Converter:
    def convert(dec: Any, value: Any, at: int) -> Any:
        if value is None or type(value) is kind:
            return value
        return _refuse(dec, java, value, at)

    return convert


# What one entry of Decoder.checked costs (a tuple of two ids and its dict slot), for Decoder.charge.
CHECKED_ENTRY = 144
# Lists shorter than this are converted (checked) again at each reference rather than remembered:
# at most 16 element checks per reference of two bytes, and the pure path then costs what the
# compiled one does, which checks the lists it reads without remembering them.
REMEMBER_FROM = 16


def _remember(dec: Any, token: tuple[int, int], result: Any) -> None:
    """Note in ``dec.checked`` what ``token`` converted to, and charge it (Decoder.charge)."""
    dec.checked[token] = result
    dec.charge(CHECKED_ENTRY)


def _instance_of(cls: type, coerce: bool) -> Converter:
    java = getattr(cls, "__java_class__", "") or cls.__qualname__

    def convert(dec: Any, value: Any, at: int) -> Any:
        if value is None or isinstance(value, cls):
            return value
        fields = _object_fields(value) if coerce else None
        if fields is None:
            return dec.fail(f"expected {java}, got {describe(value)}", at)
        token = (id(value), id(convert))
        done = dec.checked.get(token)
        if done is not None:
            return done
        info = class_info(cls)
        instance = info.new_instance()
        _remember(dec, token, instance)  # before the fields: an object inside itself ends here
        plans = _field_plans(cls)
        for name, item in fields.items():
            plan = plans.get(name)
            if plan is None:
                continue
            ok, field_converter = plan
            converted = item
            if ok is not None and type(item) not in ok:
                try:
                    converted = field_converter(dec, item, at)  # type: ignore[misc]  # set whenever ok is
                except DecodeError as exc:
                    exc.within(name)
                    raise
            object.__setattr__(instance, name, converted)
        dec.charge(getsizeof(instance) + getsizeof(getattr(instance, "__dict__", None)))  # a new object
        return instance

    return convert


def _object_fields(value: Any) -> dict[str, Any] | None:
    """The fields of a value that was an object or a map on the wire, by name; None otherwise.

    hessian-lite reads a wire object into a field of another class by giving the
    field's class the wire fields with matching names (a map's string keys too)."""
    kind = type(value)
    if kind is JavaGenericObject:
        fields: dict[str, Any] = value.fields
        return fields
    if isinstance(value, JavaObject):
        return {name: getattr(value, name) for name in class_info(kind).names}
    if isinstance(value, enum.Enum):
        return {"name": value.name}
    if kind is decimal.Decimal or kind is uuid.UUID:
        return {"value": str(value)}
    if kind in (dict, TypedMap, MapEntries):
        return {key: item for key, item in value.items() if type(key) is str}
    if (
        kind in _HANDLES
        or (isinstance(value, _dt.datetime) and kind is not _dt.datetime)
        or isinstance(value, BaseException)
    ):
        return {}  # java.time handles and exceptions: no field a bound class is likely to share
    return None


_PLANS: dict[type, dict[str, tuple[frozenset[type] | None, Converter | None]]] = {}  # per bound class


def _field_plans(cls: type) -> dict[str, tuple[frozenset[type] | None, Converter | None]]:
    plans = _PLANS.get(cls)
    if plans is None:
        info = class_info(cls)
        plans = _PLANS[cls] = {
            name: (accepted(spec), converter(spec)) for name, spec in zip(info.names, info.specs, strict=True)
        }
    return plans


_SCALAR: dict[str, tuple[Converter, frozenset[type]]] = {
    "int": (_integer_converter(32, "int"), frozenset((int, NONE))),
    "short": (_integer_converter(16, "short"), frozenset((NONE,))),
    "byte": (_integer_converter(8, "byte"), frozenset((NONE,))),
    "long": (_integer_converter(64, "long", wide=True), frozenset((Long, NONE))),
    "double": (_convert_double, frozenset((float, NONE))),
    "float": (_convert_float, frozenset((NONE,))),
    "bool": (_convert_bool, frozenset((bool, NONE))),
    "str": (_convert_str, frozenset((str, NONE))),
    "char": (_convert_char, frozenset((NONE,))),
    "bytes": (_exact(bytes, "byte[]"), frozenset((bytes, NONE))),
    "date": (_exact(_dt.datetime, "Date"), frozenset((_dt.datetime, NONE))),
    "decimal": (_exact(decimal.Decimal, "BigDecimal"), frozenset((decimal.Decimal, NONE))),
}


_SCALAR_TYPES = {"bytes": bytes, "date": _dt.datetime, "decimal": decimal.Decimal}
_HANDLES = (_dt.date, _dt.time, _dt.timedelta)

# ---------------------------------------------------------------- containers


_CHUNK = 65_536  # elements of a long list whose types are checked in C at once (~1 ms), between pauses


def _convert_items(dec: Any, items: Any, convert: Converter, ok: frozenset[type], at: int) -> None:
    """Convert the elements of a list in place. A long list is looked at a chunk at a time: its
    types counted in C (a Python step per element was 40 ms for a million), only a chunk with an
    element to convert walked, and the decoder's ``pause`` called between chunks."""
    size = len(items)
    if size <= _CHUNK:
        _convert_range(dec, items, 0, size, convert, ok, at)
        return
    for start in range(0, size, _CHUNK):
        stop = min(start + _CHUNK, size)
        if not set(map(type, items[start:stop])) <= ok:
            _convert_range(dec, items, start, stop, convert, ok, at)
        if dec.pause is not None:
            dec.pause()


def _convert_range(
    dec: Any, items: Any, start: int, stop: int, convert: Converter, ok: frozenset[type], at: int
) -> None:
    for index in range(start, stop):
        element = items[index]
        if type(element) not in ok:
            try:
                items[index] = convert(dec, element, at)
            except DecodeError as exc:
                exc.within(index)
                raise


def _list_converter(spec: Spec) -> Converter:
    item, ok = converter(spec[1], element=True), accepted(spec[1])
    most = max_items(spec)

    def convert(dec: Any, value: Any, at: int) -> Any:
        if value is None:
            return None
        if type(value) not in _LISTS:
            return dec.fail(f"expected a list, got {describe(value)}", at)
        if most is not None and len(value) > most:
            return dec.fail(too_many(len(value), most), at)
        if item is None or ok is None:
            return value
        if len(value) < REMEMBER_FROM:  # walking it again costs less than remembering it
            _convert_items(dec, value, item, ok, at)
            return value
        key = (id(value), id(convert))
        if key not in dec.checked:
            _remember(dec, key, value)  # before the elements: a list inside itself ends here
            _convert_items(dec, value, item, ok, at)
        return value

    return convert


def _set_converter(spec: Spec) -> Converter:
    item, ok = converter(spec[1], element=True), accepted(spec[1])
    most = max_items(spec)

    def convert(dec: Any, value: Any, at: int) -> Any:
        if value is None:
            return value
        if most is not None and type(value) in _SIZED and len(value) > most:
            return dec.fail(too_many(len(value), most), at)
        if type(value) is set:
            return value
        if type(value) not in _LISTS:
            return dec.fail(f"expected a set (a list on the wire), got {describe(value)}", at)
        key = (id(value), id(convert))
        done = dec.checked.get(key)
        if done is not None:
            return done
        _remember(dec, key, value)
        if item is not None and ok is not None:
            _convert_items(dec, value, item, ok, at)
        try:
            result = to_set(value)
        except FloodError as exc:
            return dec.fail(str(exc), at)
        if result is None:  # elements a set would merge or cannot hold: keep them all, as the list
            return value
        dec.checked[key] = result
        dec.charge(getsizeof(result))  # a new container, beside the list (Decoder.charge)
        return result

    return convert


def _map_converter(spec: Spec) -> Converter:
    keys, keys_ok = converter(spec[1], element=True), accepted(spec[1])
    values, values_ok = converter(spec[2], element=True), accepted(spec[2])
    most = max_items(spec)

    def convert(dec: Any, value: Any, at: int) -> Any:
        if value is None:
            return None
        if type(value) not in _MAPS:
            return dec.fail(f"expected a map, got {describe(value)}", at)
        if most is not None and len(value) > most:
            return dec.fail(too_many(len(value), most), at)
        if (keys is None or keys_ok is None) and (values is None or values_ok is None):
            return value
        token = (id(value), id(convert))
        if token in dec.checked:
            return value
        _remember(dec, token, value)
        if type(value) is MapEntries:
            _convert_entries(dec, value, keys, keys_ok, values, values_ok, at)
        else:
            _convert_dict(dec, value, keys, keys_ok, values, values_ok, at)
        return value

    return convert


def _one(dec: Any, convert: Converter | None, ok: frozenset[type] | None, value: Any, at: int, step: Any) -> Any:
    if convert is None or ok is None or type(value) in ok:
        return value
    try:
        return convert(dec, value, at)
    except DecodeError as exc:
        exc.within(step)
        raise


def _convert_entries(
    dec: Any,
    entries: MapEntries,
    keys: Converter | None,
    keys_ok: frozenset[type] | None,
    values: Converter | None,
    values_ok: frozenset[type] | None,
    at: int,
) -> None:
    pairs = entries.entries
    for index, (key, item) in enumerate(pairs):
        new_key = _one(dec, keys, keys_ok, key, at, MapKey.at(index))
        new_item = _one(dec, values, values_ok, item, at, MapKey(key))
        if new_key is not key or new_item is not item:
            pairs[index] = (new_key, new_item)


def _convert_dict(
    dec: Any,
    mapping: dict[Any, Any],
    keys: Converter | None,
    keys_ok: frozenset[type] | None,
    values: Converter | None,
    values_ok: frozenset[type] | None,
    at: int,
) -> None:
    if keys is not None and keys_ok is not None and any(type(key) not in keys_ok for key in mapping):
        pairs = [
            (_one(dec, keys, keys_ok, key, at, MapKey.at(i)), item) for i, (key, item) in enumerate(mapping.items())
        ]
        mapping.clear()
        for key, item in pairs:
            if key in mapping:  # Java reads both keys as the same value too, but would keep one silently
                dec.fail(f"two map keys are equal once read as the declared type: {describe(key)}", at)
            mapping[key] = item
    if values is not None and values_ok is not None:
        for key, item in list(mapping.items()):
            if type(item) not in values_ok:
                mapping[key] = _one(dec, values, values_ok, item, at, MapKey(key))


# ---------------------------------------------------------------- per spec


_PRIMITIVE_ELEMENTS = frozenset(("int", "short", "byte", "long", "double", "float", "bool", "char"))


def converter(spec: Spec, element: bool = False) -> Converter | None:
    """The converter of a declared type (of a field, or of an ``element`` of a container);
    None for "anything"."""
    kind = spec[0]
    found = _SCALAR.get(kind)
    if found is not None:
        if element and kind not in _PRIMITIVE_ELEMENTS:
            return _exact(str, "String") if kind == "str" else _exact(_SCALAR_TYPES[kind], kind)
        return found[0]
    if kind in ("object", "enum"):
        return _instance_of(spec[1], coerce=kind == "object" and not element)
    if kind == "list":
        return _list_converter(spec)
    if kind == "set":
        return _set_converter(spec)
    if kind == "map":
        return _map_converter(spec)
    return None


def accepted(spec: Spec) -> frozenset[type] | None:
    """The types a value of this declared type may have with no conversion (None: any)."""
    kind = spec[0]
    found = _SCALAR.get(kind)
    if found is not None:
        return found[1]
    if kind in ("object", "enum"):
        return frozenset((spec[1], NONE))
    if kind in ("list", "set", "map"):
        return frozenset((NONE,))
    return None
