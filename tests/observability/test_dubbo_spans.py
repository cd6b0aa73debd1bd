"""dubbo:// calls through ``RestShim.observed("dubbo", count_calls=False)``, as serve wires them:
one span per call (with stage children), counted once (by the dispatcher), stage histograms fed."""

from __future__ import annotations

import httpx
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from dubbo_recsys.interfaces.recommend import INTERFACE, VERSION, RecommendRequest
from dubbo_recsys.provider.client import DubboClient
from dubbo_recsys.provider.config import ServerConfig
from dubbo_recsys.provider.dispatch import Dispatcher
from dubbo_recsys.provider.observability.config import ObservabilityConfig
from dubbo_recsys.provider.observability.observer import UNKNOWN
from dubbo_recsys.provider.rest import RestShim, RestShimConfig
from dubbo_recsys.provider.services import default_exports
from dubbo_recsys.provider.transport import Lifecycle, Server
from tests.rest.recommenders import pipeline_recommender


@pytest.mark.asyncio
async def test_dubbo_calls_get_spans_and_stage_timings_and_are_counted_once() -> None:
    exporter = InMemorySpanExporter()
    tracing = TracerProvider()
    tracing.add_span_processor(SimpleSpanProcessor(exporter))
    recommender = pipeline_recommender()
    lifecycle = Lifecycle()
    config = RestShimConfig(port=0, observability=ObservabilityConfig(trace_every=1))
    rest = RestShim(recommender, config, tracer=tracing.get_tracer("test")).attach(lifecycle)
    exports = default_exports(rest.observed("dubbo", count_calls=False))
    server = Server(Dispatcher(exports), ServerConfig(host="127.0.0.1", port=0, drain_timeout=1), lifecycle)
    await server.start()
    try:
        async with await DubboClient.connect("127.0.0.1", server.port) as client:
            for user in ("u1", "u2"):
                answer = await client.call(
                    INTERFACE,
                    "recommend",
                    [RecommendRequest(userId=user, count=2)],
                    parameter_types=["org.dubborecsys.api.RecommendRequest"],
                    version=VERSION,
                )
                assert answer.debugInfo is None and len(answer.items) == 2
            await client.echo(INTERFACE, "ping", version=VERSION)
        async with httpx.AsyncClient(timeout=5) as http:
            text = (await http.get(f"http://127.0.0.1:{rest.port}/metrics")).text
            state = (await http.get(f"http://127.0.0.1:{rest.port}/console/state")).json()
    finally:
        await server.shutdown()
    assert (
        f'dubbo_recsys_requests_total{{interface="{INTERFACE}",method="recommend",protocol="dubbo",status="ok"}} 2.0'
    ) in text
    assert f'interface="{INTERFACE}",method="$echo",protocol="dubbo",status="ok"}} 1.0' in text
    assert 'protocol="dubbo",status="200"' not in text  # the wrapper did not count a second time
    assert 'dubbo_recsys_stage_seconds_count{kind="rank",stage="rest_test_odd_first"} 2.0' in text
    assert 'dubbo_recsys_pipeline_answers_total{pipeline="full"} 2.0' in text
    ids = [
        dict(span.attributes or {})["request.id"]
        for span in exporter.get_finished_spans()
        if span.name == "dubbo recommend"
    ]
    assert len(set(ids)) == 2  # each call its own id, although the transport starts calls eagerly
    names = sorted(span.name for span in exporter.get_finished_spans())
    assert names.count("dubbo recommend") == 2 and names.count("stage rest_test_fixed") == 2
    assert {s["interface"] for s in state["services"]} == {INTERFACE, "com.loki.www.infer.DubbogoInferService"}
    assert UNKNOWN not in text
