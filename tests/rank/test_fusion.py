"""The rank stage's learned fusion: the fit, the features, the stage applying it, the validation split."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from dubbo_recsys.features.base import UserFeatures
from dubbo_recsys.interfaces.recommend import RecommendRequest
from dubbo_recsys.offline.config import Source
from dubbo_recsys.pipeline import Candidate, Query, StageKind, build_stage
from dubbo_recsys.rank.base import RankArtifactError, RankArtifacts
from dubbo_recsys.rank.fusion import (
    FEATURES,
    FUSION_FILE,
    FusionModel,
    _tables,
    fit_conditional_logit,
    fusion_features,
    ndcg_at,
)
from dubbo_recsys.rank.tf_ranker import InProcessRanker


def test_conditional_logit_recovers_the_direction_that_picks_the_positive():
    rng = np.random.default_rng(0)
    groups = []
    for _ in range(300):
        x = rng.normal(size=(30, 3))
        utility = 2.0 * x[:, 0] - 1.0 * x[:, 1] + rng.gumbel(size=30)  # x[:, 2] is noise
        groups.append((x, int(np.argmax(utility))))
    w = fit_conditional_logit(groups, l2=1e-4)
    assert w[0] > 1.0 and w[1] < -0.4 and abs(w[2]) < 0.3 * abs(w[0])
    assert 1.4 < w[0] / -w[1] < 2.8
    shifted = fit_conditional_logit([(x * 10 + 5, p) for x, p in groups], l2=1e-4)  # raw-scale weights
    np.testing.assert_allclose(shifted * 10, w, rtol=1e-3, atol=1e-3)


def test_ndcg_at_counts_ties_against_the_positive():
    assert ndcg_at(np.array([3.0, 2.0, 1.0]), 0) == 1.0
    assert ndcg_at(np.array([1.0, 1.0, 0.0]), 1) == pytest.approx(1 / np.log2(3))
    assert ndcg_at(np.arange(20.0), 0) == 0.0  # rank 19, outside the top 10


def test_features_of_a_request(small_artifacts):
    artifacts = RankArtifacts.load(small_artifacts)
    tables = _tables(artifacts)
    user_id = next(iter(artifacts.user_rows))
    history = artifacts.item_ids[:3]
    user = UserFeatures(user_id, {}, tuple(history))
    ids = [*artifacts.item_ids[10:14], "never-built"]
    candidates = [
        Candidate(i, scores={"multi_channel": s}) for i, s in zip(ids[:-1], (0.5, 0.1, 0.3, 0.2), strict=True)
    ]
    candidates.append(Candidate(ids[-1]))  # no recall score: the smallest of the request
    x = fusion_features(artifacts, tables, user_id, user, candidates, np.arange(5.0))
    assert x.shape == (5, len(FEATURES))
    np.testing.assert_allclose(x[:, 0], np.arange(5.0))
    np.testing.assert_allclose(x[:, 1], np.log([0.5, 0.1, 0.3, 0.2, 0.1]))
    np.testing.assert_allclose(x[:, 2], np.log1p([0, 3, 1, 2, 4]))  # recall order, stable for the tie
    row = artifacts.user_rows[user_id]
    assert artifacts.item_vectors is not None and artifacts.user_vectors is not None
    np.testing.assert_allclose(x[:4, 3], artifacts.item_vectors[10:14] @ artifacts.user_vectors[row], rtol=1e-5)
    assert x[4, 3] == 0.0 and x[4, 4] == 0.0  # an unknown item has no vector, no popularity
    expected = np.zeros(4)
    assert tables.itemcf_index is not None and tables.itemcf_score is not None
    for position, seed in enumerate(range(3)):
        for neighbour, similarity in zip(tables.itemcf_index[seed], tables.itemcf_score[seed], strict=True):
            if 10 <= neighbour < 14:
                expected[neighbour - 10] += 0.5**position * similarity
    np.testing.assert_allclose(x[:4, 5], np.log(1e-4 + expected), rtol=1e-6)


@pytest.mark.asyncio
async def test_rank_stage_applies_the_fitted_fusion(resources, small_artifacts, tmp_path):
    root = tmp_path / "artifacts"
    shutil.copytree(small_artifacts, root)
    scoped = RankArtifacts.load(root)
    resources = type("R", (), {"artifacts": root, "features": resources.features, "rank_artifacts": scoped})()
    plain = build_stage(StageKind.RANK, "din", resources, {})
    assert (
        isinstance(plain, InProcessRanker) and plain.fusion is None
    )  # this build trained no fusion: DIN's score alone
    user_id = next(iter(scoped.user_rows))
    ids = scoped.item_ids[:60]

    def request() -> tuple[Query, list[Candidate]]:
        query = Query.start(RecommendRequest(userId=user_id, count=10), 5.0)
        recall = [Candidate(i, scores={"multi_channel": 1.0 / (60 + n)}) for n, i in enumerate(ids)]
        return query, recall

    orders = {}
    for name, weights in (("din", [1, 0, 0, 0, 0, 0]), ("recall", [0, 1, 0, 0, 0, 0])):
        (root / FUSION_FILE).write_text(
            json.dumps({"features": list(FEATURES), "weights": weights, "chosen_on": "test"})
        )
        stage = build_stage(StageKind.RANK, "din", resources, {})
        assert isinstance(stage, InProcessRanker) and stage.fusion is not None
        assert stage.fusion.provenance["chosen_on"] == "test"
        orders[name] = [c.item_id for c in await stage.run(*request())]
    assert orders["recall"] == ids  # all weight on recall's score: recall's order
    assert orders["din"] == [c.item_id for c in await plain.run(*request())]
    assert orders["din"] != ids
    off = build_stage(StageKind.RANK, "din", resources, {"fusion": False})
    assert isinstance(off, InProcessRanker) and off.fusion is None
    (root / FUSION_FILE).write_text(json.dumps({"features": ["din"], "weights": [1.0]}))
    with pytest.raises(RankArtifactError):
        FusionModel.load(scoped)


def test_validation_source_holds_out_each_users_last_training_interaction(tmp_path):
    from dubbo_recsys.offline.config import BuildConfig, SyntheticConfig
    from dubbo_recsys.offline.context import BuildContext
    from dubbo_recsys.offline.embedded import EmbeddedEngine
    from dubbo_recsys.offline.split import leave_last_out
    from dubbo_recsys.offline.steps import LoadSource

    config = BuildConfig(
        source=Source.SYNTHETIC, out=tmp_path / "x", synthetic=SyntheticConfig(users=50, items=80, seed=1)
    )
    outer_engine = EmbeddedEngine()
    outer = BuildContext(config=config, root=tmp_path, engine=outer_engine)
    LoadSource().run(outer)
    outer_engine.split(outer)
    split = outer_engine.split_
    assert split is not None
    inner_engine = EmbeddedEngine()
    inner = BuildContext(config=config, root=tmp_path, engine=inner_engine)
    outer_engine.held_out().run(inner)
    assert inner_engine.source is not None
    validation = leave_last_out(inner_engine.source)
    assert len(inner_engine.source.interactions) == len(split.train)
    test_events = set(zip(split.test.user.tolist(), split.test.ts.tolist(), split.test.item.tolist(), strict=False))
    seen = set(
        zip(validation.train.user.tolist(), validation.train.ts.tolist(), validation.train.item.tolist(), strict=False)
    )
    assert not test_events & seen  # no test interaction anywhere in the validation build
    for user, _item, ts in zip(
        validation.test.user.tolist(), validation.test.item.tolist(), validation.test.ts.tolist(), strict=False
    ):
        mine = split.train.ts[split.train.user == user]
        assert ts == mine.max()  # the last training interaction (by time) is the validation target
