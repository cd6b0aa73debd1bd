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
    pipeline_inflight{pipeline}, pipeline_inflight_limit  requests inside the full / light pipeline, and the bound
    pipeline_shed_total{pipeline}                         counter: requests sent past a pipeline at its bound
    registry_state{registry,state}                        1 for the current registry state
    realtime_consumer_lag{consumer,partition}             records not yet consumed, per partition a consumer holds
    realtime_events_total{consumer,outcome}               applied, redelivered, duplicate, late (trend window)
    realtime_dead_letters_total{consumer,reason}          refused events sent to the dead-letter topic
    realtime_items_total{consumer,op}                     item events applied (upsert, remove)
    realtime_freshness_seconds{consumer}                  histogram: event ts -> applied in Redis
    realtime_live_items{state}                            live items this provider serves (live, removed)
    realtime_follow_errors_total                          failed follower steps (live items, trending)
    phase{phase}                                          1 for the current lifecycle phase
    version_info{kind,name,version}                       1 per scene config, model, index version
    rollout_serving_info{version}, rollout_loading_info{version}   1 for the artifact version serving / loading
    rollout_last_refusal_info{version,check,reason}      1 for the last version the rollout refused
    rollout_load_seconds, rollout_warmup_seconds, rollout_gate_seconds, rollout_load_rss_bytes   of the serving version
    rollout_retiring_versions                             swapped-out versions still finishing calls
    rollout_swaps_total, rollout_refusals_total{check}    counters

