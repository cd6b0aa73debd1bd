"""The built-in services on the service API: arguments checked against the Java types, requests bounded."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from dubbo_recsys.interfaces.recommend import (
    INTERFACE,
    MAX_CANDIDATES,
    MAX_CONTEXT,
    MAX_COUNT,
    MAX_EXPOSURE,
    MAX_TEXT,
    VERSION,
    RecommendRequest,
)
from dubbo_recsys.interfaces.seed import INTERFACE as SEED_INTERFACE
from dubbo_recsys.interfaces.seed import RecRequest
from dubbo_recsys.provider.contract import contract_of
from dubbo_recsys.provider.dispatch import Dispatcher, Invocation, Raised, Returned
from dubbo_recsys.provider.popular import PopularRecommender
from dubbo_recsys.provider.services import RecommendService, SeedInferService, default_exports
from hessian2 import JavaGenericObject

DISPATCHER = Dispatcher(default_exports(PopularRecommender()))


def recommend(request: Any) -> Any:
    invocation = Invocation(
        "2.0.2", INTERFACE, VERSION, "recommend", "Lorg/dubborecsys/api/RecommendRequest;", (request,)
    )
    return asyncio.run(DISPATCHER.dispatch(invocation))


def infer(request: Any, method: str = "RecommenderInfer") -> Any:
    invocation = Invocation("2.0.2", SEED_INTERFACE, "0.0.0", method, "Lcom/loki/www/infer/RecRequest;", (request,))
    return asyncio.run(DISPATCHER.dispatch(invocation))


def test_contracts_are_the_java_ones() -> None:
    assert [m.signature for m in contract_of(RecommendService).methods] == [
        "recommend(org.dubborecsys.api.RecommendRequest)"
    ]
    seed = contract_of(SeedInferService)
    assert [m.signature for m in seed.methods] == [
        "RecommenderInfer(com.loki.www.infer.RecRequest)",
        "recommenderInfer(com.loki.www.infer.RecRequest)",
    ]
    assert seed.version == "" and seed.group == ""


@pytest.mark.parametrize(
    "request_value, message",
    [
        (
            RecommendRequest(userId="u", exposureList="item-1"),  # type: ignore[arg-type]  # a deliberately wrong value: the test checks its refusal
            "request.exposureList: expected java.util.List<java.lang.String>, got java.lang.String",
        ),
        (
            JavaGenericObject("com.evil.Request", {"userId": "u"}),
            "request: expected org.dubborecsys.api.RecommendRequest, got com.evil.Request",
        ),
        (
            RecommendRequest(userId="u", context={"k": ["v"]}),  # type: ignore[dict-item]  # a deliberately wrong value: the test checks its refusal
            "request.context['k']: expected java.lang.String, got java.util.List",
        ),
        (RecommendRequest(userId="u", count="10"), "request.count: expected int, got java.lang.String"),  # type: ignore[arg-type]  # a deliberately wrong value: the test checks its refusal
    ],
)
def test_wrong_types_are_illegal_argument_exceptions(request_value: Any, message: str) -> None:
    outcome = recommend(request_value)
    assert isinstance(outcome, Raised) and outcome.java_class == "java.lang.IllegalArgumentException"
    assert outcome.message.endswith(message)
    assert "Python" not in outcome.message and "list" not in outcome.message.replace("List", "")


def test_seed_wrong_types_too() -> None:
    outcome = infer(RecRequest(userId="u", dataId="d", exposureList="a,b"))  # type: ignore[arg-type]  # a deliberately wrong value: the test checks its refusal
    assert isinstance(outcome, Raised) and outcome.message.endswith(
        "request.exposureList: expected java.util.List<java.lang.String>, got java.lang.String"
    )


@pytest.mark.parametrize(
    "fields, message",
    [
        (
            {"candidateIds": [f"i{n}" for n in range(1_000_000)]},
            f"candidateIds has 1000000 entries; at most {MAX_CANDIDATES}",
        ),
        (
            {"exposureList": ["x"] * (MAX_EXPOSURE + 1)},
            f"exposureList has {MAX_EXPOSURE + 1} entries; at most {MAX_EXPOSURE}",
        ),
        ({"context": {str(n): "v" for n in range(MAX_CONTEXT + 1)}}, f"at most {MAX_CONTEXT}"),
        ({"count": MAX_COUNT + 1}, f"count must be in 1..{MAX_COUNT}, got {MAX_COUNT + 1}"),
        ({"userId": "u" * (MAX_TEXT + 1)}, f"userId and scene take at most {MAX_TEXT} characters"),
        ({"context": {"k": "v" * 5000}}, f"context: a value of 5000 characters; at most {MAX_TEXT}"),
        ({"context": {"k" * 300: "v"}}, f"context: an entry of 300 characters; at most {MAX_TEXT}"),
        ({"exposureList": ["x" * 300]}, f"exposureList: an entry of 300 characters; at most {MAX_TEXT}"),
    ],
)
def test_requests_beyond_the_bounds_are_refused_with_code_400(fields: dict[str, Any], message: str) -> None:
    outcome = recommend(RecommendRequest(**({"userId": "u"} | fields)))
    assert isinstance(outcome, Returned) and outcome.value.code == 400
    assert message in outcome.value.message


def test_seed_requests_are_bounded_through_the_same_rule() -> None:
    outcome = infer(RecRequest(userId="u", dataId="d", exposureList=["x"] * (MAX_EXPOSURE + 1)), "recommenderInfer")
    assert isinstance(outcome, Returned) and outcome.value.code == 400 and "exposureList" in outcome.value.message
    answer = infer(RecRequest(userId="u", dataId="d", groupId=None)).value  # type: ignore[arg-type]  # null: ""
    assert answer.code == 200 and len(answer.data) == 10


def test_requests_within_the_bounds_are_answered() -> None:
    request = RecommendRequest(
        userId="u",
        count=MAX_COUNT,
        candidateIds=[f"item-{n:04d}" for n in range(1, MAX_CANDIDATES + 1)],
        exposureList=["item-0001"] * MAX_EXPOSURE,
        context={str(n): "v" for n in range(MAX_CONTEXT)},
    )
    outcome = recommend(request)
    assert outcome.value.code == 200 and outcome.value.items[0].itemId == "item-0002"
