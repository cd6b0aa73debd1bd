"""Class definitions and object instances: writers and readers.

Grammar::

    class-def ::= 'C' string int string*    # Java class name, field count, field names
    object    ::= x60-x6f value*            # instance of class definition #0..15
              ::= 'O' int value*            # instance of class definition #n

A class definition is written once per stream, just before the first instance
(hessian-lite's ``writeObjectBegin`` keys definitions by class name); instances
then carry their field values in definition order. Readers match fields by
name: unknown fields are skipped, missing ones keep their defaults, as Java's
JavaDeserializer does.

What an instance decodes to is decided once per class definition, never by
the input alone:

* a Python class bound to that Java name (``JavaObject`` dataclass or
  ``JavaEnum``), looked up in the decoder's ``classes``;
* a Java class this package knows (BigDecimal, java.time handles, ...,
  see ``_javatypes``), or any class whose fields are those of a Throwable;
* otherwise a ``JavaGenericObject`` (class name + field dict).

The instance is registered as a reference before its fields are read, so a
field may point back at its owner (enums, BigDecimal and UUID afterwards, as
hessian-lite's readers for them do). Readers are cached across streams in
``READERS``, bounded in bytes; bound classes are read by ``_bound``.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._bound import bound_reader
from ._containers import SLOTS, dict_size
from ._errors import EncodeError, describe, shorten
from ._model import JavaGenericObject, class_info
from ._scalars import write_int
from ._text import read_name, write_str

if TYPE_CHECKING:  # annotations only: the encoder and the decoder import this module
    from ._decoder import Decoder, TagReader
    from ._encoder import Encoder

# java class name -> factory(decoder, ClassDef) -> reader(decoder) -> value,
# for Java classes with a Python meaning of their own (filled by _javatypes).
SPECIAL_READERS: dict[str, Callable[[Decoder, ClassDef], Callable[[Decoder], Any]]] = {}
# Field-name sets that mark an object as a Throwable, checked after the above: a factory
# that returns None when the definition is not one.
THROWABLE_READER: list[Callable[[Decoder, ClassDef], Callable[[Decoder], Any] | None]] = []


# ---------------------------------------------------------------- writers


def begin_object(enc: Encoder, java_class: str, names: tuple[str, ...], key: Any = None) -> None:
    """The class definition if this stream has not seen it yet, then the instance tag."""
    if key is None:
        key = (java_class, names)
    index = enc.classdefs.get(key)
    buf = enc.buf
    if index is None:
        index = len(enc.classdefs)
        enc.classdefs[key] = index
        buf.append(0x43)
        write_str(buf, java_class)
        write_int(buf, len(names))
        for name in names:
            write_str(buf, name)
    if index <= 15:
        buf.append(0x60 + index)
    else:
        buf.append(0x4F)
        write_int(buf, index)


def write_bound(enc: Encoder, obj: Any) -> None:
    """A ``JavaObject`` dataclass instance, fields in hessian-lite's order (see ObjectPlan)."""
    enc.plan(type(obj)).write(enc, obj)


def write_generic(enc: Encoder, obj: JavaGenericObject) -> None:
    if enc.seen(obj):
        return
    fields = obj.fields
    names = tuple(fields)
    for name in names:
        if not isinstance(name, str):
            raise EncodeError(f"{shorten(obj.java_class)}: field names must be str, got {describe(name)}")
    begin_object(enc, obj.java_class, names)
    write = enc.write_any
    enc.enter()
    for name in names:
        write(enc, fields[name])
    enc.depth -= 1


def write_fields(enc: Encoder, java_class: str, fields: dict[str, Any]) -> None:
    """An object built on the fly from a dict (java.time handles, BigDecimal, ...)."""
    enc.new_ref()
    begin_object(enc, java_class, tuple(fields))
    write = enc.write_any
    enc.enter()
    for value in fields.values():
        write(enc, value)
    enc.depth -= 1


# ---------------------------------------------------------------- readers


class ClassDef:
    """One class definition of the stream, and (lazily) how to read its instances."""

    __slots__ = ("exact", "fields", "name", "reader")

    def __init__(self, name: str, fields: tuple[str, ...]) -> None:
        self.name = name
        self.fields = fields
        self.reader: Callable[[Decoder], Any] | None = None
        self.exact: tuple[Any, ...] | None = (
            None  # what the compiled loop needs to read instances itself (see _bound.exact_plan)
        )


def _names(dec: Decoder, count: int) -> tuple[str, ...]:
    """``count`` field names; short ASCII ones (nearly all) are read inline."""
    data = dec.data
    end = dec.end
    names = []
    for _ in range(count):
        pos = dec.pos
        if pos >= dec.checkpoint:  # a definition may name millions of fields
            dec.paused()
        if pos < end:
            size = data[pos]
            stop = pos + 1 + size
            if size < 0x20 and stop <= end:
                raw = data[pos + 1 : stop]
                if raw.isascii():
                    names.append(raw.decode("ascii"))
                    dec.pos = stop
                    continue
        names.append(read_name(dec))
    return tuple(names)


def read_class_def(dec: Decoder, tag: int) -> Any:
    start = dec.pos - 1
    name = read_name(dec)
    count = dec.read_length()
    fields = _names(dec, count)
    if len(set(fields)) != count:
        dec.fail(f"class definition {describe(name)} repeats a field name", start)
    dec.defs.append(ClassDef(name, fields))
    dec.enter()  # a definition is followed by a value; bound a run of definitions
    result = dec.value()
    dec.depth -= 1
    return result


