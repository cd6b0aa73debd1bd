"""The last 15 minutes of one process's traffic, kept in the process for the console's charts.

Prometheus keeps history for a fleet, but the console must stand on its own (a demo
provider has no Prometheus beside it), so every process keeps a small bounded ring:
every ``step`` seconds (5 by default) ``History.sample(now, counters)`` stores how much
each counter grew since the previous sample. Counters are cumulative value lists keyed
by a series (``ProviderMetrics.counters`` makes them)::

    ("call", protocol, interface)   [calls, errors, seconds, bucket 0 .. bucket N]  (latency buckets, not cumulative)
    ("stage", stage, kind)          [count, seconds, bucket 0 .. bucket N]
    ("answer", pipeline)            [answers]
    ("shed", pipeline)              [requests sent past the pipeline at its bound]

A slot is ``(slot time, {series: growth})``; slot times are multiples of ``step`` on
the wall clock, so the rings of ``--workers N`` processes line up and ``merge_raw``
adds them slot by slot (``provider.observability.workers`` fetches the siblings'
``raw()``). ``chart_view`` turns a ring into what the charts draw: calls and errors
per second, p50/p99 per service and per protocol (from the latency buckets, as
Prometheus' ``histogram_quantile`` does), stage latencies over the window, answers
per pipeline and shed load per second. No I/O here; nothing is kept per request.
At the defaults the ring holds 180 slots, each with only the series that moved.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from dubbo_recsys.pipeline.model import StageKind

__all__ = ["History", "Key", "chart_view", "merge_raw", "quantile"]

Key = tuple[str, ...]
_SEP = "\t"  # joins a key's parts in the JSON form (labels are bounded names, never tabs: see _key_text)
_STAGE_ORDER = {kind.value: index for index, kind in enumerate(StageKind)}


class History:
    """A ring of per-step counter growth; ``window`` seconds of it (``window / step`` slots)."""

    def __init__(self, step: float = 5.0, window: float = 900.0) -> None:
        if not 0.05 <= step <= 300 or not step <= window <= 86_400:
            raise ValueError(f"history: step 0.05..300 s and window step..86400 s, got {step!r}, {window!r}")
        self.step = float(step)
        self.window = float(window)
        self._slots: deque[tuple[float, dict[Key, list[float]]]] = deque(maxlen=max(1, round(window / step)))
        self._last: dict[Key, list[float]] = {}

    def slot_time(self, now: float) -> float:
        return math.floor(now / self.step) * self.step

    def sample(self, now: float, counters: Mapping[Key, Sequence[float]]) -> None:
        """Store what grew since the last sample in the slot of ``now`` (counters that went down restarted)."""
        growth: dict[Key, list[float]] = {}
        for key, values in counters.items():
            previous = self._last.get(key)
            if (
                previous is None
                or len(previous) != len(values)
                or any(v < p for v, p in zip(values, previous, strict=True))
            ):
                previous = [0.0] * len(values)
            delta = [float(v) - p for v, p in zip(values, previous, strict=True)]
            if any(delta):
                growth[key] = delta
        self._last = {key: [float(v) for v in values] for key, values in counters.items()}
        moment = self.slot_time(now)
        if self._slots and self._slots[-1][0] >= moment:  # sampled twice in one slot: add to it
            _add(self._slots[-1][1], growth)
        else:
            self._slots.append((moment, growth))

    def raw(self) -> dict[str, Any]:
        """The ring as JSON-ready data (what a sibling worker sends; ``merge_raw`` adds several)."""
        return {
            "step": self.step,
            "window": self.window,
            "slots": [[moment, {_key_text(k): v for k, v in growth.items()}] for moment, growth in self._slots],
        }


def merge_raw(raws: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Several workers' ``raw()`` as one, added slot by slot (they share ``step`` when run by one ``serve``)."""
    slots: dict[float, dict[Key, list[float]]] = {}
    step = window = 0.0
    for raw in raws:
        step = step or float(raw.get("step", 0.0))
        window = max(window, float(raw.get("window", 0.0)))
        for moment, growth in raw.get("slots", ()):
            into = slots.setdefault(float(moment), {})
            _add(into, {tuple(str(k).split(_SEP)): [float(x) for x in v] for k, v in growth.items()})
    return {
        "step": step,
        "window": window,
        "slots": [[m, {_key_text(k): v for k, v in slots[m].items()}] for m in sorted(slots)],
    }


def quantile(q: float, buckets: Sequence[float], bounds: Sequence[float]) -> float | None:
    """The ``q`` quantile of non-cumulative ``buckets`` (the last one above every bound), interpolated
    linearly inside its bucket like Prometheus' ``histogram_quantile``; None when empty."""
    total = sum(buckets)
    if total <= 0:
        return None
    rank, below = q * total, 0.0
    for index, count in enumerate(buckets):
        if count > 0 and below + count >= rank:
            if index >= len(bounds):
                return float(bounds[-1])  # in the +Inf bucket: the highest finite bound, as Prometheus says
            lower = float(bounds[index - 1]) if index else 0.0
            return lower + (float(bounds[index]) - lower) * (rank - below) / count
        below += count
    return float(bounds[-1])


