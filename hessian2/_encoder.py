"""The Encoder: Python values to one Hessian 2 stream, the way hessian-lite writes.

One ``Encoder`` is one stream: class definitions, type names and shared
references are remembered across ``write`` calls, exactly as one Java
Hessian2Output does for a Dubbo request or response body. Start a new
Encoder per body; reusing one across bodies would emit references the other
side cannot resolve.

Untyped values are written by Python type (``dispatch``): ``None``, ``bool``,
``int`` (a Java int when it fits, else a long), the width wrappers, ``float``
(double), ``str``, ``bytes``, ``list``/``tuple`` (ArrayList), ``set``
(HashSet), ``dict`` (HashMap), ``TypedList``/``TypedMap``, ``datetime``
(java.util.Date), ``Decimal`` (BigDecimal), bound ``JavaObject`` dataclasses,
bound ``JavaEnum`` members, ``JavaGenericObject`` and the types ``_javatypes``
adds (java.time, UUID, exceptions).

Fields of bound dataclasses are written by their annotation instead
(``compile_spec``), so ``ids: List[Long]`` writes longs whatever the elements
are. Compiled plans are cached per class.

``write_any`` and the per-class writers have an optional compiled twin
(``_encspeedups.c``, built by setup.py when a C compiler is there): it writes
the common exact types, lists, dicts and bound dataclasses itself and calls
back into these Python writers for everything else, with byte-identical
output. ``HESSIAN2_PURE_PYTHON=1`` keeps it out; ``SPEEDUPS`` says whether it
is installed, ``set_compiled`` switches it off and on at run time (tests,
benchmarks); the Python writers stay the reference.

Not here: framing, I/O, Dubbo knowledge.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import enum
import functools
import keyword
import os
import struct
import sys
from collections.abc import Callable
from typing import Any, Protocol

from ._containers import write_entries, write_list, write_map, write_set, write_typed_list, write_typed_map
from ._errors import EncodeError, describe
from ._model import ClassInfo, JavaGenericObject, JavaObject, Spec, class_info, resolve_spec
from ._objects import begin_object, write_bound, write_generic
from ._scalars import INT_MAX, INT_MIN, datetime_to_millis, write_date_millis, write_double, write_int, write_long
from ._text import write_bytes, write_str, write_view
from ._wrappers import Byte, Char, Double, Float, Int, Long, MapEntries, Short, TypedList, TypedMap

MAX_DEPTH = 200
PAUSE_EVERY = 16 * 1024  # bytes written between two calls of an Encoder's pause (10-150 us of writing)
Writer = Callable[["Encoder", Any], None]


class Encoder:
    """Writes values into one Hessian 2 stream; ``getvalue()`` returns the bytes so far.

    ``pause``: called between two elements of a list or entries of a map once ``pause_every``
    more bytes have been written, on both paths (``Decoder``'s twin: an encode of megabytes
    may hand its thread back to an event loop there, or raise to abandon it). A single
    string or byte blob is written without a pause (a copy, ~1 ms for 8 MiB)."""

    __slots__ = ("_alive", "buf", "checkpoint", "classdefs", "depth", "pause", "pause_every", "refs", "types")

    def __init__(self, *, pause: Callable[[], None] | None = None, pause_every: int = PAUSE_EVERY) -> None:
        if pause_every <= 0:
            raise ValueError(f"pause_every must be positive, got {pause_every}")
        self.buf = bytearray()
        self.refs: dict[int, int] = {}  # id(object) -> reference index
        self._alive: list[Any] = []  # keeps referenced objects alive so ids stay unique
        self.classdefs: dict[tuple[str, tuple[str, ...]], int] = {}
        self.types: dict[str, int] = {}
        self.depth = 0
        self.pause = pause
        self.pause_every = pause_every
        # the output length at which ``pause`` is due next: every loop over a container compares with it
        self.checkpoint = pause_every if pause is not None else sys.maxsize

    def write(self, value: Any, writer: Writer | None = None) -> None:
        """Append one value to the stream; ``writer`` (from ``typed_writer``) gives it a declared Java type."""
        try:
            (writer or self.write_any)(self, value)
        except RecursionError:
            raise EncodeError("value nested too deeply") from None

    def getvalue(self) -> bytes:
        return bytes(self.buf)

    # -- helpers used by the family writers

    @staticmethod
    def write_any(enc: Encoder, value: Any) -> None:
        kind = type(value)
        writer = _DISPATCH.get(kind)
        if writer is None:
            writer = _resolve(kind)
        writer(enc, value)

    def paused(self) -> None:
        """The output passed ``checkpoint``: call ``pause`` and set the next checkpoint (a writer
        that sees a stale one calls it early: then it does nothing)."""
        if len(self.buf) < self.checkpoint or self.pause is None:
            return
        self.checkpoint = len(self.buf) + self.pause_every
        self.pause()

    def seen(self, obj: Any) -> bool:
        """Write a reference and return True if ``obj`` was written before; else number it."""
        key = id(obj)
        index = self.refs.get(key)
        if index is not None:
            self.buf.append(0x51)
            write_int(self.buf, index)
            return True
        self.refs[key] = len(self._alive)
        self._alive.append(obj)
        return False

    def new_ref(self) -> None:
        """Count an object that can never be shared (a fresh Java handle object)."""
        self._alive.append(None)

    def enter(self) -> None:
        depth = self.depth = self.depth + 1
        if depth > MAX_DEPTH:
            raise EncodeError(f"value nested deeper than {MAX_DEPTH} levels")

    def plan(self, cls: type) -> ObjectPlan:
        found = _PLANS.get(cls)
        if found is None:
            found = _PLANS[cls] = ObjectPlan(class_info(cls))
        return found


class ObjectPlan:
    """Per-class writers compiled from a ClassInfo's specs, and the generated ``write``."""

    __slots__ = ("fields", "java_class", "key", "names", "native", "pywrite", "write")

    def __init__(self, info: ClassInfo) -> None:
        self.java_class = info.java_class
        self.names = info.names
        self.key = (info.java_class, info.names)
        self.fields = tuple((name, compile_spec(spec)) for name, spec in zip(info.names, info.specs, strict=True))
        self.write: Writer = _generate_writer(self, info.specs)
        self.pywrite = self.write
        self.native: tuple[Any, ...] | None = None
        if _native is not None:  # the compiled writer, which calls pywrite when switched off
            self.native = (
                self.key,
                self.java_class,
                self.names,
                tuple((name, native_node(spec)) for name, spec in zip(info.names, info.specs, strict=True)),
                self.pywrite,
            )
            self.write = functools.partial(_native.write_plan, self.native)


