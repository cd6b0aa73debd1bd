"""Hessian 2.0, byte for byte as Apache Dubbo's hessian-lite writes and reads it.

No I/O and no Dubbo knowledge: bytes in, Python values out, and back.

::

    data = hessian2.dumps(value)              # exactly one value
    value = hessian2.loads(data)              # exactly one value; trailing bytes are an error

    enc = hessian2.Encoder()                  # several values sharing one stream
    enc.write("2.0.2"); enc.write(request)    # (class definitions, types, references)
    body = enc.getvalue()

    dec = hessian2.Decoder(body)
    while not dec.at_end():
        value = dec.read()

A value can be written as a declared Java type, e.g. a method's return type
(``enc.write([1, 2], hessian2.typed_writer(list[hessian2.Long]))`` writes Java longs).

Java classes are bound by subclassing, with annotations for Java widths::

    @dataclass
    class Item(hessian2.JavaObject, java_class="org.x.Item"):
        itemId: str = ""
        score: float = 0.0                    # Java double
        ids: List[hessian2.Long] = field(default_factory=list)
        tags: Annotated[list[str], hessian2.MaxItems(100)] = field(default_factory=list)

``MaxItems`` is Java's ``@Size(max=...)``: the decoder refuses a longer list, set or
map when it reads the count, before building it (``DecodeError`` naming the field).

Performance: reuse nothing across bodies (an Encoder/Decoder is one stream),
but do bind classes: bound dataclasses get generated writers and cached
readers. ``Decoder.fill``, the decoder's hot loop, and the encoder's value
writer have optional compiled twins (``_speedups.c``, ``_encspeedups.c``,
built by ``pip install ./hessian2`` when a C compiler is there; the encoder's writes
the same bytes and calls back into Python for everything but the common
types); ``HESSIAN2_PURE_PYTHON=1`` forces the pure-Python path, which stays
the reference.

Hostile input costs what it weighs (README.md, "Hostile input"): bounded
error text (``describe``), hash-flood detection and ``MapEntries`` for keys a
dict would merge (``_keys``), caches bounded in bytes, decoded containers
bounded by a memory allowance proportional to the input (``MEMORY_RATIO``),
fields of bound classes checked with hessian-lite's rules (``_fields``).

Modules (one per wire family, grammar in each docstring): ``_scalars`` (null,
bool, int, long, double, date), ``_text`` (string, binary), ``_containers``
(list, map, ref), ``_objects`` (class definitions, instances), ``_bound``
(readers of bound classes), ``_javatypes`` (BigDecimal, UUID, java.time
handles), ``_throwable`` (exceptions), ``_generic`` (Dubbo generic maps);
``_encoder``/``_decoder`` drive them; ``_model`` binds classes; ``_fields``
checks decoded fields against their Java types; ``_keys`` guards map keys;
``_wrappers`` holds the width wrappers and typed containers; ``_errors`` the
error tree and ``describe``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeAlias

from ._decoder import MEMORY_ALLOWANCE, MEMORY_RATIO, ClassesArg, Decoder
from ._encoder import Encoder, typed_writer
from ._errors import DecodeError, EncodeError, Hessian2Error, describe
from ._generic import from_generic, to_generic
from ._javatypes import Instant, LocalDateTime
from ._model import JavaEnum, JavaGenericObject, JavaObject, MaxItems, bound_classes
from ._throwable import (
    IllegalArgumentException,
    IllegalStateException,
    JavaException,
    NullPointerException,
    StackTraceElement,
    UnsupportedOperationException,
)
from ._wrappers import MapEntries, TypedList, TypedMap

if TYPE_CHECKING:
    # To a type checker a width is the Python value it holds, so annotated code type-checks as
    # written: ``id: Long = 0``, ``def ids(self) -> list[Long]: return [1, 2]``. At run time they
    # are the wrapper classes, which the annotations and the encoder act on.
    Byte: TypeAlias = int
    Int: TypeAlias = int
    Long: TypeAlias = int
    Short: TypeAlias = int
    Double: TypeAlias = float
    Float: TypeAlias = float
    Char: TypeAlias = str
else:
    from ._wrappers import Byte, Char, Double, Float, Int, Long, Short

__all__ = [
    "MEMORY_ALLOWANCE",
    "MEMORY_RATIO",
    "Byte",
    "Char",
    "DecodeError",
    "Decoder",
    "Double",
    "EncodeError",
    "Encoder",
    "Float",
    "Hessian2Error",
    "IllegalArgumentException",
    "IllegalStateException",
    "Instant",
    "Int",
    "JavaEnum",
    "JavaException",
    "JavaGenericObject",
    "JavaObject",
    "LocalDateTime",
    "Long",
    "MapEntries",
    "MaxItems",
    "NullPointerException",
    "Short",
    "StackTraceElement",
    "TypedList",
    "TypedMap",
    "UnsupportedOperationException",
    "bound_classes",
    "describe",
    "dumps",
    "from_generic",
    "loads",
    "to_generic",
    "typed_writer",
]


def dumps(value: Any) -> bytes:
    """One value as a complete Hessian 2 stream."""
    encoder = Encoder()
    encoder.write(value)
    return encoder.getvalue()


def loads(data: bytes, *, classes: ClassesArg = None, memory_ratio: int | None = MEMORY_RATIO) -> Any:
    """The one value ``data`` holds; ``DecodeError`` if it holds less, more, or garbage, or if
    its lists, maps and objects would take more than ``MEMORY_ALLOWANCE`` plus ``memory_ratio``
    bytes per input byte (None: no bound)."""
    decoder = Decoder(data, classes=classes, memory_ratio=memory_ratio)
    value = decoder.read()
    if not decoder.at_end():
        raise DecodeError(f"{len(decoder.data) - decoder.position} trailing byte(s) after the value", decoder.position)
    return value
