"""Run an ordered list of stages under the request's deadline.

``Pipeline.run`` is one straight recipe: for each stage, wait for it at most
until the query's deadline, record a trace when the caller asked for debug,
and hand its output to the next stage. It never catches a stage's error: the
``ResilientRecommender`` above it decides what a failure means.
"""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Sequence

from pipeline.model import Candidate, DeadlineExceeded, PipelineName, Query, StageTrace
from pipeline.stages import Stage


@dataclass(frozen=True)
class Pipeline:
    name: PipelineName
    stages: tuple[Stage, ...]

    @classmethod
    def of(cls, name: PipelineName, stages: Sequence[Stage]) -> "Pipeline":
        return cls(name, tuple(stages))

    async def run(self, query: Query) -> list[Candidate]:
        candidates: list[Candidate] = []
        for stage in self.stages:
            remaining = query.remaining()
            if remaining <= 0:
                raise DeadlineExceeded(f"{self.name.value} pipeline: no time left before {stage.name}")
            started = time.perf_counter()
            try:
                result = await asyncio.wait_for(stage.run(query, candidates), timeout=remaining)
            except TimeoutError as exc:
                raise DeadlineExceeded(f"{self.name.value} pipeline: {stage.name} passed the deadline") from exc
            if query.traces is not None:
                query.traces.append(
                    StageTrace(
                        stage=stage.name,
                        kind=stage.kind,
                        millis=(time.perf_counter() - started) * 1000.0,
                        count_in=len(candidates),
                        count_out=len(result),
                        top=[(c.item_id, c.score) for c in result[:20]],
                    )
                )
            candidates = result
        return candidates