def _generate_writer(plan: ObjectPlan, specs: tuple[Spec, ...]) -> Writer:
    """Straight-line Python for one class: no loop, and short ASCII strings, doubles,
    small ints and booleans written without a call (the way dataclasses builds
    ``__init__``). Only our own identifiers and ``repr``-quoted names enter the source.
    """
    env: dict[str, Any] = {
        "begin_object": begin_object,
        "write_double": write_double,
        "write_int": write_int,
        "PACK_MILL": struct.Struct(">Bi").pack,
        "PACK_DOUBLE": struct.Struct(">Bd").pack,
        "EncodeError": EncodeError,
        "JAVA": plan.java_class,
        "NAMES": plan.names,
        "KEY": plan.key,
        "MAX_DEPTH": MAX_DEPTH,
    }
    body = []
    for i, ((name, writer), spec) in enumerate(zip(plan.fields, specs, strict=True)):
        env[f"W{i}"] = writer
        get = f"obj.{name}" if name.isidentifier() and not keyword.iskeyword(name) else f"getattr(obj, {name!r})"
        body += [f"field = {name!r}", f"v = {get}"]
        kind = spec[0]
        if kind == "str":
            body += [
                "if type(v) is str and len(v) < 32 and v.isascii():",
                "    buf.append(len(v))",
                "    buf += v.encode()",
                "else:",
                f"    W{i}(enc, v)",
            ]
        elif kind == "double":  # write_double's rules for the usual fractional score, without a call
            body += [
                "if type(v) is float and -2000000.0 < v < 2000000.0 and int(v) != v:",
                "    m = int(v * 1000.0)",
                "    buf += PACK_MILL(0x5F, m) if 0.001 * m == v else PACK_DOUBLE(0x44, v)",
                "elif type(v) is float:",
                "    write_double(buf, v)",
                "else:",
                f"    W{i}(enc, v)",
            ]
        elif kind == "int":
            body += ["if type(v) is int and -16 <= v <= 47:", "    buf.append(0x90 + v)", "else:", f"    W{i}(enc, v)"]
        elif kind == "bool":
            body += [
                "if v is True:",
                "    buf.append(0x54)",
                "elif v is False:",
                "    buf.append(0x46)",
                "else:",
                f"    W{i}(enc, v)",
            ]
        else:
            body.append(f"W{i}(enc, v)")
    lines = [
        "def write(enc, obj):",
        "    buf = enc.buf",
        "    refs = enc.refs",
        "    ref = refs.get(id(obj))",  # Encoder.seen, inlined
        "    if ref is not None:",
        "        buf.append(0x51)",
        "        write_int(buf, ref)",
        "        return",
        "    alive = enc._alive",
        "    refs[id(obj)] = len(alive)",
        "    alive.append(obj)",
        "    index = enc.classdefs.get(KEY)",  # begin_object's common case, inlined
        "    if index is not None and index <= 15:",
        "        buf.append(0x60 + index)",
        "    else:",
        "        begin_object(enc, JAVA, NAMES, KEY)",
        "    depth = enc.depth = enc.depth + 1",
        "    if depth > MAX_DEPTH:",
        "        enc.enter()",  # raises the EncodeError
        "    field = ''",
        "    try:",
    ]
    lines += ["        " + line for line in body] or ["        pass"]
    lines += [
        "    except EncodeError as exc:",
        "        raise EncodeError(f'{JAVA}.{field}: {exc}') from None",
        "    except AttributeError as exc:",
        "        raise EncodeError(f'{JAVA}.{field}: {exc}') from None",
        "    enc.depth -= 1",
    ]
    exec("\n".join(lines), env)
    write: Writer = env["write"]
    return write