def _instance(dec: Decoder, index: int, at: int) -> Any:
    defs = dec.defs
    if not 0 <= index < len(defs):
        dec.fail(f"object of class definition #{index} but only {len(defs)} defined", at)
    definition = defs[index]
    reader = definition.reader
    if reader is None:
        reader = definition.reader = _make_reader(dec, definition)
        definition.exact = getattr(reader, "exact", None)
    dec.enter()
    result = reader(dec)
    dec.depth -= 1
    return result


def read_object_short(dec: Decoder, tag: int) -> Any:
    index = tag - 0x60
    defs = dec.defs
    if index < len(defs):
        reader = defs[index].reader
        if reader is not None:
            dec.depth += 1
            if dec.depth > dec.max_depth:
                dec.enter()
            result = reader(dec)
            dec.depth -= 1
            return result
    return _instance(dec, index, dec.pos - 1)


def read_object_long(dec: Decoder, tag: int) -> Any:
    at = dec.pos - 1
    return _instance(dec, dec.read_int(), at)


class ReaderCache:
    """Readers by (Python class or None, Java class, field names), bounded in bytes, least recently used out.

    Every stream brings its own class definitions, so the readers made for them
    are kept across streams, but a sender can invent a new class or field name
    per message: what counts is the bytes the entries hold (their names, and the
    per-field plans a reader keeps, estimated by ``cost``), not their number.
    A definition too big to be worth keeping (``entry_limit``) is read with a
    reader made for that stream only. Safe to share between threads (a lock
    around changes; a lookup that loses a race is a miss).
    """

    def __init__(self, budget: int = 4 << 20, entry_limit: int = 256 << 10) -> None:
        self.budget = budget
        self.entry_limit = entry_limit
        self.used = 0
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[Any, str, tuple[str, ...]], tuple[Callable[[Any], Any], int]] = OrderedDict()

    @staticmethod
    def cost(java_class: str, fields: tuple[str, ...]) -> int:
        """Bytes an entry holds: the key's strings and tuple, and ~200 bytes per field of plans."""
        names = sys.getsizeof(java_class) + sum(map(sys.getsizeof, fields))
        return 2048 + names + 8 * len(fields) + 200 * len(fields)

    def get(self, key: tuple[Any, str, tuple[str, ...]]) -> Callable[[Any], Any] | None:
        found = self._entries.get(key)
        if found is None:
            return None
        with contextlib.suppress(KeyError):  # dropped by another thread meanwhile
            self._entries.move_to_end(key)
        return found[0]

    def put(self, key: tuple[Any, str, tuple[str, ...]], reader: Callable[[Any], Any]) -> None:
        size = self.cost(key[1], key[2])
        if size > self.entry_limit:
            return
        with self._lock:
            if key in self._entries:
                return
            self._entries[key] = (reader, size)
            self.used += size
            while self.used > self.budget:
                _, (_, dropped) = self._entries.popitem(last=False)
                self.used -= dropped

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.used = 0

    def __len__(self) -> int:
        return len(self._entries)


READERS = ReaderCache()


def _make_reader(dec: Decoder, definition: ClassDef) -> Callable[[Decoder], Any]:
    cls = dec.classes.get(definition.name)
    key = (cls, definition.name, definition.fields)
    reader = READERS.get(key)
    if reader is None:
        reader = _new_reader(dec, cls, definition)
        READERS.put(key, reader)
    return reader


def _new_reader(dec: Decoder, cls: type | None, definition: ClassDef) -> Callable[[Decoder], Any]:
    if cls is not None and not getattr(cls, "_h2_throwable", False):  # bound exceptions: THROWABLE_READER
        if isinstance(cls, type) and hasattr(cls, "__members__"):
            return _enum_reader(cls, definition)
        return bound_reader(class_info(cls), definition)
    special = SPECIAL_READERS.get(definition.name)
    if special is not None:
        return special(dec, definition)
    for factory in THROWABLE_READER:
        reader = factory(dec, definition)
        if reader is not None:
            return reader
    return _generic_reader(definition)


OBJECT_SIZE = sys.getsizeof(JavaGenericObject("x")) + SLOTS  # without its fields dict


def _generic_reader(definition: ClassDef) -> Callable[[Decoder], Any]:
    java_class = definition.name
    names = definition.fields
    new = JavaGenericObject.__new__
    cost = OBJECT_SIZE + dict_size(len(names))

    def read(dec: Decoder) -> JavaGenericObject:
        obj = new(JavaGenericObject)
        obj.java_class = java_class
        fields: dict[str, Any] = {}  # filled in place: a field may refer back to the object
        obj.fields = fields
        dec.refs.append(obj)
        dec.fill(fields, names)
        dec.spent += cost  # Decoder.charge, inline
        if dec.spent > dec.allowance:
            dec.charge(0)
        return obj

    return read


def _enum_reader(cls: Any, definition: ClassDef) -> Callable[[Decoder], Any]:
    """hessian-lite's EnumDeserializer: the ``name`` field read as a String, the
    constant registered as a reference after the fields (other fields are read and
    ignored)."""
    names = definition.fields
    java_class = definition.name

    def read(dec: Decoder) -> Any:
        at = dec.pos
        fields: dict[str, Any] = {}
        dec.fill(fields, names)
        constant = fields.get("name")
        member = cls.__members__.get(constant) if type(constant) is str else None
        if member is None:
            dec.fail(f"{shorten(java_class)} has no constant {describe(constant)}", at)
        dec.refs.append(member)
        dec.charge(SLOTS)  # the constant is shared; only its slots are new
        return member

    return read


def register(table: list[TagReader]) -> None:
    table[0x43] = read_class_def
    for tag in range(0x60, 0x70):
        table[tag] = read_object_short
    table[0x4F] = read_object_long
