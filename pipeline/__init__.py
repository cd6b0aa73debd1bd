"""The recommendation pipeline: typed stages, a deadline-bound runner, fallbacks.

Knows nothing of Dubbo or any wire format; concrete stages live in ``recall``
and ``rank`` and declare themselves to the catalog in ``pipeline.stages``.
"""
from pipeline.model import (
    Candidate,
    DeadlineExceeded,
    PipelineError,
    PipelineName,
    Query,
    StageKind,
    StageTrace,
)
from pipeline.resilience import Downstream, DownstreamUnavailable, InFlight, ResilientRecommender
from pipeline.runner import Pipeline
from pipeline.stages import ConfigError, Stage, build_stage, stage_class

__all__ = [
    "InFlight",
    "Candidate", "ConfigError", "DeadlineExceeded", "Downstream", "DownstreamUnavailable", "Pipeline",
    "PipelineError", "PipelineName", "Query", "ResilientRecommender", "Stage", "StageKind", "StageTrace",
    "build_stage", "stage_class",
]