class _Native(Protocol):
    """What this module calls of the compiled writers (``_encspeedups``, typed in ``_encspeedups.pyi``)."""

    def write_plan(self, native: tuple[Any, ...], enc: Encoder, obj: Any, /) -> None: ...

    def set_enabled(self, flag: bool, /) -> bool: ...


_PLANS: dict[type, ObjectPlan] = {}
_native: _Native | None = None  # hessian2._encspeedups once installed (see _use_speedups)


# ---------------------------------------------------------------- untyped dispatch


def _null(enc: Encoder, value: None) -> None:
    enc.buf.append(0x4E)


def _bool(enc: Encoder, value: bool) -> None:
    enc.buf.append(0x54 if value else 0x46)


def _int(enc: Encoder, value: int) -> None:
    if INT_MIN <= value <= INT_MAX:
        write_int(enc.buf, value)
    else:
        write_long(enc.buf, value)


def _long(enc: Encoder, value: int) -> None:
    write_long(enc.buf, value)


def _int32(enc: Encoder, value: int) -> None:
    write_int(enc.buf, value)


def _double(enc: Encoder, value: float) -> None:
    write_double(enc.buf, value)


def _str(enc: Encoder, value: str) -> None:
    write_str(enc.buf, value)


def _bytes(enc: Encoder, value: bytes | bytearray) -> None:
    write_bytes(enc.buf, value)


def _memoryview(enc: Encoder, value: memoryview) -> None:
    write_view(enc.buf, value)


def _list(enc: Encoder, value: list[Any] | tuple[Any, ...]) -> None:
    write_list(enc, value)


def _typed_list(enc: Encoder, value: TypedList) -> None:
    write_typed_list(enc, value)


def _set(enc: Encoder, value: set[Any] | frozenset[Any]) -> None:
    write_set(enc, value)


def _map(enc: Encoder, value: dict[Any, Any]) -> None:
    write_map(enc, value)


def _typed_map(enc: Encoder, value: TypedMap) -> None:
    write_typed_map(enc, value)


def _date(enc: Encoder, value: _dt.datetime) -> None:
    write_date_millis(enc.buf, datetime_to_millis(value))


def _enum(enc: Encoder, value: enum.Enum) -> None:
    java_class = getattr(type(value), "__java_class__", None)
    if not java_class:
        raise EncodeError(
            f'{type(value).__qualname__} is not bound to a Java enum: subclass JavaEnum with java_class="..."'
        )
    if enc.seen(value):
        return
    begin_object(enc, java_class, ("name",))
    write_str(enc.buf, value.name)


_DISPATCH: dict[type, Writer] = {
    type(None): _null,
    bool: _bool,
    int: _int,
    Long: _long,
    Int: _int32,
    Short: _int32,
    Byte: _int32,
    float: _double,
    Double: _double,
    Float: _double,
    str: _str,
    Char: _str,
    bytes: _bytes,
    bytearray: _bytes,
    memoryview: _memoryview,
    list: _list,
    tuple: _list,
    TypedList: _typed_list,
    set: _set,
    frozenset: _set,
    dict: _map,
    TypedMap: _typed_map,
    MapEntries: write_entries,
    _dt.datetime: _date,
    JavaGenericObject: write_generic,
}


def register(kind: type, writer: Writer) -> None:
    """Add a writer for a Python type (used by ``_javatypes`` for java.time and friends)."""
    _DISPATCH[kind] = writer


