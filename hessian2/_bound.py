"""Readers of bound dataclasses: fields by name, each checked against its declared Java type.

One reader per (class, field list of the definition on the wire), made by
``bound_reader`` and cached by ``_objects``. Every reader does the same thing,
in this order, which is also what the compiled loop does (``_speedups.c``):

1. create the instance without ``__init__`` and register it as a reference (a
   field may point back at its owner);
2. give fields the sender did not send their defaults;
3. read every field on the wire, in wire order (fields we do not have are read
   and dropped, as Java's JavaDeserializer does); a read error names the field;
4. then check each field against its annotation (``_fields``), converting where
   hessian-lite converts; a type error is raised at the offset of the first
   field, with the field in the path (``$.items[3].score``).

Three shapes of the same reader:

* the compiled one: for a definition whose fields are exactly ours and a class
  with a ``__dict__``, ``exact_plan`` describes the fields for the C loop, which
  reads and checks the common types itself and calls back ``convert_field``
  for the rest;
* a generated one (pure Python): for the definition our encoder and Java write
  (the class's own field order), straight-line code per field that reads short
  strings, doubles, small ints and longs and booleans inline and checks only
  what it did not read inline. Generated once per class, never per input;
* a loop over a per-field table for every other definition (fields renamed,
  reordered, missing or unknown, slotted or frozen classes).

Not here: the conversion rules themselves (``_fields``), class binding
(``_model``), the wire grammar of objects (``_objects``).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from sys import getsizeof
from typing import Any

from ._containers import SLOTS
from ._errors import DecodeError
from ._fields import accepted, converter
from ._model import ClassInfo, max_items
from ._scalars import DIRECT_INTS, DIRECT_LONGS

__all__ = ["CODES", "bound_reader", "convert_field", "exact_plan"]

# Node codes of _speedups.c: which values C accepts for a field without calling convert_field.
CODES = {"any": 0, "str": 1, "double": 2, "int": 3, "long": 4, "bool": 5, "object": 6, "list": 7}
_OTHER = 8
_ELEMENT_KINDS = ("any", "str", "double", "int", "long", "bool", "object")


def convert_field(dec: Any, convert: Callable[[Any, Any, int], Any], value: Any, at: int, name: str) -> Any:
    """One field's value as its declared type; a DecodeError names the field."""
    try:
        return convert(dec, value, at)
    except DecodeError as exc:
        exc.within(name)
        raise


def _node(spec: tuple[Any, ...]) -> tuple[int, Any]:
    """(code, arg) for the C loop: arg is the class of an object field; for a list, the element
    node and, with ``MaxItems``, the count (C leaves a longer list to the converter, which refuses it)."""
    kind = spec[0]
    if kind == "list" and spec[1][0] in _ELEMENT_KINDS:
        most = max_items(spec)
        return CODES["list"], _node(spec[1]) + (() if most is None else (most,))
    if kind in CODES and kind != "list":
        return CODES[kind], spec[1] if kind == "object" else None
    return _OTHER, None


def exact_plan(info: ClassInfo, fields: tuple[str, ...]) -> tuple[Any, ...] | None:
    """``(cls, names, codes, args, converters, cost, limits)`` for the C loop when instances fill
    a plain ``__dict__`` with exactly our fields (in any order): per field a node code (one
    byte), its argument and its converter; ``cost`` is what ``instance_cost`` says one
    instance costs; ``limits`` per field its ``MaxItems`` count or None (the loop hands it to
    the list and map readers, see ``Decoder.limit``). None otherwise."""
    specs = dict(zip(info.names, info.specs, strict=True))
    if set(fields) != set(specs) or not _has_dict(info.cls):
        return None
    nodes = [_node(specs[name]) for name in fields]
    codes = bytes(code for code, _ in nodes)
    args = tuple(arg for _, arg in nodes)
    converters = tuple(converter(specs[name]) for name in fields)
    limits = tuple(max_items(specs[name]) for name in fields)
    return (info.cls, fields, codes, args, converters, instance_cost(info.cls, fields), limits)


