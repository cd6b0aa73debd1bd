"""Swapping versions in one process: newest first, calls finish on their version, never a mix, hooks before serving.

Versions are copies of one small synthetic build (no TensorFlow: a load takes a fraction of a
second), pinned through the local pin (``ROOT/pin.json``), as ``dubbo-recsys publish`` writes it.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from dubbo_recsys.interfaces.recommend import RecommendRequest
from dubbo_recsys.pipeline.model import PipelineName
from dubbo_recsys.pipeline.resilience import ResilientRecommender
from dubbo_recsys.pipeline.runner import Pipeline
from dubbo_recsys.provider.app import PipelineApp
from dubbo_recsys.provider.observability.metrics import ProviderMetrics
from dubbo_recsys.provider.observability.sources import rollout_of
from dubbo_recsys.provider.observability.state import ProviderState
from dubbo_recsys.provider.rollout.errors import RolloutError
from dubbo_recsys.provider.rollout.pin import Pin
from dubbo_recsys.provider.rollout.pins import write_pin
from tests.rollout.conftest import one_version, rollout_app
from tests.rollout.versions import break_neighbours, derive, reorder_hot


async def until(check: Any, seconds: float = 30.0) -> None:
    began = time.monotonic()
    while not check():
        if time.monotonic() - began > seconds:
            pytest.fail(f"not within {seconds} s")
        await asyncio.sleep(0.02)


async def pin(root: Path, version: str) -> None:
    await write_pin("none", root, "", "", Pin("").publish(version))


async def ask(app: PipelineApp, user: str = "u1") -> str | None:
    answer = await app.recommend(RecommendRequest(userId=user, count=10, debug=True))
    assert answer.code == 200 and len(answer.items) == 10, answer.message
    return one_version(answer.debugInfo)


@pytest.mark.asyncio
async def test_the_newest_serves_then_a_new_version_swaps_in(tmp_path: Path, small_build: Path, opened: list) -> None:
    a, b = derive(small_build, tmp_path), derive(small_build, tmp_path, reorder_hot)
    app = rollout_app(tmp_path)
    opened.append(app)
    await app.open()
    assert app.serving.id == b and await ask(app) == b
    c = derive(small_build, tmp_path)
    await until(lambda: app.serving.id == c)
    assert await ask(app) == c
    state = app.rollout.state
    assert state.serving == c and state.swaps == 1 and state.loading == "" and state.retiring == []
    assert state.load_seconds > 0 and state.warmup_seconds > 0 and not state.last_refused
    assert a not in (state.serving, state.pin)


@pytest.mark.asyncio
async def test_a_call_ends_on_its_version_and_that_version_is_released_after_it(
    tmp_path: Path, small_build: Path, opened: list
) -> None:
    a = derive(small_build, tmp_path)
    app = rollout_app(tmp_path)
    opened.append(app)
    await app.open()
    old = app.serving
    entered, go_on = asyncio.Event(), asyncio.Event()
    real = old.scenes.recommend

    async def held(request: RecommendRequest) -> Any:
        entered.set()
        await go_on.wait()
        return await real(request)

    old.scenes.recommend = held  # this one call waits inside version A until told to go on
    call = asyncio.create_task(app.recommend(RecommendRequest(userId="u2", count=10, debug=True)))
    await entered.wait()
    b = derive(small_build, tmp_path, reorder_hot)
    await until(lambda: app.serving.id == b)
    assert await ask(app) == b  # new calls run on B at once
    assert old.retired and not old.released and app.rollout.state.retiring == [a]
    go_on.set()
    answer = await call
    assert one_version(answer.debugInfo) == a  # the held call finished on A, stage after stage
    await until(lambda: old.released)
    assert app.rollout.state.retiring == [] and old.scenes is None and old.resources is None


@pytest.mark.asyncio
async def test_never_a_mix_while_the_pin_flips_under_concurrent_calls(
    tmp_path: Path, small_build: Path, opened: list
) -> None:
    a, b = derive(small_build, tmp_path), derive(small_build, tmp_path, reorder_hot)
    await pin(tmp_path, a)
    app = rollout_app(tmp_path, poll_seconds=0.05)
    opened.append(app)
    await app.open()
    seen: list[str | None] = []
    stop = asyncio.Event()

    async def caller(n: int) -> None:
        while not stop.is_set():
            seen.append(await ask(app, f"u{n}"))
            await asyncio.sleep(0)

    callers = [asyncio.create_task(caller(n)) for n in range(8)]
    for target in (b, a, b, a, b, a):
        await pin(tmp_path, target)
        await until(lambda target=target: app.serving.id == target)
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.gather(*callers)
    assert None not in seen  # every answer ran on one version from its first stage to its last
    assert {a, b} <= set(seen) and app.rollout.state.swaps == 6
    assert len(seen) > 100


@pytest.mark.asyncio
async def test_the_mix_check_can_fail(tmp_path: Path, small_build: Path, opened: list) -> None:
    """A pipeline made of stages from two versions is caught: the check is not a tautology."""
    derive(small_build, tmp_path)
    app = rollout_app(tmp_path)
    opened.append(app)
    await app.open()
    one = app.serving.scenes.default.full  # kept: the version itself is released after the swap
    second_id = derive(small_build, tmp_path, reorder_hot)
    await until(lambda: app.serving.id == second_id)
    two = app.serving.scenes.default.full
    assert one.labels == two.labels and len(one.stages) >= 2
    stages = [one.stages[0], *two.stages[1:]]
    versions = [one.versions[0], *two.versions[1:]]
    mixed = ResilientRecommender(Pipeline.of(PipelineName.FULL, stages, one.labels, versions), None, lambda _r: [])
    answer = await mixed.recommend(RecommendRequest(userId="u1", count=10, debug=True))
    assert answer.debugInfo is not None
    answer.debugInfo["artifacts"] = json.dumps({"version": second_id})
    assert answer.code == 200 and one_version(answer.debugInfo) is None
    answer.debugInfo.pop("recallSample")
    assert one_version(answer.debugInfo) == second_id


@pytest.mark.asyncio
async def test_after_load_hooks_run_before_the_version_serves(tmp_path: Path, small_build: Path, opened: list) -> None:
    a = derive(small_build, tmp_path)
    app = rollout_app(tmp_path)
    opened.append(app)
    calls: list[tuple[str, str | None]] = []

    async def carry_over(version: Any) -> None:
        calls.append((version.id, app.serving.id if app.serving is not None else None))
        built = datetime.strptime(version.id[:16], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        assert version.built_at_ms == int(built.timestamp() * 1000)  # what a re-add of live items starts from
        version.resources.carried = True  # what re-adding live items would change

    app.after_load.append(carry_over)
    await app.open()
    b = derive(small_build, tmp_path, reorder_hot)
    await until(lambda: app.serving.id == b)
    assert calls == [(a, None), (b, a)]  # each ran while the version was not yet serving
    assert app.serving.resources.carried is True

    def broken(_version: Any) -> None:
        raise RuntimeError("the live items store is unreachable")

    app.after_load.append(broken)
    c = derive(small_build, tmp_path)
    await until(lambda: app.rollout.state.last_refused == c)
    state = app.rollout.state
    assert state.last_refusal_check == "after-load" and "unreachable" in state.last_refusal_reason
    assert app.serving.id == b and await ask(app) == b


@pytest.mark.asyncio
async def test_a_refused_version_leaves_the_serving_one_and_says_why(
    tmp_path: Path, small_build: Path, opened: list
) -> None:
    a = derive(small_build, tmp_path)
    app = rollout_app(tmp_path)
    opened.append(app)
    await app.open()
    broken = derive(small_build, tmp_path, break_neighbours)
    await until(lambda: app.rollout.state.last_refused == broken)
    state = app.rollout.state
    assert state.last_refusal_check == "finite" and "neighbors/itemcf.npz[score]" in state.last_refusal_reason
    assert app.serving.id == a and await ask(app) == a
    await asyncio.sleep(0.5)
    assert state.refusals == {"finite": 1}  # not tried again at every poll
    await pin(tmp_path, broken)  # published on purpose: tried again, refused again
    await until(lambda: state.refusals.get("finite") == 2)
    assert app.serving.id == a

    metrics = ProviderMetrics(ProviderState(rollout=rollout_of(app))).exposition().decode()
    assert f'dubbo_recsys_rollout_serving_info{{version="{a}"}} 1.0' in metrics
    assert 'dubbo_recsys_rollout_last_refusal_info{check="finite",reason=' in metrics and broken in metrics
    assert 'dubbo_recsys_rollout_refusals_total{check="finite"} 2.0' in metrics
    rows = ProviderState(rollout=rollout_of(app)).snapshot()["rollout"]
    assert rows[0]["serving"] == a and rows[0]["last_refused"] == broken


@pytest.mark.asyncio
async def test_a_version_that_does_not_fit_in_memory_is_refused_before_loading(
    tmp_path: Path, small_build: Path, opened: list
) -> None:
    derive(small_build, tmp_path)
    app = rollout_app(tmp_path)
    opened.append(app)
    await app.open()
    app.rollout.config = type(app.rollout.config)(root=tmp_path, poll_seconds=0.1, memory_limit=1024 * 1024)
    b = derive(small_build, tmp_path, reorder_hot)
    await until(lambda: app.rollout.state.last_refused == b)
    state = app.rollout.state
    assert state.last_refusal_check == "memory" and "cannot hold two versions" in state.last_refusal_reason
    assert state.serving != b and state.load_seconds >= 0


@pytest.mark.asyncio
async def test_start_skips_a_broken_newest_version_and_fails_with_nothing_valid(
    tmp_path: Path, small_build: Path, opened: list
) -> None:
    a = derive(small_build, tmp_path)
    broken = derive(small_build, tmp_path, break_neighbours)
    app = rollout_app(tmp_path)
    opened.append(app)
    await app.open()
    assert app.serving.id == a and app.rollout.state.last_refused == broken

    empty = tmp_path / "empty"
    empty.mkdir()
    derive(small_build, empty, break_neighbours)
    nothing = rollout_app(empty)
    opened.append(nothing)
    with pytest.raises(RolloutError, match=r"nothing to serve from --artifact-root.*finite"):
        await nothing.open()
