"""Prometheus metrics of one provider process, and the live per-method table the console shows.

One ``ProviderMetrics`` owns its own ``CollectorRegistry`` (never the global one), so
tests and several apps in one process do not collide. It is both observers of
``provider.observability.observer``: the dispatcher feeds it dubbo:// calls, the
recommender wrapper (``recorded``) gRPC calls, the REST app its own requests.

Exposed (all prefixed ``dubbo_recsys_``)::

    requests_total{protocol,interface,method,status}      counter
    request_seconds{protocol,interface,method}            histogram
    stage_seconds{stage,kind}                             histogram (from pipeline traces)
    pipeline_answers_total{pipeline}                      counter (full, light, popular)
    breaker_state{downstream,state}                       1 for the current state of each breaker
    registry_state{registry,state}                        1 for the current registry state
    phase{phase}                                          1 for the current lifecycle phase
    version_info{kind,name,version}                       1 per scene config, model, index version

Gauges of state are read from ``ProviderState`` when scraped, so they are never stale.
``method_table()`` gives calls, errors, QPS over the last ``window`` seconds and the
mean latency per method, for ``/console/state``.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from provider.observability.errors import ObservabilityConfigError
from provider.observability.observer import dispatch_labels
from provider.observability.state import Phase, ProviderState, RegistryState

__all__ = ["ProviderMetrics", "CONTENT_TYPE"]

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
_OK_STATUSES = frozenset({"ok", "200"})
_MAX_METHODS = 512  # rows kept for the console; beyond it new keys are only counted in Prometheus


@dataclass(slots=True)
class _MethodStats:
    calls: int = 0
    errors: int = 0
    seconds: float = 0.0
    recent: deque = field(default_factory=deque)  # monotonic timestamps of calls within the window


class ProviderMetrics:
    """Counts and times calls by protocol; exposes Prometheus text; feeds the console."""

    def __init__(self, state: ProviderState | None = None, *, window: float = 10.0) -> None:
        if not 1.0 <= window <= 300.0:
            raise ObservabilityConfigError(f"window: expected 1..300 seconds, got {window!r}")
        self.state = state or ProviderState()
        self.window = window
        self.registry = CollectorRegistry(auto_describe=True)
        self._requests = Counter(
            "dubbo_recsys_requests", "Calls answered, by protocol, interface, method and status",
            ("protocol", "interface", "method", "status"), registry=self.registry,
        )
        self._latency = Histogram(
            "dubbo_recsys_request_seconds", "Time to answer a call, by protocol, interface and method",
            ("protocol", "interface", "method"), buckets=_LATENCY_BUCKETS, registry=self.registry,
        )
        self._stages = Histogram(
            "dubbo_recsys_stage_seconds", "Time spent in each pipeline stage (from stage traces)",
            ("stage", "kind"), buckets=_LATENCY_BUCKETS, registry=self.registry,
        )
        self._answers = Counter(
            "dubbo_recsys_pipeline_answers", "Answers by the pipeline that produced them",
            ("pipeline",), registry=self.registry,
        )
        self.registry.register(_StateCollector(self.state))
        self._table: dict[tuple[str, str, str], _MethodStats] = {}
        self._lock = threading.Lock()  # the console may read from another thread (tests, exporters)

    # -- observers -----------------------------------------------------------------------------

    def observe_call(self, protocol: str, interface: str, method: str, status: str, seconds: float) -> None:
        try:
            self._requests.labels(protocol, interface, method, status).inc()
            self._latency.labels(protocol, interface, method).observe(seconds)
            self._remember(protocol, interface, method, status in _OK_STATUSES, seconds)
        except Exception:  # noqa: BLE001 - recording must never fail a call
            log.exception("cannot record a %s call", protocol)

    def observe_dispatch(self, invocation: Any, outcome: Any, seconds: float) -> None:
        """``DispatchObserver``: one dubbo:// call as the dispatcher saw it."""
        try:
            interface, method, status = dispatch_labels(invocation, outcome)
        except Exception:  # noqa: BLE001
            log.exception("cannot label a dubbo call")
            return
        self.observe_call("dubbo", interface, method, status, seconds)

    def observe_stage(self, stage: str, kind: str, seconds: float) -> None:
        self._stages.labels(stage, kind).observe(max(seconds, 0.0))

    def observe_answer(self, pipeline: str) -> None:
        if pipeline:
            self._answers.labels(pipeline).inc()

    # -- readers -------------------------------------------------------------------------------

    def exposition(self) -> bytes:
        """The Prometheus text format of every metric above."""
        return generate_latest(self.registry)

    def method_table(self) -> list[dict[str, Any]]:
        """One row per (protocol, interface, method): calls, errors, qps, mean latency."""
        now = time.monotonic()
        rows = []
        with self._lock:
            for (protocol, interface, method), stats in sorted(self._table.items()):
                self._forget_old(stats, now)
                rows.append({
                    "protocol": protocol, "interface": interface, "method": method,
                    "calls": stats.calls, "errors": stats.errors,
                    "qps": round(len(stats.recent) / self.window, 3),
                    "meanMs": round(1000.0 * stats.seconds / stats.calls, 3) if stats.calls else 0.0,
                })
        return rows

    def _remember(self, protocol: str, interface: str, method: str, ok: bool, seconds: float) -> None:
        key = (protocol, interface, method)
        now = time.monotonic()
        with self._lock:
            stats = self._table.get(key)
            if stats is None:
                if len(self._table) >= _MAX_METHODS:
                    return
                stats = self._table[key] = _MethodStats()
            stats.calls += 1
            stats.errors += 0 if ok else 1
            stats.seconds += seconds
            stats.recent.append(now)
            self._forget_old(stats, now)

    def _forget_old(self, stats: _MethodStats, now: float) -> None:
        horizon = now - self.window
        recent = stats.recent
        while recent and recent[0] < horizon:
            recent.popleft()


class _StateCollector(Collector):
    """Gauges read from ``ProviderState`` at scrape time."""

    def __init__(self, state: ProviderState) -> None:
        self._state = state

    def collect(self) -> Iterator[GaugeMetricFamily]:
        state = self._state
        phase = GaugeMetricFamily("dubbo_recsys_phase", "1 for the provider's current lifecycle phase",
                                  labels=("phase",))
        for value in Phase:
            phase.add_metric((value.value,), 1.0 if state.phase is value else 0.0)
        yield phase
        registry = GaugeMetricFamily("dubbo_recsys_registry_state", "1 for the current registry state",
                                     labels=("registry", "state"))
        for value in RegistryState:
            registry.add_metric((state.registry_url, value.value),
                                1.0 if state.registry_state is value else 0.0)
        yield registry
        breakers = GaugeMetricFamily("dubbo_recsys_breaker_state",
                                     "1 for the current state of each downstream's circuit breaker",
                                     labels=("downstream", "state"))
        for name, current in state.breaker_states():
            for value in ("closed", "open", "half_open"):
                breakers.add_metric((name, value), 1.0 if current == value else 0.0)
        yield breakers
        versions = GaugeMetricFamily("dubbo_recsys_version_info",
                                     "1 per loaded scene config, model and index version",
                                     labels=("kind", "name", "version"))
        for kind, names in state.version_table().items():
            for name, version in names.items():
                versions.add_metric((kind, name, version), 1.0)
        yield versions
