"""OpenTelemetry spans for requests and their pipeline stages; OTLP export only when asked.

By default nothing is configured: the OpenTelemetry API hands out no-op tracers,
so a span costs a function call. ``configure_tracing(endpoint)`` installs the SDK's
``TracerProvider`` and, when ``endpoint`` is given and the OTLP/HTTP exporter is
installed, a batch exporter to it. The API and SDK are imported inside functions:
``import provider.observability`` must not pay for them.

Stage spans are written after the request from its stage traces (``StageTrace``
JSON in ``RecommendResponse.debugInfo``): the runner records how long each stage
took, and stages run one after another, so each stage span starts where the
previous one ended. Only requests that carry traces (debug or sampled) get them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

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


def stage_traces(debug_info: Mapping[str, str] | None) -> list[tuple[str, dict[str, Any]]]:
    """``(stage name, trace)`` for every stage trace in a ``debugInfo`` map, in order.

    Entries that are not a stage trace (``failures``, a recommender's free-form
    notes) or not JSON are skipped; a trace is a JSON object with ``millis``.
    """
    found = []
    for stage, text in (debug_info or {}).items():
        try:
            document = json.loads(text)
        except (TypeError, ValueError):
            continue
        if isinstance(document, dict) and isinstance(document.get("millis"), (int, float)):
            found.append((stage, document))
    return found


def record_spans(
    tracer: Any,
    name: str,
    attributes: Mapping[str, Any],
    started_ns: int,
    ended_ns: int,
    stages: list[tuple[str, dict[str, Any]]],
) -> None:
    """One span for the request and one child per stage, timed as the stages ran."""
    if tracer is None:
        return
    from opentelemetry import trace

    span = tracer.start_span(name, start_time=started_ns, attributes=dict(attributes))
    context = trace.set_span_in_context(span)
    cursor = started_ns
    for stage, document in stages:
        length = int(float(document["millis"]) * 1_000_000)
        child = tracer.start_span(
            f"stage {stage}",
            context=context,
            start_time=cursor,
            attributes={
                "stage": stage,
                "stage.kind": str(document.get("kind", "")),
                "candidates.in": int(document.get("in", 0)),
                "candidates.out": int(document.get("out", 0)),
            },
        )
        cursor = min(cursor + length, ended_ns)
        child.end(end_time=cursor)
    span.end(end_time=ended_ns)
