"""Whatever body or query arrives, the app answers with a status it means (never a 500) and goes on."""

from __future__ import annotations

import asyncio
import json

import httpx
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dubbo_recsys.provider.observability.metrics import ProviderMetrics
from dubbo_recsys.provider.popular import PopularRecommender
from dubbo_recsys.provider.rest import RestShimConfig, build_app
from tests.rest.conftest import JWT

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=12,
)
FIELDS = st.sampled_from(
    [
        "userId",
        "scene",
        "count",
        "exposureList",
        "context",
        "candidateIds",
        "debug",
        "dataId",
        "groupId",
        "username",
        "password",
    ]
)
BODIES = st.one_of(
    JSON.map(lambda value: json.dumps(value).encode()),
    st.dictionaries(FIELDS, JSON, max_size=6).map(lambda value: json.dumps(value).encode()),
    st.binary(max_size=64),
)
ROUTES = st.sampled_from(["/recommend", "/infer", "/login", "/recommend?explain=true", "/recommend?explain=x"])
MEANT = {200, 400, 401, 404, 405, 413, 422}

APPS = {
    "open": build_app(PopularRecommender(), RestShimConfig(port=0, max_body_bytes=2048), ProviderMetrics()),
    "jwt": build_app(PopularRecommender(), RestShimConfig(port=0, jwt=JWT), ProviderMetrics()),
}


async def _post(app: FastAPI, route: str, body: bytes, headers: dict[str, str]) -> int:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://fuzz.test") as client:
        return (await client.post(route, content=body, headers=headers)).status_code


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    app=st.sampled_from(sorted(APPS)),
    route=ROUTES,
    body=BODIES,
    token=st.none() | st.text(max_size=40).filter(lambda t: t.isprintable() and t.isascii()),
)
def test_any_post_gets_a_status_it_means(app: str, route: str, body: bytes, token: str | None) -> None:
    headers = {"content-type": "application/json"}
    if token is not None:
        headers["authorization"] = f"Bearer {token}".strip()
    assert asyncio.run(_post(APPS[app], route, body, headers)) in MEANT


@settings(max_examples=80, deadline=None)
@given(
    params=st.dictionaries(
        st.sampled_from(["userId", "scene", "count", "explain", "debug", "other"]), st.text(max_size=30), max_size=5
    )
)
def test_any_query_gets_a_status_it_means(params: dict[str, str]) -> None:
    async def get() -> int:
        transport = httpx.ASGITransport(app=APPS["open"])
        async with httpx.AsyncClient(transport=transport, base_url="http://fuzz.test") as client:
            return (await client.get("/recommend", params=params)).status_code

    assert asyncio.run(get()) in {200, 400, 422}
