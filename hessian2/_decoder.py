"""The Decoder: one Hessian 2 stream to Python values, safely.

Dispatch is a 256-entry table on the first byte of each value; every wire
family module installs its readers into it (``register``). Readers take the
decoder and the tag byte, with ``pos`` already past the tag, and advance
``pos`` themselves; they read with ``struct.unpack_from`` and slices of one
``bytes`` object, never byte by byte where it can be avoided.

Safety, because the input comes from the network:

* only classes bound on purpose are instantiated (``classes``: by default every
  ``JavaObject``/``JavaEnum`` subclass; other objects become
  ``JavaGenericObject``);
* every length is checked against the bytes that remain *before* anything is
  allocated for it, so a hostile length costs nothing;
* nesting is bounded (``MAX_DEPTH``), and Python's own recursion limit is
  caught as well;
* every decode costs time and memory in proportion to the input: no reader
  walks a value twice through shared references, map keys are counted against
  hash flooding (``_keys``), caches fed by the input are bounded in bytes
  (``_objects.READERS``), error text is bounded and renders no decoded
  container (``_errors.describe``), and the containers a decode builds are
  charged to a memory allowance proportional to the input (``charge``,
  ``MEMORY_RATIO``): CPython needs 64-250 bytes for a list or object that
  costs the sender one byte, so without it 8 MiB of empty lists or field-less
  objects would become 0.6-2 GiB;
* fields of bound classes are checked against their declared types (``_fields``);
* a caller that must not be held for a whole large decode (an event loop) passes
  ``pause``: it is called each time the decode has read ``pause_every`` more input
  bytes, between two values, and may block there (``provider.slices`` hands the
  thread back to the loop) or raise to abandon the decode;
* anything wrong raises ``DecodeError`` with the byte offset and the path of
  the value (``$.items[3].score``); nothing else escapes (a final guard converts
  stray exceptions, naming only their type).

``Decoder.fill``, the hot loop, and the reading of bound instances have an
optional compiled twin in ``_speedups.c`` (built by setup.py when a compiler is
there); it is installed at import unless ``HESSIAN2_PURE_PYTHON`` is set,
``SPEEDUPS`` says whether it was, and ``use_compiled`` switches it off and on
(tests and benchmarks compare both paths in one process). The Python version
here stays the reference.

One Decoder is one stream: class definitions, type names and references
carry over from one ``read()`` to the next, as in Java's Hessian2Input.
"""

from __future__ import annotations

import os
import struct
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NoReturn

from . import _bound, _containers, _objects, _scalars, _text, _wrappers
from ._errors import DecodeError
from ._model import _BOUND
from ._scalars import DIRECT_INTS
from ._wrappers import MapEntries

MAX_DEPTH = 200
# Bytes of Python containers (lists, maps, objects: what ``charge`` counts) one decode may
# build per input byte, plus a fixed allowance so that no message of under ~40 KB is ever
# refused. Typical Dubbo payloads need 20-45 per byte; a stream of one-byte containers (empty
# lists, objects without or with one tiny field) needs 72-250 and is refused past the
# allowance. Raise it per decoder (``memory_ratio``) for a trusted sender of such data.
MEMORY_RATIO = 48
MEMORY_ALLOWANCE = 1 << 20
# Input bytes between two calls of a decoder's ``pause`` (when it has one): 4 KiB take
# 20-200 us to decode, and no input takes more than ~1 us a byte.
PAUSE_EVERY = 4096
_DISCARD_STEP = 2048  # containers emptied or dropped between two calls of ``pause`` in ``discard``

_INT_TAGS = frozenset(range(0x80, 0xD8)) | {0x49}
_DOUBLE_AT = struct.Struct(">d").unpack_from


# A reader of the dispatch table: (decoder, tag) -> value, with ``decoder.pos`` just past the tag.
TagReader = Callable[["Decoder", int], Any]


def _invalid(dec: Decoder, tag: int) -> NoReturn:
    dec.fail(f"unknown type code 0x{tag:02x}", dec.pos - 1)


def _stray_end(dec: Decoder, tag: int) -> NoReturn:
    dec.fail("unexpected end marker 'Z' outside a list or map", dec.pos - 1)


def _build_table() -> list[TagReader]:
    table: list[TagReader] = [_invalid] * 256
    for family in (_scalars, _text, _containers, _objects):
        family.register(table)
    table[0x5A] = _stray_end
    return table


_TABLE = _build_table()
ClassesArg = Mapping[str, type] | Iterable[type] | None


def _classes_map(classes: ClassesArg) -> Mapping[str, type]:
    if classes is None:
        return _BOUND
    if isinstance(classes, Mapping):
        return dict(classes)
    result = {}
    for cls in classes:
        java_class = getattr(cls, "__java_class__", None)
        if not java_class:
            raise TypeError(f"{cls!r} is not bound to a Java class (subclass JavaObject or JavaEnum)")
        result[java_class] = cls
    return result


