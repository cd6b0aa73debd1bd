"""The codec's error tree, and how a value is named inside an error message.

::

    Hessian2Error              anything this package raises on purpose
     +-- DecodeError           bytes that are not (or not yet) one Hessian 2 value
     +-- EncodeError           a Python value with no Java meaning

``DecodeError`` always says at which byte offset the decoder stopped and why,
because a Dubbo body is opaque bytes and "invalid data" alone would leave the
reader guessing; ``path`` says where in the value (``$.items[3].score``).
``ValueError`` is a base so callers that only know the standard library still
catch both.

Error text is bounded and never runs code the input chose. Decoded values are
named with ``describe``: a type and a size, or a short truncated rendering of a
string or number, never ``repr()`` of a container (shared references make a few
hundred bytes of input render into gigabytes) nor of an application class (its
``__repr__`` would run on attacker data). Every message is cut at
``MAX_MESSAGE`` characters as a last guard.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import enum
import uuid
from collections.abc import Collection, Iterable
from typing import Any

__all__ = [
    "MAX_MESSAGE",
    "DecodeError",
    "EncodeError",
    "Hessian2Error",
    "MapKey",
    "describe",
    "known_types",
    "shorten",
    "too_many",
]

MAX_MESSAGE = 1000  # characters of a reason; the path adds at most MAX_PATH more
MAX_PATH = 300
_TEXT = 40  # characters of a string shown in a message


def too_many(count: int | None, most: int) -> str:
    """Why a container of ``count`` entries (None: a count not announced, past ``most``) is refused
    where ``MaxItems(most)`` is declared: the same words from the readers and the field checks."""
    return f"{'more than ' + str(most) if count is None else count} entries; at most {most} are accepted"


def shorten(text: str, limit: int = 80) -> str:
    """``text`` cut to ``limit`` characters (for names the input chose: class and field names)."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


class Hessian2Error(ValueError):
    """Base class of every error the codec raises on purpose."""


class DecodeError(Hessian2Error):
    """The input is truncated, malformed, hostile or beyond a safety limit.

    ``offset`` is the byte offset (from the start of the decoder's input) of the
    byte that could not be understood; ``reason`` says what was wrong; ``path``
    where in the value being decoded (``$`` alone at the top).
    """

    def __init__(self, reason: str, offset: int) -> None:
        self.reason = shorten(reason, MAX_MESSAGE)
        self.offset = offset
        self._segments: list[str] = []  # innermost first, added while the readers unwind
        super().__init__(self.reason, offset)

    def within(self, key: Any) -> None:
        """Prefix the path with one step: a field name, a list index or a map key (``MapKey``)."""
        if len(self._segments) < 512:  # nesting is bounded far below this anyway
            self._segments.append(_segment(key))

    @property
    def path(self) -> str:
        text = "$" + "".join(reversed(self._segments))
        if len(text) > MAX_PATH:
            half = MAX_PATH // 2
            text = text[:half] + "..." + text[-half:]
        return text

    def __str__(self) -> str:
        where = f" at {self.path}" if self._segments else ""
        return f"{self.reason}{where} (at byte offset {self.offset})"


class EncodeError(Hessian2Error):
    """A value cannot be written as Hessian 2 (unknown type, out of range, too deep)."""


class MapKey:
    """A map key as a path step (``[...]``), described like any value."""

    __slots__ = ("text",)

    def __init__(self, key: Any) -> None:
        self.text = describe(key)

    @classmethod
    def at(cls, index: int) -> MapKey:
        """The key of the ``index``-th entry itself (when reading the key failed)."""
        step = cls.__new__(cls)
        step.text = f"key #{index}"
        return step


def _segment(key: Any) -> str:
    if type(key) is str:
        return "." + shorten(key, 64)
    if type(key) is int:
        return f"[{key}]"
    if type(key) is MapKey:
        return f"[{key.text}]"
    return f"[{describe(key)}]"


_PLAIN = (type(None), bool, _dt.datetime, _dt.date, _dt.time, _dt.timedelta, uuid.UUID)


def _java_class(kind: type) -> str | None:
    for klass in kind.__mro__:  # type slots only: no attribute hook of the class runs
        name = klass.__dict__.get("__java_class__")
        if isinstance(name, str) and name:
            return name
    return None


def describe(value: Any) -> str:
    """A short, bounded name of ``value`` for an error message; runs no code of the value's class.

    Strings and bytes are cut to a few dozen characters, numbers shown when short,
    containers and objects by type and size only (no recursion, so shared
    references cannot amplify), anything else by its type name.
    """
    kind = type(value)
    if kind is str:
        shown = repr(value[:_TEXT])
        return shown if len(value) <= _TEXT else f"{shown}... ({len(value)} chars)"
    if kind is bytes or kind is bytearray:
        return f"{len(value)} bytes" + (f" {bytes(value[:16]).hex()}..." if value else "")
    if kind in _INTS:
        shown = int.__repr__(value) if int.bit_length(value) < 100 else f"an integer of {int.bit_length(value)} bits"
        return shown if kind is int else f"{kind.__name__}({shown})"
    if kind in _FLOATS:
        return float.__repr__(value)
    if kind is decimal.Decimal:
        if value.__sizeof__() > 128:  # a coefficient of more than ~76 digits (as_tuple would copy them all)
            return "a long BigDecimal"
        _, digits, exponent = value.as_tuple()
        if len(digits) <= 30 and isinstance(exponent, int) and -100 < exponent < 100:
            return f"BigDecimal {value}"
        return f"a BigDecimal of {len(digits)} digits"
    if kind in _PLAIN or kind in _DATES:
        return shorten(repr(value), 80)
    if isinstance(value, enum.Enum):
        return shorten(f"{kind.__qualname__}.{value._name_}", 100)
    if kind in _SIZED:
        label = getattr(value, "java_type", None) or kind.__name__
        return f"{shorten(str(label), 64)} of {len(value)} {'entries' if kind in _MAPS else 'items'}"
    java_class = value.java_class if kind in _NAMED else _java_class(kind)
    if isinstance(java_class, str):
        return f"object {shorten(java_class, 80)}"
    return f"a {shorten(kind.__qualname__, 80)}"


# Filled by the modules that define these types (they import this one): what describe()
# may render or measure without running code of an unknown class.
_INTS: set[type] = {int}
_FLOATS: set[type] = {float}
_DATES: set[type] = set()
_MAPS: set[type] = {dict}
_SIZED: set[type] = {dict, list, tuple, set, frozenset}
_NAMED: set[type] = set()


def known_types(
    *,
    ints: Iterable[type] = (),
    floats: Iterable[type] = (),
    dates: Iterable[type] = (),
    maps: Collection[type] = (),
    lists: Iterable[type] = (),
    named: Iterable[type] = (),
) -> None:
    """Let ``describe`` render this package's own types (wrappers, typed containers, ...)."""
    _INTS.update(ints)
    _FLOATS.update(floats)
    _DATES.update(dates)
    _MAPS.update(maps)
    _SIZED.update(maps, lists)
    _NAMED.update(named)
