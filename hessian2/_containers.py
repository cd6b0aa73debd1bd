"""Lists, maps and shared references: writers and readers.

Grammar::

    list ::= x55 type value* 'Z'             # typed, variable length
         ::= 'V' type int value*             # typed, fixed length
         ::= x57 value* 'Z'                  # untyped, variable length
         ::= x58 int value*                  # untyped, fixed length
         ::= x70-x77 type value*             # typed, 0..7 elements
         ::= x78-x7f value*                  # untyped, 0..7 elements
    type ::= string                          # a new type name, remembered
         ::= int                             # index of a type name seen before
    map  ::= 'M' type (value value)* 'Z'     # typed (LinkedHashMap, TreeMap, ...)
         ::= 'H' (value value)* 'Z'          # untyped: java.util.HashMap
    ref  ::= x51 int                         # the n-th list, map or object of the stream

Java's mapping (CollectionSerializer, MapSerializer, BasicSerializer): an
``ArrayList`` is an untyped list, any other collection a typed list named after
its class (``java.util.HashSet``), arrays typed lists ``[int``, ``[string``,
``[object``, ``[org.x.Item``; ``HashMap`` is ``H``, other maps ``M`` + class name.

Maps: a map whose keys a dict cannot hold apart (``1`` and ``1L``, unhashable
keys, ...) becomes ``MapEntries`` at its first such key, and keys are counted
against hash flooding past ``FLOOD_CHECK_FROM`` entries (``_keys`` says why).

References: every list, map and object (enums, BigDecimal and java.time handles
included) gets the next index in the order it *starts*, before its children,
so cycles work. Both sides keep the numbering across the top-level values of
one stream: Dubbo writes a whole request or response body with one
Hessian2Output and reads it with one Hessian2Input, neither resetting refs.
Python's tuples, like lists, are written as ArrayLists and shared by identity.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Collection, Mapping
from sys import getsizeof
from typing import TYPE_CHECKING, Any

from ._errors import DecodeError, MapKey, too_many
from ._keys import FLOOD_CHECK_FROM, FloodError, HashCounter
from ._scalars import write_int
from ._text import read_name, write_str
from ._wrappers import MapEntries, TypedList, TypedMap

# What Decoder.charge is told a container costs. Sizes are looked up, not asked of each
# object (sys.getsizeof of a dict costs ~100 ns, a fifth of decoding a small object).
SLOTS = 16  # beyond the object itself: its slot in the decoder's reference list and in its parent
ENTRY_SIZE = 64  # one entry of a MapEntries (an allocated 2-tuple)
LIST_SIZE = getsizeof(TypedList("x")) + SLOTS  # a list or TypedList without its item slots


def _dict_sizes(count: int) -> tuple[int, ...]:
    grown: dict[int, None] = {}
    sizes = [getsizeof(grown)]
    for key in range(count):
        grown[key] = None
        sizes.append(getsizeof(grown))
    return tuple(sizes)


_DICT_SIZES = _dict_sizes(64)


def dict_size(count: int) -> int:
    """Bytes of a dict filled with ``count`` entries one by one (beyond 64: ~40 per entry)."""
    return _DICT_SIZES[count] if count < 64 else 40 * count


if TYPE_CHECKING:  # annotations only: the encoder and the decoder import this module
    from ._decoder import Decoder, TagReader
    from ._encoder import Encoder

ItemWriter = Callable[["Encoder", Any], None]  # the writer of each element, key or value (None: by Python type)

# ---------------------------------------------------------------- writers


def write_type(enc: Encoder, java_type: str) -> None:
    """A type name the first time, its index afterwards (Hessian2Output.writeType)."""
    index = enc.types.get(java_type)
    if index is None:
        enc.types[java_type] = len(enc.types)
        write_str(enc.buf, java_type)
    else:
        write_int(enc.buf, index)


def list_header(enc: Encoder, size: int, java_type: str | None) -> None:
    buf = enc.buf
    if java_type is None:
        if size <= 7:
            buf.append(0x78 + size)
        else:
            buf.append(0x58)
            write_int(buf, size)
    elif size <= 7:
        buf.append(0x70 + size)
        write_type(enc, java_type)
    else:
        buf.append(0x56)
        write_type(enc, java_type)
        write_int(buf, size)


def write_list(
    enc: Encoder, value: Collection[Any], java_type: str | None = None, item: ItemWriter | None = None
) -> None:
    """A Python sequence as an ArrayList (or a typed list when ``java_type`` is given)."""
    if enc.seen(value):
        return
    list_header(enc, len(value), java_type)
    write = item or enc.write_any
    buf = enc.buf
    enc.enter()
    for element in value:
        write(enc, element)
        if len(buf) >= enc.checkpoint:  # Encoder.paused: once per element of every container
            enc.paused()
    enc.depth -= 1


def write_typed_list(enc: Encoder, value: TypedList, item: ItemWriter | None = None) -> None:
    write_list(enc, value, value.java_type, item)


def write_set(enc: Encoder, value: Collection[Any], item: ItemWriter | None = None) -> None:
    write_list(enc, value, "java.util.HashSet", item)


def write_map(
    enc: Encoder,
    value: Mapping[Any, Any],
    key: ItemWriter | None = None,
    item: ItemWriter | None = None,
    java_type: str | None = None,
) -> None:
    if enc.seen(value):
        return
    buf = enc.buf
    if java_type is None:
        buf.append(0x48)
    else:
        buf.append(0x4D)
        write_type(enc, java_type)
    write_key = key or enc.write_any
    write_value = item or enc.write_any
    enc.enter()
    for k, v in value.items():
        write_key(enc, k)
        write_value(enc, v)
        if len(buf) >= enc.checkpoint:
            enc.paused()
    enc.depth -= 1
    buf.append(0x5A)


def write_typed_map(
    enc: Encoder, value: TypedMap, key: ItemWriter | None = None, item: ItemWriter | None = None
) -> None:
    write_map(enc, value, key, item, value.java_type)


def write_entries(
    enc: Encoder, value: MapEntries, key: ItemWriter | None = None, item: ItemWriter | None = None
) -> None:
    """A ``MapEntries`` as the Java map it came from (every entry, in order)."""
    if enc.seen(value):
        return
    buf = enc.buf
    if value.java_type is None:
        buf.append(0x48)
    else:
        buf.append(0x4D)
        write_type(enc, value.java_type)
    write_key = key or enc.write_any
    write_value = item or enc.write_any
    enc.enter()
    for k, v in value.entries:
        write_key(enc, k)
        write_value(enc, v)
        if len(buf) >= enc.checkpoint:
            enc.paused()
    enc.depth -= 1
    buf.append(0x5A)


# ---------------------------------------------------------------- readers


def read_type(dec: Decoder) -> str:
    pos = dec.pos
    if pos >= dec.end:
        dec.fail("truncated: type expected", pos)
    tag = dec.data[pos]
    if tag <= 0x1F or 0x30 <= tag <= 0x33 or tag == 0x52 or tag == 0x53:
        name = read_name(dec)
        if not name:
            dec.fail("empty type name", pos)
        dec.types.append(name)
        return name
    index = dec.read_int()
    if not 0 <= index < len(dec.types):
        dec.fail(f"type reference #{index} but only {len(dec.types)} type(s) defined", pos)
    return dec.types[index]


_FILL_STEP = 4096  # list slots made ahead of the values read into them
_UNBOUNDED = sys.maxsize
_NONES = (None,) * _FILL_STEP


def _new_list(dec: Decoder, java_type: str | None) -> list[Any]:
    if java_type is None:
        return []
    return TypedList(java_type)


def _most(dec: Decoder) -> int:
    """How many entries the container whose tag was just read may hold: a field's ``MaxItems``
    when the container is that field's value (not a value inside it), else no bound."""
    return dec.limit if dec.limit_at == dec.pos - 1 else _UNBOUNDED