class Decoder:
    """Reads the values of one Hessian 2 stream, one ``read()`` at a time.

    ``classes``: which Python classes may be instantiated, as a mapping of Java
    name to class or an iterable of bound classes; ``None`` means every class
    bound by subclassing ``JavaObject``/``JavaEnum``.
    """

    __slots__ = (
        "allowance",
        "checked",
        "checkpoint",
        "classes",
        "data",
        "defs",
        "depth",
        "end",
        "limit",
        "limit_at",
        "pause",
        "pause_every",
        "pos",
        "refs",
        "shared_maps",
        "spent",
        "types",
    )
    max_depth = MAX_DEPTH

    def __init__(
        self,
        data: bytes | bytearray | memoryview,
        *,
        classes: ClassesArg = None,
        memory_ratio: int | None = MEMORY_RATIO,
        pause: Callable[[], None] | None = None,
        pause_every: int = PAUSE_EVERY,
    ) -> None:
        if pause_every <= 0:
            raise ValueError(f"pause_every must be positive, got {pause_every}")
        self.data = bytes(data)
        self.pos = 0
        self.end = len(self.data)
        self.spent = 0  # bytes of containers built so far, see charge
        self.allowance = sys.maxsize if memory_ratio is None else MEMORY_ALLOWANCE + memory_ratio * self.end
        self.refs: list[Any] = []
        self.defs: list[_objects.ClassDef] = []
        self.types: list[str] = []
        self.depth = 0
        self.classes = _classes_map(classes)
        self.checked: dict[tuple[int, int], Any] = {}  # (id(container), id(converter)) -> result, see _fields
        self.shared_maps: set[int] = set()  # maps a reference was taken to, see _containers
        self.pause = pause
        self.pause_every = pause_every
        # MaxItems of the field whose value starts at input offset limit_at: set by the readers
        # of bound classes before they read such a field, looked at by the list and map readers
        self.limit_at = -1
        self.limit = 0
        # the input offset at which ``pause`` is due next: every loop over the input compares ``pos`` with it
        self.checkpoint = pause_every if pause is not None else sys.maxsize

    @property
    def position(self) -> int:
        """Offset of the next unread byte."""
        return self.pos

    def at_end(self) -> bool:
        return self.pos >= self.end

    def read(self) -> Any:
        """The next value of the stream; ``DecodeError`` if there is none or it is bad."""
        start = self.pos
        if start >= self.end:
            self.fail("no more values in the stream", start)
        self.depth = 0
        try:
            return self.value()
        except DecodeError:
            if self.pause is not None:
                self.discard()
            raise
        except RecursionError:
            raise DecodeError("value nested too deeply for this interpreter", self.pos) from None
        except Exception as exc:  # a bug, or code of a bound class (a __hash__): still a DecodeError
            # the exception's text may be huge or come from application code: only its type is named
            raise DecodeError(f"cannot decode value: {type(exc).__name__}", self.pos) from exc

    # -- used by the family readers

    def value(self) -> Any:
        pos = self.pos
        if pos >= self.end:
            self.fail("truncated: value expected", pos)
        tag = self.data[pos]
        self.pos = pos + 1
        return _TABLE[tag](self, tag)

    def values(self, count: int) -> list[Any]:
        """``count`` consecutive values (list elements, object fields)."""
        if count > self.end - self.pos:
            self.fail(f"{count} values announced, only {self.end - self.pos} bytes left", self.pos)
        out: list[Any] = [None] * count
        self.fill(out, range(count))
        return out

    def fill(self, target: Any, keys: Iterable[Any]) -> None:
        """Read one value per key into ``target[key]`` (a dict of fields, or a list).

        The hot loop of the decoder: short ASCII strings, full doubles, small
        ints and instances of known classes, which make up most of a typical
        Dubbo response, are read inline; everything else goes through the
        dispatch table.
        """
        data = self.data
        end = self.end
        pos = self.pos
        table = _TABLE
        defs = self.defs
        checkpoint = self.checkpoint
        key = None
        try:
            for key in keys:
                if pos >= checkpoint:  # a reader called since may have paused already: then it does nothing
                    self.pos = pos
                    self.paused()
                    checkpoint = self.checkpoint
                if pos >= end:
                    self.fail("truncated: value expected", pos)
                tag = data[pos]
                if tag < 0x20:
                    stop = pos + 1 + tag
                    if stop <= end:
                        raw = data[pos + 1 : stop]
                        if raw.isascii():
                            target[key] = raw.decode("ascii")
                            pos = stop
                            continue
                elif tag == 0x44:
                    if pos + 9 <= end:
                        target[key] = _DOUBLE_AT(data, pos + 1)[0]
                        pos += 9
                        continue
                elif 0x60 <= tag <= 0x6F:
                    index = tag - 0x60
                    if index < len(defs):
                        reader = defs[index].reader
                        if reader is not None and self.depth < MAX_DEPTH:
                            self.pos = pos + 1
                            self.depth += 1
                            target[key] = reader(self)
                            self.depth -= 1
                            pos = self.pos
                            continue
                elif 0x80 <= tag <= 0xBF:
                    target[key] = DIRECT_INTS[tag - 0x80]
                    pos += 1
                    continue
                self.pos = pos + 1
                target[key] = table[tag](self, tag)
                pos = self.pos
        except DecodeError as exc:
            exc.within(key)
            raise
        self.pos = pos

    def read_int(self) -> int:
        """An int where the grammar requires one (lengths, indexes)."""
        pos = self.pos
        if pos >= self.end:
            self.fail("truncated: int expected", pos)
        tag = self.data[pos]
        if tag not in _INT_TAGS:
            self.fail(f"expected an int, got byte 0x{tag:02x}", pos)
        self.pos = pos + 1
        value: int = _TABLE[tag](self, tag)
        return value

    def read_length(self) -> int:
        """A count that must be non-negative and fit the remaining input (one byte per item)."""
        pos = self.pos
        count = self.read_int()
        if count < 0 or count > self.end - self.pos:
            self.fail(f"count {count} is negative or exceeds the {self.end - self.pos} bytes left", pos)
        return count

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            self.fail(f"nested deeper than {MAX_DEPTH} levels", self.pos)

    def charge(self, nbytes: int) -> None:
        """Count ``nbytes`` of a container just built against the input's memory allowance.

        Every reader that builds a list, map or object calls this (the compiled loop
        counts its instances itself); scalars are not counted, as none costs more than
        ~40 bytes per input byte. A stream over the allowance is refused, not decoded."""
        self.spent += nbytes
        if self.spent > self.allowance:
            ratio = (self.allowance - MEMORY_ALLOWANCE) // max(self.end, 1)
            self.fail(
                f"the value needs more than {self.allowance} bytes of objects"
                f" ({ratio} per input byte and {MEMORY_ALLOWANCE >> 20} MiB): refused",
                self.pos,
            )

    def paused(self) -> None:
        """The input read passed ``checkpoint``: call ``pause`` and set the next checkpoint.

        Called between two values (never inside one's bookkeeping), so ``pause`` may block
        for as long as it likes; what it raises ends the decode unchanged (a ``BaseException``
        passes ``read``'s guard). A reader that sees a stale checkpoint calls it early: then
        it does nothing."""
        if self.pos < self.checkpoint or self.pause is None:
            return
        self.checkpoint = self.pos + self.pause_every
        self.pause()

    def discard(self) -> None:
        """Empty and drop every container this stream built, newest first, calling ``pause``
        as the decode does: after a failed decode they are garbage, and freeing them in one go
        (a million objects: ~10 ms) would hold a paused caller's loop for that long at once.
        ``read`` calls it when a decoder with ``pause`` fails; the stream is over then."""
        refs, self.refs = self.refs, []
        self.checked.clear()
        pause = self.pause
        for count, built in enumerate(reversed(refs), 1):
            if isinstance(built, (list, dict)):  # its items go; the containers among them are cleared in turn
                built.clear()
            elif isinstance(built, MapEntries):
                built.entries.clear()
            if pause is not None and not count % _DISCARD_STEP:
                pause()
        while refs:  # now empty, they are dropped in steps too
            del refs[-_DISCARD_STEP:]
            if pause is not None:
                pause()

    def fail(self, reason: str, offset: int) -> NoReturn:
        raise DecodeError(reason, offset)


