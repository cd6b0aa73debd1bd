"""Types of the decoder's compiled loop (``_speedups.c``), for mypy: the extension has no Python source.

The functions are positional-only, as the C methods are (METH_VARARGS, METH_FASTCALL)."""

from collections.abc import Callable, Iterable
from typing import Any

from ._decoder import Decoder

def configure(
    table: list[Callable[[Decoder, int], Any]],
    max_depth: int,
    decode_error: type[Exception],
    convert_field: Callable[[Decoder, Callable[[Any, Any, int], Any], Any, int, str], Any],
    direct_ints: tuple[int, ...],
    long_type: type[int],
    typed_list: type[list[Any]],
    /,
) -> Callable[[Decoder, Any, Iterable[Any]], None]:
    """``Decoder.fill`` in C (an instance method object), reading with these tables and types."""

def read_exact(decoder: Decoder, exact: tuple[Any, ...], /) -> Any:
    """One instance of a definition that ``_bound.exact_plan`` described:
    ``(cls, names, codes, args, converters, cost, limits)``."""
