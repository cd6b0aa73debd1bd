"""The codec's error tree: one base class, one subclass per direction.

::

    Hessian2Error              anything this package raises on purpose
     +-- DecodeError           bytes that are not (or not yet) one Hessian 2 value
     +-- EncodeError           a Python value with no Java meaning

``DecodeError`` always says at which byte offset the decoder stopped and why,
because a Dubbo body is opaque bytes and "invalid data" alone would leave the
reader guessing. ``ValueError`` is a base so callers that only know the
standard library still catch both.
"""

from __future__ import annotations

__all__ = ["DecodeError", "EncodeError", "Hessian2Error"]


class Hessian2Error(ValueError):
    """Base class of every error the codec raises on purpose."""


class DecodeError(Hessian2Error):
    """The input is truncated, malformed, hostile or beyond a safety limit.

    ``offset`` is the byte offset (from the start of the decoder's input) of the
    byte that could not be understood; ``reason`` says what was wrong.
    """

    def __init__(self, reason: str, offset: int) -> None:
        super().__init__(f"{reason} (at byte offset {offset})")
        self.reason = reason
        self.offset = offset


class EncodeError(Hessian2Error):
    """A value cannot be written as Hessian 2 (unknown type, out of range, too deep)."""
