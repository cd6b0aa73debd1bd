"""The runner, the stage catalog and the fallback chain, with small in-test stages."""

from __future__ import annotations

import asyncio
import json

import pytest

from dubbo_recsys.interfaces.recommend import RecommendRequest
from dubbo_recsys.pipeline import (
    Candidate,
    ConfigError,
    DeadlineExceeded,
    Downstream,
    DownstreamUnavailable,
    InFlight,
    Pipeline,
    PipelineName,
    Query,
    ResilientRecommender,
    Stage,
    StageKind,
    build_stage,
)


class ListRecall(Stage, kind=StageKind.RECALL, names=("test_list",)):
    def __init__(self, items):
        self.items = items

    @classmethod
    def from_config(cls, resources, params):
        return cls(params.get("items", resources))

    async def run(self, query, candidates):
        return [Candidate(i, 1.0 / (n + 1), ("list",)) for n, i in enumerate(self.items) if i not in query.exposure]


class ReverseRank(Stage, kind=StageKind.RANK, names=("test_reverse",)):
    async def run(self, query, candidates):
        return [Candidate(c.item_id, float(n), c.channels) for n, c in enumerate(candidates)][::-1]


class SlowRank(Stage, kind=StageKind.RANK, names=("test_slow",)):
    def __init__(self, seconds):
        self.seconds = seconds

    async def run(self, query, candidates):
        await asyncio.sleep(self.seconds)
        return candidates


class BrokenRank(Stage, kind=StageKind.RANK, names=("test_broken",)):
    async def run(self, query, candidates):
        raise RuntimeError("model server down")


def popular(_request):
    return [("p1", 3.0), ("p2", 2.0), ("p3", 1.0)]


def request(**kw):
    kw.setdefault("userId", "u1")
    kw.setdefault("count", 2)
    return RecommendRequest(**kw)


def test_catalog_resolves_names_case_insensitively_and_rejects_unknown():
    stage = build_stage(StageKind.RECALL, "TEST_LIST", ["a", "b"])
    assert isinstance(stage, ListRecall) and stage.items == ["a", "b"]
    with pytest.raises(ConfigError, match="no rank stage named 'nope'"):
        build_stage(StageKind.RANK, "nope", None)


def test_catalog_rejects_a_second_class_with_the_same_name():
    with pytest.raises(ConfigError, match="taken"):

        class Clash(Stage, kind=StageKind.RECALL, names=("test_list",)):
            pass


@pytest.mark.asyncio
async def test_full_pipeline_answers_with_rank_order_and_filters_exposure():
    full = Pipeline.of(PipelineName.FULL, [ListRecall(["a", "b", "c", "d"]), ReverseRank()])
    rec = ResilientRecommender(full=full, light=None, popular=popular)
    resp = await rec.recommend(request(exposureList=["b"]))
    assert resp.code == 200 and resp.pipeline == "full" and not resp.degraded
    assert [i.itemId for i in resp.items] == ["d", "c"]
    assert resp.items[0].channel == "list"


@pytest.mark.asyncio
async def test_slow_full_pipeline_falls_back_to_light_within_budget():
    full = Pipeline.of(PipelineName.FULL, [ListRecall(["a", "b"]), SlowRank(1.0)])
    light = Pipeline.of(PipelineName.LIGHT, [ListRecall(["x", "y"])])
    rec = ResilientRecommender(full=full, light=light, popular=popular, budget_seconds=0.05)
    started = asyncio.get_running_loop().time()
    resp = await rec.recommend(request())
    elapsed = asyncio.get_running_loop().time() - started
    assert resp.pipeline == "light" and resp.degraded
    assert [i.itemId for i in resp.items] == ["x", "y"]
    assert "DeadlineExceeded" in resp.message
    assert elapsed < 0.5


@pytest.mark.asyncio
async def test_both_pipelines_failing_answer_the_popular_list():
    full = Pipeline.of(PipelineName.FULL, [ListRecall(["a"]), BrokenRank()])
    light = Pipeline.of(PipelineName.LIGHT, [ListRecall(["a"]), BrokenRank()])
    rec = ResilientRecommender(full=full, light=light, popular=popular)
    resp = await rec.recommend(request(exposureList=["p1"], count=5))
    assert resp.code == 200 and resp.pipeline == "popular" and resp.degraded
    assert [i.itemId for i in resp.items] == ["p2", "p3"]
    assert rec.answered["popular"] == 1


@pytest.mark.asyncio
async def test_overload_sheds_to_the_light_pipeline_then_to_the_popular_list():
    """Past the in-flight bounds requests get cheaper answers at once instead of queueing."""
    full = Pipeline.of(PipelineName.FULL, [ListRecall(["a", "b"]), SlowRank(0.05)])
    light = Pipeline.of(PipelineName.LIGHT, [ListRecall(["x", "y"]), SlowRank(0.02)])
    full_bound, light_bound = InFlight(3), InFlight(2)
    rec = ResilientRecommender(
        full=full,
        light=light,
        popular=popular,
        budget_seconds=2.0,
        light_budget_seconds=2.0,
        full_inflight=full_bound,
        light_inflight=light_bound,
    )
    answers = await asyncio.gather(*(rec.recommend(request(userId=f"u{n}")) for n in range(8)))
    by = [a.pipeline for a in answers]
    assert by.count("full") == 3 and by.count("light") == 2 and by.count("popular") == 3
    assert all(a.code == 200 and a.items for a in answers)
    shed = [a for a in answers if a.pipeline != "full"]
    assert all(a.degraded and "full: overloaded (3 requests in it)" in a.message for a in shed)
    assert all("light: overloaded (2 requests in it)" in a.message for a in answers if a.pipeline == "popular")
    assert (full_bound.count, light_bound.count, full_bound.refused, light_bound.refused) == (0, 0, 5, 3)
    again = await rec.recommend(request())  # the bounds are released: the next one runs in full
    assert again.pipeline == "full" and not again.degraded


