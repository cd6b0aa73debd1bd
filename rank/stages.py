"""Importing this module fills the pipeline catalog with every rank stage (see ``rank``'s docstring).

``pipeline.assemble`` imports it by name; it is a module of its own so that
assembly does not depend on what ``rank/__init__`` chooses to export.
"""
from rank.light import FMRanker, LRRanker
from rank.prerank import TwoTowerPreRanker
from rank.remote import TFServingRanker
from rank.rerank import DPPReRanker, MMRReRanker, TopN
from rank.rules import BusinessRules
from rank.tf_ranker import InProcessRanker

__all__ = ["BusinessRules", "DPPReRanker", "FMRanker", "InProcessRanker", "LRRanker", "MMRReRanker", "TFServingRanker",
           "TopN", "TwoTowerPreRanker"]
