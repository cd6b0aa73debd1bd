"""The assembly fixes the funnel tests led to, checked without peers over a tiny artifact directory:
one trace per step (two steps of one class), the TF Serving ranker's address from model_conf, the
light pipeline on the local recall, and the warm-up."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from dubbo_recsys.features.embedded import EmbeddedFeatureStore
from dubbo_recsys.interfaces.recommend import RecommendRequest
from dubbo_recsys.pipeline.assemble import Resources, build_pipeline, build_recommender, load_stage_modules
from dubbo_recsys.pipeline.model import Candidate, PipelineName, Query
from dubbo_recsys.pipeline.resilience import ResilientRecommender
from dubbo_recsys.pipeline.runner import Pipeline
from dubbo_recsys.pipeline.scenes import SceneRecommender
from dubbo_recsys.pipeline.stages import ConfigError, Stage
from dubbo_recsys.rank.remote import TFServingRanker
from dubbo_recsys.recall import Recall
from dubbo_recsys.recall.stage import MultiChannelRecall
from dubbo_recsys.registry.scene_config import PipelineConf, PipelineStep, scene_config_from_dict
from tests.recall.fixtures import write_artifacts


@pytest.fixture(scope="module")
def resources(tmp_path_factory: pytest.TempPathFactory) -> Resources:
    load_stage_modules()
    root = write_artifacts(tmp_path_factory.mktemp("assembly-artifacts"))
    store = EmbeddedFeatureStore.from_artifacts(root)
    return Resources(
        popular=lambda _r: [("i0", 2.0)],
        features=store,
        local_features=store,
        recall=Recall.load(root, store),
        artifacts=root,
        budget_seconds=2.0,
        light_budget_seconds=2.0,
    )


def scene(steps: list[str], models: dict | None = None) -> dict:
    config: dict = {"pipeline_conf": {"pipeline": steps, "recallNum": 5, "preRankingNum": 5}}
    if models is not None:
        config["model_conf"] = models
    return {"dataId": "s", "content": {"version": "1", "config": config}}


@pytest.mark.asyncio
async def test_two_steps_of_one_class_each_leave_a_trace(resources: Resources) -> None:
    steps = (
        PipelineStep("recall_sample", "recallSample"),
        PipelineStep("recall", "multi_channel"),
        PipelineStep("pre_ranking_sample", "preRankingSample"),
        PipelineStep("ranking_sample", "rankingSample"),
        PipelineStep("ranking_sample", "rankingSample"),
    )
    recommender = build_recommender(PipelineConf(steps=steps, recall_num=5), resources)
    answer = await recommender.recommend(RecommendRequest(userId="u0", count=2, debug=True))
    assert answer.pipeline == "full" and answer.debugInfo is not None
    assert list(answer.debugInfo) == [
        "recallSample",
        "multi_channel",
        "preRankingSample",
        "rankingSample",
        "rankingSample#2",
    ]
    assert json.loads(answer.debugInfo["rankingSample"])["in"] == json.loads(answer.debugInfo["multi_channel"])["out"]


def test_the_tfserving_ranker_takes_its_address_from_model_conf(resources: Resources) -> None:
    steps = ["('recall','multi_channel')", "('ranking','tfserving')"]
    models: dict[str, dict[str, Any]] = {
        "ranker": {
            "modelName": "din",
            "modelType": "rank",
            "tfservingGrpcAddr": {
                "tfservingModelName": "din",
                "tfservingAddrs": ["127.0.0.1:8500"],
                "read_timeout_ms": 30,
            },
        }
    }
    config = scene_config_from_dict(scene(steps, models))
    assert config.pipeline is not None
    ranker = build_recommender(config.pipeline, resources, config.models).full.stages[1]
    assert isinstance(ranker, TFServingRanker)
    settings = ranker.client.config
    assert (settings.target, settings.model_name, settings.timeout_seconds) == ("127.0.0.1:8500", "din", 0.03)
    assert ranker.fusion is None
    models["ranker"]["fusion"] = True  # "the served model is the artifacts' DIN: rank by their fusion"
    fused = scene_config_from_dict(scene(steps, models))
    assert fused.pipeline is not None and fused.models[0].fusion is True
    with pytest.raises(ConfigError, match="no fitted fusion"):  # these artifacts have none: refused at load
        build_recommender(fused.pipeline, resources, fused.models)
    without = scene_config_from_dict(scene(steps))
    assert without.pipeline is not None
    with pytest.raises(ConfigError, match="tfservingGrpcAddr"):
        build_recommender(without.pipeline, resources, without.models)


def test_the_light_pipeline_recalls_from_the_light_recall(resources: Resources) -> None:
    light_recall = Recall.load(resources.artifacts, resources.local_features)
    steps = [PipelineStep("recall", "multi_channel")]
    conf = PipelineConf(steps=tuple(steps))
    with_light = replace(resources, light_recall=light_recall)
    light = build_pipeline(PipelineName.LIGHT, steps, conf, with_light).stages[0]
    full = build_pipeline(PipelineName.FULL, steps, conf, with_light).stages[0]
    assert isinstance(light, MultiChannelRecall) and isinstance(full, MultiChannelRecall)
    assert light.recall is light_recall and full.recall is resources.recall


class Broken(Stage):
    names = ("broken",)

    async def run(self, query: Query, candidates: list[Candidate]) -> list[Candidate]:
        raise RuntimeError("boom")


@pytest.mark.asyncio
async def test_warm_up_runs_both_default_pipelines_and_reports_failures(resources: Resources) -> None:
    scenes = SceneRecommender(resources)
    assert await scenes.warm_up(["u0", "someone-new"]) == []
    scenes.default.light = Pipeline.of(PipelineName.LIGHT, [Broken()])
    problems = await scenes.warm_up(["u0"])
    assert problems == ["light pipeline, user 'u0': RuntimeError: boom"]


@pytest.mark.asyncio
async def test_a_reordering_re_rank_still_answers_best_first() -> None:
    class Listed(Stage):
        names = ("listed",)

        async def run(self, query: Query, candidates: list[Candidate]) -> list[Candidate]:
            return [Candidate("a", 0.9), Candidate("b", 0.5), Candidate("c", 0.7), Candidate("d", 0.1)]

    recommender = ResilientRecommender(
        full=Pipeline.of(PipelineName.FULL, [Listed()]), light=None, popular=lambda _r: []
    )
    answer = await recommender.recommend(RecommendRequest(userId="u", count=4))
    assert [i.itemId for i in answer.items] == ["a", "b", "c", "d"]  # the re-rank's order stands
    assert [i.score for i in answer.items] == [0.9, 0.5, 0.5, 0.1]


def test_redis_comes_from_the_flag_or_our_own_variable_never_redis_url(
    resources: Resources, monkeypatch: pytest.MonkeyPatch
) -> None:
    import argparse

    from dubbo_recsys.provider.app import add_arguments, options_from_args

    def options(argv: list[str]):  # the parser reads the environment when it is built
        parser = argparse.ArgumentParser()
        add_arguments(parser)
        return options_from_args(parser.parse_args(argv))

    root = str(resources.artifacts)
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")  # some other tool's variable: ignored
    monkeypatch.delenv("DUBBO_RECSYS_REDIS", raising=False)
    assert options([]).redis_url is None
    assert options(["--artifacts", root]).redis_url is None
    monkeypatch.setenv("DUBBO_RECSYS_REDIS", "redis://127.0.0.1:3/0")
    assert options(["--artifacts", root]).redis_url == "redis://127.0.0.1:3/0"
    assert options(["--artifacts", root, "--redis", ""]).redis_url is None
    assert options(["--artifacts", root, "--redis", "redis://127.0.0.1:2/0"]).redis_url == "redis://127.0.0.1:2/0"


@pytest.mark.asyncio
async def test_a_recall_channel_that_fails_is_named_in_the_answer(resources: Resources) -> None:
    recall = Recall.load(resources.artifacts, resources.local_features)
    channel = next(c for c, _ in recall.merger.channels if c.name != "hot")

    async def broken(query: object, k: int) -> object:
        raise RuntimeError("index unreadable")

    channel.retrieve = broken  # this channel fails from now on
    steps = (PipelineStep("recall", "multi_channel"),)
    recommender = build_recommender(PipelineConf(steps=steps, recall_num=5), replace(resources, recall=recall))
    answer = await recommender.recommend(RecommendRequest(userId="u0", count=2, debug=True))
    note = f"recall channel {channel.name} dropped: RuntimeError: index unreadable"
    assert (answer.pipeline, answer.degraded, len(answer.items)) == ("full", False, 2)
    assert answer.message == f"ok; partial: {note}" and answer.debugInfo is not None
    assert json.loads(answer.debugInfo["notes"]) == [note]
    whole = await build_recommender(PipelineConf(steps=steps, recall_num=5), resources).recommend(
        RecommendRequest(userId="u0", count=2, debug=True)
    )
    assert whole.message == "ok" and whole.debugInfo is not None and "notes" not in whole.debugInfo
