"""ObservedRecommender: counts, stage histograms from sampled traces, spans per request and stage."""

from __future__ import annotations

import json
import logging

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from dubbo_recsys.interfaces.recommend import RecommendRequest
from dubbo_recsys.provider.observability import ObservabilityConfigError, request_id
from dubbo_recsys.provider.observability.logs import JsonLogFormatter, RequestIdFilter
from dubbo_recsys.provider.observability.metrics import ProviderMetrics
from dubbo_recsys.provider.observability.recorded import ObservedRecommender
from tests.rest.recommenders import RaisingRecommender, pipeline_recommender


def _tracer() -> tuple[object, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider.get_tracer("test"), exporter


@pytest.mark.asyncio
async def test_one_call_in_n_is_traced_and_the_caller_never_sees_it() -> None:
    metrics = ProviderMetrics()
    observed = ObservedRecommender(pipeline_recommender(), metrics, "grpc", trace_every=4)
    answers = [await observed.recommend(RecommendRequest(userId=f"u{i}", count=2)) for i in range(8)]
    assert all(a.debugInfo is None for a in answers)
    text = metrics.exposition().decode()
    assert 'dubbo_recsys_stage_seconds_count{kind="recall",stage="rest_test_fixed"} 2.0' in text
    assert 'dubbo_recsys_stage_seconds_count{kind="rank",stage="rest_test_odd_first"} 2.0' in text
    assert (
        'dubbo_recsys_requests_total{interface="recommend",method="recommend",protocol="grpc",status="200"} 8.0'
    ) in text
    assert 'dubbo_recsys_pipeline_answers_total{pipeline="full"} 8.0' in text


@pytest.mark.asyncio
async def test_a_caller_asking_for_debug_keeps_its_traces() -> None:
    observed = ObservedRecommender(pipeline_recommender(), ProviderMetrics(), "grpc", trace_every=0)
    answer = await observed.recommend(RecommendRequest(userId="u1", debug=True))
    assert answer.debugInfo is not None and set(answer.debugInfo) == {"rest_test_fixed", "rest_test_odd_first"}
    plain = await observed.recommend(RecommendRequest(userId="u1"))
    assert plain.debugInfo is None


@pytest.mark.asyncio
async def test_a_span_per_request_and_a_child_per_stage_in_order() -> None:
    tracer, exporter = _tracer()
    observed = ObservedRecommender(pipeline_recommender(), ProviderMetrics(), "grpc", trace_every=1, tracer=tracer)
    await observed.recommend(RecommendRequest(userId="u1", scene="home"))
    spans = {span.name: span for span in exporter.get_finished_spans()}
    assert set(spans) == {"grpc recommend", "stage rest_test_fixed", "stage rest_test_odd_first"}
    root, recall, rank = spans["grpc recommend"], spans["stage rest_test_fixed"], spans["stage rest_test_odd_first"]
    assert recall.parent is not None and rank.parent is not None and root.context is not None
    assert recall.parent.span_id == root.context.span_id and rank.parent.span_id == root.context.span_id
    times = [root.start_time, recall.start_time, recall.end_time, rank.start_time, rank.end_time, root.end_time]
    assert None not in times and times == sorted(times)  # type: ignore[type-var]  # no None: checked first
    root_attributes, rank_attributes = dict(root.attributes or {}), dict(rank.attributes or {})
    assert root_attributes["recommend.scene"] == "home" and root_attributes["recommend.pipeline"] == "full"
    assert rank_attributes["candidates.in"] == 30 and rank_attributes["candidates.out"] == 15
    assert len(str(root_attributes["request.id"])) == 32


@pytest.mark.asyncio
async def test_a_raising_recommender_is_counted_and_the_error_goes_on() -> None:
    metrics = ProviderMetrics()
    observed = ObservedRecommender(RaisingRecommender(), metrics, "grpc")
    with pytest.raises(RuntimeError):
        await observed.recommend(RecommendRequest(userId="u1"))
    assert 'protocol="grpc",status="exception"} 1.0' in metrics.exposition().decode()
    assert request_id.get() == ""  # the context is restored


def test_trace_every_is_checked() -> None:
    with pytest.raises(ObservabilityConfigError, match="trace_every"):
        ObservedRecommender(RaisingRecommender(), ProviderMetrics(), "grpc", trace_every=-1)


@pytest.mark.asyncio
async def test_log_lines_written_during_a_call_carry_its_request_id(caplog) -> None:
    class Logging:
        async def recommend(self, request):
            logging.getLogger("tests.observability").warning("inside %s", request.userId)
            return await pipeline_recommender().recommend(request)

    observed = ObservedRecommender(Logging(), ProviderMetrics(), "grpc", trace_every=0)
    caplog.handler.addFilter(RequestIdFilter())
    with caplog.at_level(logging.WARNING, logger="tests.observability"):
        await observed.recommend(RecommendRequest(userId="u7"))
    records = [r for r in caplog.records if r.name == "tests.observability"]
    assert len(records) == 1
    line = json.loads(JsonLogFormatter().format(records[0]))
    assert line["message"] == "inside u7" and line["level"] == "WARNING"
    assert len(line["requestId"]) == 32