def chart_view(raw: Mapping[str, Any], bounds: Sequence[float]) -> dict[str, Any]:
    """What the console draws, from a (merged) ``raw()``: per-second rates and milliseconds per slot."""
    step = float(raw.get("step") or 1.0)
    slots = [(float(m), {tuple(str(k).split(_SEP)): v for k, v in g.items()}) for m, g in raw.get("slots", ())]
    times = _timeline([m for m, _ in slots], step, float(raw.get("window") or step))
    index = {moment: i for i, moment in enumerate(times)}
    width = len(bounds) + 1
    calls: dict[Key, list[list[float]]] = {}  # (protocol, interface) -> per slot [calls, errors, seconds, *buckets]
    stages: dict[Key, list[float]] = {}  # (stage, kind) -> [count, seconds, *buckets] over the window
    rates: dict[Key, list[float]] = {}  # ("answer"|"shed", pipeline) -> per slot count
    for moment, growth in slots:
        at = index.get(moment)
        if at is None:
            continue
        for key, values in growth.items():
            if key[0] == "call" and len(key) == 3 and len(values) == 3 + width:
                for series in (key[1:], (key[1], "*")):
                    row = calls.setdefault(series, [[0.0] * (3 + width) for _ in times])[at]
                    row[:] = [a + b for a, b in zip(row, values, strict=True)]
            elif key[0] == "stage" and len(key) == 3 and len(values) == 2 + width:
                total = stages.setdefault(key[1:], [0.0] * (2 + width))
                total[:] = [a + b for a, b in zip(total, values, strict=True)]
            elif key[0] in ("answer", "shed") and len(key) == 2 and values:
                rates.setdefault(key, [0.0] * len(times))[at] += values[0]
    per_second = 1.0 / step
    return {
        "step": step,
        "times": times,
        "services": [_call_series(k, v, bounds, per_second) for k, v in sorted(calls.items()) if k[1] != "*"],
        "protocols": [_call_series(k, v, bounds, per_second) for k, v in sorted(calls.items()) if k[1] == "*"],
        "stages": [
            _stage_row(k, v, bounds)
            for k, v in sorted(stages.items(), key=lambda kv: (_STAGE_ORDER.get(kv[0][1], 99), kv[0][0]))
        ],
        "answers": {k[1]: [x * per_second for x in v] for k, v in sorted(rates.items()) if k[0] == "answer"},
        "shed": {k[1]: [x * per_second for x in v] for k, v in sorted(rates.items()) if k[0] == "shed"},
    }


def _timeline(moments: list[float], step: float, window: float) -> list[float]:
    """Every slot time from the first sample (at most ``window`` back from the last) to the last."""
    if not moments:
        return []
    last = max(moments)
    first = max(min(moments), last - window + step)
    count = round((last - first) / step) + 1
    return [round(first + i * step, 6) for i in range(count)]


def _call_series(key: Key, rows: list[list[float]], bounds: Sequence[float], per_second: float) -> dict[str, Any]:
    protocol, interface = key
    return {
        "protocol": protocol,
        "interface": interface,
        "callsPerSecond": [row[0] * per_second for row in rows],
        "errorsPerSecond": [row[1] * per_second for row in rows],
        "p50Ms": [_ms(quantile(0.5, row[3:], bounds)) for row in rows],
        "p99Ms": [_ms(quantile(0.99, row[3:], bounds)) for row in rows],
        "calls": sum(row[0] for row in rows),
        "errors": sum(row[1] for row in rows),
    }


def _stage_row(key: Key, total: list[float], bounds: Sequence[float]) -> dict[str, Any]:
    count = total[0]
    return {
        "stage": key[0],
        "kind": key[1],
        "count": count,
        "meanMs": round(1000.0 * total[1] / count, 3) if count else None,
        "p50Ms": _ms(quantile(0.5, total[2:], bounds)),
        "p99Ms": _ms(quantile(0.99, total[2:], bounds)),
    }


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000.0, 3)


def _add(into: dict[Key, list[float]], growth: Mapping[Key, Sequence[float]]) -> None:
    for key, values in growth.items():
        found = into.get(key)
        if found is None or len(found) != len(values):
            into[key] = list(values)
        else:
            found[:] = [a + b for a, b in zip(found, values, strict=True)]


def _went_down(values: Sequence[float], previous: Sequence[float]) -> bool:
    return any(v < p for v, p in zip(values, previous, strict=True))


def _key_text(key: Key) -> str:
    return _SEP.join(part.replace(_SEP, " ") for part in key)
