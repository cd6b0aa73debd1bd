"""The rank stages through the pipeline catalog, on a small real build."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from dubbo_recsys.features.base import ItemFeatures, UserFeatures
from dubbo_recsys.interfaces.recommend import RecommendRequest
from dubbo_recsys.pipeline import (
    Candidate,
    ConfigError,
    Pipeline,
    PipelineName,
    Query,
    Stage,
    StageKind,
    build_stage,
)
from dubbo_recsys.rank.base import RankArtifacts, RankConfigError, with_prior
from dubbo_recsys.rank.rerank import dpp_order, mmr_order
from dubbo_recsys.rank.rules import BusinessRules, RuleSet


def _query(user_id: str = "u0", count: int = 10, user: UserFeatures | None = None) -> Query:
    query = Query.start(RecommendRequest(userId=user_id, count=count), 5.0)
    query.user = user
    return query


def _candidates(ids, channels=("itemcf",)):
    return [Candidate(i, float(len(ids) - n), channels) for n, i in enumerate(ids)]


@pytest.mark.parametrize(
    "kind,names",
    [
        (StageKind.PRE_RANK, ("dssmRank", "two_tower")),
        (StageKind.RANK, ("din", "deepfm", "lrRank", "lr", "fmRank", "fm")),
        (StageKind.RE_RANK, ("mmr", "dpp", "rules", "top_n", "final")),
    ],
)
def test_seed_names_build_from_config(resources, kind, names):
    for name in names:
        assert build_stage(kind, name, resources, {}).kind is kind


def test_bad_parameters_and_missing_artifacts_are_config_errors(resources, tmp_path):
    cases: list[tuple[StageKind, str, dict[str, Any]]] = [
        (StageKind.PRE_RANK, "dssmRank", {"size": 0}),
        (StageKind.RE_RANK, "mmr", {"lambda": 2}),
        (StageKind.RE_RANK, "dpp", {"theta": 1.0}),
        (StageKind.RANK, "din", {"offload": "yes"}),
        (StageKind.RE_RANK, "rules", {"block_items": "abc"}),
        (StageKind.RE_RANK, "rules", {"boost_items": {"a": "x"}}),
    ]
    for kind, name, params in cases:
        with pytest.raises(RankConfigError):
            build_stage(kind, name, resources, params)
    (tmp_path / "ids").mkdir()
    for name in ("din", "lrRank"):
        with pytest.raises(ConfigError):  # what scene assembly catches to leave a stage out
            build_stage(StageKind.RANK, name, type("R", (), {"artifacts": tmp_path})(), {})


@pytest.mark.asyncio
async def test_full_funnel_keeps_provenance_and_orders_by_the_ranker(resources, small_artifacts):
    artifacts = RankArtifacts.of(resources)
    user_id = next(iter(artifacts.user_rows))
    stages = [
        build_stage(StageKind.PRE_RANK, "dssmRank", resources, {"size": 200}),
        build_stage(StageKind.RANK, "din", resources, {}),
        build_stage(StageKind.RE_RANK, "mmr", resources, {"lambda": 0.7}),
        build_stage(StageKind.RE_RANK, "top_n", resources, {}),
    ]
    recalled = _candidates(artifacts.item_ids[:400])

    class Given(Stage):  # a recall stage that hands over a fixed candidate list
        kind, names = StageKind.RECALL, ("given",)

        async def run(self, query, candidates):
            return list(recalled)

    result = await Pipeline.of(PipelineName.FULL, [Given(), *stages]).run(_query(user_id, count=12))
    assert len(result) == 12
    assert all(c.channels == ("itemcf",) and {"dssmRank", "din", "mmr"} <= set(c.scores) for c in result)
    assert result[0].scores["din"] == max(c.scores["din"] for c in result)  # MMR keeps the best first
    pre = await stages[0].run(_query(user_id), _candidates(artifacts.item_ids[:400]))
    assert len(pre) == 200
    assert [c.score for c in pre] == sorted((c.score for c in pre), reverse=True)


@pytest.mark.asyncio
async def test_prerank_for_unknown_users_uses_last_n_or_keeps_recall_order(resources):
    artifacts = RankArtifacts.of(resources)
    stage = build_stage(StageKind.PRE_RANK, "dssmRank", resources, {"size": 5})
    ids = artifacts.item_ids[:30]
    kept = await stage.run(_query("nobody", user=UserFeatures("nobody")), _candidates(ids))
    assert [c.item_id for c in kept] == ids[:5]
    by_history = await stage.run(_query("nobody", user=UserFeatures("nobody", last_n=(ids[7],))), _candidates(ids))
    assert by_history[0].item_id == ids[7]  # an item is closest to itself


@pytest.mark.asyncio
@pytest.mark.parametrize("name", ["lrRank", "fmRank", "din"])
async def test_rankers_score_unknown_users_and_items(resources, name):
    artifacts = RankArtifacts.of(resources)
    stage = build_stage(StageKind.RANK, name, resources, {})
    ids = [*artifacts.item_ids[:40], "never-built"]
    ranked = await stage.run(_query("nobody", user=UserFeatures("nobody", {"gender": "X"})), _candidates(ids))
    assert sorted(c.item_id for c in ranked) == sorted(ids)
    assert all(np.isfinite(c.score) for c in ranked)
    known = next(iter(artifacts.user_rows))
    personal = await stage.run(_query(known), _candidates(ids))  # hydrated from resources.features
    assert [c.item_id for c in personal] != [c.item_id for c in ranked] or name == "lrRank"


def test_mmr_and_dpp_trade_relevance_for_diversity():
    vectors = np.array([[1, 0], [1, 0], [0, 1], [0.7, 0.7]], dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    relevance = np.array([1.0, 0.95, 0.5, 0.4])
    assert mmr_order(relevance, vectors, 4, 1.0) == [0, 1, 2, 3]
    assert mmr_order(relevance, vectors, 2, 0.5) == [0, 2]  # the duplicate of item 0 waits
    assert dpp_order(relevance, vectors, 2, 0.5)[:2] == [0, 2]
    assert dpp_order(relevance, vectors, 4, 0.99)[0] == 0
    assert sorted(dpp_order(relevance, vectors, 4, 0.5)) == [0, 1, 2, 3]


@pytest.mark.asyncio
async def test_business_rules_block_boost_cap_and_space():
    def item(i, category, author=""):
        return Candidate(i, 10.0 - int(i[1:]), ("x",), ItemFeatures(i, category=category, author=author))

    candidates = [
        item("i1", "a", "p"),
        item("i2", "a", "p"),
        item("i3", "a", "q"),
        item("i4", "b", "p"),
        item("i5", "c", "r"),
        item("i6", "b", "s"),
    ]
    rules = BusinessRules(
        RuleSet(block_items=frozenset({"i6"}), boost_categories={"c": 5.0}, category_cap=2, author_spacing=1, size=4)
    )
    out = await rules.run(_query(count=4), candidates)
    assert out[0].item_id == "i5" and out[0].scores["rules"] == 5.0 and out[0].score == 10.0
    # i2 would be a third "a" and follows author p: it waits behind the head
    assert [c.item_id for c in out] == ["i5", "i1", "i3", "i4", "i2"]
    short = await BusinessRules(RuleSet(category_cap=1, size=3)).run(_query(count=3), candidates[:3])
    assert [c.item_id for c in short] == ["i1", "i2", "i3"]  # nothing fits: best remaining, never an empty slot


def test_prior_blend_adds_log_recall_score():
    candidates = [Candidate("a", scores={"recall": 1.0}), Candidate("b", scores={"recall": np.e}), Candidate("c")]
    blended = with_prior(candidates, np.array([0.0, 0.0, 0.0]), "recall", 2.0)
    np.testing.assert_allclose(blended, [0.0, 2.0, 0.0])
    assert with_prior(candidates, np.array([1.0, 2.0, 3.0]), "recall", 0.0).tolist() == [1.0, 2.0, 3.0]
