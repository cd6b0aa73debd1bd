"""``translate``: the two protos <-> our dataclasses, with no server involved."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from typing import Any

import pytest
from google.protobuf.message import Message
from hypothesis import given
from hypothesis import strategies as st

from dubbo_recsys.interfaces.proto import recommend_v1_pb2 as v1_pb2
from dubbo_recsys.interfaces.proto import recommender_infer_pb2 as seed_pb2
from dubbo_recsys.interfaces.recommend import RecommendItem, RecommendRequest, RecommendResponse
from dubbo_recsys.provider.grpc_shim import RequestShapeError, translate


def seed_request(**fields: Any) -> seed_pb2.RecommendRequest:
    base: dict[str, Any] = {"UserId": "u1", "DataId": "home"}
    base.update(fields)
    return seed_pb2.RecommendRequest(**base)


def test_seed_recall_request_maps_every_field() -> None:
    request = translate.seed_to_request(
        seed_request(GroupId="recsys", Namespace="public", ModelType="recall", RecallNum=50)
    )
    assert request.userId == "u1"
    assert request.scene == "home"
    assert request.count == 50
    assert request.context == {"groupId": "recsys", "namespaceId": "public"}
    assert request.candidateIds == []
    assert request.exposureList == []


def test_seed_defaults_count_and_omits_empty_context() -> None:
    request = translate.seed_to_request(seed_request())
    assert request.count == translate.DEFAULT_COUNT
    assert request.context == {}


def test_seed_rank_request_ranks_the_item_list() -> None:
    request = translate.seed_to_request(
        seed_request(ModelType="rank", ItemList=seed_pb2.StringList(value=["a", "b", "c"]))
    )
    assert request.candidateIds == ["a", "b", "c"]
    assert request.count == 3


@pytest.mark.parametrize(
    "fields, fragment",
    [
        ({"UserId": ""}, "UserId is required"),
        ({"DataId": ""}, "DataId is required"),
        ({"ModelType": "dssm"}, "ModelType must be one of"),
        ({"RecallNum": -1}, "RecallNum must be 0..1000"),
        ({"RecallNum": 1001}, "RecallNum must be 0..1000"),
        ({"ModelType": "rank"}, "needs a non-empty ItemList"),
        ({"ModelType": "rank", "ItemList": seed_pb2.StringList(value=[str(i) for i in range(201)])}, "at most 200"),
        ({"ItemList": seed_pb2.StringList(value=["a"])}, "only read when ModelType is 'rank'"),
    ],
)
def test_seed_bad_requests_name_the_field(fields: dict[str, object], fragment: str) -> None:
    with pytest.raises(RequestShapeError, match=fragment):
        translate.seed_to_request(seed_request(**fields))


@given(
    user=st.text(max_size=5),
    data_id=st.text(max_size=5),
    model_type=st.sampled_from(["", "recall", "rank", "RANK", "x"]),
    recall_num=st.integers(min_value=-(2**31), max_value=2**31 - 1),
    items=st.lists(st.text(max_size=3), max_size=210),
)
def test_seed_translation_returns_or_raises_shape_error_only(
    user: str, data_id: str, model_type: str, recall_num: int, items: list[str]
) -> None:
    message = seed_pb2.RecommendRequest(
        UserId=user,
        DataId=data_id,
        ModelType=model_type,
        RecallNum=recall_num,
        ItemList=seed_pb2.StringList(value=items),
    )
    try:
        request = translate.seed_to_request(message)
    except RequestShapeError:
        return
    assert request.userId == user and request.scene == data_id
    assert 1 <= request.count <= 1000


def test_response_to_seed_keeps_order_code_and_message() -> None:
    response = RecommendResponse(
        code=206,
        message="partial",
        items=[RecommendItem(itemId="b", score=0.9), RecommendItem(itemId="a", score=0.25)],
    )
    wire = translate.response_to_seed(response)
    assert (wire.Code, wire.Message) == (206, "partial")
    assert [(i.itemid, i.score) for i in wire.Data.iteminfo_] == [("b", pytest.approx(0.9)), ("a", 0.25)]


def test_seed_score_is_a_float32() -> None:
    wire = translate.response_to_seed(RecommendResponse(items=[RecommendItem(itemId="a", score=1 / 3)]))
    parsed = seed_pb2.RecommendResponse.FromString(wire.SerializeToString())
    assert parsed.Data.iteminfo_[0].score != 1 / 3
    assert math.isclose(parsed.Data.iteminfo_[0].score, 1 / 3, rel_tol=1e-6)


def test_v1_request_maps_every_field() -> None:
    message = v1_pb2.RecommendRequest(
        user_id="u",
        scene="s",
        count=7,
        exposure_list=["x"],
        context={"k": "v"},
        candidate_ids=["c1", "c2"],
        debug=True,
    )
    request = translate.v1_to_request(message)
    assert (request.userId, request.scene, request.count) == ("u", "s", 7)
    assert request.exposureList == ["x"]
    assert request.context == {"k": "v"}
    assert request.candidateIds == ["c1", "c2"]
    assert request.debug is True


def test_v1_zero_count_means_default_and_negative_is_rejected() -> None:
    assert translate.v1_to_request(v1_pb2.RecommendRequest(user_id="u")).count == translate.DEFAULT_COUNT
    with pytest.raises(RequestShapeError, match="count must not be negative"):
        translate.v1_to_request(v1_pb2.RecommendRequest(user_id="u", count=-3))


def test_response_to_v1_maps_every_field_and_survives_the_wire() -> None:
    response = RecommendResponse(
        code=200,
        message="ok",
        requestId="r1",
        items=[RecommendItem(itemId="i1", score=0.123456789012, channel="swing+hot")],
        degraded=True,
        pipeline="light",
        debugInfo={"recall": "{}"},
    )
    wire = v1_pb2.RecommendResponse.FromString(translate.response_to_v1(response).SerializeToString())
    assert (wire.code, wire.message, wire.request_id) == (200, "ok", "r1")
    assert [(i.item_id, i.score, i.channel) for i in wire.items] == [("i1", 0.123456789012, "swing+hot")]
    assert (wire.degraded, wire.pipeline) == (True, "light")
    assert dict(wire.debug_info) == {"recall": "{}"}


def test_response_to_v1_without_debug_info_is_an_empty_map() -> None:
    assert dict(translate.response_to_v1(RecommendResponse(debugInfo=None)).debug_info) == {}


def test_rejection_is_a_4xx_answer_without_items() -> None:
    answer = translate.rejection(400, "bad")
    assert (answer.code, answer.message, answer.items, answer.pipeline) == (400, "bad", [], "")


@given(data=st.binary(max_size=200))
def test_arbitrary_bytes_decode_or_fail_cleanly_then_translate_or_shape_error(data: bytes) -> None:
    """What the handlers do with a request body: DecodeError (-> INVALID_ARGUMENT) or
    a message that translates or raises RequestShapeError (-> 400), nothing else."""
    from google.protobuf.message import DecodeError

    pairs: tuple[tuple[type[Message], Callable[[Any], RecommendRequest]], ...] = (
        (v1_pb2.RecommendRequest, translate.v1_to_request),  # each message type with its own translator
        (seed_pb2.RecommendRequest, translate.seed_to_request),
    )
    for message_type, to_request in pairs:
        try:
            message = message_type.FromString(data)
        except DecodeError:
            continue
        with contextlib.suppress(RequestShapeError):
            to_request(message)
