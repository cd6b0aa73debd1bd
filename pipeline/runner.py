"""Run an ordered list of stages under the request's deadline.

``Pipeline.run`` is one straight recipe: for each stage, wait for it at most
until the query's deadline, record a trace when the caller asked for debug,
and hand its output to the next stage. The deadline is an ``asyncio.timeout``
around the stage, in the caller's task; only when there is no task yet (the
transport steps a call eagerly until its first real wait) does ``wait_for``
give the stage one of its own. It never catches a stage's error: the
``ResilientRecommender`` above it decides what a failure means.

Traces are keyed by ``labels``, one per stage (the stage's name by default): one
class may serve several steps (``preRankingSample`` and ``rankingSample`` are both
the item hydrator), and each step needs its own trace, so a label used twice gets
``#2``, ``#3``... and no trace hides another. A trace (``interfaces.explain.StageExplain``)
says how many candidates went in and out, the recall channel mix of those out, and
the top ones' scores before and after the stage; the scores before are copied before
the stage runs (stages may rescore candidates in place), and only in debug mode.
``versions`` (one per stage, optional) names the artifact version each stage was built
from; traces carry it, so a debug answer shows that every stage of the call ran on one version.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass

from dubbo_recsys.interfaces.explain import ExplainItem, StageExplain, channel_mix
from dubbo_recsys.pipeline.model import Candidate, DeadlineExceeded, PipelineName, Query
from dubbo_recsys.pipeline.stages import Stage

TOP_TRACED = 20  # candidates whose scores a debug trace shows, per stage


@dataclass(frozen=True)
class Pipeline:
    name: PipelineName
    stages: tuple[Stage, ...]
    labels: tuple[str, ...] = ()
    versions: tuple[str, ...] = ()

    @classmethod
    def of(
        cls, name: PipelineName, stages: Sequence[Stage], labels: Sequence[str] = (), versions: Sequence[str] = ()
    ) -> Pipeline:
        stages = tuple(stages)
        return cls(name, stages, _unique(list(labels) if labels else [stage.name for stage in stages]), tuple(versions))

    def __post_init__(self) -> None:
        if not self.labels:
            object.__setattr__(self, "labels", _unique([stage.name for stage in self.stages]))
        if len(self.labels) != len(self.stages):
            raise ValueError(f"{len(self.labels)} labels for {len(self.stages)} stages")
        if not self.versions:
            object.__setattr__(self, "versions", ("",) * len(self.stages))
        if len(self.versions) != len(self.stages):
            raise ValueError(f"{len(self.versions)} versions for {len(self.stages)} stages")

    async def run(self, query: Query) -> list[Candidate]:
        candidates: list[Candidate] = []
        for stage, label, version in zip(self.stages, self.labels, self.versions, strict=True):
            remaining = query.remaining()
            if remaining <= 0:
                raise DeadlineExceeded(f"{self.name.value} pipeline: no time left before {stage.name}")
            before = {c.item_id: c.score for c in candidates} if query.traces is not None else None
            started = time.perf_counter()
            try:
                if asyncio.current_task() is None:  # stepped eagerly, outside a task (provider.transport)
                    result = await asyncio.wait_for(stage.run(query, candidates), timeout=remaining)
                else:
                    async with asyncio.timeout(remaining):  # in this task: no new task per stage
                        result = await stage.run(query, candidates)
            except TimeoutError as exc:
                raise DeadlineExceeded(f"{self.name.value} pipeline: {stage.name} passed the deadline") from exc
            if query.traces is not None and before is not None:
                millis = (time.perf_counter() - started) * 1000.0
                query.traces.append(_explain(label, stage, millis, len(candidates), result, before, version))
            candidates = result
        return candidates


def _explain(
    label: str,
    stage: Stage,
    millis: float,
    count_in: int,
    result: list[Candidate],
    before: dict[str, float],
    version: str,
) -> StageExplain:
    """What the stage did to this request (debug only): counts, channel mix, top scores before and after."""
    return StageExplain(
        stage=label,
        kind=stage.kind.value,
        millis=millis,
        candidatesIn=count_in,
        candidatesOut=len(result),
        channels=channel_mix([c.channels for c in result]),
        top=tuple(ExplainItem(c.item_id, c.score, before.get(c.item_id), c.channels) for c in result[:TOP_TRACED]),
        version=version,
    )


def _unique(names: Sequence[str]) -> tuple[str, ...]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}#{seen[name]}")
    return tuple(out)