def _fill_fixed(dec: Decoder, result: list[Any], size: int, most: int) -> list[Any]:
    if size > most:  # refused on the announced count: nothing is built
        dec.fail(too_many(size, most), dec.pos)
    if size > dec.end - dec.pos:
        dec.fail(f"list of {size} elements announced, only {dec.end - dec.pos} bytes left", dec.pos)
    dec.refs.append(result)
    dec.spent += LIST_SIZE + 8 * size  # Decoder.charge, inline: before the slots are made
    if dec.spent > dec.allowance:
        dec.charge(0)
    dec.enter()
    # Filled in place (elements may refer back to the list), in steps: the slots of a list
    # exist only just before their values are read. A length the sender merely announces
    # then costs nothing: 8M slots made at once are 64 MiB of page faults, and every
    # garbage collection walks them while the list is young.
    done = 0
    while done < size:
        step = min(size - done, _FILL_STEP)
        result.extend(_NONES if step == _FILL_STEP else _NONES[:step])
        dec.fill(result, range(done, done + step))
        done += step
    dec.depth -= 1
    return result


def _fill_variable(dec: Decoder, result: list[Any], most: int) -> list[Any]:
    dec.refs.append(result)
    dec.enter()
    data = dec.data
    value = dec.value
    append = result.append
    while True:
        pos = dec.pos
        if pos >= dec.checkpoint:  # Decoder.paused: once per element of every loop over the input
            dec.paused()
        if pos >= dec.end:
            dec.fail("truncated: list end 'Z' expected", pos)
        if data[pos] == 0x5A:
            dec.pos = pos + 1
            break
        if len(result) == most:  # no count announced: refused at the first entry too many
            dec.fail(too_many(None, most), pos)
        append(value())
    dec.depth -= 1
    dec.spent += LIST_SIZE + 8 * len(result)  # Decoder.charge, inline
    if dec.spent > dec.allowance:
        dec.charge(0)
    return result


