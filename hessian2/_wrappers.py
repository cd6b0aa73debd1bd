"""Java widths for Python numbers, and Java collection types for Python containers.

Python has one ``int`` and one ``float``; Java has six numeric widths, and a
Java consumer casts what it reads. A plain ``int`` inside an untyped container
is written as a Hessian int and becomes ``java.lang.Integer``, so a
``List<Long>`` on the Java side throws ``ClassCastException``. These wrappers say
the width where the Java side needs it, and each works two ways:

* as a value: ``Long(5)`` in an untyped list is written as a Hessian long
  (it prints as ``5``: ``str``, f-strings and format specs see the number; ``repr`` says ``Long(5)``);
* as an annotation: ``ids: List[Long]`` in a ``JavaObject`` writes every element
  as a long, whatever Python type the element has.

The decoder returns Java longs as ``Long`` so their width survives an echo.
On the wire ``Short`` and ``Byte`` are ints and ``Float`` is a double (that is how
hessian-lite writes them); they exist to range-check and to document the Java
field. ``Char`` is a one-UTF-16-unit string, as hessian-lite writes ``char``.

``TypedList`` and ``TypedMap`` remember the Java type name of a typed Hessian
list or map (``java.util.HashSet``, ``[int``, ``java.util.LinkedHashMap``) so that
decoding and re-encoding gives the Java side the same collection class back.
``MapEntries`` holds a Java map whose keys a Python dict would merge (Java's
``1``, ``1L``, ``1.0`` and ``true`` are four keys; Python's dict keeps one).

Nothing here knows the wire format.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ._errors import EncodeError, describe, known_types

__all__ = ["Byte", "Char", "Double", "Float", "Int", "Long", "MapEntries", "Short", "TypedList", "TypedMap"]


class _BoundedInt(int):
    """An ``int`` that refuses values outside its Java range when built."""

    __slots__ = ()
    _min = 0
    _max = 0
    java_name = ""

    def __new__(cls, value: Any = 0) -> _BoundedInt:
        if isinstance(value, float) and not value.is_integer():
            raise EncodeError(f"{cls.__name__}({describe(value)}): not a whole number")
        number = int.__new__(cls, value)
        if not cls._min <= number <= cls._max:
            raise EncodeError(f"{cls.__name__}({int(number)}) is outside Java {cls.java_name}'s range")
        return number

    def __repr__(self) -> str:
        return f"{type(self).__name__}({int(self)})"

    # The width is for the encoder; text is the number, as for any int: f"{user_id}" must
    # not read "Long(42)". ``repr`` keeps the width visible for debugging.
    __str__ = int.__repr__

    def __format__(self, spec: str) -> str:
        return int.__format__(int(self), spec)


class Long(_BoundedInt):
    """A Java ``long`` (64-bit)."""

    __slots__ = ()
    _min, _max, java_name = -(1 << 63), (1 << 63) - 1, "long"


class Int(_BoundedInt):
    """A Java ``int`` (32-bit); plain ``int`` values that fit are written this way anyway."""

    __slots__ = ()
    _min, _max, java_name = -(1 << 31), (1 << 31) - 1, "int"


class Short(_BoundedInt):
    """A Java ``short``; travels as a Hessian int."""

    __slots__ = ()
    _min, _max, java_name = -(1 << 15), (1 << 15) - 1, "short"


class Byte(_BoundedInt):
    """A Java ``byte``; travels as a Hessian int."""

    __slots__ = ()
    _min, _max, java_name = -128, 127, "byte"


class Double(float):
    """A Java ``double``; the same as a plain ``float``, spelled out."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"Double({float(self)!r})"

    __str__ = float.__repr__

    def __format__(self, spec: str) -> str:
        return float.__format__(float(self), spec)


class Float(float):
    """A Java ``float``; travels as a Hessian double (hessian-lite has no float form)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"Float({float(self)!r})"

    __str__ = float.__repr__

    def __format__(self, spec: str) -> str:
        return float.__format__(float(self), spec)


class Char(str):
    """A Java ``char``: exactly one UTF-16 code unit, written as a one-unit string."""

    __slots__ = ()

    def __new__(cls, value: Any = "\0") -> Char:
        text = str.__new__(cls, value)
        if len(text) != 1 or ord(text) > 0xFFFF:
            raise EncodeError(f"Char({describe(value)}) must be exactly one BMP character")
        return text


class TypedList(list[Any]):
    """A list that travels as a typed Hessian list of Java type ``java_type``.

    ``TypedList("java.util.LinkedList", [1, 2])`` reaches Java as a LinkedList;
    ``TypedList("[int", [1, 2])`` as an ``int[]``. Decoded typed lists come back as
    this class, so an echo returns the collection class Java sent.
    """

    __slots__ = ("java_type",)

    def __init__(self, java_type: str, items: Iterable[Any] = ()) -> None:
        if not java_type:
            raise EncodeError("a typed list needs a non-empty Java type")
        super().__init__(items)
        self.java_type = java_type

    def __repr__(self) -> str:
        return f"TypedList({self.java_type!r}, {list.__repr__(self)})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, TypedList) and other.java_type != self.java_type:
            return False
        return list.__eq__(self, other)

    __hash__ = None


class TypedMap(dict[Any, Any]):
    """A dict that travels as a typed Hessian map (``M type ... Z``), e.g. a LinkedHashMap."""

    __slots__ = ("java_type",)

    def __init__(self, java_type: str, items: Any = ()) -> None:
        if not java_type:
            raise EncodeError("a typed map needs a non-empty Java type")
        super().__init__(items)
        self.java_type = java_type

    def __repr__(self) -> str:
        return f"TypedMap({self.java_type!r}, {dict.__repr__(self)})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, TypedMap) and other.java_type != self.java_type:
            return False
        return dict.__eq__(self, other)

    __hash__ = None


class MapEntries:
    """A Java map as its entries, for keys that a Python dict cannot hold apart.

    Java's ``HashMap`` keeps ``1`` (Integer), ``1L``, ``1.0``, ``true``, BigDecimal
    ``1.0`` and ``1.00``, ``0.0`` and ``-0.0`` and two equal byte arrays as distinct
    keys; Python's ``dict`` merges each group into one entry. When the keys of a
    decoded map collide like that, the decoder returns this instead of a dict:
    every entry in wire order, nothing dropped, nothing hashed. Encoding it writes
    the same Java map back (``java_type`` None is a ``HashMap``, as for a dict).
    """

    __slots__ = ("entries", "java_type")

    def __init__(self, entries: Iterable[tuple[Any, Any]] = (), java_type: str | None = None) -> None:
        if java_type is not None and not java_type:
            raise EncodeError("a typed map needs a non-empty Java type")
        self.entries: list[tuple[Any, Any]] = list(entries)
        self.java_type = java_type

    def items(self) -> list[tuple[Any, Any]]:
        return self.entries

    def keys(self) -> list[Any]:
        return [key for key, _ in self.entries]

    def values(self) -> list[Any]:
        return [value for _, value in self.entries]

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Any:
        return iter(self.keys())

    def __repr__(self) -> str:
        return f"MapEntries({len(self.entries)} entries, java_type={self.java_type!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MapEntries):
            return NotImplemented
        return self.java_type == other.java_type and self.entries == other.entries

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value: unhashable like a dict


known_types(
    ints=(Long, Int, Short, Byte),
    floats=(Double, Float),
    maps=(TypedMap, MapEntries),
    lists=(TypedList,),
)