def _has_dict(cls: type) -> bool:
    return hasattr(object.__new__(cls), "__dict__")


def instance_cost(cls: type, fields: tuple[str, ...]) -> int:
    """Bytes one decoded instance of ``cls`` with ``fields`` costs, for ``Decoder.charge``: the
    object, and where it has a ``__dict__`` the dict the readers fill (its header, ~64 bytes, and
    a slot per field: instances of one class share their keys). Not asked of a sample dict, whose
    size depends on whether the class's shared keys exist yet."""
    size = getsizeof(object.__new__(cls)) + SLOTS
    if _has_dict(cls):
        size += 64 + 8 * len(fields)
    return size


def bound_reader(info: ClassInfo, definition: Any) -> Callable[[Any], Any]:
    """The reader of instances of ``info.cls`` sent with ``definition.fields``."""
    fields = definition.fields
    exact = exact_plan(info, fields)
    if exact is not None and _COMPILED is not None:
        read_exact = _COMPILED

        def read_compiled(dec: Any) -> Any:
            return read_exact(dec, exact)

        read_compiled.exact = exact  # type: ignore[attr-defined]  # the C loop reads these itself
        return read_compiled
    if fields == info.names and _has_dict(info.cls):
        reader = _GENERATED.get(info.cls)
        if reader is None:
            reader = _GENERATED[info.cls] = _generated(info)
        return reader
    return _table_reader(info, fields)


_COMPILED: Callable[[Any, Any], Any] | None = None  # _speedups.read_exact, installed by _decoder
_GENERATED: dict[type, Callable[[Any], Any]] = {}  # one per bound class (not per input): see _generated


def _table_reader(info: ClassInfo, fields: tuple[str, ...]) -> Callable[[Any], Any]:
    cls = info.cls
    specs = dict(zip(info.names, info.specs, strict=True))
    plan = tuple(
        (name, accepted(specs[name]), converter(specs[name])) if name in specs else (name, None, None)
        for name in fields
    )
    checks = tuple(entry for entry in plan if entry[1] is not None and entry[0] in specs)
    present = set(fields)
    missing = tuple(d for d in info.defaults if d[0] not in present)
    has_dict = _has_dict(cls)
    all_known = all(name in specs for name in fields)
    limits = {name: most for name in fields if name in specs and (most := max_items(specs[name])) is not None}
    fill = _filler(limits)
    setter = object.__setattr__
    new = object.__new__
    cost = instance_cost(cls, fields)

    def read(dec: Any) -> Any:
        at = dec.pos
        obj = new(cls)
        dec.refs.append(obj)
        dec.spent += cost  # Decoder.charge, inline
        if dec.spent > dec.allowance:
            dec.charge(0)
        for name, is_factory, default in missing:
            setter(obj, name, default() if is_factory else default)
        if not fields:
            return obj
        values = obj.__dict__ if has_dict and all_known else {}
        fill(dec, values, fields)
        for name, ok, convert in checks:
            value = values[name]
            if type(value) not in ok:  # type: ignore[operator]  # checks hold only fields with a type set
                values[name] = convert_field(dec, convert, value, at, name)  # type: ignore[arg-type]  # and a converter
        if values is not getattr(obj, "__dict__", None):
            for name in fields:
                if name in specs:
                    setter(obj, name, values[name])
        return obj

    return read


def _filler(limits: dict[str, int]) -> Callable[[Any, dict[str, Any], tuple[str, ...]], None]:
    """How a table reader reads its fields: ``Decoder.fill`` in one go, or, when fields have
    ``MaxItems``, a field at a time, telling the decoder the count before such a field."""

    def fill_all(dec: Any, values: dict[str, Any], fields: tuple[str, ...]) -> None:
        dec.fill(values, fields)

    def fill_each(dec: Any, values: dict[str, Any], fields: tuple[str, ...]) -> None:
        for name in fields:
            most = limits.get(name)
            if most is not None:
                dec.limit_at = dec.pos
                dec.limit = most
            dec.fill(values, (name,))

    return fill_each if limits else fill_all


