"""What one decode costs, on either path, in this process: CPU seconds and peak traced bytes.

``measure(run, compiled)`` runs ``run()`` with the compiled loops on or off
(``_decoder.use_compiled``; skipped as "same path" when the extension is not
built), twice: once timed with ``time.process_time`` (CPU time, so a loaded
machine's waiting does not count), once under ``tracemalloc`` for the peak (its
own run, as tracing slows allocation down). Whatever ``run`` raises other than a
``Hessian2Error`` propagates; the codec's errors are the outcome.

The bounds the tests assert (``within_budget``): CPU time ten times the target of
issue 11 (1 s per MB) plus a fixed allowance, generous on purpose so that a loaded
2-core machine cannot make them flaky; memory, which tracemalloc measures the same on
any machine, the target itself: 56 bytes per input byte (the decoder's allowance of
48 for containers, plus scalars and allocator slack) on top of its fixed allowance and
the decoder's own ~10 KiB. The measured numbers are in bench/codec/RESULTS.md.
"""

from __future__ import annotations

import contextlib
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import hessian2
from hessian2 import _decoder

SECONDS_PER_BYTE = 10e-6  # 10 x the target of 1 s per MB
MEMORY_PER_BYTE = 56  # the target of ~50 x the input
FIXED_SECONDS = 0.05
FIXED_BYTES = hessian2.MEMORY_ALLOWANCE + (256 << 10)


@dataclass
class Cost:
    cpu_s: float
    peak_bytes: int
    outcome: Any  # the value, or the Hessian2Error

    def within_budget(self, size: int) -> bool:
        return (
            self.cpu_s <= FIXED_SECONDS + SECONDS_PER_BYTE * size
            and self.peak_bytes <= FIXED_BYTES + MEMORY_PER_BYTE * size
        )


@contextlib.contextmanager
def decoding_path(compiled: bool) -> Iterator[None]:
    """The compiled decoder (when built) or the pure-Python one, for the duration."""
    previous = _decoder.use_compiled(compiled)
    try:
        yield
    finally:
        _decoder.use_compiled(previous)


def _outcome(run: Callable[[], Any]) -> Any:
    try:
        return run()
    except hessian2.Hessian2Error as exc:
        return exc


def measure(run: Callable[[], Any] | bytes, compiled: bool) -> Cost:
    if isinstance(run, bytes):
        data = run

        def run() -> Any:
            return hessian2.loads(data)

    with decoding_path(compiled):
        start = time.process_time()
        outcome = _outcome(run)
        cpu = time.process_time() - start
        del outcome
        tracemalloc.start()
        try:
            outcome = _outcome(run)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    return Cost(cpu, peak, outcome)
