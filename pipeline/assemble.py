"""Turn a scene's pipeline config into a ``ResilientRecommender``.

A scene lists its steps as ``(stage, implementation)`` pairs (``registry.scene_config``);
each pair is resolved through the stage catalog (``pipeline.stages``) into an
object, so an unknown implementation fails here, when the scene is loaded, and
never while serving. ``Resources`` is what stages may draw on: it is built once
per process and shared by every scene.

The default scene (used when no config center is configured, and for requests
naming no scene) is the seed's funnel with our implementations::

    full : recallSample -> recall(multi_channel, 1000) -> pre_ranking(dssmRank, 200)
           -> ranking(<rank model>) -> re_rank(mmr)

(no ``preRankingSample``/``rankingSample``: none of these stages reads item features, which
are arrays in the artifacts; a scene whose stages do, e.g. ``re_rank(rules)``, lists them.)
    light: recall(multi_channel, 100) -> light_ranking(fmRank)   (FM personalises; LR scores at popularity level)

Steps whose implementation is not available in this process (no ranking model
in the artifacts, say) are configuration errors in a scene config, but are left
out of the default scene, which is built from what exists.

A remote ranking step (``ranking(tfserving)``) takes its address from the scene's
``model_conf``: the rank model whose key or ``modelName`` is the step's
implementation, else the scene's only rank model served by TF Serving; its
``tfservingAddrs[0]``, ``tfservingModelName``, version, signature and
``read_timeout_ms`` become the stage's ``target``, ``model_name``, ``version``,
``signature`` and ``timeout_seconds``, and the model's ``fusion`` flag its ``fusion``.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from dubbo_recsys.features.base import FeatureStore, SeenFilter
from dubbo_recsys.interfaces.recommend import RecommendRequest
from dubbo_recsys.pipeline.model import PipelineName, StageKind
from dubbo_recsys.pipeline.resilience import Downstream, InFlight, ResilientRecommender
from dubbo_recsys.pipeline.runner import Pipeline
from dubbo_recsys.pipeline.stages import ConfigError, Stage, build_stage
from dubbo_recsys.registry.scene_config import ModelConf, ModelType, PipelineConf, PipelineStep, StepKind

log = logging.getLogger(__name__)

# Modules whose classes declare the concrete stages; importing them fills the catalog.
STAGE_MODULES = ("dubbo_recsys.pipeline.hydrate", "dubbo_recsys.recall.stage", "dubbo_recsys.rank.stages")

Popular = Callable[[RecommendRequest], Sequence[tuple[str, float]]]

# Rank implementations that call TF Serving and so need an address from model_conf.
REMOTE_RANKERS = frozenset({"tfserving", "din_remote"})


@dataclass
class Resources:
    """Everything stages may use, built once per process (see ``provider.app``)."""

    popular: Popular
    features: FeatureStore | None = None  # primary store: Redis, or the embedded one
    local_features: FeatureStore | None = None  # embedded store from the artifacts: the light pipeline's
    seen: SeenFilter | None = None
    recall: Any = None  # recall.Recall
    light_recall: Any = None  # recall.Recall over local_features, no remote seen filter: the light pipeline's
    artifacts: Path | None = None
    rank: Any = None  # optional preloaded rank.RankArtifacts shared by the rank stages
    budget_seconds: float = 0.100
    light_budget_seconds: float = 0.050
    downstreams: dict[str, Downstream] = field(default_factory=dict)
    features_guard: str = "features"  # the guard of ``features``: one per store (provider.scene_stores)
    # requests inside the full / light pipelines of every scene at once (0 = no bound): the excess is shed
    full_inflight: InFlight = field(default_factory=InFlight)
    light_inflight: InFlight = field(default_factory=InFlight)
    # the artifact version these resources were loaded from (an artifact root's version id; "" otherwise):
    # every stage built from them is stamped with it (``Pipeline.versions``, the debug traces)
    version: str = ""

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


def _params(step: PipelineStep, conf: PipelineConf, light: bool, models: Sequence[ModelConf] = ()) -> dict[str, Any]:
    if step.kind is StepKind.RANK and step.implementation.lower() in REMOTE_RANKERS:
        return _remote_rank_params(step, models)
    if step.kind is StepKind.HYDRATE:
        return {"light": True} if light else {}
    if step.kind is StepKind.RECALL:
        return {"size": conf.recall_num_light if light else conf.recall_num}
    if step.kind is StepKind.PRE_RANK:
        return {"size": conf.pre_ranking_num_light if light else conf.pre_ranking_num}
    return {}


def _remote_rank_params(step: PipelineStep, models: Sequence[ModelConf]) -> dict[str, Any]:
    served = [m for m in models if m.model_type is ModelType.RANK and m.tfserving is not None]
    named = [m for m in served if step.implementation in (m.key, m.model_name)]
    chosen = named or served
    if len(chosen) != 1:
        raise ConfigError(
            f"{step.stage}({step.implementation}) needs exactly one rank model with tfservingGrpcAddr "
            f"in model_conf, found {len(chosen)}"
        )
    serving = chosen[0].tfserving
    assert serving is not None
    if not serving.pool.addrs:
        raise ConfigError(f"model {chosen[0].key}: tfservingGrpcAddr has no tfservingAddrs")
    return {
        "target": serving.pool.addrs[0],
        "model_name": serving.model_name,
        "version": serving.model_version,
        "signature": serving.signature_name,
        "timeout_seconds": max(serving.pool.read_timeout_ms, 1) / 1000.0,
        "fusion": chosen[0].fusion,
    }


def light_view(resources: Resources) -> Resources:
    """What the light pipeline's stages see: the local store and recall in place of the primary ones,
    so no light stage waits on the dependency (Redis) whose failure sent the request there.
    The guards (``downstreams``) stay shared."""
    if resources.light_recall is None and resources.local_features is None:
        return resources
    return replace(
        resources,
        recall=resources.light_recall or resources.recall,
        features=resources.local_features or resources.features,
    )


def build_pipeline(
    name: PipelineName,
    steps: Sequence[PipelineStep],
    conf: PipelineConf,
    resources: Resources,
    models: Sequence[ModelConf] = (),
) -> Pipeline:
    light = name is PipelineName.LIGHT
    if light:
        resources = light_view(resources)
    stages = [
        build_stage(StageKind(step.kind.value), step.implementation, resources, _params(step, conf, light, models))
        for step in steps
    ]
    versions = [resources.version] * len(stages)  # the artifacts each stage was built over
    return Pipeline.of(name, stages, _labels(stages, steps), versions)


def _labels(stages: Sequence[Stage], steps: Sequence[PipelineStep]) -> list[str]:
    """Trace labels: the stage's own name, or the configured one when that name is taken already
    (``rankingSample`` is the same class as ``preRankingSample``)."""
    taken: set[str] = set()
    labels = []
    for stage, step in zip(stages, steps, strict=True):
        label = stage.name if stage.name not in taken else step.implementation
        taken.add(label)
        labels.append(label)
    return labels


def build_recommender(
    conf: PipelineConf, resources: Resources, models: Sequence[ModelConf] = ()
) -> ResilientRecommender:
    if not conf.steps:
        raise ConfigError("the scene's pipeline has no steps")
    full = build_pipeline(PipelineName.FULL, conf.steps, conf, resources, models)
    light = build_pipeline(PipelineName.LIGHT, conf.light_steps, conf, resources, models) if conf.light_steps else None
    return ResilientRecommender(
        full=full,
        light=light,
        popular=resources.popular,
        budget_seconds=resources.budget_seconds,
        light_budget_seconds=resources.light_budget_seconds,
        full_inflight=resources.full_inflight,
        light_inflight=resources.light_inflight,
    )


def default_pipeline_conf(resources: Resources) -> PipelineConf:
    """The default scene, made of the implementations this process can build."""

    def usable(step: PipelineStep, light: bool) -> bool:
        try:
            build_stage(StageKind(step.kind.value), step.implementation, resources, _params(step, conf_template, light))
            return True
        except ConfigError as exc:
            log.info("default scene: leaving out %s(%s): %s", step.stage, step.implementation, exc)
            return False

    conf_template = PipelineConf()
    full = [
        PipelineStep("recall_sample", "recallSample"),
        PipelineStep("recall", "multi_channel"),
        PipelineStep("pre_ranking", "dssmRank"),
        PipelineStep("ranking", "deepfm"),
        PipelineStep("re_rank", "mmr"),
    ]
    light = [PipelineStep("recall", "multi_channel"), PipelineStep("light_ranking", "fmRank")]
    return PipelineConf(
        steps=tuple(s for s in full if usable(s, False)),
        light_steps=tuple(s for s in light if usable(s, True)),
        recall_num=conf_template.recall_num,
        pre_ranking_num=conf_template.pre_ranking_num,
        recall_num_light=conf_template.recall_num_light,
        pre_ranking_num_light=conf_template.pre_ranking_num_light,
    )