def read_list_typed_variable(dec: Decoder, tag: int) -> list[Any]:
    most = _most(dec)
    return _fill_variable(dec, _new_list(dec, read_type(dec)), most)


def read_list_typed_fixed(dec: Decoder, tag: int) -> list[Any]:
    most = _most(dec)
    java_type = read_type(dec)
    return _fill_fixed(dec, _new_list(dec, java_type), dec.read_length(), most)


def read_list_untyped_variable(dec: Decoder, tag: int) -> list[Any]:
    return _fill_variable(dec, [], _most(dec))


def read_list_untyped_fixed(dec: Decoder, tag: int) -> list[Any]:
    most = _most(dec)
    return _fill_fixed(dec, [], dec.read_length(), most)


def read_list_typed_short(dec: Decoder, tag: int) -> list[Any]:
    most = _most(dec)
    return _fill_fixed(dec, _new_list(dec, read_type(dec)), tag - 0x70, most)


def read_list_untyped_short(dec: Decoder, tag: int) -> list[Any]:
    return _fill_fixed(dec, [], tag - 0x78, _most(dec))


def _fill_map(dec: Decoder, result: dict[Any, Any], java_type: str | None, most: int) -> dict[Any, Any] | MapEntries:
    """Read entries into the dict ``result``; switch to ``MapEntries`` if a dict cannot hold them."""
    index = len(dec.refs)
    dec.refs.append(result)
    dec.enter()
    data = dec.data
    value = dec.value
    counter = None
    done: dict[Any, Any] | MapEntries = result
    while True:
        pos = dec.pos
        if pos >= dec.checkpoint:
            dec.paused()
        if pos >= dec.end:
            dec.fail("truncated: map end 'Z' expected", pos)
        if data[pos] == 0x5A:
            dec.pos = pos + 1
            break
        if len(result) == most:  # maps announce no count: refused at the first entry too many
            dec.fail(too_many(None, most), pos)
        key, item = _entry(dec, value, len(result))
        try:
            if len(result) >= FLOOD_CHECK_FROM:
                if counter is None:
                    counter = HashCounter(result)
                counter.add(key)
            if key not in result:
                result[key] = item
                continue
        except FloodError as exc:
            dec.fail(str(exc), pos)
        except TypeError:  # unhashable: a list, a generic object, ...
            pass
        done = _as_entries(dec, index, result, java_type, key, item, most)
        break
    dec.depth -= 1
    dec.spent += dict_size(len(result)) + SLOTS  # Decoder.charge, inline
    if dec.spent > dec.allowance:
        dec.charge(0)
    return done


