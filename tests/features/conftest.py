"""Fixtures of the feature store tests: a tiny artifact and a key prefix of our own on the test Redis
(REDIS_URL) and on the test Redis Cluster (REDIS_CLUSTER_URL)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from tests.features.fixtures import make_records, write_artifact
from tests.support import require_env


@pytest.fixture(scope="session")
def records() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    return make_records()


@pytest.fixture(scope="session")
def artifact_dir(tmp_path_factory: pytest.TempPathFactory, records: Any) -> Path:
    users, items = records
    return write_artifact(tmp_path_factory.mktemp("artifact"), users, items)


@dataclass
class RedisSpace:
    """A client on the test Redis and a fresh key prefix; its keys are deleted after the test."""

    url: str
    prefix: str
    client: Any  # redis.asyncio.Redis

    @property
    def layout(self) -> Any:
        from dubbo_recsys.features.codec import KeyLayout

        return KeyLayout(self.prefix)


# The test peers' addresses, exported by tests/ci/15-redis.sh and tests/ci/16-redis-cluster.sh.
SPACE_URLS = {"redis": "REDIS_URL", "cluster": "REDIS_CLUSTER_URL"}


@contextlib.asynccontextmanager
async def open_space(env: str) -> AsyncIterator[RedisSpace]:
    url = require_env(env)
    from dubbo_recsys.features.redis import RedisConfig, close_client

    prefix = f"test-{uuid.uuid4().hex[:10]}"
    client = RedisConfig(url=url, prefix=prefix).client()
    try:
        yield RedisSpace(url, prefix, client)
    finally:
        keys = [k async for k in client.scan_iter(match=f"{prefix}:*", count=1000)]
        if keys:
            await client.delete(*keys)
        await close_client(client)


@pytest_asyncio.fixture(params=sorted(SPACE_URLS))
async def redis_space(request: pytest.FixtureRequest) -> AsyncIterator[RedisSpace]:
    """A fresh prefix on one Redis, and again on the Redis Cluster: the store must behave alike."""
    async with open_space(SPACE_URLS[request.param]) as space:
        yield space


@pytest_asyncio.fixture
async def standalone_space() -> AsyncIterator[RedisSpace]:
    """A fresh prefix on the single Redis, for what only a single Redis shows (one MGET per batch)."""
    async with open_space("REDIS_URL") as space:
        yield space


@pytest_asyncio.fixture
async def cluster_space() -> AsyncIterator[RedisSpace]:
    async with open_space("REDIS_CLUSTER_URL") as space:
        yield space


@pytest.fixture
def sync_redis_space() -> Any:
    """Like ``redis_space`` with a blocking client, for tests of commands that run their own event loop."""
    url = require_env("REDIS_URL")
    import redis

    prefix = f"test-{uuid.uuid4().hex[:10]}"
    client = redis.Redis.from_url(url, socket_timeout=5)
    try:
        yield RedisSpace(url, prefix, client)
    finally:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()
