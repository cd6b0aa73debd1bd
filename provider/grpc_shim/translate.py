"""Wire shapes <-> our ``RecommendRequest`` / ``RecommendResponse``: pure functions.

This module is the whole of the shim's knowledge about the two protos; it does no
I/O and never calls the recommender. ``*_to_request`` either returns a
``RecommendRequest`` or raises ``RequestShapeError`` naming the bad field, which the
servicers answer with ``code`` 400. It checks shape only (required fields, ranges
the contracts state); what a scene or user means is the recommender's business.

The seed's ``RecommendRequest`` (SEED-SYSTEM.md) maps as follows:

==========================  =====================================================
seed field                  our field
==========================  =====================================================
``UserId`` (required)       ``userId``
``DataId`` (required)       ``scene`` (the dataId selects the per-scene config)
``GroupId``, ``Namespace``  ``context["groupId"]``, ``context["namespaceId"]``
                            (the names of the seed's Dubbo ``RecRequest`` fields)
``ModelType``               ``""``/``"recall"``: recommend from recall;
                            ``"rank"``: rank exactly ``ItemList`` (``candidateIds``)
``RecallNum`` (0..1000)     ``count``; 0 = the default (10), or all of ``ItemList``
``ItemList`` (<= 200)       ``candidateIds``; only read when ``ModelType`` is rank
==========================  =====================================================

and the answer's items become ``ItemInfo(itemid, score)``, best first, with
``Code``/``Message`` copied from ``code``/``message``.
"""

from __future__ import annotations

from dubbo_recsys.interfaces.proto import recommend_v1_pb2 as v1_pb2
from dubbo_recsys.interfaces.proto import recommender_infer_pb2 as seed_pb2
from dubbo_recsys.interfaces.recommend import RecommendRequest, RecommendResponse
from dubbo_recsys.provider.grpc_shim.errors import RequestShapeError

DEFAULT_COUNT = 10
SEED_MAX_RECALL_NUM = 1000
SEED_MAX_ITEM_LIST = 200
SEED_MODEL_TYPES = ("", "recall", "rank")


def seed_to_request(message: seed_pb2.RecommendRequest) -> RecommendRequest:
    """Translate the seed's request, or raise ``RequestShapeError``."""
    if not message.UserId:
        raise RequestShapeError("UserId is required")
    if not message.DataId:
        raise RequestShapeError("DataId is required")
    if message.ModelType not in SEED_MODEL_TYPES:
        raise RequestShapeError(f"ModelType must be one of 'recall', 'rank' or empty, got {message.ModelType!r}")
    if not 0 <= message.RecallNum <= SEED_MAX_RECALL_NUM:
        raise RequestShapeError(f"RecallNum must be 0..{SEED_MAX_RECALL_NUM}, got {message.RecallNum}")
    items = list(message.ItemList.value)
    if message.ModelType == "rank":
        if not items:
            raise RequestShapeError("ModelType 'rank' needs a non-empty ItemList")
        if len(items) > SEED_MAX_ITEM_LIST:
            raise RequestShapeError(f"ItemList holds {len(items)} items; at most {SEED_MAX_ITEM_LIST} can be ranked")
    elif items:
        raise RequestShapeError("ItemList is only read when ModelType is 'rank'")
    context = {}
    if message.GroupId:
        context["groupId"] = message.GroupId
    if message.Namespace:
        context["namespaceId"] = message.Namespace
    count = message.RecallNum or (len(items) if items else DEFAULT_COUNT)
    return RecommendRequest(
        userId=message.UserId,
        scene=message.DataId,
        count=count,
        context=context,
        candidateIds=items,
    )


def response_to_seed(response: RecommendResponse) -> seed_pb2.RecommendResponse:
    """Our answer in the seed's shape: ``Data`` lists ``(itemid, score)`` best first."""
    return seed_pb2.RecommendResponse(
        Code=response.code,
        Message=response.message,
        Data=seed_pb2.ItemInfoList(
            iteminfo_=[seed_pb2.ItemInfo(itemid=item.itemId, score=item.score) for item in response.items]
        ),
    )


def v1_to_request(message: v1_pb2.RecommendRequest) -> RecommendRequest:
    """Translate a ``dubborecsys.v1.RecommendRequest``, or raise ``RequestShapeError``.

    Proto3 cannot tell an unset ``count`` from 0, so 0 means the default, as the
    proto documents. Everything else is copied; the recommender judges the values.
    """
    if message.count < 0:
        raise RequestShapeError(f"count must not be negative, got {message.count}")
    return RecommendRequest(
        userId=message.user_id,
        scene=message.scene,
        count=message.count or DEFAULT_COUNT,
        exposureList=list(message.exposure_list),
        context=dict(message.context),
        candidateIds=list(message.candidate_ids),
        debug=message.debug,
    )


def response_to_v1(response: RecommendResponse) -> v1_pb2.RecommendResponse:
    """Our answer as a ``dubborecsys.v1.RecommendResponse``; no debug info = empty map."""
    return v1_pb2.RecommendResponse(
        code=response.code,
        message=response.message,
        request_id=response.requestId,
        items=[
            v1_pb2.RecommendItem(item_id=item.itemId, score=item.score, channel=item.channel) for item in response.items
        ],
        degraded=response.degraded,
        pipeline=response.pipeline,
        debug_info=dict(response.debugInfo or {}),
    )


def rejection(code: int, message: str) -> RecommendResponse:
    """The answer for a request that never reached the recommender."""
    return RecommendResponse(code=code, message=message, items=[], degraded=False, pipeline="")
