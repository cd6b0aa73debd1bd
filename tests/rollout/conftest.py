"""Fixtures of the rollout tests: builds to derive versions from, and an app serving an artifact root.

``small_build``: a small synthetic build without TensorFlow (about a second), for the swap mechanics.
``ml100k``: the CI build of ML-100K (models, Faiss), for the gate's checks and the load runs.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from dubbo_recsys.offline.build import run_build
from dubbo_recsys.provider.app import PipelineApp, PipelineOptions
from dubbo_recsys.provider.rollout.config import RolloutConfig
from tests.offline.conftest import small_config
from tests.support import require_env


@pytest.fixture(scope="session")
def small_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("rollout-source") / "small"
    run_build(small_config(out))
    return out


@pytest.fixture(scope="session")
def ml100k() -> Path:
    return Path(require_env("ARTIFACTS_ML100K"))


def rollout_app(root: Path, **config: Any) -> PipelineApp:
    """An app serving ``root`` (the local pin), polling fast; budgets generous for a shared machine."""
    options = RolloutConfig(root=root, poll_seconds=config.pop("poll_seconds", 0.1), **config)
    return PipelineApp(PipelineOptions(rollout=options, budget_ms=5000, light_budget_ms=5000))


@pytest_asyncio.fixture
async def opened(request: pytest.FixtureRequest) -> AsyncIterator[list[PipelineApp]]:
    """Apps a test opens are closed after it (append them)."""
    apps: list[PipelineApp] = []
    yield apps
    for app in apps:
        await app.close()


def debug_versions(debug_info: dict[str, str] | None) -> tuple[str, set[str]]:
    """(the answer's version, the versions its stages were stamped with) from a debug answer."""
    info = dict(debug_info or {})
    answer = json.loads(info.pop("artifacts", "{}")).get("version", "")
    stages = {json.loads(text).get("version", "") for name, text in info.items() if name not in ("failures", "notes")}
    return answer, stages


def one_version(debug_info: dict[str, str] | None) -> str | None:
    """The one version a debug answer ran on, or None when its parts disagree (or say nothing)."""
    answer, stages = debug_versions(debug_info)
    return answer if answer and stages <= {answer} else None
