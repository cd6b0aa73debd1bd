"""The build's recipe: the straight list of steps ``offline.build.run_build`` runs by default.

The top of the step layering: it imports every step module, none of them imports it
(``context`` < ``steps`` / ``model_steps`` < ``rank_steps`` < ``rank_fusion`` < ``recipe`` <
``build``). Adding a stage is one class appended here. The same list serves both
engines; the engine is chosen by ``BuildConfig.engine``, not by the recipe.
"""

from __future__ import annotations

from dubbo_recsys.offline.context import BuildStep
from dubbo_recsys.offline.model_steps import FaissIndex, TwoTowerModel
from dubbo_recsys.offline.rank_fusion import RankFusion
from dubbo_recsys.offline.rank_steps import RankModel, RankModelConfig
from dubbo_recsys.offline.steps import (
    HotItems,
    ItemCFTable,
    LoadSource,
    SplitInteractions,
    SwingTable,
    TrainingExamples,
    UserCFTable,
    WriteFeatures,
)

__all__ = ["default_steps"]


def default_steps(rank: RankModelConfig | None = None) -> tuple[BuildStep, ...]:
    """Every step in order; ``rank`` replaces the ranker's default settings."""
    rank = rank or RankModelConfig()
    return (
        LoadSource(),
        SplitInteractions(),
        WriteFeatures(),
        HotItems(),
        ItemCFTable(),
        UserCFTable(),
        SwingTable(),
        TrainingExamples(rank.history_len),
        TwoTowerModel(),
        FaissIndex(),
        RankModel(rank),
        RankFusion(),
    )
