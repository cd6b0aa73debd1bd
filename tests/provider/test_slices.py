"""provider.slices: long work beside the event loop, a bounded slice of it per turn of the loop."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
import time
from collections.abc import Callable

import pytest

from dubbo_recsys.provider.slices import Abandoned, Slicer


def spin(seconds: float, pause: Callable[[], None], every: float = 0.0001) -> int:
    """Busy work of ``seconds``, calling ``pause`` every ``every`` seconds; how many pauses."""
    end = time.perf_counter() + seconds
    mark = time.perf_counter() + every
    pauses = 0
    while (now := time.perf_counter()) < end:
        if now >= mark:
            pause()
            pauses += 1
            mark = now + every
    return pauses


def endless(abandoned: threading.Event) -> Callable[[Callable[[], None]], None]:
    """Work that never ends by itself: it pauses until it is abandoned, and says so."""

    def work(pause: Callable[[], None]) -> None:
        try:
            while True:
                spin(0.001, pause)
        except Abandoned:
            abandoned.set()
            raise

    return work


def test_the_work_runs_in_slices_between_which_the_loop_runs_its_other_callbacks():
    async def main() -> tuple[int, int, int, str]:
        slicer = Slicer(slice_seconds=0.001)
        ticks = 0
        stop = False
        threads = set()

        def tick() -> None:
            nonlocal ticks
            ticks += 1
            if not stop:
                asyncio.get_running_loop().call_soon(tick)

        def work(pause: Callable[[], None]) -> int:
            threads.add(threading.current_thread().name)
            return spin(0.05, pause)

        asyncio.get_running_loop().call_soon(tick)
        pauses = await slicer.run(work)
        stop = True
        slicer.close()
        return pauses, slicer.slices, ticks, threads.pop()

    pauses, slices, ticks, thread = asyncio.run(main())
    assert pauses > 100
    assert slices >= 20  # 50 ms of work in slices of ~1 ms
    assert ticks >= slices - 1  # the loop ran between every two slices
    assert thread.startswith("sliced")


def test_results_and_errors_come_back_to_the_caller_and_prepare_runs_first():
    async def main() -> None:
        slicer = Slicer()
        order: list[str] = []

        def prepare() -> None:
            order.append("prepare")

        def work(pause: Callable[[], None]) -> str:
            order.append("work")
            pause()
            return "done"

        assert await slicer.run(work, prepare) == "done"
        assert order == ["prepare", "work"]

        def fails(pause: Callable[[], None]) -> None:
            raise ValueError("bad body")

        with pytest.raises(ValueError, match="bad body"):
            await slicer.run(fails)

        def prepare_fails() -> None:
            raise OSError("no memory")

        with pytest.raises(OSError, match="no memory"):
            await slicer.run(work, prepare_fails)
        assert await slicer.run(lambda pause: 7) == 7  # the worker is free again
        slicer.close()

    asyncio.run(main())


def test_jobs_beyond_the_threads_wait_and_every_one_completes():
    async def main() -> list[int]:
        slicer = Slicer(threads=1, slice_seconds=0.0005)

        def work(n: int) -> Callable[[Callable[[], None]], int]:
            def run(pause: Callable[[], None]) -> int:
                spin(0.005, pause)
                return n

            return run

        results = await asyncio.gather(*(slicer.run(work(n)) for n in range(6)))
        slicer.close()
        return list(results)

    assert asyncio.run(main()) == list(range(6))


def test_a_cancelled_caller_abandons_its_job_and_frees_the_worker():
    async def main() -> tuple[bool, int]:
        slicer = Slicer(threads=1, slice_seconds=0.0005)
        abandoned = threading.Event()
        task = asyncio.ensure_future(slicer.run(endless(abandoned)))
        await asyncio.sleep(0.02)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        after = await asyncio.wait_for(slicer.run(lambda pause: 42), 5)  # the one thread was freed
        slicer.close()
        return abandoned.wait(5), after

    assert asyncio.run(main()) == (True, 42)


def test_in_worker_runs_in_the_worker_thread_once_there_is_one():
    async def main() -> set[str]:
        slicer = Slicer(threads=1)
        names: set[str] = set()
        slicer.in_worker(lambda: names.add("before any job"))  # no worker yet: nothing
        await slicer.run(lambda pause: None)
        done = threading.Semaphore(0)

        def record() -> None:
            names.add(threading.current_thread().name)
            done.release()

        slicer.in_worker(record)  # the worker and the prepare thread
        assert done.acquire(timeout=5) and done.acquire(timeout=5)
        slicer.close()
        return names

    names = asyncio.run(main())
    assert names and all(name.startswith("sliced") for name in names)


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="threads"):
        Slicer(threads=0)
    with pytest.raises(ValueError, match="slice_seconds"):
        Slicer(slice_seconds=0)


def test_close_abandons_what_still_runs_so_no_worker_is_left_waiting():
    abandoned = threading.Event()

    async def main() -> None:
        slicer = Slicer(threads=1, slice_seconds=0.0005)
        task = asyncio.ensure_future(slicer.run(endless(abandoned)))
        await asyncio.sleep(0.02)
        slicer.close()  # as a server stopping without cancelling its calls first
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert abandoned.wait(5)


def test_release_empties_only_what_nothing_else_holds_and_pauses_between_steps():
    import hessian2
    from dubbo_recsys.provider.slices import release_unreferenced

    data = hessian2.dumps([{"ids": [f"c{i}" for i in range(10_000)], "tags": ["a", "b"]}, [list(range(5_000))]])
    decoder = hessian2.Decoder(data)
    value = decoder.read()
    built = list(decoder.refs)
    del decoder
    kept = value[0]  # a service held on to the first map: it and what it holds must stay whole
    kept_ids = kept["ids"]
    inner = value[1][0]
    del value
    pauses: list[int] = []
    release_unreferenced(built, lambda: pauses.append(1))
    assert built == []
    assert len(kept["ids"]) == 10_000 and kept["tags"] == ["a", "b"] and kept["ids"] is kept_ids
    # the list around ``inner`` was held by nothing else: emptied, it let go of ``inner``, which this test
    # holds and so kept whole
    assert inner == list(range(5_000)) and sys.getrefcount(inner) == 2
    assert len(pauses) >= 3


def test_pause_point_pauses_the_job_of_its_thread_and_nothing_elsewhere():
    from dubbo_recsys.provider.slices import pause_point

    pause_point()  # not in a job: nothing happens

    async def main() -> tuple[int, int]:
        slicer = Slicer(slice_seconds=0.0005)

        def work(pause: Callable[[], None]) -> int:
            return spin(0.02, pause_point)  # long work outside the codec, pausing by its thread's job

        calls = await slicer.run(work)
        slicer.close()
        return calls, slicer.slices

    calls, slices = asyncio.run(main())
    assert calls > 50 and slices >= 10
