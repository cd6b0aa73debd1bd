"""Observability of the provider: metrics, spans, structured logs, and the state the console shows.

::

    config       ObservabilityConfig: OTLP endpoint, JSON logs, trace sampling
    observer     DispatchObserver / CallObserver protocols; bounded labels (no deps)
    state        ProviderState: services, registry state, phase, breakers, versions
    metrics      ProviderMetrics: Prometheus registry + the console's per-method table
    recorded     ObservedRecommender: records calls that bypass the Dubbo dispatcher
    sources      breakers and artifact/model/index versions read off a recommender
    tracing      OpenTelemetry spans per request and stage; OTLP only when configured
    logs         JSON log lines carrying the request id

dubbo:// calls are counted by a ``ProviderMetrics`` appended to
``Dispatcher.observers``; gRPC and REST calls by ``ObservedRecommender``. The
Prometheus client is imported with ``metrics``/``recorded`` only (the ``observability``
extra); ``observer``, ``state`` and ``logs`` are free to import anywhere.
"""

from __future__ import annotations

import importlib
from typing import Any

from dubbo_recsys.provider.observability.config import ObservabilityConfig
from dubbo_recsys.provider.observability.errors import ObservabilityConfigError, ObservabilityError
from dubbo_recsys.provider.observability.observer import UNKNOWN, CallObserver, DispatchObserver, dispatch_labels
from dubbo_recsys.provider.observability.state import Phase, ProviderState, RegistryState, ServiceInfo

__all__ = [
    "UNKNOWN",
    "CallObserver",
    "DispatchObserver",
    "JsonLogFormatter",
    "ObservabilityConfig",
    "ObservabilityConfigError",
    "ObservabilityError",
    "ObservedRecommender",
    "Phase",
    "ProviderMetrics",
    "ProviderState",
    "RegistryState",
    "ServiceInfo",
    "configure_json_logs",
    "configure_tracing",
    "dispatch_labels",
    "request_id",
]

_LAZY = {
    "ProviderMetrics": "metrics",
    "ObservedRecommender": "recorded",
    "configure_tracing": "tracing",
    "configure_json_logs": "logs",
    "JsonLogFormatter": "logs",
    "request_id": "logs",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
