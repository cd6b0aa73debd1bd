"""``ObservedRecommender``: a ``Recommender`` that records every call it passes on.

Protocol adapters that do not go through the Dubbo dispatcher (the gRPC shim, the
REST app) hold one of these instead of the bare recommender. Per call it sets the
request id for logs, counts and times the call under its protocol label, feeds
stage latencies from the pipeline's traces to the ``stage_seconds`` histogram,
counts which pipeline answered, and writes an OpenTelemetry span (with one child
per stage when traces exist).

Stage traces exist only for requests run in debug mode. So that the stage
histogram fills without asking every caller for debug, one call in
``trace_every`` is run in debug mode here and its ``debugInfo`` removed again
before the caller sees it (0 turns sampling off). The answer is otherwise the
recommender's own, unchanged; a recommender that raises is recorded as
``exception`` and the error goes on to the adapter, which owns the answer.
"""

from __future__ import annotations

import dataclasses
import itertools
import time
from typing import Any

from dubbo_recsys.interfaces.recommend import RecommendRequest, RecommendResponse
from dubbo_recsys.interfaces.recommender import Recommender
from dubbo_recsys.provider.observability.errors import ObservabilityConfigError
from dubbo_recsys.provider.observability.logs import new_request_id, request_id
from dubbo_recsys.provider.observability.metrics import ProviderMetrics
from dubbo_recsys.provider.observability.tracing import default_tracer, record_spans, stage_traces

__all__ = ["ObservedRecommender"]


class ObservedRecommender:
    """Implements ``Recommender`` around another one, recording under ``protocol``."""

    def __init__(
        self,
        recommender: Recommender,
        metrics: ProviderMetrics,
        protocol: str,
        *,
        interface: str = "recommend",
        method: str = "recommend",
        trace_every: int = 16,
        tracer: Any = None,
        count_calls: bool = True,
        inherit_request_id: bool = False,
    ) -> None:
        if not isinstance(trace_every, int) or not 0 <= trace_every <= 1_000_000:
            raise ObservabilityConfigError(f"trace_every: expected 0..1000000, got {trace_every!r}")
        self.inner = recommender
        self.metrics = metrics
        self.protocol = protocol
        self.interface = interface
        self.method = method
        self.trace_every = trace_every
        self.count_calls = count_calls  # False when the adapter counts its own requests (REST)
        self.inherit_request_id = inherit_request_id  # True when the adapter set one (REST middleware)
        self._tracer = tracer if tracer is not None else default_tracer()
        self._calls = itertools.count(1)

    def labelled(self, interface: str, method: str) -> ObservedRecommender:
        """The same recording under other interface/method labels (one per REST route)."""
        twin = ObservedRecommender(
            self.inner,
            self.metrics,
            self.protocol,
            interface=interface,
            method=method,
            trace_every=self.trace_every,
            tracer=self._tracer,
            count_calls=self.count_calls,
            inherit_request_id=self.inherit_request_id,
        )
        twin._calls = self._calls
        return twin

    async def recommend(self, request: RecommendRequest) -> RecommendResponse:
        # Restore the previous id by value, not with a Token: the dubbo:// transport runs a
        # call's first step eagerly in its own context and the rest in a Task's copy of it,
        # and a Token cannot be reset in another context.
        previous = request_id.get()
        current = previous if (self.inherit_request_id and previous) else new_request_id()
        request_id.set(current)
        sampled = not request.debug and self.trace_every > 0 and next(self._calls) % self.trace_every == 0
        started_ns = time.time_ns()
        started = time.perf_counter()
        try:
            response = await self.inner.recommend(dataclasses.replace(request, debug=True) if sampled else request)
        except BaseException:
            if self.count_calls:
                self.metrics.observe_call(
                    self.protocol, self.interface, self.method, "exception", time.perf_counter() - started
                )
            request_id.set(previous)
            raise
        seconds = time.perf_counter() - started
        request_id.set(previous)
        stages = stage_traces(response.debugInfo)
        if self.count_calls:
            self.metrics.observe_call(self.protocol, self.interface, self.method, str(response.code), seconds)
        self.metrics.observe_answer(response.pipeline if response.code == 200 else "")
        for stage in stages:
            self.metrics.observe_stage(stage.stage, stage.kind, stage.millis / 1000.0)
        record_spans(
            self._tracer,
            f"{self.protocol} {self.method}",
            {
                "rpc.system": self.protocol,
                "rpc.method": self.method,
                "request.id": current,
                "recommend.scene": request.scene,
                "recommend.code": response.code,
                "recommend.pipeline": response.pipeline,
                "recommend.degraded": bool(response.degraded),
            },
            started_ns,
            started_ns + int(seconds * 1e9),
            stages,
        )
        if sampled:
            response = dataclasses.replace(response, debugInfo=None)
        return response
