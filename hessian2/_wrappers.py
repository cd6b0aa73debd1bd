"""Java widths for Python numbers, and Java collection types for Python containers.

Python has one ``int`` and one ``float``; Java has six numeric widths, and a
Java consumer casts what it reads. A plain ``int`` inside an untyped container
is written as a Hessian int and becomes ``java.lang.Integer``, so a
``List<Long>`` on the Java side throws ``ClassCastException``. These wrappers say
the width where the Java side needs it, and each works two ways:

* as a value: ``Long(5)`` in an untyped list is written as a Hessian long;
* as an annotation: ``ids: List[Long]`` in a ``JavaObject`` writes every element
  as a long, whatever Python type the element has.

The decoder returns Java longs as ``Long`` so their width survives an echo.
On the wire ``Short`` and ``Byte`` are ints and ``Float`` is a double (that is how
hessian-lite writes them); they exist to range-check and to document the Java
field. ``Char`` is a one-UTF-16-unit string, as hessian-lite writes ``char``.

``TypedList`` and ``TypedMap`` remember the Java type name of a typed Hessian
list or map (``java.util.HashSet``, ``[int``, ``java.util.LinkedHashMap``) so that
decoding and re-encoding gives the Java side the same collection class back.

Nothing here knows the wire format.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ._errors import EncodeError

__all__ = ["Byte", "Char", "Double", "Float", "Int", "Long", "Short", "TypedList", "TypedMap"]


class _BoundedInt(int):
    """An ``int`` that refuses values outside its Java range when built."""

    __slots__ = ()
    _min = 0
    _max = 0
    java_name = ""

    def __new__(cls, value: Any = 0) -> _BoundedInt:
        if isinstance(value, float) and not value.is_integer():
            raise EncodeError(f"{cls.__name__}({value!r}): not a whole number")
        number = int.__new__(cls, value)
        if not cls._min <= number <= cls._max:
            raise EncodeError(f"{cls.__name__}({int(number)}) is outside Java {cls.java_name}'s range")
        return number

    def __repr__(self) -> str:
        return f"{type(self).__name__}({int(self)})"


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


class Float(float):
    """A Java ``float``; travels as a Hessian double (hessian-lite has no float form)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"Float({float(self)!r})"


class Char(str):
    """A Java ``char``: exactly one UTF-16 code unit, written as a one-unit string."""

    __slots__ = ()

    def __new__(cls, value: Any = "\0") -> Char:
        text = str.__new__(cls, value)
        if len(text) != 1 or ord(text) > 0xFFFF:
            raise EncodeError(f"Char({value!r}) must be exactly one BMP character")
        return text


class TypedList(list):
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

    __hash__ = None  # type: ignore[assignment]


class TypedMap(dict):
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

    __hash__ = None  # type: ignore[assignment]
