"""Fixtures of the recall tests: one tiny artifact directory per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.features.conftest import redis_space
from tests.recall.fixtures import write_artifacts

__all__ = ["artifacts", "redis_space"]


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_artifacts(tmp_path_factory.mktemp("recall-artifacts"))
