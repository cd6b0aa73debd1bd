"""Give the C heap's free pages back to the system after a large frame (glibc's ``malloc_trim``).

A frame of up to ``payload_limit`` (8 MiB) is one allocation. glibc serves the first such
block with ``mmap`` and returns it on free, but that free raises its mmap threshold to the
block's size, so every later large frame comes from the heap, and freed heap memory below a
live small block stays in the process: 4-10 MiB after an attack of 8 MiB frames ended
(bench/attacks/RESULTS.md). The same holds for the answers a peer that never reads leaves
unsent (up to the write limit per connection): 18 MiB stayed after 40 such peers left.
``malloc_trim(0)`` releases the free pages of every arena. The transport calls it once such
memory stopped being freed for a second, so the memory returns to where it was after an
attack without a system call per frame, and a stream of large frames reuses its pages
instead of faulting them in again after each trim. Elsewhere than glibc it is a no-op.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from collections.abc import Callable

__all__ = ["LARGE_FRAME", "trim"]

LARGE_FRAME = 1 << 20  # bytes: a frame at least this big is worth a trim once it is freed


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None)
        function = libc.malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to trim
        return None
    function.argtypes = [ctypes.c_size_t]
    function.restype = ctypes.c_int
    return function


def trim() -> bool:
    """Return the heap's free pages to the system; whether this C library can."""
    function = _malloc_trim()
    if function is None:
        return False
    function(0)
    return True
