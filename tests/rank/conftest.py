"""Fixtures of the rank tests: one small synthetic build with every model, made in-process once.

The build is the real one (``offline.build.run_build``) with a small catalog and
short training (about 20-40 s on a busy 2-core machine), so the SavedModel, the
light arrays and the two-tower vectors are what the stages read in production.
The ML-100K quality test reads the CI-built ``ARTIFACTS_ML100K`` instead.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

import dubbo_recsys.rank.stages  # noqa: F401 - fills the pipeline catalog with the rank stages
from dubbo_recsys.offline.build import run_build
from dubbo_recsys.offline.config import BuildConfig, NeighborConfig, Source, SyntheticConfig, TwoTowerConfig
from dubbo_recsys.offline.rank_fusion import RankFusion
from dubbo_recsys.offline.rank_steps import RankModelConfig
from dubbo_recsys.offline.recipe import default_steps

SMALL = SyntheticConfig(users=300, items=500, seed=5, mean_interactions=20.0)
RANK = RankModelConfig(dim=8, fm_dim=4, history_len=10, negatives=16, epochs=1, batch_size=256, eval_users=50)


@pytest.fixture(scope="session")
def small_artifacts(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("rank") / "small"
    config = BuildConfig(
        source=Source.SYNTHETIC,
        out=out,
        synthetic=SMALL,
        neighbors=NeighborConfig(k=20, hot_k=30, last_n=20),
        two_tower=TwoTowerConfig(dim=8, epochs=1, batch_size=256),
    )
    # no RankFusion: the tests of the fused stage fit their own weights; this build's ranks by DIN alone
    run_build(config, steps=[s for s in default_steps(RANK) if not isinstance(s, RankFusion)])
    return out


@pytest.fixture
def resources(small_artifacts):
    from dubbo_recsys.features.embedded import EmbeddedFeatureStore

    return SimpleNamespace(artifacts=small_artifacts, features=EmbeddedFeatureStore.from_artifacts(small_artifacts))
