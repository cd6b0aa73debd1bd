"""The Dubbo services this project exports, each delegating to one ``Recommender``.

- ``org.dubborecsys.api.RecommendService:1.0.0``, ``recommend(RecommendRequest)``:
  our own contract, passed straight to the recommender.
- ``com.loki.www.infer.DubbogoInferService`` (no version, no group),
  ``RecommenderInfer(RecRequest)`` and ``recommenderInfer(RecRequest)``: the seed
  system's contract, translated to and from ours. ``userId`` and ``dataId`` are
  required (code 400 otherwise); ``RecResponse.data`` is ``"<itemId>:<score>"``
  per item, best first.

The specs here are also what the registry publishes (``methods=``, version, group).
No protocol code lives here: a method that raises is turned into a Java
``RuntimeException`` by ``provider.dispatch``.
"""

from __future__ import annotations

from dubbo_recsys.interfaces import recommend, seed
from dubbo_recsys.interfaces.recommend import RecommendRequest, RecommendResponse
from dubbo_recsys.interfaces.recommender import Recommender
from dubbo_recsys.interfaces.seed import RecRequest, RecResponse
from dubbo_recsys.provider.spec import Export, MethodSpec, ServiceSpec
from hessian2 import Long

__all__ = ["RECOMMEND_SPEC", "SEED_SPEC", "RecommendService", "SeedInferService", "default_exports"]

RECOMMEND_SPEC = ServiceSpec(
    interface=recommend.INTERFACE,
    version=recommend.VERSION,
    methods=(MethodSpec("recommend", (RecommendRequest,), RecommendResponse),),
)

SEED_SPEC = ServiceSpec(
    interface=seed.INTERFACE,
    version=seed.VERSION,
    methods=(
        MethodSpec("RecommenderInfer", (RecRequest,), RecResponse, handler="infer"),
        MethodSpec("recommenderInfer", (RecRequest,), RecResponse, handler="infer"),
    ),
)


class RecommendService:
    """``org.dubborecsys.api.RecommendService``."""

    def __init__(self, recommender: Recommender) -> None:
        self._recommender = recommender

    async def recommend(self, request: RecommendRequest | None) -> RecommendResponse:
        if request is None:
            return RecommendResponse(code=400, message="request is required")
        return await self._recommender.recommend(request)


class SeedInferService:
    """``com.loki.www.infer.DubbogoInferService``, the seed system's contract."""

    def __init__(self, recommender: Recommender) -> None:
        self._recommender = recommender

    async def infer(self, request: RecRequest | None) -> RecResponse:
        if request is None:
            return RecResponse(code=Long(400), message="request is required", data=[])
        missing = [name for name in ("userId", "dataId") if not getattr(request, name)]
        if missing:
            return RecResponse(code=Long(400), message=" and ".join(missing) + " required", data=[])
        ours = RecommendRequest(
            userId=request.userId,
            scene=request.dataId,
            exposureList=list(request.exposureList or ()),
            context={k: v for k, v in (("groupId", request.groupId), ("namespaceId", request.namespaceId)) if v},
        )
        answer = await self._recommender.recommend(ours)
        return RecResponse(
            code=Long(answer.code),
            message=answer.message,
            data=[f"{item.itemId}:{item.score!r}" for item in answer.items],
        )


def default_exports(recommender: Recommender) -> list[Export]:
    """Both services over one recommender."""
    return [
        Export(RECOMMEND_SPEC, RecommendService(recommender)),
        Export(SEED_SPEC, SeedInferService(recommender)),
    ]
