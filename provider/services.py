"""The Dubbo services this project exports, each delegating to one ``Recommender``.

Written on the service API (``provider.service``) like any user's service:

- ``org.dubborecsys.api.RecommendService:1.0.0``, ``recommend(RecommendRequest)``:
  our own contract, passed straight to the recommender.
- ``com.loki.www.infer.DubbogoInferService`` (no version, no group),
  ``RecommenderInfer(RecRequest)`` and ``recommenderInfer(RecRequest)``: the seed
  system's contract, translated to and from ours. ``userId`` and ``dataId`` are
  required (code 400 otherwise); ``RecResponse.data`` is ``"<itemId>:<score>"``
  per item, best first.

Arguments reach these methods already checked against the POJOs' declared Java types
(a string where ``exposureList`` is a list, or an object of another class, is an
``IllegalArgumentException`` to the caller, raised by ``provider.dispatch``); what a
request may ask for (sizes of ``candidateIds``, ``exposureList``, ``context``,
``count``) is bounded by ``interfaces.recommend.request_problem``, which every
recommender applies (code 400). Bad input is an answer, never an exception.
"""

from __future__ import annotations

from dubbo_recsys.interfaces import recommend, seed
from dubbo_recsys.interfaces.recommend import RecommendRequest, RecommendResponse
from dubbo_recsys.interfaces.recommender import Recommender
from dubbo_recsys.interfaces.seed import RecRequest, RecResponse
from dubbo_recsys.provider.contract import Export, export_of
from dubbo_recsys.provider.service import Service

__all__ = ["RecommendService", "SeedInferService", "default_exports", "default_services"]


class RecommendService(Service, interface=recommend.INTERFACE, version=recommend.VERSION):
    """Recommendations for one user in one scene, best first."""

    def __init__(self, recommender: Recommender) -> None:
        self._recommender = recommender

    async def recommend(self, request: RecommendRequest | None) -> RecommendResponse:
        """Answer ``request``; ``code`` 400 with a message when it cannot be answered."""
        if request is None:
            return RecommendResponse(code=400, message="request is required")
        return await self._recommender.recommend(request)


class SeedInferService(Service, interface=seed.INTERFACE, version=seed.VERSION):
    """The seed system's inference contract, answered by our recommender."""

    def __init__(self, recommender: Recommender) -> None:
        self._recommender = recommender

    async def RecommenderInfer(self, request: RecRequest | None) -> RecResponse:
        """``data`` holds ``"<itemId>:<score>"`` per item, best first; ``code`` 400 without userId or dataId."""
        if request is None:
            return RecResponse(code=400, message="request is required", data=[])
        missing = [name for name in ("userId", "dataId") if not getattr(request, name)]
        if missing:
            return RecResponse(code=400, message=" and ".join(missing) + " required", data=[])
        ours = RecommendRequest(
            userId=request.userId,
            scene=request.dataId,
            exposureList=request.exposureList,
            context={k: v for k, v in (("groupId", request.groupId), ("namespaceId", request.namespaceId)) if v},
        )
        answer = await self._recommender.recommend(ours)
        return RecResponse(
            code=answer.code,
            message=answer.message,
            data=[f"{item.itemId}:{item.score!r}" for item in answer.items],
        )

    recommenderInfer = RecommenderInfer  # Java names are case-sensitive; the seed's callers use both


def default_services(recommender: Recommender) -> list[Service]:
    """Both services over one recommender."""
    return [RecommendService(recommender), SeedInferService(recommender)]


def default_exports(recommender: Recommender) -> list[Export]:
    """The exports of ``default_services`` (for a ``Dispatcher`` built by hand)."""
    return [export_of(service) for service in default_services(recommender)]