Fill = Callable[[Decoder, Any, Iterable[Any]], None]  # Decoder.fill, unbound: the Python loop or the C one
PURE_FILL: Fill = Decoder.__dict__["fill"]  # the reference implementation, kept for tests and benchmarks
# (fill method, read_exact) once the extension is configured
_compiled: tuple[Fill, Callable[[Any, Any], Any]] | None = None


def _use_speedups() -> bool:
    """Configure the compiled loops unless HESSIAN2_PURE_PYTHON is set or they are not built."""
    global _compiled  # noqa: PLW0603  (set once, at import)
    if os.environ.get("HESSIAN2_PURE_PYTHON"):
        return False
    try:
        from . import _speedups  # built only with the C compiler; its absence is handled (types: _speedups.pyi)
    except ImportError:
        return False
    fill = _speedups.configure(
        _TABLE, MAX_DEPTH, DecodeError, _bound.convert_field, DIRECT_INTS, _wrappers.Long, _wrappers.TypedList
    )
    _compiled = (fill, _speedups.read_exact)
    use_compiled(True)
    return True


def use_compiled(flag: bool) -> bool:
    """Decode with the compiled loops (True) or the pure-Python reference (False); returns the
    previous setting. Forgets the cached readers, which are made for one or the other."""
    previous = Decoder.__dict__["fill"] is not PURE_FILL
    if _compiled is None or flag == previous:
        return previous
    # the C loop is an instance-method object, which mypy cannot take for a method (a Callable has no binding)
    Decoder.fill = _compiled[0] if flag else PURE_FILL  # type: ignore[method-assign, assignment]  # swaps the loop
    _bound._COMPILED = _compiled[1] if flag else None
    _objects.READERS.clear()
    return previous


SPEEDUPS = _use_speedups()
COMPILED_FILL = Decoder.__dict__["fill"] if SPEEDUPS else None
