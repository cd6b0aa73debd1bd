"""Fixtures: the REST app in-process over httpx's ASGI transport (no sockets)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest
import pytest_asyncio

from dubbo_recsys.interfaces.recommender import Recommender
from dubbo_recsys.provider.observability.metrics import ProviderMetrics
from dubbo_recsys.provider.observability.state import Phase, ProviderState
from dubbo_recsys.provider.popular import PopularRecommender
from dubbo_recsys.provider.rest import JwtConfig, RestShimConfig, RestUser, build_app
from dubbo_recsys.provider.services import default_exports

SECRET = "test-secret-that-is-at-least-32-bytes-long"
USERS = (RestUser("alice", "alice-password", "admin"), RestUser("bob", "bob-password", "user"))
JWT = JwtConfig(secret=SECRET, users=USERS, ttl_seconds=600)

AppFactory = Callable[..., httpx.AsyncClient]


@pytest_asyncio.fixture
async def make_client() -> AsyncIterator[AppFactory]:
    clients: list[httpx.AsyncClient] = []

    def make(recommender: Recommender | None = None, config: RestShimConfig | None = None) -> httpx.AsyncClient:
        recommender = recommender or PopularRecommender()
        state = ProviderState.for_exports(default_exports(PopularRecommender()))
        state.phase = Phase.SERVING
        metrics = ProviderMetrics(state)
        app = build_app(recommender, config or RestShimConfig(port=0), metrics, state)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://rest.test")
        client.metrics = metrics  # type: ignore[attr-defined]  # handed to the tests with the client
        client.state = state  # type: ignore[attr-defined]  # handed to the tests with the client
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


@pytest.fixture
def jwt_config() -> RestShimConfig:
    return RestShimConfig(port=0, jwt=JWT)
