"""Give the C heap's free pages back to the system after a large frame (glibc's ``malloc_trim``).

A frame of up to ``payload_limit`` (8 MiB) is one allocation. glibc serves the first such
block with ``mmap`` and returns it on free, but that free raises its mmap threshold to the
block's size, so every later large frame comes from the heap, and freed heap memory below a
live small block stays in the process: 4-10 MiB after an attack of 8 MiB frames ended
(bench/attacks/RESULTS.md). The same holds for the answers a peer that never reads leaves
unsent (up to the write limit per connection): 18 MiB stayed after 40 such peers left.
``malloc_trim(0)`` releases the free pages of every arena (not the top of a thread's arena:
``trim_thread_arena``). The transport calls it once such
memory stopped being freed for a second, so the memory returns to where it was after an
attack without a system call per frame, and a stream of large frames reuses its pages
instead of faulting them in again after each trim. Elsewhere than glibc it is a no-op.

``configure`` fixes the two thresholds that glibc otherwise moves by itself (``mallopt``),
once per process, when a server starts: blocks under ``MMAP_FROM`` (32 MiB, glibc's
ceiling) come from the heap, and the free top of a heap is given back only past
``TRIM_FROM`` (16 MiB). A stream of large frames then reuses warm pages: its 256 KiB reads
and the 8 MiB bodies joined and decoded beside the event loop (``provider.slices``) do not
fault ~2,000 fresh pages in per frame (3-8 ms of CPU each, taken from every other caller
on a small machine), as they did when each block was mapped apart or the heap trimmed
itself after every frame. ``trim`` gives them back once such frames stopped, and
``trim_thread_arena`` the top of the decoding thread's arena, which ``malloc_trim`` leaves.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import threading
from collections.abc import Callable

__all__ = ["LARGE_FRAME", "configure", "trim"]

LARGE_FRAME = 1 << 20  # bytes: a frame at least this big is worth a trim once it is freed
MMAP_FROM = 32 << 20
TRIM_FROM = 16 << 20
_M_TRIM_THRESHOLD = -1  # mallopt parameters (malloc.h)
_M_MMAP_THRESHOLD = -3
_ARENA_PROBE = 256 * 1024  # bytes: freed, a block this large consolidates with its arena's top and trims it
# The trim threshold is one for the process: a thread that lowers it for its probe must not have it
# raised back by another (the worker and the prepare thread trim at the same moment) before its
# probe is freed. That race left the prepare thread's 8 MiB top in the process in 1 run of 5.
_THRESHOLD = threading.Lock()


@functools.cache
def _libc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None)
        libc.malloc_trim  # noqa: B018  (only glibc has it, and only glibc's mallopt takes these)
    except (OSError, AttributeError):
        return None
    return libc


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    libc = _libc()
    if libc is None:  # not glibc (musl, macOS): nothing to trim
        return None
    function = libc.malloc_trim
    function.argtypes = [ctypes.c_size_t]
    function.restype = ctypes.c_int
    return function


@functools.cache
def _functions(libc: ctypes.CDLL) -> tuple[Callable[[int, int], int], Callable[[int], int], Callable[[int], None]]:
    """glibc's mallopt, malloc and free, typed."""
    mallopt, malloc, free = libc.mallopt, libc.malloc, libc.free
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    malloc.argtypes, malloc.restype = [ctypes.c_size_t], ctypes.c_void_p
    free.argtypes, free.restype = [ctypes.c_void_p], None
    return mallopt, malloc, free


@functools.cache
def configure() -> bool:
    """Fix glibc's mmap and trim thresholds (module doc), once; whether this C library took them."""
    libc = _libc()
    if libc is None:
        return False
    mallopt = _functions(libc)[0]
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_FROM)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_FROM))


def trim_thread_arena() -> bool:
    """Give back the free top of the calling thread's own arena; whether this C library can.

    ``malloc_trim`` releases the free pages inside every arena but the top of a thread's
    arena other than the main one: the worker that joins and decodes large bodies
    (``provider.slices``) kept up to ``TRIM_FROM`` there after an attack ended. glibc trims
    that top when a block of 64 KiB or more is freed into it and the top exceeds the trim
    threshold: so for one such free the threshold is 0. Call it in that thread, when idle."""
    libc = _libc()
    if libc is None:
        return False
    mallopt, malloc, free = _functions(libc)
    with _THRESHOLD:
        mallopt(_M_TRIM_THRESHOLD, 0)
        try:
            free(malloc(_ARENA_PROBE))  # from this thread's arena, next to its top: freed, it trims the top
        finally:
            mallopt(_M_TRIM_THRESHOLD, TRIM_FROM)
    return True


def trim() -> bool:
    """Return the heap's free pages to the system; whether this C library can."""
    function = _malloc_trim()
    if function is None:
        return False
    function(0)
    return True
