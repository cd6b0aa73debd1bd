"""Both stores on the artifacts `dubbo-recsys build` really writes (ARTIFACTS_ML100K, tests/ci/40-artifacts.sh)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dubbo_recsys.features.artifacts import ArtifactFeatures
from dubbo_recsys.features.embedded import EmbeddedFeatureStore
from dubbo_recsys.features.load import load_artifacts
from tests.features.conftest import RedisSpace
from tests.support import require_env

pytestmark = [pytest.mark.asyncio, pytest.mark.redis]


async def test_ml100k_build_reads_the_same_from_both_stores(redis_space: RedisSpace) -> None:
    from dubbo_recsys.features.redis import RedisFeatureStore

    root = Path(require_env("ARTIFACTS_ML100K"))
    manifest = json.loads((root / "manifest.json").read_text())
    artifact = ArtifactFeatures.open(root)
    embedded = EmbeddedFeatureStore.from_artifacts(root)
    report = await load_artifacts(artifact, redis_space.client, redis_space.layout, ttl=600)
    assert (report.users, report.items) == (manifest["counts"]["users"], manifest["counts"]["items"])
    assert embedded.counts == (report.users, report.items)

    redis_store = RedisFeatureStore(redis_space.client, redis_space.layout)
    user_ids = (root / "ids" / "users.txt").read_text(encoding="utf-8").split("\n")[:-1]
    item_ids = (root / "ids" / "items.txt").read_text(encoding="utf-8").split("\n")[:-1]
    for start in range(0, len(item_ids), 200):
        batch = [*item_ids[start : start + 200], "no-such-item"]
        got = await redis_store.items(batch)
        assert got == await embedded.items(batch)
        assert all(got[:-1]) and got[-1] is None
    users = await redis_store.users(user_ids)
    assert users == await embedded.users(user_ids) and all(users)
    assert all(set(u.last_n) <= set(item_ids) for u in users if u is not None)