_INLINE = {
    "str": [
        "if pos < end and (tag := data[pos]) < 0x20 and (stop := pos + 1 + tag) <= end"
        " and (raw := data[pos + 1 : stop]).isascii():",
        "    d[{A}] = raw.decode('ascii')",
        "    pos = stop",
    ],
    "double": [
        "if pos + 9 <= end and data[pos] == 0x44:",
        "    d[{A}] = DOUBLE_AT(data, pos + 1)[0]",
        "    pos += 9",
        "elif pos + 5 <= end and data[pos] == 0x5F:",
        "    d[{A}] = 0.001 * INT32_AT(data, pos + 1)[0]",
        "    pos += 5",
    ],
    "int": [
        "if pos < end and 0x80 <= (tag := data[pos]) <= 0xBF:",
        "    d[{A}] = DIRECT_INTS[tag - 0x80]",
        "    pos += 1",
    ],
    "long": [
        "if pos < end and 0xD8 <= (tag := data[pos]) <= 0xEF:",
        "    d[{A}] = DIRECT_LONGS[tag - 0xD8]",
        "    pos += 1",
    ],
    "bool": [
        "if pos < end and (tag := data[pos]) == 0x54:",
        "    d[{A}] = True",
        "    pos += 1",
        "elif pos < end and tag == 0x46:",
        "    d[{A}] = False",
        "    pos += 1",
    ],
}


def _generated(info: ClassInfo) -> Callable[[Any], Any]:
    """Straight-line Python for the class's own field order (the way dataclasses builds
    ``__init__``); only our identifiers enter the source, names travel in ``env``."""
    env: dict[str, Any] = {
        "CLS": info.cls,
        "new": object.__new__,
        "DecodeError": DecodeError,
        "DOUBLE_AT": struct.Struct(">d").unpack_from,
        "INT32_AT": struct.Struct(">i").unpack_from,
        "DIRECT_INTS": DIRECT_INTS,
        "DIRECT_LONGS": DIRECT_LONGS,
        "convert_field": convert_field,
        "COST": instance_cost(info.cls, info.names),
    }
    body: list[str] = []
    checks: list[str] = []
    for i, (name, spec) in enumerate(zip(info.names, info.specs, strict=True)):
        env[f"A{i}"] = name
        ok, convert = accepted(spec), converter(spec)
        body.append(f"field = A{i}")
        lines = [line.replace("{A}", f"A{i}") for line in _INLINE.get(spec[0], [])]
        most = max_items(spec)
        slow = ["dec.pos = pos"]
        if most is not None:
            slow += ["dec.limit_at = pos", f"dec.limit = {int(most)}"]
        slow += [
            f"d[A{i}] = value = dec.value()",
            "pos = dec.pos",
        ]
        if ok is not None:
            env[f"OK{i}"], env[f"C{i}"] = ok, convert
            slow += [f"if type(value) not in OK{i}:", f"    slow |= {1 << i}"]
            checks += [
                f"if slow & {1 << i}:",
                f"    d[A{i}] = convert_field(dec, C{i}, d[A{i}], at, A{i})",
            ]
        if lines:
            body += lines + ["else:"] + ["    " + line for line in slow]
        else:
            body += slow
    source = [
        "def read(dec):",
        "    data = dec.data",
        "    end = dec.end",
        "    pos = at = dec.pos",
        "    obj = new(CLS)",
        "    dec.refs.append(obj)",
        "    dec.spent += COST",
        "    if dec.spent > dec.allowance:",
        "        dec.charge(0)",
    ]
    if info.names:
        source += ["    d = obj.__dict__", "    slow = 0", "    field = ''", "    try:"]
        source += ["        " + line for line in body]
        source += ["    except DecodeError as exc:", "        exc.within(field)", "        raise", "    dec.pos = pos"]
        if checks:
            source += ["    if slow:"] + ["        " + line for line in checks]
    source.append("    return obj")
    exec("\n".join(source), env)
    reader: Callable[[Any], Any] = env["read"]
    return reader
