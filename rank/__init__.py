"""Pre-rank, rank and re-rank stages for the pipeline, with the ranking models' serving code.

``import rank.stages`` registers every stage in the pipeline catalog (numpy only; the
TensorFlow and gRPC imports happen when a TF stage is built). ``import rank`` itself
is cheap: the names below resolve on first use, so the CLI can list ``eval-rank``
without importing the pipeline. Names, by kind,
with the seed's names first::

    pre_rank   dssmRank | two_tower     TwoTowerPreRanker   two-tower dot product, keep ``size`` (200)
    rank       din | deepfm             InProcessRanker     DIN SavedModel in process (signature "rank")
    rank       tfserving | din_remote   TFServingRanker     TF Serving Predict, "serving_default"
    rank       lrRank | lr              LRRanker            numpy LR (light pipeline)
    rank       fmRank | fm              FMRanker            numpy FM (light pipeline)
    re_rank    mmr                      MMRReRanker         maximal marginal relevance, "lambda"
    re_rank    dpp                      DPPReRanker         greedy DPP MAP, "theta"
    re_rank    rules                    BusinessRules       blocks, boosts, category caps, author spacing
    re_rank    top_n | final            TopN                the final cut

Build a stage with ``pipeline.build_stage(kind, name, resources, params)``.
``resources`` is any object with these attributes:

    artifacts       str | Path      the artifact directory (required by all but ``tfserving`` and ``top_n``;
                                    ``rules`` uses it for categories/authors when present)
    features        FeatureStore    optional: user features (profile, lastN) when no earlier stage put
                                    ``query.user``; without it users rank as unknown
    local_features  FeatureStore    optional: the in-process store the light rankers prefer (the
                                    degraded pipeline must not wait on the Redis that just failed)
    rank            RankArtifacts   optional: an already loaded ``RankArtifacts`` to share
                                    (``RankArtifacts.load(path)``); ``rank_artifacts`` works too

Artifacts are loaded once per directory and process (``RankArtifacts.of``),
the SavedModel once per directory (``DinModel.load``). The parameters each
stage accepts are in its class docstring; a bad one is a ``RankConfigError``
when the pipeline is built. Every stage records its score under its name in
``Candidate.scores`` and keeps ``channels`` (recall provenance) untouched.

Errors: ``RankError`` and its subclasses (``rank.base``). Quality:
``dubbo-recsys eval-rank`` (``rank.evaluation``).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "RankArtifactError": "dubbo_recsys.rank.base",
    "RankArtifacts": "dubbo_recsys.rank.base",
    "RankConfigError": "dubbo_recsys.rank.base",
    "RankError": "dubbo_recsys.rank.base",
    "RankerUnavailable": "dubbo_recsys.rank.base",
    "FMRanker": "dubbo_recsys.rank.light",
    "LightModel": "dubbo_recsys.rank.light",
    "LRRanker": "dubbo_recsys.rank.light",
    "TwoTowerPreRanker": "dubbo_recsys.rank.prerank",
    "TFServingClient": "dubbo_recsys.rank.remote",
    "TFServingConfig": "dubbo_recsys.rank.remote",
    "TFServingRanker": "dubbo_recsys.rank.remote",
    "DPPReRanker": "dubbo_recsys.rank.rerank",
    "MMRReRanker": "dubbo_recsys.rank.rerank",
    "TopN": "dubbo_recsys.rank.rerank",
    "BusinessRules": "dubbo_recsys.rank.rules",
    "RuleSet": "dubbo_recsys.rank.rules",
    "DinModel": "dubbo_recsys.rank.tf_ranker",
    "InProcessRanker": "dubbo_recsys.rank.tf_ranker",
}

__all__ = sorted(_EXPORTS)  # noqa: PLE0605 - the lazy facade exports its table's keys; a literal would say them twice


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
