"""Fixtures of the feature store tests: a tiny artifact and, when REDIS_URL is set, a Redis prefix of our own."""

from __future__ import annotations

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


@pytest_asyncio.fixture
async def redis_space() -> AsyncIterator[RedisSpace]:
    url = require_env("REDIS_URL")
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
