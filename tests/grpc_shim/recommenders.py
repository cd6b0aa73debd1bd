"""Small recommenders for the shim's tests: the shim only translates, so these
answer in ways that make every translated field visible (ids derived from the
request, the request kept for inspection) or break on purpose.

The provider's own ``PopularRecommender`` is exercised too, in the Go client test.
"""

from __future__ import annotations

import asyncio

from dubbo_recsys.interfaces.recommend import RecommendItem, RecommendRequest, RecommendResponse


class EchoRecommender:
    """Answers ``count`` items (or the candidates, reversed) and keeps every request.

    Scores fall with rank (1, 1/2, 1/3, ...); ``requestId`` is ``user/scene`` and
    ``debugInfo`` echoes the context when debug is asked, so a test can see each
    field made the trip. An empty ``userId`` gets the in-band 400 a real
    recommender gives.
    """

    def __init__(self) -> None:
        self.requests: list[RecommendRequest] = []

    async def recommend(self, request: RecommendRequest) -> RecommendResponse:
        self.requests.append(request)
        if not request.userId:
            return RecommendResponse(code=400, message="userId is required", pipeline="")
        if request.candidateIds:
            ids = list(reversed(request.candidateIds))
        else:
            seen = set(request.exposureList)
            ids = [f"item-{i}" for i in range(request.count + len(seen)) if f"item-{i}" not in seen]
            ids = ids[: request.count]
        items = [RecommendItem(itemId=item, score=1.0 / (rank + 1), channel="echo") for rank, item in enumerate(ids)]
        return RecommendResponse(
            requestId=f"{request.userId}/{request.scene}",
            items=items,
            degraded=request.scene == "degraded",
            pipeline="light" if request.scene == "degraded" else "full",
            debugInfo=dict(request.context) if request.debug else None,
        )


class RaisingRecommender:
    """Breaks the ``Recommender`` promise: raises on every call."""

    async def recommend(self, request: RecommendRequest) -> RecommendResponse:
        raise RuntimeError("boom")


class WrongAnswerRecommender:
    """Returns an answer the protos cannot carry (a score that is not a number)."""

    async def recommend(self, request: RecommendRequest) -> RecommendResponse:
        return RecommendResponse(items=[RecommendItem(itemId="x", score="high")])  # type: ignore[arg-type]  # a broken answer on purpose


class SlowRecommender:
    """Takes ``delay`` seconds per answer, to test deadlines and graceful stops."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.finished = 0

    async def recommend(self, request: RecommendRequest) -> RecommendResponse:
        await asyncio.sleep(self.delay)
        self.finished += 1
        return RecommendResponse(items=[RecommendItem(itemId="slow", score=1.0)])