def _entry(dec: Decoder, value: Callable[[], Any], count: int) -> tuple[Any, Any]:
    try:
        key = value()
    except DecodeError as exc:
        exc.within(MapKey.at(count))
        raise
    try:
        item = value()
    except DecodeError as exc:
        exc.within(MapKey(key))
        raise
    return key, item


def _as_entries(
    dec: Decoder, index: int, result: dict[Any, Any], java_type: str | None, key: Any, item: Any, most: int
) -> MapEntries:
    """The rest of a map whose keys a dict cannot hold apart, as ``MapEntries``: no entry dropped.

    The map's reference slot now holds the MapEntries; a reference taken to the
    dict while its entries were being read (a map inside itself) cannot follow, so
    that combination is refused."""
    if id(result) in dec.shared_maps:
        dec.fail("a map that contains itself has keys Python cannot hold apart", dec.pos)
    entries = MapEntries(result.items(), java_type)
    entries.entries.append((key, item))
    dec.refs[index] = entries
    append = entries.entries.append
    data = dec.data
    value = dec.value
    while True:
        pos = dec.pos
        if pos >= dec.checkpoint:
            dec.paused()
        if pos >= dec.end:
            dec.fail("truncated: map end 'Z' expected", pos)
        if data[pos] == 0x5A:
            dec.pos = pos + 1
            dec.charge(getsizeof(entries) + getsizeof(entries.entries) + ENTRY_SIZE * len(entries.entries))
            return entries
        if len(entries.entries) == most:
            dec.fail(too_many(None, most), pos)
        append(_entry(dec, value, len(entries.entries)))


def read_map_untyped(dec: Decoder, tag: int) -> dict[Any, Any] | MapEntries:
    return _fill_map(dec, {}, None, _most(dec))


def read_map_typed(dec: Decoder, tag: int) -> dict[Any, Any] | MapEntries:
    most = _most(dec)
    java_type = read_type(dec)
    if java_type == "java.util.HashMap":
        return _fill_map(dec, {}, None, most)
    return _fill_map(dec, TypedMap(java_type), java_type, most)


def read_ref(dec: Decoder, tag: int) -> Any:
    pos = dec.pos
    index = dec.read_int()
    if not 0 <= index < len(dec.refs):
        dec.fail(f"reference #{index} but only {len(dec.refs)} object(s) so far", pos)
    found = dec.refs[index]
    kind = type(found)
    if kind is dict or kind is TypedMap:  # see _as_entries
        dec.shared_maps.add(id(found))
    return found


def register(table: list[TagReader]) -> None:
    table[0x55] = read_list_typed_variable
    table[0x56] = read_list_typed_fixed
    table[0x57] = read_list_untyped_variable
    table[0x58] = read_list_untyped_fixed
    for tag in range(0x70, 0x78):
        table[tag] = read_list_typed_short
    for tag in range(0x78, 0x80):
        table[tag] = read_list_untyped_short
    table[0x48] = read_map_untyped
    table[0x4D] = read_map_typed
    table[0x51] = read_ref
