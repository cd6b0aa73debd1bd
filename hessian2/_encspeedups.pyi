"""Types of the encoder's compiled writers (``_encspeedups.c``), for mypy: the extension has no Python source.

The functions are positional-only, as the C methods are (METH_VARARGS, METH_FASTCALL, METH_O)."""

from collections.abc import Callable
from typing import Any

from ._encoder import Encoder, ObjectPlan

def configure(
    pure_write_any: Callable[[Encoder, Any], None],
    dispatch: dict[type, Callable[[Encoder, Any], None]],
    plans: dict[type, ObjectPlan],
    write_bound: Callable[[Encoder, Any], None],
    begin_object: Callable[[Encoder, str, tuple[str, ...], Any], None],
    encode_error: type[Exception],
    max_depth: int,
    /,
) -> None:
    """Give the C writers the Python writers they call back and the tables they read."""

def write_any(enc: Encoder, value: Any, /) -> None:
    """``Encoder.write_any`` in C."""

def write_plan(native: tuple[Any, ...], enc: Encoder, obj: Any, /) -> None:
    """An ``ObjectPlan``'s writer in C (``native`` is the plan's ``native`` tuple)."""

def set_enabled(flag: bool, /) -> bool:
    """False hands every call to the pure-Python writers; returns the previous setting."""
