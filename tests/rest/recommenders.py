"""Recommenders for the REST and observability tests: a real two-stage pipeline, and a broken one."""

from __future__ import annotations

from dubbo_recsys.interfaces.recommend import RecommendRequest, RecommendResponse
from dubbo_recsys.pipeline import Candidate, Pipeline, PipelineName, Query, ResilientRecommender, Stage, StageKind


class FixedRecall(Stage, kind=StageKind.RECALL, names=("rest_test_fixed",)):
    """Recalls item-0 .. item-29 with falling scores."""

    async def run(self, query: Query, candidates: list[Candidate]) -> list[Candidate]:
        return [Candidate(item_id=f"item-{i}", score=1.0 - i / 100, channels=("fixed",)) for i in range(30)]


class OddFirstRank(Stage, kind=StageKind.RANK, names=("rest_test_odd_first",)):
    """Keeps odd items only, best first: visibly changes what recall gave."""

    async def run(self, query: Query, candidates: list[Candidate]) -> list[Candidate]:
        kept = [c for c in candidates if int(c.item_id.split("-")[1]) % 2 == 1]
        for c in kept:
            c.score = c.score * 2
        return kept


def pipeline_recommender() -> ResilientRecommender:
    """A real ``ResilientRecommender`` whose debug answers carry two stage traces."""
    full = Pipeline.of(PipelineName.FULL, [FixedRecall(), OddFirstRank()])
    return ResilientRecommender(full=full, light=None, popular=lambda request: [("p-1", 0.5)], budget_seconds=2.0)


class RaisingRecommender:
    """Breaks the Recommender promise: raises for every call."""

    async def recommend(self, request: RecommendRequest) -> RecommendResponse:
        raise RuntimeError("boom")


class ThriftyRecommender:
    """A recommender with a stricter rule than the shim's: refuses more than 500 items with code 400."""

    async def recommend(self, request: RecommendRequest) -> RecommendResponse:
        if request.count > 500:
            return RecommendResponse(code=400, message=f"count must be at most 500, got {request.count}")
        return await pipeline_recommender().recommend(request)
