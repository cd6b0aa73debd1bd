"""Run a long blocking function beside the event loop, a bounded slice of it per turn of the loop.

Why: decoding a large request body is CPU work that cannot wait for I/O. Run in one
callback, an 8 MiB body held every other caller for 10-35 ms (random bytes, decoded to
their first error) and up to a second for a valid one (bench/attacks/RESULTS.md). Handed
to ``run_in_executor`` it is no better: the decode holds the GIL, and CPython makes a
thread that holds it give it up only at a bytecode boundary after the 5 ms switch
interval, which the codec's compiled loop never reaches.

How: the function runs in a worker thread, but only while the loop thread waits for it.
Each turn of the loop, one job gets one slice: the loop thread lets its worker go and
blocks until the worker reaches the function's next ``pause()`` after ``slice_seconds``
(or the function returns); then the loop runs its other callbacks and polls its sockets
before the next slice. A caller beside such jobs waits for at most one slice per turn,
however many run, and no two threads ever want the GIL at once. The function must call
``pause`` often (``hessian2.Decoder(pause=...)`` calls it every 4 KiB of input).

A job's ``prepare`` step runs first, in a thread of its own at the lowest CPU priority
(nice 19), free of the loop: work that releases the GIL (joining a large body's chunks:
an 8 MiB copy) then overlaps the loop instead of lengthening a slice, and yields the CPU
to every other task that wants it. At normal priority, joins of a stream of 8 MiB frames
on the second core took the CPU the callers beside them needed (p99 4x on 2 cores).

At most ``threads`` jobs run at once; the others wait their turn (``run`` awaits).
A job whose awaiting task is cancelled is abandoned: its function sees
``Abandoned`` (a ``BaseException``) raised from its next ``pause`` and its thread is freed.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import itertools
import os
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Generic, TypeVar

__all__ = ["Abandoned", "Slicer", "pause_point", "release_unreferenced"]

T = TypeVar("T")

SLICE_SECONDS = 0.0005  # a caller beside a decode waits about this much more
THREADS = 1  # large decodes at once (only one runs at a time anyway); what waits holds only its body


_current = threading.local()  # .pause: the pause of the job this thread runs, if it runs one


def pause_point() -> None:
    """Where long CPU work outside the codec may give the event loop its turn (argument checks
    of a million items): in the thread of a sliced job, that job's pause; anywhere else nothing."""
    pause = getattr(_current, "pause", None)
    if pause is not None:
        pause()


class Abandoned(BaseException):
    """Raised from ``pause`` in a job whose caller stopped waiting: unwind and end."""


class _Job(Generic[T]):
    """One function call run in slices; ``step`` is called by the loop thread only."""

    __slots__ = ("_back", "_go", "_until", "abandoned", "done", "error", "finished", "result", "work")

    def __init__(self, work: Callable[[Callable[[], None]], T], finished: asyncio.Future[None]) -> None:
        self.work = work
        self.finished = finished
        self._go = threading.Lock()  # released by the loop thread: the worker may run one slice
        self._back = threading.Lock()  # released by the worker: its slice is over
        self._go.acquire()
        self._back.acquire()
        self._until = 0.0
        self.abandoned = False
        self.done = False
        self.result: T | None = None
        self.error: BaseException | None = None

    # -- in the worker thread

    def run(self, slice_seconds: float, ready: Callable[[_Job[T]], None]) -> None:
        ready(self)  # from now on the loop gives it turns
        try:
            self._go.acquire()
            if self.abandoned:
                raise Abandoned
            self._until = time.perf_counter() + slice_seconds
            _current.pause = pause = functools.partial(self._pause, slice_seconds)
            self.result = self.work(pause)
        except BaseException as exc:  # handed to the awaiting task, raised there
            self.error = exc
        finally:
            _current.pause = None
            self.done = True
            self._back.release()

    def _pause(self, slice_seconds: float) -> None:
        if time.perf_counter() < self._until:
            return
        self._back.release()
        self._go.acquire()
        if self.abandoned:
            raise Abandoned
        self._until = time.perf_counter() + slice_seconds

    # -- in the loop thread

    def step(self) -> None:
        """Let the worker run one slice; return when it paused or finished."""
        self._go.release()
        self._back.acquire()

    def abandon(self) -> None:
        """Nobody waits for the outcome: end the worker at its next pause (it is never mid-slice here)."""
        if not self.abandoned:
            self.abandoned = True
            if not self.done:
                self._go.release()


