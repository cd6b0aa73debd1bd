"""Fixtures of the offline tests: small builds made in-process, and the CI-built artifacts.

``ARTIFACTS_ML100K`` / ``ARTIFACTS_SYNTH`` are built by ``tests/ci/40-artifacts.sh``
(the full build, two-tower included); tests that read them skip on a developer
machine without them and fail under CI=true.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dubbo_recsys.offline.build import run_build
from dubbo_recsys.offline.config import BuildConfig, NeighborConfig, SyntheticConfig, TwoTowerConfig
from tests.support import require_env

SMALL = SyntheticConfig(users=400, items=900, seed=3, mean_interactions=20.0)


def small_config(out: Path, **overrides) -> BuildConfig:
    fields = dict(
        source="synthetic",
        out=out,
        synthetic=SMALL,
        neighbors=NeighborConfig(k=20, hot_k=30, last_n=10),
        two_tower=TwoTowerConfig(enabled=False),
    )
    fields.update(overrides)
    return BuildConfig(**fields)  # type: ignore[arg-type]  # each test overrides fields of any type


@pytest.fixture(scope="session")
def small_build(tmp_path_factory) -> Path:
    """A small synthetic build without the model (about a second)."""
    out = tmp_path_factory.mktemp("offline") / "small"
    run_build(small_config(out))
    return out


@pytest.fixture(scope="session")
def small_model_build(tmp_path_factory) -> Path:
    """A small synthetic build with a briefly trained two-tower model (TensorFlow import included, ~15 s)."""
    out = tmp_path_factory.mktemp("offline") / "small_model"
    run_build(small_config(out, two_tower=TwoTowerConfig(dim=16, epochs=1, batch_size=256)))
    return out


@pytest.fixture(scope="session")
def ml100k_artifacts() -> Path:
    return Path(require_env("ARTIFACTS_ML100K"))


@pytest.fixture(scope="session")
def synth_artifacts() -> Path:
    return Path(require_env("ARTIFACTS_SYNTH"))


@pytest.fixture(params=["small", "ml100k", "synth"])
def any_artifacts(request) -> Path:
    """Each artifact directory in turn: the in-process build and both CI builds."""
    name = {"small": "small_build", "ml100k": "ml100k_artifacts", "synth": "synth_artifacts"}[request.param]
    return request.getfixturevalue(name)
