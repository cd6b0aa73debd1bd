"""Where each worker's rollout stands, for /metrics, the console and the Nacos instance metadata.

``RolloutState`` is one worker's record: the version serving (and since when, its load, warm-up and
gate times), the version loading, the versions retired but still finishing calls, the last refusal
(version, check, reason) and counters. The controller owns it and calls ``board.publish()`` after
each change.

``StateBoard`` makes the records of every worker of one provider readable by the one that answers
for them all (``serve --workers N``: the first worker serves the console and registers in Nacos).
Each worker writes its record as ``worker-<label>.json`` into a private directory that ``serve``
creates (atomic rename); ``workers()`` reads them, its own from memory. With one worker there is no
directory and nothing is written. ``instance_metadata`` turns the records into the few
``artifacts.*`` keys a provider adds to its Nacos instance metadata.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["RolloutState", "StateBoard", "instance_metadata"]

log = logging.getLogger(__name__)

_REASON_CHARS = 300


@dataclass
class RolloutState:
    """One worker's rollout, as plain data (``as_json`` is what the files and the console carry)."""

    worker: str = "0"
    serving: str = ""
    serving_since: float = 0.0
    load_seconds: float = 0.0  # of the serving version: files to pipelines, in the background
    warmup_seconds: float = 0.0  # its warm-up and smoke calls
    gate_seconds: float = 0.0  # its file checks
    load_rss_bytes: int = 0  # what its load added to the RSS: about one version's own memory
    loading: str = ""
    loading_since: float = 0.0
    retiring: list[str] = field(default_factory=list)  # swapped out, still finishing calls
    pin: str = ""  # the pinned version ("" = follow the newest)
    last_refused: str = ""
    last_refusal_check: str = ""
    last_refusal_reason: str = ""
    last_refusal_at: float = 0.0
    swaps: int = 0
    refusals: dict[str, int] = field(default_factory=dict)  # check -> count

    def refused(self, version: str, check: str, reason: str) -> None:
        self.last_refused, self.last_refusal_check = version, check
        self.last_refusal_reason = " ".join(reason.split())[:_REASON_CHARS]
        self.last_refusal_at = time.time()
        self.refusals[check] = self.refusals.get(check, 0) + 1

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> RolloutState:
        known = {k: v for k, v in document.items() if k in cls.__dataclass_fields__}
        return cls(**known)


class StateBoard:
    """This worker's ``RolloutState`` and a view of its siblings' (see the module doc)."""

    def __init__(self, state: RolloutState, directory: str | Path | None = None) -> None:
        self.state = state
        self.directory = Path(directory) if directory else None

    def publish(self) -> None:
        """Write this worker's record for its siblings (no-op without a directory); never raises."""
        if self.directory is None:
            return
        path = self.directory / f"worker-{self.state.worker}.json"
        temporary = path.with_suffix(f".tmp-{os.getpid()}")
        try:
            temporary.write_text(json.dumps(self.state.as_json()), encoding="utf-8")
            os.replace(temporary, path)
        except OSError as exc:
            log.warning("cannot write the rollout state to %s: %s", path, exc)

    def own(self) -> dict[str, Any]:
        return self.state.as_json()

    def workers(self) -> list[dict[str, Any]]:
        """Every worker's record, this one's first (from memory), then the others' by label."""
        rows = [self.own()]
        if self.directory is None:
            return rows
        try:
            names = sorted(os.listdir(self.directory))
        except OSError:
            return rows
        for name in names:
            if (
                not (name.startswith("worker-") and name.endswith(".json"))
                or name == f"worker-{self.state.worker}.json"
            ):
                continue
            try:
                rows.append(RolloutState.from_json(json.loads((self.directory / name).read_text("utf-8"))).as_json())
            except (OSError, ValueError, TypeError):
                continue  # being replaced right now, or a worker that died mid-write: next read
        return rows


def instance_metadata(rows: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """``artifacts.*`` Nacos metadata for a provider's workers: what each serves and loads, the last refusal.

    ``artifacts.version`` is the version every worker serves (``mixed`` while they differ, during a
    rollout); ``artifacts.workers`` lists ``worker:version`` pairs. Values keep to what a Dubbo URL
    parameter may hold (no ``&``, no line breaks)."""
    serving = {str(r.get("serving", "")) for r in rows}
    ordered = sorted(rows, key=lambda r: str(r.get("worker", "")))
    refusals = [r for r in ordered if r.get("last_refused")]
    last = max(refusals, key=lambda r: float(r.get("last_refusal_at", 0.0)), default=None)
    metadata = {
        "artifacts.version": serving.pop() if len(serving) == 1 else "mixed",
        "artifacts.workers": ",".join(f"{r.get('worker')}:{r.get('serving') or '-'}" for r in ordered),
        "artifacts.loading": ",".join(f"{r.get('worker')}:{r.get('loading')}" for r in ordered if r.get("loading")),
        "artifacts.load_seconds": ",".join(f"{r.get('worker')}:{float(r.get('load_seconds', 0)):.2f}" for r in ordered),
        "artifacts.warmup_seconds": ",".join(
            f"{r.get('worker')}:{float(r.get('warmup_seconds', 0)):.2f}" for r in ordered
        ),
        "artifacts.refused": "",
        "artifacts.refusal": "",
    }
    if last is not None:
        metadata["artifacts.refused"] = f"{last.get('worker')}:{last.get('last_refused')}"
        reason = f"{last.get('last_refusal_check')}: {last.get('last_refusal_reason')}"
        metadata["artifacts.refusal"] = reason.replace("&", "+").replace("\n", " ").replace("\r", " ")[:200]
    return metadata
