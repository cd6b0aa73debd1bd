"""Never an error, never an empty list: the heavy pipeline, then the light one, then a cached popular list.

``Downstream`` guards one dependency (Redis, TF Serving, Faiss, the registry):
a ``circuitbreaker.CircuitBreaker`` that opens after repeated failures and a
semaphore bounding concurrent calls, so a slow part fails fast instead of
queueing every request behind it.

``ResilientRecommender`` implements ``interfaces.recommender.Recommender``: it
runs the full pipeline within the request budget; on a deadline, an open
breaker or any stage error it runs the light pipeline with what is left of a
separate light budget; if that fails too it answers the scene's cached popular
list. The response says which pipeline answered.

Under overload it sheds work instead of queueing it: ``InFlight`` bounds how many
requests are inside the full pipeline at once (per process, shared by every scene);
a request over the bound goes straight to the light pipeline, and one over the light
bound to the popular list. Why: past its capacity a provider's requests interleave on
the event loop until they miss their deadline, and then each also pays for the light
pipeline: the backlog grows on itself (measured open loop: p99 325 ms, most answers
degraded). Bounded, the excess gets cheaper answers at once and the full pipeline
keeps its latency. The answer's message names the bound that was hit.

Stages may note that their part of the answer is partial (a recall channel that
was late or failed, ``Query.notes``): the message says so after "ok" and debug
lists the notes; ``degraded`` keeps its contract, "not the full pipeline".

Items go out best first, as the contract says, and their scores never increase down
the list: a diversifying re-rank (MMR, DPP) reorders without rescoring, so each
reported score is capped at the one above it (the debug traces keep every stage's
own scores). Without a re-rank nothing changes: the rankers already sort by score.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from circuitbreaker import CircuitBreaker

from dubbo_recsys.interfaces.explain import Explain
from dubbo_recsys.interfaces.recommend import RecommendItem, RecommendRequest, RecommendResponse, request_problem
from dubbo_recsys.pipeline.model import Candidate, PipelineError, PipelineName, Query
from dubbo_recsys.pipeline.runner import Pipeline

log = logging.getLogger(__name__)
T = TypeVar("T")


class DownstreamUnavailable(PipelineError):
    """A guarded dependency refused the call: breaker open or concurrency bound reached."""


class Downstream:
    """Circuit breaker plus concurrency bound around one dependency."""

    def __init__(
        self, name: str, *, max_concurrency: int = 64, failure_threshold: int = 5, recovery_seconds: float = 10.0
    ) -> None:
        self.name = name
        self.breaker = CircuitBreaker(failure_threshold=failure_threshold, recovery_timeout=recovery_seconds, name=name)
        self._slots = asyncio.Semaphore(max_concurrency)

    @property
    def state(self) -> str:
        return str(self.breaker.state)

    async def call(self, make_call: Callable[[], Awaitable[T]], timeout: float) -> T:
        if self.breaker.opened:
            raise DownstreamUnavailable(f"{self.name}: circuit open")
        if self._slots.locked():
            raise DownstreamUnavailable(f"{self.name}: concurrency bound reached")
        async with self._slots:
            with self.breaker:
                return await asyncio.wait_for(make_call(), timeout=max(timeout, 0.0))


class InFlight:
    """How many requests are inside one kind of pipeline; ``enter`` refuses past ``limit`` (0 = no bound)."""

    def __init__(self, limit: int = 0) -> None:
        if not isinstance(limit, int) or limit < 0:
            raise ValueError(f"in-flight limit must be an int >= 0, got {limit!r}")
        self.limit = limit
        self.count = 0
        self.refused = 0

    def enter(self) -> bool:
        if self.limit and self.count >= self.limit:
            self.refused += 1
            return False
        self.count += 1
        return True

    def leave(self) -> None:
        self.count -= 1


@dataclass
class ResilientRecommender:
    full: Pipeline
    light: Pipeline | None
    popular: Callable[[RecommendRequest], Sequence[tuple[str, float]]]
    budget_seconds: float = 0.100
    light_budget_seconds: float = 0.050
    answered: Counter[str] = field(default_factory=Counter)  # pipeline name -> count, for metrics
    full_inflight: InFlight = field(default_factory=InFlight)  # shared per process (pipeline.assemble.Resources)
    light_inflight: InFlight = field(default_factory=InFlight)

    async def recommend(self, request: RecommendRequest) -> RecommendResponse:
        problem = request_problem(request)
        if problem:
            return RecommendResponse(
                code=400,
                message=problem,
                requestId=_request_id(),
                items=[],
                degraded=False,
                pipeline=PipelineName.FULL.value,
            )
        query = Query.start(request, self.budget_seconds)
        failures: list[str] = []
        for pipeline, inflight in ((self.full, self.full_inflight), (self.light, self.light_inflight)):
            if pipeline is None:
                continue
            if not inflight.enter():
                failures.append(f"{pipeline.name.value}: overloaded ({inflight.limit} requests in it)")
                continue
            try:
                if pipeline is self.light:
                    query = Query.start(request, self.light_budget_seconds)
                candidates = await pipeline.run(query)
            except Exception as exc:
                failures.append(f"{pipeline.name.value}: {type(exc).__name__}: {exc}")
                log.warning("pipeline %s failed for user %s: %s", pipeline.name.value, request.userId, exc)
                continue
            finally:
                inflight.leave()
            if candidates:
                return self._answer(request, query, pipeline.name, candidates, failures)
            failures.append(f"{pipeline.name.value}: no candidates")
        fallback = [
            Candidate(item_id=i, score=s, channels=("popular",))
            for i, s in self.popular(request)
            if i not in query.exposure
        ]
        return self._answer(request, query, PipelineName.POPULAR, fallback, failures)

    def _answer(
        self,
        request: RecommendRequest,
        query: Query,
        name: PipelineName,
        candidates: list[Candidate],
        failures: list[str],
    ) -> RecommendResponse:
        self.answered[name.value] += 1
        top = candidates[: query.wanted]
        debug = None
        if request.debug:
            debug = Explain(tuple(query.traces or ()), tuple(failures), tuple(query.notes)).to_debug_info()
        message = "ok" if not failures else "degraded: " + "; ".join(failures)
        if query.notes:
            message += "; partial: " + "; ".join(query.notes)
        return RecommendResponse(
            code=200,
            message=message[:500],
            requestId=_request_id(),
            items=[
                RecommendItem(itemId=c.item_id, score=score, channel="+".join(c.channels))
                for c, score in zip(top, _best_first(top), strict=True)
            ],
            degraded=name is not PipelineName.FULL,
            pipeline=name.value,
            debugInfo=debug,
        )


def _best_first(candidates: Sequence[Candidate]) -> list[float]:
    """Scores capped so that they never increase down the list (see the module docstring)."""
    out: list[float] = []
    for candidate in candidates:
        score = float(candidate.score)
        out.append(score if not out or score <= out[-1] else out[-1])
    return out


def _request_id() -> str:
    return uuid.uuid4().hex