@pytest.mark.asyncio
async def test_a_failing_pipeline_gives_its_slot_back():
    full = Pipeline.of(PipelineName.FULL, [ListRecall(["a"]), BrokenRank()])
    bound = InFlight(1)
    rec = ResilientRecommender(full=full, light=None, popular=popular, full_inflight=bound)
    for _ in range(3):
        answer = await rec.recommend(request())
        assert answer.pipeline == "popular" and "RuntimeError" in answer.message and "overloaded" not in answer.message
    assert (bound.count, bound.refused) == (0, 0)
    with pytest.raises(ValueError, match="in-flight limit"):
        InFlight(-1)


@pytest.mark.asyncio
async def test_empty_full_result_is_not_an_answer():
    full = Pipeline.of(PipelineName.FULL, [ListRecall([])])
    light = Pipeline.of(PipelineName.LIGHT, [ListRecall(["z"])])
    resp = await ResilientRecommender(full=full, light=light, popular=popular).recommend(request())
    assert resp.pipeline == "light" and [i.itemId for i in resp.items] == ["z"]


@pytest.mark.asyncio
async def test_bad_request_gets_400_not_an_exception():
    full = Pipeline.of(PipelineName.FULL, [ListRecall(["a"])])
    rec = ResilientRecommender(full=full, light=None, popular=popular)
    assert (await rec.recommend(request(userId=""))).code == 400
    assert (await rec.recommend(request(count=100000))).code == 400


@pytest.mark.asyncio
async def test_debug_returns_per_stage_traces():
    full = Pipeline.of(PipelineName.FULL, [ListRecall(["a", "b", "c"]), ReverseRank()])
    resp = await ResilientRecommender(full=full, light=None, popular=popular).recommend(request(debug=True))
    assert resp.debugInfo is not None and set(resp.debugInfo) == {"test_list", "test_reverse"}
    trace = json.loads(resp.debugInfo["test_list"])
    assert trace["out"] == 3 and trace["kind"] == "recall" and trace["millis"] >= 0
    assert [t["itemId"] for t in json.loads(resp.debugInfo["test_reverse"])["top"]] == ["c", "b", "a"]


@pytest.mark.asyncio
async def test_runner_raises_deadline_exceeded_for_a_late_stage():
    pipeline = Pipeline.of(PipelineName.FULL, [SlowRank(0.5)])
    with pytest.raises(DeadlineExceeded):
        await pipeline.run(Query.start(request(), 0.02))


@pytest.mark.asyncio
async def test_runner_works_when_stepped_eagerly_outside_a_task():
    # provider.transport steps a call from the protocol's data_received callback (start_eagerly) with no
    # Task running: the first stage then has no task to time out in, and the pipeline must still answer
    # and keep its deadline. A loop callback is the same situation.
    from dubbo_recsys.provider.transport import start_eagerly

    loop = asyncio.get_running_loop()

    async def call(pipeline, budget):
        assert asyncio.current_task() is None  # as in the transport
        try:
            return [c.item_id for c in await pipeline.run(Query.start(request(), budget))]
        except DeadlineExceeded as exc:
            return exc

    async def from_callback(pipeline, budget):
        done = loop.create_future()

        async def reporting():
            try:
                done.set_result(await call(pipeline, budget))
            except BaseException as exc:
                done.set_exception(exc)

        loop.call_soon(start_eagerly, reporting())
        return await asyncio.wait_for(done, 5)

    assert await from_callback(Pipeline.of(PipelineName.FULL, [ListRecall(["a", "b"]), ReverseRank()]), 1.0) == [
        "b",
        "a",
    ]
    waits = Pipeline.of(PipelineName.FULL, [ListRecall(["a", "b"]), SlowRank(0.002), ReverseRank()])
    assert await from_callback(waits, 1.0) == ["b", "a"]
    assert isinstance(await from_callback(Pipeline.of(PipelineName.FULL, [SlowRank(0.5)]), 0.02), DeadlineExceeded)
    second_late = Pipeline.of(PipelineName.FULL, [SlowRank(0.001), SlowRank(0.5)])  # the late stage runs in a task
    assert isinstance(await from_callback(second_late, 0.05), DeadlineExceeded)


@pytest.mark.asyncio
async def test_downstream_breaker_opens_after_failures_and_recovers():
    guard = Downstream("tfserving", failure_threshold=2, recovery_seconds=0.2)

    async def fail():
        raise ConnectionError("refused")

    async def ok():
        return 42

    for _ in range(2):
        with pytest.raises(ConnectionError):
            await guard.call(fail, timeout=1)
    with pytest.raises(DownstreamUnavailable, match="circuit open"):
        await guard.call(ok, timeout=1)
    await asyncio.sleep(1.1)  # the library rounds the remaining open time to whole seconds
    assert await guard.call(ok, timeout=1) == 42
    assert guard.state == "closed"


@pytest.mark.asyncio
async def test_downstream_bounds_concurrency():
    guard = Downstream("redis", max_concurrency=1)
    release = asyncio.Event()

    async def hold():
        await release.wait()
        return "done"

    first = asyncio.create_task(guard.call(hold, timeout=1))
    await asyncio.sleep(0)
    with pytest.raises(DownstreamUnavailable, match="concurrency"):
        await guard.call(hold, timeout=1)
    release.set()
    assert await first == "done"
