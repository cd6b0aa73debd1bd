"""What flows through a pipeline: one ``Query`` and a list of ``Candidate``.

Stages know nothing of Dubbo, gRPC or REST: they see our own
``RecommendRequest`` (the protocols translate to it) plus what earlier stages
attached (user features, candidate features, per-stage scores). The query
carries the request's deadline so every stage can budget its downstream calls.
"""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass, field

from dubbo_recsys.features.base import ItemFeatures, UserFeatures
from dubbo_recsys.interfaces.explain import StageExplain
from dubbo_recsys.interfaces.recommend import MAX_COUNT, RecommendRequest


class PipelineError(Exception):
    """Base error of the ``pipeline`` package."""


class DeadlineExceeded(PipelineError):
    """The request's time budget ran out before a stage finished."""


class StageKind(enum.Enum):
    """The kinds of step a pipeline is made of, in the order they usually run."""

    HYDRATE = "hydrate"  # fetch user / item features (the seed's *_sample steps)
    RECALL = "recall"
    PRE_RANK = "pre_rank"
    RANK = "rank"
    RE_RANK = "re_rank"


class PipelineName(enum.Enum):
    """Which pipeline answered; travels back as ``RecommendResponse.pipeline``."""

    FULL = "full"
    LIGHT = "light"
    POPULAR = "popular"


@dataclass(slots=True)
class Candidate:
    item_id: str
    score: float = 0.0
    channels: tuple[str, ...] = ()
    item: ItemFeatures | None = None
    scores: dict[str, float] = field(default_factory=dict)  # stage name -> score it gave


@dataclass(slots=True)
class Query:
    request: RecommendRequest
    deadline: float  # time.monotonic() value after which the answer is late
    user: UserFeatures | None = None
    exposure: frozenset[str] = frozenset()
    traces: list[StageExplain] | None = None  # collected only when the request asked for debug
    notes: list[str] = field(default_factory=list)  # partial results a stage reports (a recall channel dropped)

    @classmethod
    def start(cls, request: RecommendRequest, budget_seconds: float) -> Query:
        return cls(
            request=request,
            deadline=time.monotonic() + budget_seconds,
            exposure=frozenset(request.exposureList or ()),
            traces=[] if request.debug else None,
        )

    def remaining(self) -> float:
        """Seconds left before the deadline (negative when late)."""
        return self.deadline - time.monotonic()

    @property
    def wanted(self) -> int:
        """How many items the caller wants (validated to 1..MAX_COUNT before a pipeline runs)."""
        return max(1, min(int(self.request.count or 10), MAX_COUNT))
