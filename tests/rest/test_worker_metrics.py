"""``serve --workers 2 --rest-port P``: one /metrics with every worker's calls, labelled ``worker``.

A real ``serve`` process with two workers on one SO_REUSEPORT port; many short
connections make the kernel spread calls over both workers; the scrape of the
first worker's REST port must account for every call, split by worker.
Also the merge itself on documents where a sibling did not answer.
"""

from __future__ import annotations

import asyncio
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from dubbo_recsys.interfaces.recommend import RecommendRequest
from dubbo_recsys.provider.client import DubboClient
from dubbo_recsys.provider.observability.workers import merge_expositions
from tests.provider.test_lifecycle import start, stop
from tests.support import free_port

CALLS = 40


def _samples(text: str, name: str) -> list:
    return [s for family in text_string_to_metric_families(text) for s in family.samples if s.name == name]


def _scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
        return answer.read().decode()


@pytest.mark.asyncio
async def test_metrics_of_every_worker_in_one_scrape():
    rest_port = free_port()
    proc, port = start(
        "-m", "dubbo_recsys.provider.cli", "serve", "--port", "0", "--workers", "2", "--rest-port", str(rest_port)
    )
    try:
        for i in range(CALLS):  # a fresh connection each time: SO_REUSEPORT spreads connections, not calls
            async with await DubboClient.connect("127.0.0.1", port) as client:
                response = await client.call(
                    "org.dubborecsys.api.RecommendService",
                    "recommend",
                    [RecommendRequest(userId=f"u{i}", count=1)],
                    parameter_types=["org.dubborecsys.api.RecommendRequest"],
                    version="1.0.0",
                )
                assert response.code == 200
        text = await asyncio.get_running_loop().run_in_executor(None, _scrape, rest_port)
    finally:
        assert stop(proc) == 0
    up = {s.labels["worker"]: s.value for s in _samples(text, "dubbo_recsys_worker_up")}
    assert up == {"0": 1.0, "1": 1.0}
    calls = [
        s
        for s in _samples(text, "dubbo_recsys_requests_total")
        if s.labels.get("protocol") == "dubbo" and s.labels.get("method") == "recommend"
    ]
    per_worker = {s.labels["worker"]: s.value for s in calls}
    assert sum(per_worker.values()) == CALLS
    assert set(per_worker) == {"0", "1"}  # both took calls (all 40 on one worker: odds 2 ** -39)


def test_merge_labels_each_worker_and_marks_a_silent_one():
    from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

    documents: list[tuple[str, bytes | None]] = []
    for worker, calls in (("0", 3), ("1", 5)):
        registry = CollectorRegistry()
        counter = Counter("dubbo_recsys_requests", "calls", ["method"], registry=registry)
        histogram = Histogram("dubbo_recsys_request_seconds", "latency", ["method"], registry=registry)
        counter.labels("recommend").inc(calls)
        histogram.labels("recommend").observe(0.01 * calls)
        documents.append((worker, generate_latest(registry)))
    documents.append(("2", None))
    text = merge_expositions(documents).decode()
    totals = {s.labels["worker"]: s.value for s in _samples(text, "dubbo_recsys_requests_total")}
    assert totals == {"0": 3.0, "1": 5.0}
    sums = {s.labels["worker"]: s.value for s in _samples(text, "dubbo_recsys_request_seconds_sum")}
    assert sums == pytest.approx({"0": 0.03, "1": 0.05})
    assert {s.labels["worker"]: s.value for s in _samples(text, "dubbo_recsys_worker_up")} == {
        "0": 1.0,
        "1": 1.0,
        "2": 0.0,
    }
    families = [f.name for f in text_string_to_metric_families(text)]
    assert len(families) == len(set(families))  # one family per name, not one per worker