Request counts and latencies are plain integers per method, turned into Prometheus
families when scraped (recording a dubbo:// call costs about 2 us with the dispatch
wrapper; the client library's locked children cost 10). Gauges of state are read
from ``ProviderState`` when scraped, so they are never stale.
``method_table()`` gives calls, errors, QPS over the last ``window`` seconds and the
mean latency per method, for ``/console/state``; ``history`` keeps 15 minutes of the
same counters (and stage timings, answers, shed load) for the console's charts
(``provider.observability.history``), sampled by ``sample()`` every ``history_step`` s.
"""

from __future__ import annotations

import logging
import time
from bisect import bisect_left
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from dubbo_recsys.provider.observability.errors import ObservabilityConfigError
from dubbo_recsys.provider.observability.history import History, Key, chart_view
from dubbo_recsys.provider.observability.observer import UNKNOWN, dispatch_labels
from dubbo_recsys.provider.observability.state import Phase, ProviderState, RegistryState

__all__ = ["CONTENT_TYPE", "ProviderMetrics"]

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
_OK_STATUSES = frozenset({"ok", "200"})
_MAX_METHODS = 512  # rows kept for the console; beyond it new keys are only counted in Prometheus


class _MethodStats:
    """Everything recorded for one (protocol, interface, method): plain integers, no locks.

    The request counter and latency histogram are kept here and turned into
    Prometheus families at scrape time (``_CallCollector``): recording a dubbo:// call
    is then a dict lookup, a bisect and a few additions (about 1 us), where the
    client library's locked children cost several. Recent calls are counted in one
    slot per second of the window (a ring), so QPS is the sum of the live slots.
    """

    __slots__ = ("buckets", "calls", "errors", "seconds", "slot_calls", "slot_second", "statuses")

    def __init__(self, window: int) -> None:
        self.calls = 0
        self.errors = 0
        self.seconds = 0.0
        self.statuses: dict[str, int] = {}
        self.buckets = [0] * (len(_LATENCY_BUCKETS) + 1)  # last one: above every bound
        self.slot_second = [-1] * window
        self.slot_calls = [0] * window

    def record(self, status: str, seconds: float, now: int) -> None:
        self.calls += 1
        if status not in _OK_STATUSES:
            self.errors += 1
        self.statuses[status] = self.statuses.get(status, 0) + 1
        self.seconds += seconds
        self.buckets[bisect_left(_LATENCY_BUCKETS, seconds)] += 1
        slot = now % len(self.slot_second)
        if self.slot_second[slot] != now:
            self.slot_second[slot], self.slot_calls[slot] = now, 0
        self.slot_calls[slot] += 1

    def recent(self, now: int) -> int:
        """Calls in the last ``window`` whole seconds, this one included."""
        horizon = now - len(self.slot_second)
        return sum(c for s, c in zip(self.slot_second, self.slot_calls, strict=True) if s > horizon)


class ProviderMetrics:
    """Counts and times calls by protocol; exposes Prometheus text; feeds the console."""

    def __init__(self, state: ProviderState | None = None, *, window: int = 10, history_step: float = 5.0) -> None:
        if isinstance(window, bool) or not isinstance(window, int) or not 1 <= window <= 300:
            raise ObservabilityConfigError(f"window: expected 1..300 whole seconds, got {window!r}")
        self.state = state or ProviderState()
        self.window = window
        try:
            self.history = History(step=history_step)  # the console's charts; ``sample`` fills it
        except ValueError as exc:
            raise ObservabilityConfigError(str(exc)) from exc
        self.registry = CollectorRegistry(auto_describe=True)
        self._stages = Histogram(
            "dubbo_recsys_stage_seconds",
            "Time spent in each pipeline stage (from stage traces)",
            ("stage", "kind"),
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self._answers = Counter(
            "dubbo_recsys_pipeline_answers",
            "Answers by the pipeline that produced them",
            ("pipeline",),
            registry=self.registry,
        )
        self._answer_children: dict[str, Any] = {}
        # everything runs on the event loop; rows are only added, so readers never see a torn table
        self._table: dict[tuple[str, str, str], _MethodStats] = {}
        self.registry.register(_CallCollector(self._table))
        self.registry.register(_StateCollector(self.state))

    # -- observers -----------------------------------------------------------------------------

    def observe_call(self, protocol: str, interface: str, method: str, status: str, seconds: float) -> None:
        try:
            stats = self._table.get((protocol, interface, method))
            if stats is None:
                stats = self._new_row((protocol, interface, method))
            stats.record(status, seconds, int(time.monotonic()))
        except Exception:
            log.exception("cannot record a %s call", protocol)

    def _new_row(self, key: tuple[str, str, str]) -> _MethodStats:
        if len(self._table) >= _MAX_METHODS:  # a safety net: labels are bounded upstream
            key = (key[0], UNKNOWN, UNKNOWN)
            if key in self._table:
                return self._table[key]
        stats = self._table[key] = _MethodStats(self.window)
        return stats

    def observe_dispatch(self, invocation: Any, outcome: Any, seconds: float) -> None:
        """``DispatchObserver``: one dubbo:// call as the dispatcher saw it."""
        try:
            interface, method, status = dispatch_labels(invocation, outcome)
        except Exception:
            log.exception("cannot label a dubbo call")
            return
        self.observe_call("dubbo", interface, method, status, seconds)

    def observe_stage(self, stage: str, kind: str, seconds: float) -> None:
        self._stages.labels(stage, kind).observe(max(seconds, 0.0))

    def observe_answer(self, pipeline: str) -> None:
        if pipeline:
            child = self._answer_children.get(pipeline)
            if child is None:
                child = self._answer_children[pipeline] = self._answers.labels(pipeline)
            child.inc()

    # -- readers -------------------------------------------------------------------------------

    def counters(self) -> dict[Key, list[float]]:
        """Every cumulative counter the console charts, keyed as ``history`` documents."""
        found: dict[Key, list[float]] = {}
        for (protocol, interface, _method), stats in list(self._table.items()):
            row = found.setdefault(("call", protocol, interface), [0.0] * (3 + len(stats.buckets)))
            row[0] += stats.calls
            row[1] += stats.errors
            row[2] += stats.seconds
            for index, count in enumerate(stats.buckets):
                row[3 + index] += count
        bound_index = {str(float(b)): i for i, b in enumerate(_LATENCY_BUCKETS)} | {"+Inf": len(_LATENCY_BUCKETS)}
        for family in self._stages.collect():
            for sample in family.samples:
                stage, kind = sample.labels.get("stage", ""), sample.labels.get("kind", "")
                row = found.setdefault(("stage", stage, kind), [0.0] * (3 + len(_LATENCY_BUCKETS)))
                if sample.name.endswith("_sum"):
                    row[1] = sample.value
                elif sample.name.endswith("_bucket") and sample.labels.get("le") in bound_index:
                    row[2 + bound_index[sample.labels["le"]]] = sample.value  # cumulative, undone below
        for key, row in found.items():
            if key[0] == "stage":
                cumulative = row[2:]
                row[2:] = [c - (cumulative[i - 1] if i else 0.0) for i, c in enumerate(cumulative)]
                row[0] = cumulative[-1]
        for family in self._answers.collect():
            for sample in family.samples:
                if sample.name.endswith("_total"):
                    found[("answer", sample.labels.get("pipeline", ""))] = [sample.value]
        for name, _count, _limit, refused in self.state.admission_table():
            found[("shed", name)] = [float(refused)]
        return found

    def sample(self, now: float | None = None) -> None:
        """One slot of ``history``: what grew since the last sample (``RestShim`` calls it every step)."""
        try:
            self.history.sample(time.time() if now is None else now, self.counters())
        except Exception:
            log.exception("cannot sample the console's history")

    def chart_view(self, raw: dict[str, Any] | None = None) -> dict[str, Any]:
        """The charts' data from ``raw`` (a fleet's merged history) or this process's own."""
        return chart_view(raw if raw is not None else self.history.raw(), _LATENCY_BUCKETS)

    def exposition(self) -> bytes:
        """The Prometheus text format of every metric above."""
        return generate_latest(self.registry)

    def method_table(self) -> list[dict[str, Any]]:
        """One row per (protocol, interface, method): calls, errors, qps, mean latency."""
        now = int(time.monotonic())
        return [
            {
                "protocol": protocol,
                "interface": interface,
                "method": method,
                "calls": stats.calls,
                "errors": stats.errors,
                "qps": round(stats.recent(now) / self.window, 3),
                "meanMs": round(1000.0 * stats.seconds / stats.calls, 3) if stats.calls else 0.0,
            }
            for (protocol, interface, method), stats in sorted(self._table.items())
        ]


class _CallCollector(Collector):
    """``requests_total`` and ``request_seconds`` from the per-method rows, at scrape time."""

    def __init__(self, table: dict[tuple[str, str, str], _MethodStats]) -> None:
        self._table = table

    def collect(self) -> Iterator[Any]:
        requests = CounterMetricFamily(
            "dubbo_recsys_requests",
            "Calls answered, by protocol, interface, method and status",
            labels=("protocol", "interface", "method", "status"),
        )
        latency = HistogramMetricFamily(
            "dubbo_recsys_request_seconds",
            "Time to answer a call, by protocol, interface and method",
            labels=("protocol", "interface", "method"),
        )
        for key, stats in list(self._table.items()):
            for status, count in list(stats.statuses.items()):
                requests.add_metric((*key, status), count)
            cumulative, buckets = 0, []
            for bound, count in zip((*map(str, _LATENCY_BUCKETS), "+Inf"), stats.buckets, strict=True):
                cumulative += count
                buckets.append((bound, cumulative))
            latency.add_metric(key, buckets, stats.seconds)
        yield requests
        yield latency


class _StateCollector(Collector):
    """Gauges read from ``ProviderState`` at scrape time."""

    def __init__(self, state: ProviderState) -> None:
        self._state = state

    def collect(self) -> Iterator[Metric]:
        state = self._state
        phase = GaugeMetricFamily(
            "dubbo_recsys_phase", "1 for the provider's current lifecycle phase", labels=("phase",)
        )
        for phase_value in Phase:
            phase.add_metric((phase_value.value,), 1.0 if state.phase is phase_value else 0.0)
        yield phase
        registry = GaugeMetricFamily(
            "dubbo_recsys_registry_state", "1 for the current registry state", labels=("registry", "state")
        )
        for registry_value in RegistryState:
            registry.add_metric(
                (state.registry_url, registry_value.value), 1.0 if state.registry_state is registry_value else 0.0
            )
        yield registry
        breakers = GaugeMetricFamily(
            "dubbo_recsys_breaker_state",
            "1 for the current state of each downstream's circuit breaker",
            labels=("downstream", "state"),
        )
        for name, current in state.breaker_states():
            for breaker_value in ("closed", "open", "half_open"):
                breakers.add_metric((name, breaker_value), 1.0 if current == breaker_value else 0.0)
        yield breakers
        inflight = GaugeMetricFamily(
            "dubbo_recsys_pipeline_inflight", "Requests inside each pipeline now", labels=("pipeline",)
        )
        limit = GaugeMetricFamily(
            "dubbo_recsys_pipeline_inflight_limit",
            "The in-flight bound of each pipeline (0 = none)",
            labels=("pipeline",),
        )
        shed = CounterMetricFamily(
            "dubbo_recsys_pipeline_shed", "Requests sent past a pipeline at its bound", labels=("pipeline",)
        )
        for name, count, bound, refused in state.admission_table():
            inflight.add_metric((name,), float(count))
            limit.add_metric((name,), float(bound))
            shed.add_metric((name,), float(refused))
        yield inflight
        yield limit
        yield shed
        versions = GaugeMetricFamily(
            "dubbo_recsys_version_info",
            "1 per loaded scene config, model and index version",
            labels=("kind", "name", "version"),
        )
        for kind, names in state.version_table().items():
            for name, version in names.items():
                versions.add_metric((kind, name, version), 1.0)
        yield versions
        yield from _realtime_families(state.realtime_state())
        rollout = state.rollout_own()
        if rollout is not None:
            yield from _rollout_families(rollout)


def _realtime_families(snapshot: dict[str, Any]) -> Iterator[Any]:
    """The realtime families, from the snapshot the follower keeps (the consumers' published stats)."""
    if not snapshot or "consumers" not in snapshot:
        return
    lag = GaugeMetricFamily(
        "dubbo_recsys_realtime_consumer_lag",
        "Records not yet consumed, per partition a consumer holds",
        labels=("consumer", "partition"),
    )
    events = CounterMetricFamily(
        "dubbo_recsys_realtime_events", "User events by outcome", labels=("consumer", "outcome")
    )
    dead = CounterMetricFamily(
        "dubbo_recsys_realtime_dead_letters", "Events refused to the dead-letter topic", labels=("consumer", "reason")
    )
    items = CounterMetricFamily("dubbo_recsys_realtime_items", "Item events applied", labels=("consumer", "op"))
    fresh = HistogramMetricFamily(
        "dubbo_recsys_realtime_freshness_seconds",
        "Time from an event's ts to its application in Redis",
        labels=("consumer",),
    )
    for stats in snapshot["consumers"]:
        name = str(stats.get("consumer", UNKNOWN))
        for partition, value in (stats.get("lag") or {}).items():
            lag.add_metric((name, str(partition)), float(value))
        for outcome, key in (
            ("applied", "applied"),
            ("redelivered", "redelivered"),
            ("duplicate", "duplicates"),
            ("late", "late"),
        ):
            events.add_metric((name, outcome), float(stats.get(key, 0)))
        for reason, count in (stats.get("deadLettered") or {}).items():
            dead.add_metric((name, str(reason)), float(count))
        items.add_metric((name, "upsert"), float(stats.get("itemsUpserted", 0)))
        items.add_metric((name, "remove"), float(stats.get("itemsRemoved", 0)))
        bounds, counts = stats.get("freshnessBuckets") or [], stats.get("freshness") or []
        if len(counts) == len(bounds) + 1:
            cumulative, buckets = 0, []
            for bound, count in zip((*map(str, bounds), "+Inf"), counts, strict=True):
                cumulative += int(count)
                buckets.append((bound, cumulative))
            fresh.add_metric((name,), buckets, float(stats.get("freshnessSum", 0.0)))
    live = GaugeMetricFamily("dubbo_recsys_realtime_live_items", "Live items this provider serves", labels=("state",))
    live.add_metric(("live",), float(snapshot.get("liveItems", 0)))
    live.add_metric(("removed",), float(snapshot.get("removedItems", 0)))
    errors = CounterMetricFamily("dubbo_recsys_realtime_follow_errors", "Failed realtime follower steps")
    errors.add_metric((), float(snapshot.get("followErrors", 0)))
    yield from (lag, events, dead, items, fresh, live, errors)


def _rollout_families(row: dict[str, Any]) -> Iterator[Any]:
    """This worker's artifact rollout (``provider.rollout.state.RolloutState``) as gauges and counters."""
    prefix = "dubbo_recsys_rollout_"
    for name, what in (("serving", "serving"), ("loading", "being loaded")):
        family = GaugeMetricFamily(f"{prefix}{name}_info", f"1 for the artifact version {what}", labels=("version",))
        if row.get(name):
            family.add_metric((str(row[name]),), 1.0)
        yield family
    refusal = GaugeMetricFamily(
        f"{prefix}last_refusal_info",
        "1 for the last artifact version the rollout refused, with the check that refused it and why",
        labels=("version", "check", "reason"),
    )
    if row.get("last_refused"):
        refusal.add_metric(
            (str(row["last_refused"]), str(row.get("last_refusal_check", "")), str(row.get("last_refusal_reason", ""))),
            1.0,
        )
    yield refusal
    for name, what in (
        ("load_seconds", "loading the serving version took (files to pipelines, in the background)"),
        ("warmup_seconds", "warming up and smoke-testing the serving version took"),
        ("gate_seconds", "the file checks of the serving version took"),
    ):
        yield GaugeMetricFamily(f"{prefix}{name}", f"Seconds {what}", value=float(row.get(name, 0.0)))
    yield GaugeMetricFamily(
        f"{prefix}load_rss_bytes",
        "What loading the serving version added to the process's resident memory (about one version's own)",
        value=float(row.get("load_rss_bytes", 0)),
    )
    yield GaugeMetricFamily(
        f"{prefix}retiring_versions",
        "Swapped-out versions still finishing their calls",
        value=float(len(row.get("retiring", []))),
    )
    yield CounterMetricFamily(f"{prefix}swaps", "Artifact versions swapped in", value=float(row.get("swaps", 0)))
    refusals = CounterMetricFamily(f"{prefix}refusals", "Artifact versions refused, by check", labels=("check",))
    for check, count in sorted(dict(row.get("refusals", {})).items()):
        refusals.add_metric((str(check),), float(count))
    yield refusals
