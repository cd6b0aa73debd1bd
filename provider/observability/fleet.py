"""The console's view of ``serve --workers N``: every worker's state and history as one.

Each worker answers ``/console/state?scope=worker`` (its ``ProviderState.snapshot()``
plus its method table) and ``/console/series?scope=worker`` (its ``History.raw()``);
the worker a browser reaches fetches its siblings' over their Unix sockets
(``workers.fetch_from_worker``) and these functions put them together, so the page
shows the fleet and not whichever worker the kernel picked. No I/O here.

``fleet_state`` keeps the answering worker's snapshot for what every worker shares
(services, registry, versions, the realtime consumers, the rollout board) and adds:

- ``workers``: one row per worker (up or not answering, phase, uptime, calls, errors,
  breakers open) so a dead or stuck worker shows;
- ``methods``: the per-method table summed over the workers that answered (QPS added,
  the mean latency weighted by calls);
- ``breakers``: every worker's breakers, each with its worker's label.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["fleet_state", "worker_documents"]

Document = Mapping[str, Any]


def worker_documents(own: tuple[str, Document], siblings: Sequence[tuple[str, Document | None]]) -> list[Any]:
    """``[(label, document or None)]`` with the answering worker first and the others by label."""
    return [own, *sorted(siblings, key=lambda pair: _label_order(pair[0]))]


def fleet_state(documents: Sequence[tuple[str, Document | None]]) -> dict[str, Any]:
    """One console state from ``[(worker label, its state or None)]``, the answering worker first."""
    (_own_label, own), *_ = documents
    merged: dict[str, Any] = dict(own or {})
    rows: list[dict[str, Any]] = []
    methods: dict[tuple[str, str, str], dict[str, Any]] = {}
    breakers: list[dict[str, Any]] = []
    for label, document in documents:
        if document is None:
            rows.append({"worker": label, "up": False, "phase": "not answering"})
            continue
        calls = errors = 0
        for method in document.get("methods", ()):
            key = (str(method["protocol"]), str(method["interface"]), str(method["method"]))
            into = methods.setdefault(key, {**method, "calls": 0, "errors": 0, "qps": 0.0, "meanMs": 0.0})
            total = into["calls"] + int(method["calls"])
            if total:
                into["meanMs"] = round(
                    (into["meanMs"] * into["calls"] + float(method["meanMs"]) * int(method["calls"])) / total, 3
                )
            into["calls"] = total
            into["errors"] += int(method["errors"])
            into["qps"] = round(into["qps"] + float(method["qps"]), 3)
            calls += int(method["calls"])
            errors += int(method["errors"])
        own_breakers = [{"worker": label, **b} for b in document.get("breakers", ())]
        breakers += own_breakers
        rows.append(
            {
                "worker": label,
                "up": True,
                "phase": document.get("phase", "?"),
                "uptimeSeconds": document.get("uptimeSeconds", 0),
                "calls": calls,
                "errors": errors,
                "breakersOpen": sum(1 for b in own_breakers if b.get("state") != "closed"),
            }
        )
    merged["workers"] = rows
    merged["methods"] = [methods[key] for key in sorted(methods)]
    merged["breakers"] = breakers
    return merged


def _label_order(label: str) -> tuple[int, str]:
    return (int(label), "") if label.isdigit() else (1 << 30, label)