class Slicer:
    """Runs functions in worker threads, one ``slice_seconds`` slice per turn of the loop (module doc)."""

    def __init__(self, threads: int = THREADS, slice_seconds: float = SLICE_SECONDS) -> None:
        if threads < 1 or slice_seconds <= 0:
            raise ValueError(f"threads must be >= 1 and slice_seconds > 0, got {threads} and {slice_seconds}")
        self.threads = threads
        self.slice_seconds = slice_seconds
        self.slices = 0  # slices run so far (tests, metrics)
        self._pool: ThreadPoolExecutor | None = None
        self._prepare_pool: ThreadPoolExecutor | None = None
        self._free: asyncio.Semaphore | None = None
        self._turns: collections.deque[_Job[Any]] = collections.deque()
        self._scheduled = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._jobs: set[_Job[Any]] = set()  # started and not yet finished: close abandons them
        self._releasing: set[asyncio.Task[None]] = set()  # release_soon's jobs

    async def run(self, work: Callable[[Callable[[], None]], T], prepare: Callable[[], None] | None = None) -> T:
        """``work(pause)`` in a worker thread, in slices; its result, or what it raised."""
        loop = asyncio.get_running_loop()
        if self._pool is None or self._prepare_pool is None or self._free is None or self._loop is not loop:
            self._start(loop)
        assert self._pool is not None and self._free is not None
        async with self._free:
            if prepare is not None:
                assert self._prepare_pool is not None
                await loop.run_in_executor(self._prepare_pool, prepare)
            job: _Job[T] = _Job(work, loop.create_future())
            self._pool.submit(job.run, self.slice_seconds, self._prepared)
            self._jobs.add(job)
            try:
                await job.finished
            except asyncio.CancelledError:
                job.abandon()
                raise
            finally:
                self._jobs.discard(job)
        error, result = job.error, job.result
        job.error = job.result = None  # the job is in the frames of a traceback: keep it out of a cycle
        if error is not None:
            try:
                raise error
            finally:
                del error
        return result  # type: ignore[return-value]  # done without an error: work returned a T

    def release_soon(self, built: list[Any]) -> None:
        """``release_unreferenced(built)`` as a job of its own, from the next turn of the loop on (the
        caller's frame, which may hold the values, is gone by then)."""
        if built:
            asyncio.get_running_loop().call_soon(self._release, built)

    def _release(self, built: list[Any]) -> None:
        task = asyncio.ensure_future(self.run(functools.partial(release_unreferenced, built)))
        self._releasing.add(task)  # a task nobody holds may be collected before it ends
        task.add_done_callback(self._releasing.discard)

    def in_worker(self, function: Callable[[], object]) -> None:
        """Run ``function`` in the worker thread and in the prepare thread once they are free
        (``heap.trim_thread_arena``); no-op before the first job."""
        if self._pool is not None and self.threads == 1:
            self._pool.submit(function)
        if self._prepare_pool is not None:
            self._prepare_pool.submit(function)

    def close(self) -> None:
        """Abandon the jobs still running and let the worker threads end (an interpreter waits for
        them at exit: one left waiting for its next slice would hold the process forever)."""
        for job in list(self._jobs):
            job.abandon()
        self._jobs.clear()
        self._turns.clear()
        for pool in (self._pool, self._prepare_pool):
            if pool is not None:
                pool.shutdown(wait=False)
        self._pool = self._prepare_pool = None

    def _start(self, loop: asyncio.AbstractEventLoop) -> None:
        self.close()
        self._loop = loop
        self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="sliced")
        self._prepare_pool = ThreadPoolExecutor(1, thread_name_prefix="sliced-prepare", initializer=_lowest_priority)
        self._free = asyncio.Semaphore(self.threads)

    def _prepared(self, job: _Job[Any]) -> None:
        """In the worker: its job may now take turns (called from the worker thread)."""
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._enqueue, job)

    def _enqueue(self, job: _Job[Any]) -> None:
        if job.abandoned:
            return  # its worker ends by itself
        self._turns.append(job)
        self._schedule()

    def _schedule(self) -> None:
        if not self._scheduled and self._turns:
            self._scheduled = True
            assert self._loop is not None
            self._loop.call_soon(self._turn)

    def _turn(self) -> None:
        """One slice of the job whose turn it is; the others wait for the next turns of the loop."""
        self._scheduled = False
        job = self._turns.popleft()
        if not job.abandoned:
            job.step()
            self.slices += 1
        if job.done or job.abandoned:
            if not job.finished.done():
                job.finished.set_result(None)
        else:
            self._turns.append(job)
        self._schedule()


_STEP = 4096  # items let go between two calls of pause
_ONLY_BUILT = 3  # sys.getrefcount of an item held only by ``built``: its slot, the loop's name, the call's argument


def release_unreferenced(built: list[Any], pause: Callable[[], None]) -> None:
    """Let go of decoded values in steps: each container of ``built`` (a decoder's ``refs``, oldest
    first) that nothing else holds is emptied, ``_STEP`` items at a time, calling ``pause`` between.

    Why: freeing a request's million candidate ids when the call ends was 11 ms of one callback.
    Why it is safe: parents come before their children in ``refs``; a parent emptied gives up
    its hold on them, one still held elsewhere (a service kept the request) is left as it is, and
    so are its children, which it still holds. Run it once the call is over and answered."""
    for index in range(len(built)):
        item = built[index]
        if sys.getrefcount(item) <= _ONLY_BUILT:
            _empty(item, pause)
        del item
        if not index % _STEP:
            pause()
    while built:
        del built[-_STEP:]
        pause()


def _empty(item: Any, pause: Callable[[], None]) -> None:
    entries = getattr(item, "entries", None)  # hessian2.MapEntries: its pairs are a list
    if isinstance(entries, list):
        item = entries
    elif not isinstance(item, (list, dict)):
        item = getattr(item, "__dict__", None)  # an object's fields
    if isinstance(item, list):
        while item:
            del item[-_STEP:]
            pause()
    elif isinstance(item, dict):
        while len(item) > _STEP:
            for key in list(itertools.islice(item, _STEP)):
                del item[key]
            pause()
        item.clear()


def _lowest_priority() -> None:
    """The calling thread yields the CPU to every other task (Linux: a thread's nice value is its own)."""
    if sys.platform == "linux":
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
