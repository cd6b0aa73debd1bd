"""Turn a scene's pipeline config into a ``ResilientRecommender``.

A scene lists its steps as ``(stage, implementation)`` pairs (``registry.scene_config``);
each pair is resolved through the stage catalog (``pipeline.stages``) into an
object, so an unknown implementation fails here, when the scene is loaded, and
never while serving. ``Resources`` is what stages may draw on: it is built once
per process and shared by every scene.

The default scene (used when no config center is configured, and for requests
naming no scene) is the seed's funnel with our implementations::

    full : recallSample -> recall(multi_channel, 1000) -> preRankingSample -> pre_ranking(dssmRank, 200)
           -> rankingSample -> ranking(<rank model>) -> re_rank(mmr)
    light: recall(multi_channel, 100) -> light_ranking(lrRank)

Steps whose implementation is not available in this process (no ranking model
in the artifacts, say) are configuration errors in a scene config, but are left
out of the default scene, which is built from what exists.
"""
from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from features.base import FeatureStore, SeenFilter
from interfaces.recommend import RecommendRequest
from pipeline.model import PipelineName, StageKind
from pipeline.resilience import Downstream, ResilientRecommender
from pipeline.runner import Pipeline
from pipeline.stages import ConfigError, Stage, build_stage
from registry.scene_config import PipelineConf, PipelineStep, StepKind

log = logging.getLogger(__name__)

# Modules whose classes declare the concrete stages; importing them fills the catalog.
STAGE_MODULES = ("pipeline.hydrate", "recall.stage", "rank.stages")

Popular = Callable[[RecommendRequest], Sequence[tuple[str, float]]]


@dataclass
class Resources:
    """Everything stages may use, built once per process (see ``provider.app``)."""

    popular: Popular
    features: FeatureStore | None = None  # primary store: Redis, or the embedded one
    local_features: FeatureStore | None = None  # embedded store from the artifacts: the light pipeline's
    seen: SeenFilter | None = None
    recall: Any = None  # recall.Recall
    artifacts: Path | None = None
    rank: Any = None  # what rank.stages needs (rank.RankResources)
    budget_seconds: float = 0.100
    light_budget_seconds: float = 0.050
    downstreams: dict[str, Downstream] = field(default_factory=dict)

    def downstream(self, name: str) -> Downstream:
        """The guard of one dependency, shared by every stage and scene that uses it."""
        guard = self.downstreams.get(name)
        if guard is None:
            guard = self.downstreams[name] = Downstream(name)
        return guard


def load_stage_modules() -> list[str]:
    """Import the modules that declare stages; returns those that could not be imported (and why)."""
    missing = []
    for module in STAGE_MODULES:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            missing.append(f"{module}: {exc}")
    return missing


def _params(step: PipelineStep, conf: PipelineConf, light: bool) -> dict[str, Any]:
    if step.kind is StepKind.HYDRATE:
        return {"light": True} if light else {}
    if step.kind is StepKind.RECALL:
        return {"size": conf.recall_num_light if light else conf.recall_num}
    if step.kind is StepKind.PRE_RANK:
        return {"size": conf.pre_ranking_num_light if light else conf.pre_ranking_num}
    return {}


def build_pipeline(name: PipelineName, steps: Sequence[PipelineStep], conf: PipelineConf,
                   resources: Resources) -> Pipeline:
    light = name is PipelineName.LIGHT
    stages: list[Stage] = []
    for step in steps:
        stages.append(build_stage(StageKind(step.kind.value), step.implementation, resources,
                                  _params(step, conf, light)))
    return Pipeline.of(name, stages)


def build_recommender(conf: PipelineConf, resources: Resources) -> ResilientRecommender:
    if not conf.steps:
        raise ConfigError("the scene's pipeline has no steps")
    full = build_pipeline(PipelineName.FULL, conf.steps, conf, resources)
    light = build_pipeline(PipelineName.LIGHT, conf.light_steps, conf, resources) if conf.light_steps else None
    return ResilientRecommender(full=full, light=light, popular=resources.popular,
                                budget_seconds=resources.budget_seconds,
                                light_budget_seconds=resources.light_budget_seconds)


def default_pipeline_conf(resources: Resources) -> PipelineConf:
    """The default scene, made of the implementations this process can build."""

    def usable(step: PipelineStep, light: bool) -> bool:
        try:
            build_stage(StageKind(step.kind.value), step.implementation, resources,
                        _params(step, conf_template, light))
            return True
        except ConfigError as exc:
            log.info("default scene: leaving out %s(%s): %s", step.stage, step.implementation, exc)
            return False

    conf_template = PipelineConf()
    full = [
        PipelineStep("recall_sample", "recallSample"),
        PipelineStep("recall", "multi_channel"),
        PipelineStep("pre_ranking_sample", "preRankingSample"),
        PipelineStep("pre_ranking", "dssmRank"),
        PipelineStep("ranking_sample", "rankingSample"),
        PipelineStep("ranking", "deepfm"),
        PipelineStep("re_rank", "mmr"),
    ]
    light = [PipelineStep("recall", "multi_channel"), PipelineStep("light_ranking", "lrRank")]
    return PipelineConf(
        steps=tuple(s for s in full if usable(s, False)),
        light_steps=tuple(s for s in light if usable(s, True)),
        recall_num=conf_template.recall_num,
        pre_ranking_num=conf_template.pre_ranking_num,
        recall_num_light=conf_template.recall_num_light,
        pre_ranking_num_light=conf_template.pre_ranking_num_light,
    )
