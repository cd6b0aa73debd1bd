"""The served funnel reads a realtime history the way it reads the build's: every stage that uses the
two-tower user vector (u2i, pre-rank and the rank fusion's ``two_tower`` feature) takes the user tower's
vector on the history realtime events changed, not the stored vector of the build's history.

On ML-100K (ARTIFACTS_ML100K) with the realtime lastN in the real Redis (REDIS_URL), written where
``dubbo-recsys consume`` writes it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dubbo_recsys.features.embedded import EmbeddedFeatureStore
from dubbo_recsys.features.realtime import RealtimeFeatureStore, RealtimeReader
from dubbo_recsys.interfaces.recommend import RecommendRequest
from dubbo_recsys.pipeline.model import Candidate, Query
from dubbo_recsys.rank.base import RankArtifacts, request_user_vector
from dubbo_recsys.rank.evaluation import served_funnel
from dubbo_recsys.rank.fusion import FusionModel
from dubbo_recsys.rank.prerank import TwoTowerPreRanker
from dubbo_recsys.rank.tf_ranker import InProcessRanker
from dubbo_recsys.recall.facade import Recall
from tests.features.conftest import standalone_space
from tests.support import require_env

__all__ = ["standalone_space"]
pytestmark = pytest.mark.redis

USER = "1"
RECENT = {"183": 3_000, "185": 2_000, "200": 1_000}  # item -> ts (ms): realtime events of user 1


@pytest.mark.asyncio
async def test_pre_rank_and_the_rank_fusion_use_the_tower_vector_of_the_realtime_history(
    standalone_space: Any,
) -> None:
    root = Path(require_env("ARTIFACTS_ML100K"))
    space = standalone_space
    await space.client.zadd(space.layout.realtime_user(USER, "last"), RECENT)  # what the consumer writes
    store = RealtimeFeatureStore(EmbeddedFeatureStore.from_artifacts(root), RealtimeReader(space.client, space.layout))
    recall = Recall.load(root, store)
    funnel, _ = served_funnel(root, store, recall)
    prerank = next(s for s in funnel.stages if isinstance(s, TwoTowerPreRanker))
    ranker = next(s for s in funnel.stages if isinstance(s, InProcessRanker))
    artifacts: RankArtifacts = ranker.artifacts
    assert ranker.fusion is not None and artifacts.item_vectors is not None and artifacts.user_vectors is not None

    query = Query.start(RecommendRequest(userId=USER, count=10), 60.0)
    user = (await store.users([USER]))[0]
    assert user is not None and user.last_n[:3] == ("183", "185", "200")  # the realtime items first
    query.user = user
    vector = await request_user_vector(query, prerank.resources, artifacts)
    stored = artifacts.user_vectors[artifacts.user_rows[USER]]
    assert vector is not None and not np.allclose(vector, stored)  # the tower's, on the new history
    assert vector is await recall.refreshed_user_vector(USER, user)  # recall's (u2i's), remembered

    ids = artifacts.item_ids[:300]
    candidates = [Candidate(i, scores={"multi_channel": 1.0 / (1 + n)}) for n, i in enumerate(ids)]
    ranked = await prerank.run(query, candidates)
    expected = artifacts.item_vectors[artifacts.rows([c.item_id for c in ranked])] @ vector
    np.testing.assert_allclose([c.scores[prerank.name] for c in ranked], expected, rtol=1e-5)

    reranked = await ranker.run(query, ranked)
    by_id = {c.item_id: c for c in ranked}
    din = ranker.model.scores(*artifacts.encode_user(user), artifacts.rows([c.item_id for c in reranked]))
    fusion: FusionModel = ranker.fusion
    inputs = [by_id[c.item_id] for c in reranked]
    fresh = fusion.score(artifacts, USER, user, inputs, din, vector)
    stale = fusion.score(artifacts, USER, user, inputs, din)  # the build's stored vector
    got = [c.scores[ranker.name] for c in reranked]
    np.testing.assert_allclose(got, fresh, rtol=1e-4, atol=1e-6)
    assert not np.allclose(got, stale, rtol=1e-4, atol=1e-6)

    other = Query.start(RecommendRequest(userId="2", count=10), 60.0)  # no realtime events: the build's vector
    kept = await request_user_vector(other, prerank.resources, artifacts)
    np.testing.assert_array_equal(kept, artifacts.user_vectors[artifacts.user_rows["2"]])
