"""The pin: which version the fleet serves, as one small JSON document every provider watches.

``dubbo-recsys publish --version V`` writes it, ``dubbo-recsys rollback`` rewrites it to the version
published before; providers serving an artifact root follow it (``provider.rollout.controller``).
It lives in Nacos as a config (data id ``dubbo-recsys.artifacts``, group ``DUBBO_RECSYS`` by
default), or, without Nacos, in ``ROOT/pin.json``. The document::

    {"version": "20260106T031200Z-9f8e7d6c5b4a",
     "history": ["20260105T031500Z-1a2b3c4d5e6f", ...],   versions pinned before, newest first
     "skipMetricGate": false,                            true after a rollback: go back even to a worse metric
     "publishedAt": 1767669120.0, "note": "..."}

No pin means "serve the newest valid version". Pure data and functions; no I/O here.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from dubbo_recsys.provider.rollout.errors import PinError

__all__ = ["MAX_HISTORY", "PIN_DATA_ID", "PIN_GROUP", "Pin", "parse_pin"]

PIN_DATA_ID = "dubbo-recsys.artifacts"
PIN_GROUP = "DUBBO_RECSYS"
MAX_HISTORY = 20
_MAX_TEXT = 64 * 1024


@dataclass(frozen=True, slots=True)
class Pin:
    """One published pin; ``history`` holds the versions pinned before it, newest first."""

    version: str
    history: tuple[str, ...] = ()
    skip_metric_gate: bool = False
    published_at: float = 0.0
    note: str = ""

    def publish(self, version: str, *, skip_metric_gate: bool = False, note: str = "") -> Pin:
        """The pin after publishing ``version`` over this one (this one goes to the history)."""
        history = (self.version, *self.history) if self.version and self.version != version else self.history
        return Pin(version, history[:MAX_HISTORY], skip_metric_gate, round(time.time(), 3), note)

    def rollback(self, to: str | None = None) -> Pin:
        """The pin after going back to the previous version (or to ``to``, which must be in the history).

        The metric gate is skipped for it: a rollback goes back to what served before, even if the
        version it leaves had the better offline metric."""
        if not self.history:
            raise PinError(f"nothing to roll back to: {self.version} was the first version published")
        target = to or self.history[0]
        if target not in self.history:
            raise PinError(f"{target} was not published before {self.version} (history: {', '.join(self.history)})")
        rest = self.history[self.history.index(target) + 1 :]
        return Pin(target, rest, True, round(time.time(), 3), f"rollback from {self.version}")

    def to_json(self) -> str:
        return json.dumps(
            {
                "version": self.version,
                "history": list(self.history),
                "skipMetricGate": self.skip_metric_gate,
                "publishedAt": round(self.published_at, 3),
                "note": self.note,
            },
            sort_keys=True,
        )


def parse_pin(text: str) -> Pin:
    """A pin from its JSON text; ``PinError`` says what is wrong (the caller keeps its last good pin)."""
    if not isinstance(text, str) or len(text) > _MAX_TEXT:
        raise PinError("a pin is a JSON text of at most 64 KiB")
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise PinError(f"pin is not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise PinError("pin must be a JSON object")
    version, history = document.get("version"), document.get("history", [])
    if not isinstance(version, str) or not version:
        raise PinError('pin needs "version", a version id')
    if not isinstance(history, list) or not all(isinstance(v, str) and v for v in history):
        raise PinError('pin "history" must be a list of version ids')
    skip, published = document.get("skipMetricGate", False), document.get("publishedAt", 0.0)
    note = document.get("note", "")
    if not isinstance(skip, bool) or not isinstance(published, (int, float)) or not isinstance(note, str):
        raise PinError('pin "skipMetricGate" must be a boolean, "publishedAt" a number, "note" a string')
    from dubbo_recsys.interfaces.artifacts import is_version_id

    for named in (version, *history):
        if not is_version_id(named):
            raise PinError(f"{named!r} is not a version id (YYYYMMDDTHHMMSSZ-<12 hex>)")
    return Pin(version, tuple(history[:MAX_HISTORY]), skip, float(published), note[:500])
