"""OpenTelemetry spans for requests and their pipeline stages; OTLP export only when asked.

By default nothing is configured: the OpenTelemetry API hands out no-op tracers,
so a span costs a function call. ``configure_tracing(endpoint)`` installs the SDK's
``TracerProvider`` and, when ``endpoint`` is given and the OTLP/HTTP exporter is
installed, a batch exporter to it. The API and SDK are imported inside functions:
``import provider.observability`` must not pay for them.

Stage spans are written after the request from its stage traces (``interfaces.explain``,
read out of ``RecommendResponse.debugInfo``): the runner records how long each stage
took, and stages run one after another, so each stage span starts where the
previous one ended. Only requests that carry traces (debug or sampled) get them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from dubbo_recsys.interfaces.explain import Explain, StageExplain

__all__ = ["TRACER_NAME", "configure_tracing", "default_tracer", "record_spans", "stage_traces"]

log = logging.getLogger(__name__)

TRACER_NAME = "dubbo_recsys"


def configure_tracing(otlp_endpoint: str = "", service_name: str = "dubbo-recsys") -> bool:
    """Install the SDK tracer provider (once per process); say whether spans are exported."""
    try:
        from opentelemetry import trace
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
    except ImportError:
        log.warning("opentelemetry-sdk is not installed: spans are not recorded")
        return False
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    exporting = False
    if otlp_endpoint:
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
            from opentelemetry.sdk.trace.export import BatchSpanProcessor
        except ImportError:
            log.warning(
                "OTLP endpoint %s set but opentelemetry-exporter-otlp-proto-http is not installed", otlp_endpoint
            )
        else:
            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=otlp_endpoint)))
            exporting = True
    trace.set_tracer_provider(provider)
    return exporting


def default_tracer() -> Any:
    """The process's tracer, or ``None`` when no SDK tracer provider is installed (or no API).

    ``None`` lets callers skip span bookkeeping altogether: the API's no-op spans
    still cost a few microseconds per request. So install the provider
    (``configure_tracing`` or your own) before building what records spans.
    """
    try:
        from opentelemetry import trace
    except ImportError:
        return None
    provider = trace.get_tracer_provider()
    if isinstance(provider, (trace.ProxyTracerProvider, trace.NoOpTracerProvider)):
        return None
    return trace.get_tracer(TRACER_NAME)


def stage_traces(debug_info: Mapping[str, str] | None) -> tuple[StageExplain, ...]:
    """The stage traces of a ``debugInfo`` map, in order (``interfaces.explain`` reads it; the rest is skipped)."""
    return Explain.from_debug_info(debug_info).stages if debug_info else ()


def record_spans(
    tracer: Any,
    name: str,
    attributes: Mapping[str, Any],
    started_ns: int,
    ended_ns: int,
    stages: Sequence[StageExplain],
) -> None:
    """One span for the request and one child per stage, timed as the stages ran."""
    if tracer is None:
        return
    from opentelemetry import trace

    span = tracer.start_span(name, start_time=started_ns, attributes=dict(attributes))
    context = trace.set_span_in_context(span)
    cursor = started_ns
    for stage in stages:
        length = int(stage.millis * 1_000_000)
        child = tracer.start_span(
            f"stage {stage.stage}",
            context=context,
            start_time=cursor,
            attributes={
                "stage": stage.stage,
                "stage.kind": stage.kind,
                "candidates.in": stage.candidatesIn,
                "candidates.out": stage.candidatesOut,
            },
        )
        cursor = min(cursor + length, ended_ns)
        child.end(end_time=cursor)
    span.end(end_time=ended_ns)
