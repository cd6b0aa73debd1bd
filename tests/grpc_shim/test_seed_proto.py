"""The seed proto must stay verbatim: these pin what its clients depend on."""

from __future__ import annotations

from google.protobuf.descriptor import FieldDescriptor

from dubbo_recsys.interfaces.proto import recommend_v1_pb2 as v1_pb2
from dubbo_recsys.interfaces.proto import recommender_infer_pb2 as seed_pb2

F = FieldDescriptor
SEED_MESSAGES = {
    "StringList": [("value", 1, F.TYPE_STRING, True)],
    "ItemInfo": [("itemid", 1, F.TYPE_STRING, False), ("score", 2, F.TYPE_FLOAT, False)],
    "ItemInfoList": [("iteminfo_", 1, F.TYPE_MESSAGE, True)],
    "RecommendRequest": [
        ("DataId", 1, F.TYPE_STRING, False),
        ("GroupId", 2, F.TYPE_STRING, False),
        ("Namespace", 3, F.TYPE_STRING, False),
        ("ModelType", 4, F.TYPE_STRING, False),
        ("UserId", 5, F.TYPE_STRING, False),
        ("RecallNum", 6, F.TYPE_INT32, False),
        ("ItemList", 7, F.TYPE_MESSAGE, False),
    ],
    "RecommendResponse": [
        ("Code", 1, F.TYPE_INT32, False),
        ("Message", 2, F.TYPE_STRING, False),
        ("Data", 3, F.TYPE_MESSAGE, False),
    ],
}


def test_seed_proto_has_no_package_and_the_seed_method_path() -> None:
    assert seed_pb2.DESCRIPTOR.package == ""
    service = seed_pb2.DESCRIPTOR.services_by_name["RecommenderInferService"]
    method = service.methods_by_name["RecommenderInfer"]
    assert f"/{service.full_name}/{method.name}" == "/RecommenderInferService/RecommenderInfer"
    assert method.input_type.full_name == "RecommendRequest"
    assert method.output_type.full_name == "RecommendResponse"


def test_seed_messages_are_field_for_field_the_seeds() -> None:
    assert set(seed_pb2.DESCRIPTOR.message_types_by_name) == set(SEED_MESSAGES)
    for name, expected in SEED_MESSAGES.items():
        fields = seed_pb2.DESCRIPTOR.message_types_by_name[name].fields
        actual = [(f.name, f.number, f.type, f.is_repeated) for f in fields]
        assert actual == expected, name


def test_v1_proto_mirrors_the_dataclass_field_names() -> None:
    from dataclasses import fields

    from dubbo_recsys.interfaces.recommend import RecommendItem, RecommendRequest, RecommendResponse

    pairs = [
        (RecommendRequest, "RecommendRequest"),
        (RecommendItem, "RecommendItem"),
        (RecommendResponse, "RecommendResponse"),
    ]
    assert v1_pb2.DESCRIPTOR.package == "dubborecsys.v1"
    for cls, message in pairs:
        proto_names = [f.json_name for f in v1_pb2.DESCRIPTOR.message_types_by_name[message].fields]
        assert proto_names == [f.name for f in fields(cls)], message
