"""``PopularRecommender``: the answer served when no pipeline is configured.

It ranks items by a fixed popularity list, filters what the user has already
seen, and says so: ``pipeline="popular"``, ``degraded=True``, channel ``popular``.
It exists so ``dubbo-recsys serve`` answers real requests out of the box and so
the protocol tests have a deterministic recommender; the recommendation pipeline
replaces it behind the same ``interfaces.recommender.Recommender`` seam.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Iterable, Sequence

from dubbo_recsys.interfaces.explain import Explain, ExplainItem, StageExplain
from dubbo_recsys.interfaces.recommend import (
    MAX_COUNT,
    RecommendItem,
    RecommendRequest,
    RecommendResponse,
    request_problem,
)

__all__ = ["DEFAULT_POPULAR_ITEMS", "MAX_COUNT", "PopularRecommender"]


# item id -> popularity score (best first): a stand-in catalogue, clearly synthetic.
DEFAULT_POPULAR_ITEMS: tuple[tuple[str, float], ...] = tuple(
    (f"item-{rank:04d}", round(1.0 / (1.0 + 0.05 * rank), 6)) for rank in range(1, 201)
)


class PopularRecommender:
    """Implements ``Recommender`` over a fixed, best-first list of ``(item_id, score)``."""

    def __init__(self, items: Iterable[tuple[str, float]] = DEFAULT_POPULAR_ITEMS) -> None:
        self._items: Sequence[tuple[str, float]] = tuple(items)
        self._score = dict(self._items)

    async def recommend(self, request: RecommendRequest | None) -> RecommendResponse:
        if request is None:
            return RecommendResponse(code=400, message="request is required", pipeline="popular", degraded=True)
        problem = request_problem(request)
        request_id = _request_id(request)
        if problem:
            return RecommendResponse(code=400, message=problem, requestId=request_id, pipeline="popular", degraded=True)
        started = time.perf_counter()
        seen = frozenset(request.exposureList) if request.exposureList else frozenset()
        ranked: Sequence[tuple[str, float]]
        if request.candidateIds:
            ranked = sorted(
                ((item, self._score.get(item, 0.0)) for item in dict.fromkeys(request.candidateIds)),
                key=lambda pair: -pair[1],
            )
        else:
            ranked = self._items  # already best first; never copied
        items = []
        count = request.count
        for item, score in ranked:
            if item not in seen:
                items.append(RecommendItem(itemId=item, score=score, channel="popular"))
                if len(items) == count:
                    break
        debug = _explain(ranked, items, started) if request.debug else None
        return RecommendResponse(
            code=200,
            message="ok",
            requestId=request_id,
            items=items,
            degraded=True,
            pipeline="popular",
            debugInfo=debug,
        )


def _explain(ranked: Sequence[tuple[str, float]], items: list[RecommendItem], started: float) -> dict[str, str]:
    """A debug answer's one stage: the popularity list in, what was returned out."""
    stage = StageExplain(
        stage="popular",
        kind="recall",
        millis=(time.perf_counter() - started) * 1000.0,
        candidatesIn=len(ranked),
        candidatesOut=len(items),
        channels={"popular": len(items)} if items else {},
        top=tuple(ExplainItem(i.itemId, i.score, None, ("popular",)) for i in items[:20]),
    )
    return Explain(stages=(stage,)).to_debug_info()


def _request_id(request: RecommendRequest) -> str:
    # stable per (scene, user) so a caller can correlate retries; not a security token
    key = f"{request.scene}\x00{request.userId}".encode()
    return f"{zlib.crc32(key):08x}{zlib.adler32(key):08x}"
