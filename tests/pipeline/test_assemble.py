"""Scenes compiled into pipelines over a real (tiny) artifact directory and the embedded store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dubbo_recsys.features.embedded import EmbeddedFeatureStore
from dubbo_recsys.interfaces.recommend import RecommendRequest
from dubbo_recsys.pipeline.assemble import Resources, build_recommender, default_pipeline_conf, load_stage_modules
from dubbo_recsys.pipeline.model import StageKind
from dubbo_recsys.pipeline.scenes import SceneRecommender
from dubbo_recsys.pipeline.stages import ConfigError
from dubbo_recsys.recall import Recall
from dubbo_recsys.registry.config_center import LocalConfigCenter
from dubbo_recsys.registry.scene_config import PipelineConf, PipelineStep
from tests.recall.fixtures import write_artifacts


@pytest.fixture(scope="module")
def resources(tmp_path_factory: pytest.TempPathFactory) -> Resources:
    load_stage_modules()
    root = write_artifacts(tmp_path_factory.mktemp("scene-artifacts"))
    store = EmbeddedFeatureStore.from_artifacts(root)
    return Resources(
        popular=lambda _r: [("i0", 2.0), ("i1", 1.0)],
        features=store,
        local_features=store,
        recall=Recall.load(root, store),
        artifacts=root,
        budget_seconds=2.0,
        light_budget_seconds=2.0,
    )


def scene_file(directory: Path, data_id: str, steps: list[str], **extra: object) -> None:
    document = {
        "dataId": data_id,
        "content": {"version": extra.pop("version", "v1"), "pipeline_conf": {"pipeline": steps, **extra}},
    }
    (directory / f"{data_id}.json").write_text(json.dumps(document))


def test_default_scene_keeps_only_buildable_steps(resources: Resources) -> None:
    conf = default_pipeline_conf(resources)
    names = [s.implementation for s in conf.steps]
    assert names[:2] == ["recallSample", "multi_channel"]
    assert "preRankingSample" not in names  # no default stage reads item features: no fetch for them
    assert "multi_channel" in [s.implementation for s in conf.light_steps]


@pytest.mark.asyncio
async def test_default_scene_answers_from_recall_with_provenance(resources: Resources) -> None:
    scenes = SceneRecommender(resources)
    seen = ["i0", "i1", "i2", "i3", "i4"]
    resp = await scenes.recommend(RecommendRequest(userId="u0", count=2, exposureList=seen, debug=True))
    assert resp.code == 200 and resp.pipeline == "full" and not resp.degraded
    ids = [i.itemId for i in resp.items]
    assert len(ids) == 2 and not set(ids) & set(seen) and ids[0] == "i5"  # same category, not yet seen
    assert "itemcf" in resp.items[0].channel
    assert {"recallSample", "multi_channel"} <= set(resp.debugInfo or {})


@pytest.mark.asyncio
async def test_seed_style_scene_from_a_local_config_center(resources: Resources, tmp_path: Path) -> None:
    scene_file(
        tmp_path,
        "feed",
        ["('recall_sample','recallSample')", "('dssm_recall','dssmRecall')"],
        recallNum=3,
        preRankingNum=3,
    )
    scenes = SceneRecommender(resources, LocalConfigCenter(tmp_path))
    resp = await scenes.recommend(RecommendRequest(userId="u0", scene="feed", count=2, debug=True))
    assert resp.code == 200 and resp.pipeline == "full" and len(resp.items) == 2
    assert resp.debugInfo is not None
    assert json.loads(resp.debugInfo["multi_channel"])["out"] == 3  # the scene's recallNum
    missing = await scenes.recommend(RecommendRequest(userId="u0", scene="nope"))
    assert missing.code == 404 and "nope" in missing.message


@pytest.mark.asyncio
async def test_a_scene_that_does_not_compile_is_rejected_and_counted(resources: Resources, tmp_path: Path) -> None:
    scene_file(tmp_path, "bad", ["('recall','noSuchRecall')"])
    scenes = SceneRecommender(resources, LocalConfigCenter(tmp_path))
    resp = await scenes.recommend(RecommendRequest(userId="u0", scene="bad", count=2))
    assert resp.code == 200 and len(resp.items) == 2  # answered by the default scene
    assert scenes.rejected_configs == 1


def test_unknown_implementation_is_a_config_error(resources: Resources) -> None:
    conf = PipelineConf(steps=(PipelineStep("recall", "multi_channel"), PipelineStep("ranking", "nope")))
    with pytest.raises(ConfigError, match="no rank stage named 'nope'"):
        build_recommender(conf, resources)
    assert StageKind.RANK.value == "rank"


@pytest.mark.asyncio
async def test_broken_primary_store_falls_back_to_the_light_pipeline(resources: Resources) -> None:
    class DeadStore:
        async def users(self, ids):
            raise ConnectionError("redis is down")

        async def items(self, ids):
            raise ConnectionError("redis is down")

        async def close(self) -> None:
            return None

    broken = Resources(
        popular=resources.popular,
        features=DeadStore(),
        local_features=resources.local_features,
        recall=resources.recall,
        budget_seconds=2.0,
        light_budget_seconds=2.0,
    )
    resp = await SceneRecommender(broken).recommend(RecommendRequest(userId="u0", count=2))
    assert resp.code == 200 and resp.pipeline == "light" and resp.degraded
    assert len(resp.items) == 2 and "ConnectionError" in resp.message
