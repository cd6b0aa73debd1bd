"""The recall step inside a real ``pipeline.Pipeline``."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from dubbo_recsys.features.embedded import EmbeddedFeatureStore
from dubbo_recsys.interfaces.recommend import RecommendRequest
from dubbo_recsys.pipeline import ConfigError, Pipeline, PipelineName, Query, StageKind, build_stage
from dubbo_recsys.recall import Recall
from dubbo_recsys.recall.stage import MultiChannelRecall


@pytest.fixture(scope="module")
def resources(artifacts: Path) -> SimpleNamespace:
    return SimpleNamespace(recall=Recall.load(artifacts, EmbeddedFeatureStore.from_artifacts(artifacts)))


@pytest.mark.asyncio
async def test_recall_stage_in_a_pipeline(resources: SimpleNamespace) -> None:
    stage = build_stage(StageKind.RECALL, "multi_channel", resources, {"recallNum": 6})
    assert isinstance(stage, MultiChannelRecall) and stage.size == 6
    request = RecommendRequest(userId="u0", count=3, exposureList=["i0", "i1", "i2", "i3"], context={"region": "north"})
    out = await Pipeline.of(PipelineName.FULL, [stage]).run(Query.start(request, 5.0))
    assert len(out) == 6
    assert {c.item_id for c in out}.isdisjoint({"i0", "i1", "i2", "i3"})
    assert {out[0].item_id, out[1].item_id} == {"i4", "i5"}
    assert "itemcf" in out[0].channels and out[0].scores["multi_channel"] == out[0].score


@pytest.mark.asyncio
async def test_listed_candidates_skip_recall(resources: SimpleNamespace) -> None:
    stage = MultiChannelRecall(resources.recall, 10)
    request = RecommendRequest(userId="u0", candidateIds=["i9", "i3", "i9"])
    out = await stage.run(Query.start(request, 1.0), [])
    assert [(c.item_id, c.channels) for c in out] == [("i9", ("request",)), ("i3", ("request",))]


def test_stage_config_errors(resources: SimpleNamespace) -> None:
    with pytest.raises(ConfigError):
        build_stage(StageKind.RECALL, "multi_channel", SimpleNamespace(), {})
    with pytest.raises(ConfigError):
        build_stage(StageKind.RECALL, "multi_channel", resources, {"size": 0})
    with pytest.raises(ConfigError):
        build_stage(StageKind.RECALL, "multi_channel", resources, {"sise": 10})