def _resolve(kind: type) -> Writer:
    """The writer of a subclass: first match along its MRO, cached."""
    if issubclass(kind, JavaObject):
        writer: Writer = write_bound
    elif issubclass(kind, enum.Enum):
        writer = _enum
    else:
        for base in kind.__mro__[1:]:
            found = _DISPATCH.get(base)
            if found is not None:
                writer = found
                break
        else:
            raise EncodeError(
                f"cannot write a {kind.__qualname__} as Hessian: no Java meaning "
                "(bind it with JavaObject/JavaEnum or convert it first)"
            )
    _DISPATCH[kind] = writer
    return writer


# ---------------------------------------------------------------- typed (annotation) writers


def _checked_int(low: int, high: int, java: str) -> Writer:
    def write(enc: Encoder, value: Any) -> None:
        if value is None:
            enc.buf.append(0x4E)
        elif isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
            write_int(enc.buf, value)
        else:
            raise EncodeError(f"expected a Java {java}, got {describe(value)}")

    return write


def _typed_long(enc: Encoder, value: Any) -> None:
    if value is None:
        enc.buf.append(0x4E)
    elif isinstance(value, int) and not isinstance(value, bool):
        write_long(enc.buf, value)
    else:
        raise EncodeError(f"expected a Java long, got {describe(value)}")


def _typed_double(enc: Encoder, value: Any) -> None:
    if value is None:
        enc.buf.append(0x4E)
    elif isinstance(value, (float, int)) and not isinstance(value, bool):
        write_double(enc.buf, float(value))
    else:
        raise EncodeError(f"expected a Java double, got {describe(value)}")


def _typed_bool(enc: Encoder, value: Any) -> None:
    if value is None:
        enc.buf.append(0x4E)
    elif isinstance(value, bool):
        enc.buf.append(0x54 if value else 0x46)
    else:
        raise EncodeError(f"expected a bool, got {describe(value)}")


def _typed_str(enc: Encoder, value: Any) -> None:
    if type(value) is str:
        if len(value) <= 31 and value.isascii():
            buf = enc.buf
            buf.append(len(value))
            buf += value.encode("ascii")
        else:
            write_str(enc.buf, value)
    elif value is None:
        enc.buf.append(0x4E)
    elif isinstance(value, str):
        write_str(enc.buf, str(value))
    else:
        raise EncodeError(f"expected a str, got {type(value).__name__}")


def _typed_char(enc: Encoder, value: Any) -> None:
    if value is None:
        enc.buf.append(0x4E)
    else:
        write_str(enc.buf, Char(value))


def _typed_of(*kinds: type, what: str) -> Writer:
    def write(enc: Encoder, value: Any) -> None:
        if value is None or isinstance(value, kinds):
            enc.write_any(enc, value)
        else:
            raise EncodeError(f"expected {what}, got {type(value).__name__}")

    return write


_SCALAR_WRITERS: dict[str, Writer] = {
    "int": _checked_int(INT_MIN, INT_MAX, "int"),
    "short": _checked_int(-32768, 32767, "short"),
    "byte": _checked_int(-128, 127, "byte"),
    "long": _typed_long,
    "double": _typed_double,
    "float": _typed_double,
    "bool": _typed_bool,
    "str": _typed_str,
    "char": _typed_char,
    "bytes": _typed_of(bytes, bytearray, memoryview, what="bytes"),
    "date": _typed_of(_dt.datetime, what="a datetime"),
    "decimal": _typed_of(decimal.Decimal, what="a Decimal"),
    "any": Encoder.write_any,
}


