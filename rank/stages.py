"""Importing this module fills the pipeline catalog with every rank stage (see ``rank``'s docstring).

``pipeline.assemble`` imports it by name; it is a module of its own so that
assembly does not depend on what ``rank/__init__`` chooses to export.
"""

from dubbo_recsys.rank.light import FMRanker, LRRanker
from dubbo_recsys.rank.prerank import TwoTowerPreRanker
from dubbo_recsys.rank.remote import TFServingRanker
from dubbo_recsys.rank.rerank import DPPReRanker, MMRReRanker, TopN
from dubbo_recsys.rank.rules import BusinessRules
from dubbo_recsys.rank.tf_ranker import InProcessRanker

__all__ = [
    "BusinessRules",
    "DPPReRanker",
    "FMRanker",
    "InProcessRanker",
    "LRRanker",
    "MMRReRanker",
    "TFServingRanker",
    "TopN",
    "TwoTowerPreRanker",
]
