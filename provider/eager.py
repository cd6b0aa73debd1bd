"""Run a call's coroutine at once, and make it a Task only if it really waits.

Most calls (``$echo``, the popularity recommender, cached answers) never wait on
anything, and a Task per call halves the throughput of those. ``provider.connection``
starts every call with ``start_eagerly``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Generator
from typing import Any

__all__ = ["start_eagerly"]


def start_eagerly(coro: Coroutine[Any, Any, None]) -> asyncio.Task[None] | None:
    """Run ``coro`` now, up to its first real suspension; only then make it a Task.

    Most calls (``$echo``, the popularity recommender, cached answers) never wait
    on anything, and a Task per call halves the throughput of those. This is what
    Python 3.12's ``eager_task_factory`` does; on 3.11 we do it by hand: step the
    coroutine once, and if it yielded a future, hand the rest to a Task that
    waits for that future and then keeps stepping the same coroutine.
    """
    try:
        yielded = coro.send(None)
    except StopIteration:
        return None
    return asyncio.ensure_future(_resume(coro, yielded))


class _Yield:
    """Awaitable that re-yields what the inner coroutine yielded, so the Task waits on it."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __await__(self) -> Generator[Any, None, None]:
        yield self.value


async def _resume(coro: Coroutine[Any, Any, None], yielded: Any) -> None:
    while True:
        try:
            await _Yield(yielded)
        except BaseException as exc:  # cancelled while waiting: let the coroutine see it
            try:
                yielded = coro.throw(exc)
            except StopIteration:
                return
            continue
        try:
            yielded = coro.send(None)
        except StopIteration:
            return
