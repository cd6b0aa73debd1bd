"""``start_eagerly``: synchronous completion without a Task, suspension handed to one."""

from __future__ import annotations

import asyncio

import pytest

from dubbo_recsys.provider.transport import start_eagerly


@pytest.mark.asyncio
async def test_completes_without_task_when_nothing_waits():
    seen = []

    async def quick() -> None:
        seen.append("ran")

    assert start_eagerly(quick()) is None
    assert seen == ["ran"]  # ran before start_eagerly returned


@pytest.mark.asyncio
async def test_suspension_continues_in_a_task():
    seen = []
    gate = asyncio.get_running_loop().create_future()

    async def waits() -> None:
        seen.append("before")
        seen.append(await gate)
        await asyncio.sleep(0)  # a bare yield
        await asyncio.sleep(0.01)
        seen.append("after")

    task = start_eagerly(waits())
    assert task is not None and seen == ["before"]
    gate.set_result("value")
    await task
    assert seen == ["before", "value", "after"]


@pytest.mark.asyncio
async def test_exceptions_and_cancellation_reach_the_coroutine():
    gate = asyncio.get_running_loop().create_future()
    seen = []

    async def fails() -> None:
        try:
            await gate
        except ValueError as exc:
            seen.append(str(exc))

    task = start_eagerly(fails())
    assert task is not None
    gate.set_exception(ValueError("bad"))
    await task
    assert seen == ["bad"]

    async def sleeps() -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            seen.append("cancelled")
            raise

    task = start_eagerly(sleeps())
    assert task is not None
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert seen == ["bad", "cancelled"]