def compile_spec(spec: Spec) -> Writer:
    """A writer that gives a value the Java type an annotation names."""
    kind = spec[0]
    found = _SCALAR_WRITERS.get(kind)
    if found is not None:
        return found
    if kind == "object":
        cls = spec[1]
        # a JavaGenericObject (say, decoded without the class bound) is written as it came
        checked = _typed_of(cls, JavaGenericObject, what=cls.__qualname__)

        def write_object(enc: Encoder, value: Any) -> None:
            if type(value) is cls:
                plan = _PLANS.get(cls)
                if plan is None:
                    plan = _PLANS[cls] = ObjectPlan(class_info(cls))
                plan.write(enc, value)
            else:
                checked(enc, value)

        return write_object
    if kind == "enum":
        return _typed_of(spec[1], what=spec[1].__qualname__)
    if kind in ("list", "set"):
        compiled = compile_spec(spec[1])
        item = None if compiled is Encoder.write_any else compiled
        as_set = kind == "set"

        def write_items(enc: Encoder, value: Any) -> None:
            if value is None:
                enc.buf.append(0x4E)
            elif isinstance(value, TypedList):
                write_typed_list(enc, value, item)
            elif as_set or isinstance(value, (set, frozenset)):
                write_set(enc, value, item)
            elif isinstance(value, (list, tuple)):
                write_list(enc, value, None, item)
            else:
                raise EncodeError(f"expected a list, got {type(value).__name__}")

        return write_items
    if kind == "map":
        compiled_key, compiled_value = compile_spec(spec[1]), compile_spec(spec[2])
        key = None if compiled_key is Encoder.write_any else compiled_key
        val = None if compiled_value is Encoder.write_any else compiled_value

        def write_mapping(
            enc: Encoder, value: Any
        ) -> None:  # not write_entries: that name is the MapEntries writer called below
            if value is None:
                enc.buf.append(0x4E)
            elif isinstance(value, TypedMap):
                write_typed_map(enc, value, key, val)
            elif isinstance(value, MapEntries):
                write_entries(enc, value, key, val)
            elif isinstance(value, dict):
                write_map(enc, value, key, val)
            else:
                raise EncodeError(f"expected a dict, got {type(value).__name__}")

        return write_mapping
    return Encoder.write_any


_TYPED: dict[Any, Writer] = {}


def typed_writer(annotation: Any) -> Writer:
    """A writer that gives values the Java type ``annotation`` names, as a bound field's
    annotation does: ``typed_writer(list[Long])`` writes ``[1, 2]`` as Java longs. For
    ``Encoder.write(value, writer)``; cached per annotation."""
    try:
        found = _TYPED.get(annotation)
    except TypeError:  # an unhashable annotation: compile it every time
        return compile_spec(resolve_spec(annotation))
    if found is None:
        found = compile_spec(resolve_spec(annotation))
        if len(_TYPED) < 4096:
            _TYPED[annotation] = found
    return found


# ---------------------------------------------------------------- optional compiled writers

# Node codes of _encspeedups.c: what C writes itself for an annotation (the
# common exact types); anything else goes to the node's Python writer.
_NODE_CODES = {
    "any": 0,
    "int": 1,
    "short": 2,
    "byte": 3,
    "long": 4,
    "double": 5,
    "float": 5,
    "bool": 6,
    "str": 7,
    "object": 8,
    "list": 9,
    "map": 10,
}
_OTHER = 11


def native_node(spec: Spec) -> tuple[int, Writer, Any]:
    """``(code, writer, arg)`` for the C writer: ``writer`` is ``compile_spec(spec)``, the
    fallback for every value C does not write itself; ``arg`` is the class of an object
    field, the element node of a list, the (key, value) nodes of a map (None = untyped)."""
    kind = spec[0]
    code = _NODE_CODES.get(kind, _OTHER)
    arg: Any = None
    if kind == "object":
        arg = spec[1]
    elif kind == "list":
        arg = None if spec[1][0] == "any" else native_node(spec[1])
    elif kind == "map":
        arg = (
            None if spec[1][0] == "any" else native_node(spec[1]),
            None if spec[2][0] == "any" else native_node(spec[2]),
        )
    return (code, compile_spec(spec), arg)


PURE_WRITE_ANY = Encoder.write_any  # the reference implementation, kept for tests and benchmarks


def _use_speedups() -> bool:
    """Install the compiled ``Encoder.write_any`` and object writers unless HESSIAN2_PURE_PYTHON
    is set or the extension is not built. Call before any plan is compiled (import time)."""
    global _native  # noqa: PLW0603  (set once, at import)
    if os.environ.get("HESSIAN2_PURE_PYTHON"):
        return False
    try:
        from . import _encspeedups  # built only with the C compiler; its absence is handled (types: _encspeedups.pyi)
    except ImportError:
        return False
    _encspeedups.configure(PURE_WRITE_ANY, _DISPATCH, _PLANS, write_bound, begin_object, EncodeError, MAX_DEPTH)
    _native = _encspeedups
    Encoder.write_any = staticmethod(_encspeedups.write_any)  # type: ignore[method-assign, assignment]  # the C writer
    _SCALAR_WRITERS["any"] = _encspeedups.write_any
    return True


SPEEDUPS = _use_speedups()


def set_compiled(flag: bool) -> bool:
    """Switch the compiled writers on or off at run time (tests and benchmarks compare both
    paths in one process); returns the previous setting. A no-op without the extension."""
    if _native is None:
        return False
    return _native.set_enabled(flag)
