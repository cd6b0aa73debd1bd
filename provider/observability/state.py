"""What the provider is and how it is doing, in one place the console and /metrics read.

``ProviderState`` gathers facts other layers own, without owning them: the exported
services (from the dispatcher's exports), the registry the services are published
in and whether they are, the lifecycle phase (``/readyz`` answers from it), the
circuit breakers of the pipeline's downstreams, the versions of scene configs,
models and indexes, the realtime consumers' progress (``realtime``: each
consumer's applied and dead-lettered events, lag per partition and freshness, as
they published it to Redis, with the live items this provider follows), and the
artifact rollout of every worker (``rollout``: the version serving and loading, the
last refusal and its reason, load and warm-up times). Versions, breakers and the
rollout are read (through callables, see ``sources``) at the moment someone asks, so a
hot-swapped scene config shows up without anyone telling us.

It is plain data plus ``snapshot()``; the hooks that move the phase and the registry
state live in ``provider.rest.server.run_beside``.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

__all__ = [
    "BreakerSource",
    "Phase",
    "ProviderState",
    "RealtimeSource",
    "RegistryState",
    "ServiceInfo",
    "VersionSource",
    "freshness_quantiles",
]


class Phase(enum.Enum):
    """The provider's life; only SERVING is ready for traffic."""

    STARTING = "starting"
    SERVING = "serving"
    DRAINING = "draining"
    STOPPED = "stopped"


class RegistryState(enum.Enum):
    """Where the exported services stand in the registry."""

    DIRECT = "direct"  # no registry: consumers dial dubbo://host:port
    PENDING = "pending"  # not yet registered (the port is not listening yet)
    REGISTERED = "registered"
    WITHDRAWN = "withdrawn"  # deregistered while draining


class BreakerSource(Protocol):
    """Anything with a name and a breaker state, e.g. ``pipeline.Downstream``."""

    name: str

    @property
    def state(self) -> str: ...


# kind ("scenes", "models", "indexes") -> name -> version
VersionSource = Callable[[], Mapping[str, Mapping[str, str]]]
# the realtime snapshot (provider.realtime.RealtimeBeside.snapshot): consumers' stats, live items, trending
RealtimeSource = Callable[[], Mapping[str, Any]]


@dataclass(frozen=True, slots=True)
class ServiceInfo:
    """One exported Dubbo service as the console lists it."""

    interface: str
    version: str
    group: str
    methods: tuple[str, ...]

    @classmethod
    def of_export(cls, export: Any) -> ServiceInfo:
        spec = export.contract
        return cls(spec.interface, spec.version, spec.group, tuple(spec.method_names))

    def as_json(self) -> dict[str, Any]:
        return {
            "interface": self.interface,
            "version": self.version,
            "group": self.group,
            "methods": list(self.methods),
        }


def _public_registry_address(url: str) -> str:
    """The registry URL without query or credentials: safe to show and to use as a label."""
    if not url or url.strip().lower() == "none":
        return "none"
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}"


