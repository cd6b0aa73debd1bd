"""Faults under load: a bounded concurrent load of ``recommend`` calls from the Python client runs
through each fault; no call may fail or go missing, p99 stays within ``P99_BOUND_MS``, answers are
marked degraded while the fault lasts and come from the full pipeline again once it is over.

(a) Redis stopped mid-run, then started and reloaded: the light pipeline (local features)
    answers meanwhile; the full one is back after the features breaker's recovery time.
(b) The TF Serving ranker of a scene answers slower than its deadline, then fast again.
"""
from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest

from interfaces.recommend import RecommendRequest
from provider.client import DubboClient
from tests.funnel.conftest import FEATURES_RECOVERY_SECONDS, P99_BOUND_MS
from tests.funnel.peers import LoadReport, RedisServer, known_users, recommend, run_load
from tests.funnel.slow_ranker import SlowRanker
from tests.java_sample.provider_process import RunningProvider

pytestmark = [pytest.mark.redis, pytest.mark.timeout(300)]

CONCURRENCY = 4
MAX_CALLS = 20_000  # far above what the time limit lets through on this machine; a bound, not a goal


def since(began: float) -> float:
    return time.monotonic() - began


async def until_full(report: LoadReport, began: float, after: float, timeout: float) -> float:
    """Wait until every call started in the last second after ``after`` was answered by the full pipeline."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        now = since(began)
        recent = report.pipelines(max(after, now - 1.5), now - 0.5)
        if recent and set(recent) == {"full"}:
            return now
    raise AssertionError(f"no full answers again within {timeout} s: {report.pipelines(after)}")


def assert_sound(report: LoadReport) -> None:
    assert report.issued == len(report.calls), "a call went missing"
    assert not report.failures, report.failures[:5]
    assert report.percentile(0.99) <= P99_BOUND_MS, report.summary()


def share(counts: dict[str, int], name: str) -> float:
    return counts.get(name, 0) / max(1, sum(counts.values()))


@pytest.mark.asyncio
async def test_redis_stopped_then_restarted_under_load(funnel: RunningProvider, redis_server: RedisServer,
                                                       artifacts: Path) -> None:
    stop, began, watched = asyncio.Event(), time.monotonic(), LoadReport()
    load = asyncio.create_task(run_load(funnel.host, funnel.port, known_users(artifacts), seconds=90,
                                        max_calls=MAX_CALLS, concurrency=CONCURRENCY, stop=stop, began=began,
                                        report=watched))
    try:
        await asyncio.sleep(3)
        stopped = since(began)
        await asyncio.to_thread(redis_server.stop)
        await asyncio.sleep(5)
        restarted = since(began)
        await asyncio.to_thread(redis_server.start)
        await asyncio.to_thread(redis_server.load, artifacts)
        loaded = since(began)
        back = await until_full(watched, began, loaded, FEATURES_RECOVERY_SECONDS + 20)
        await asyncio.sleep(1)
    finally:
        stop.set()
    report = await load
    print(f"\nredis fault: stopped at {stopped:.1f} s, restarted {restarted:.1f} s, reloaded {loaded:.1f} s, "
          f"full again {back:.1f} s; {report.summary()}")

    assert_sound(report)
    before, during = report.pipelines(0, stopped), report.pipelines(stopped + 0.5, restarted)
    assert share(before, "full") >= 0.9, before
    assert sum(during.values()) > 0 and "full" not in during, during
    assert share(during, "light") >= 0.9, during  # the light pipeline, not the popular list
    assert report.pipelines(back)["full"] > 0

