"""Pre-rank, rank and re-rank stages for the pipeline, with the ranking models' serving code.

``import rank`` registers every stage in the pipeline catalog (numpy only; the
TensorFlow and gRPC imports happen when a TF stage is built). Names, by kind,
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
from rank.base import RankArtifactError, RankArtifacts, RankConfigError, RankError, RankerUnavailable
from rank.light import FMRanker, LightModel, LRRanker
from rank.prerank import TwoTowerPreRanker
from rank.remote import TFServingClient, TFServingConfig, TFServingRanker
from rank.rerank import DPPReRanker, MMRReRanker, TopN
from rank.rules import BusinessRules, RuleSet
from rank.tf_ranker import DinModel, InProcessRanker

__all__ = [
    "BusinessRules", "DPPReRanker", "DinModel", "FMRanker", "InProcessRanker", "LRRanker", "LightModel",
    "MMRReRanker", "RankArtifactError", "RankArtifacts", "RankConfigError", "RankError", "RankerUnavailable",
    "RuleSet", "TFServingClient", "TFServingConfig", "TFServingRanker", "TopN", "TwoTowerPreRanker",
]