@dataclass
class ProviderState:
    """Mutable facts about this provider process, read by the console and /metrics."""

    services: tuple[ServiceInfo, ...] = ()
    registry_url: str = "none"
    breakers: Sequence[BreakerSource] | Callable[[], Iterable[BreakerSource]] = ()
    versions: VersionSource | None = None
    # (pipeline, in-flight bound) pairs: ``count``, ``limit`` (0 = none) and ``refused`` (pipeline.InFlight)
    admission: Callable[[], Iterable[tuple[str, Any]]] | None = None
    realtime: RealtimeSource | None = None
    # the artifact rollout's board (``provider.rollout.state.StateBoard``: ``own()``, ``workers()``), or None
    rollout: Callable[[], Any] | None = None
    phase: Phase = Phase.STARTING
    registry_state: RegistryState = RegistryState.DIRECT
    started_at: float = field(default_factory=time.time)
    dubbo_address: str = ""

    @classmethod
    def for_exports(cls, exports: Iterable[Any], registry_url: str = "none", **kw: Any) -> ProviderState:
        registry = _public_registry_address(registry_url)
        return cls(
            services=tuple(ServiceInfo.of_export(e) for e in exports),
            registry_url=registry,
            registry_state=RegistryState.DIRECT if registry == "none" else RegistryState.PENDING,
            **kw,
        )

    @property
    def ready(self) -> bool:
        return self.phase is Phase.SERVING

    def breaker_states(self) -> list[tuple[str, str]]:
        """``(name, state)`` per breaker; a source that fails lists nothing, never raises."""
        try:
            found = self.breakers() if callable(self.breakers) else self.breakers
            return [(str(b.name), str(b.state)) for b in found]
        except Exception:
            return []

    def admission_table(self) -> list[tuple[str, int, int, int]]:
        """``(pipeline, in flight, limit, refused so far)`` per bound; a failing source lists nothing."""
        if self.admission is None:
            return []
        try:
            return [(str(name), int(b.count), int(b.limit), int(b.refused)) for name, b in self.admission()]
        except Exception:
            return []

    def realtime_state(self) -> dict[str, Any]:
        """The realtime snapshot (``{}`` without realtime); a failing source shows an ``error`` entry."""
        if self.realtime is None:
            return {}
        try:
            return dict(self.realtime())
        except Exception as exc:
            return {"error": f"{type(exc).__name__}: {str(exc)[:200]}"}

    def realtime_rows(self) -> list[dict[str, Any]]:
        """One row per consumer for the console: applied, dead-lettered, lag, freshness."""
        rows = []
        for stats in self.realtime_state().get("consumers", ()):
            lag = stats.get("lag") or {}
            p50, p99 = freshness_quantiles(stats, 0.5), freshness_quantiles(stats, 0.99)
            rows.append(
                {
                    "consumer": str(stats.get("consumer", "?")),
                    "source": str(stats.get("source", "?")),
                    "group": str(stats.get("group", "?")),
                    "applied": int(stats.get("applied", 0)),
                    "duplicates": int(stats.get("duplicates", 0)) + int(stats.get("redelivered", 0)),
                    "deadLettered": sum(int(v) for v in (stats.get("deadLettered") or {}).values()),
                    "lag": sum(int(v) for v in lag.values()),
                    "partitions": len(lag),
                    "freshnessP50": p50,
                    "freshnessP99": p99,
                }
            )
        return rows

    def version_table(self) -> dict[str, dict[str, str]]:
        """Versions by kind; a source that fails shows as an ``error`` entry, never raises."""
        if self.versions is None:
            return {}
        try:
            found = self.versions()
        except Exception as exc:
            return {"error": {type(exc).__name__: str(exc)[:200]}}
        return {str(kind): {str(k): str(v) for k, v in names.items()} for kind, names in found.items()}

    def _rollout_board(self) -> Any:
        try:
            return self.rollout() if self.rollout is not None else None
        except Exception:
            return None

    def rollout_own(self) -> dict[str, Any] | None:
        """This worker's rollout state (what its /metrics shows); None without an artifact root."""
        board = self._rollout_board()
        try:
            return dict(board.own()) if board is not None else None
        except Exception:
            return None

    def rollout_workers(self) -> list[dict[str, Any]]:
        """Every worker's rollout state, this one's first (what the console shows); never raises."""
        board = self._rollout_board()
        try:
            return [dict(row) for row in board.workers()] if board is not None else []
        except Exception:
            return []

    def snapshot(self) -> dict[str, Any]:
        """Everything above as JSON-ready data (``/console/state`` without the method table)."""
        return {
            "phase": self.phase.value,
            "ready": self.ready,
            "startedAt": self.started_at,
            "uptimeSeconds": round(time.time() - self.started_at, 3),
            "dubboAddress": self.dubbo_address,
            "services": [s.as_json() for s in self.services],
            "registry": {"address": self.registry_url, "state": self.registry_state.value},
            "breakers": [{"name": n, "state": s} for n, s in self.breaker_states()],
            "versions": self.version_table(),
            "realtime": {**self.realtime_state(), "rows": self.realtime_rows()},
            "rollout": self.rollout_workers(),
        }


def freshness_quantiles(stats: Mapping[str, Any], q: float) -> str:
    """A quantile of a consumer's freshness histogram, as the bucket bound it falls under (``"<= 0.05 s"``)."""
    counts = [int(c) for c in stats.get("freshness") or ()]
    bounds = [float(b) for b in stats.get("freshnessBuckets") or ()]
    total = sum(counts)
    if not total or len(counts) != len(bounds) + 1:
        return "-"
    running = 0
    for count, bound in zip(counts, [*bounds, float("inf")], strict=True):
        running += count
        if running >= q * total:
            return f"<= {bound:g} s" if bound != float("inf") else f"> {bounds[-1]:g} s"
    return "-"
