"""The recommendation pipeline: typed stages, a deadline-bound runner, fallbacks.

Knows nothing of Dubbo or any wire format; concrete stages live in ``recall``
and ``rank`` and declare themselves to the catalog in ``pipeline.stages``.
"""

from dubbo_recsys.pipeline.model import (
    Candidate,
    DeadlineExceeded,
    PipelineError,
    PipelineName,
    Query,
    StageKind,
)
from dubbo_recsys.pipeline.resilience import Downstream, DownstreamUnavailable, InFlight, ResilientRecommender
from dubbo_recsys.pipeline.runner import Pipeline
from dubbo_recsys.pipeline.stages import ConfigError, Stage, build_stage, stage_class

__all__ = [
    "Candidate",
    "ConfigError",
    "DeadlineExceeded",
    "Downstream",
    "DownstreamUnavailable",
    "InFlight",
    "Pipeline",
    "PipelineError",
    "PipelineName",
    "Query",
    "ResilientRecommender",
    "Stage",
    "StageKind",
    "build_stage",
    "stage_class",
]
