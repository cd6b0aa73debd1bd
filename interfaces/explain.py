"""The funnel explained, stage by stage: typed, and its wire form inside ``RecommendResponse.debugInfo``.

A request with ``debug`` set gets, per stage it ran through, what went in and came out
(how many candidates, the mix of recall channels among those out), the top candidates
with the score each had before the stage and the score the stage gave it, and the time
the stage took. Java callers read that from ``debugInfo``, a ``Map<String, String>``:
one entry per stage label whose value is a JSON document, plus ``failures`` and
``notes`` (JSON lists of strings). That map stays the wire form, so Java code written
against it keeps working; this module is the one place that writes it and reads it
back into the typed ``Explain`` the REST shim and the console render.

One stage's document (keys kept from the first version; the later ones are optional)::

    {"kind": "rank", "millis": 3.2, "in": 200, "out": 200, "version": "...",
     "channels": {"u2i": 120, "itemcf": 95, ...},
     "top": [{"itemId": "42", "score": 0.91, "before": 0.37, "channels": ["u2i", "itemcf"]}, ...]}

Entries that are neither (a recommender's free-form notes) are kept as ``other`` text, never
dropped. Reading is total: any map of strings gives an ``Explain``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["FAILURES", "NOTES", "Explain", "ExplainItem", "StageExplain", "channel_mix"]

FAILURES = "failures"  # debugInfo key: why a pipeline before the one that answered was passed over
NOTES = "notes"  # debugInfo key: partial results a stage reported (a recall channel dropped)


@dataclass(frozen=True, slots=True)
class ExplainItem:
    """One candidate as a stage left it: its score after the stage and the score it came in with."""

    itemId: str
    score: float
    before: float | None = None  # None: the candidate entered the funnel at this stage
    channels: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {"itemId": self.itemId, "score": round(self.score, 6)}
        if self.before is not None:
            found["before"] = round(self.before, 6)
        if self.channels:
            found["channels"] = list(self.channels)
        return found

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> ExplainItem:
        before = document.get("before")
        return cls(
            itemId=str(document.get("itemId", "")),
            score=_number(document.get("score")),
            before=_number(before) if before is not None else None,
            channels=tuple(str(c) for c in document.get("channels") or () if isinstance(c, str)),
        )


@dataclass(frozen=True, slots=True)
class StageExplain:
    """One stage of one request: candidates in and out, channel mix, top scores, time."""

    stage: str  # the step's label in the scene config (unique within a pipeline)
    kind: str  # pipeline.StageKind value: hydrate, recall, pre_rank, rank, re_rank
    millis: float
    candidatesIn: int
    candidatesOut: int
    channels: Mapping[str, int] = field(default_factory=dict)  # recall channel -> candidates out carrying it
    top: tuple[ExplainItem, ...] = ()
    version: str = ""  # the artifact version the stage was built from, when there is one

    def to_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "kind": self.kind,
            "millis": round(self.millis, 3),
            "in": self.candidatesIn,
            "out": self.candidatesOut,
            "top": [item.to_json() for item in self.top],
        }
        if self.channels:
            found["channels"] = dict(self.channels)
        if self.version:
            found["version"] = self.version
        return found

    @classmethod
    def from_json(cls, stage: str, document: Mapping[str, Any]) -> StageExplain:
        channels = document.get("channels")
        return cls(
            stage=stage,
            kind=str(document.get("kind", "")),
            millis=_number(document.get("millis")),
            candidatesIn=int(_number(document.get("in"))),
            candidatesOut=int(_number(document.get("out"))),
            channels={str(k): int(_number(v)) for k, v in channels.items()} if isinstance(channels, Mapping) else {},
            top=tuple(ExplainItem.from_json(t) for t in document.get("top") or () if isinstance(t, Mapping)),
            version=str(document.get("version", "")),
        )


@dataclass(frozen=True, slots=True)
class Explain:
    """Everything a debug answer says about how it was made, in stage order."""

    stages: tuple[StageExplain, ...] = ()
    failures: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    other: Mapping[str, str] = field(default_factory=dict)  # debugInfo entries that are neither

    def to_debug_info(self) -> dict[str, str]:
        """The ``debugInfo`` map a Java caller reads (stage labels in order, then failures and notes)."""
        found = {s.stage: json.dumps(s.to_json(), separators=(",", ":")) for s in self.stages}
        found.update(self.other)
        if self.failures:
            found[FAILURES] = json.dumps(list(self.failures))
        if self.notes:
            found[NOTES] = json.dumps(list(self.notes))
        return found

    @classmethod
    def from_debug_info(cls, debug_info: Mapping[str, str] | None) -> Explain:
        stages: list[StageExplain] = []
        lists: dict[str, tuple[str, ...]] = {FAILURES: (), NOTES: ()}
        other: dict[str, str] = {}
        for key, text in (debug_info or {}).items():
            document = _json(text)
            if key in lists and isinstance(document, list):
                lists[key] = tuple(str(entry) for entry in document)
            elif isinstance(document, dict) and isinstance(document.get("millis"), (int, float)):
                stages.append(StageExplain.from_json(str(key), document))
            else:
                other[str(key)] = str(text)
        return cls(tuple(stages), lists[FAILURES], lists[NOTES], other)


def channel_mix(channel_lists: Sequence[Sequence[str]]) -> dict[str, int]:
    """How many candidates carry each channel (a candidate recalled by two channels counts in both)."""
    mix: dict[str, int] = {}
    for channels in channel_lists:
        for channel in channels:
            mix[channel] = mix.get(channel, 0) + 1
    return mix


def _json(text: object) -> Any:
    try:
        return json.loads(text) if isinstance(text, (str, bytes)) else None
    except ValueError:
        return None


def _number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return 0.0
    return float(value)
