"""Shared peers of tests/funnel: one private Redis loaded from ARTIFACTS_ML100K, and one provider
serving the funnel over it (with a scenes directory the TF Serving fault test writes into).

The provider is started once for the package (its start loads TensorFlow and the artifacts,
~20-30 s on the shared CI machine); the fault tests leave Redis running and loaded when done.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.funnel.peers import RedisServer, funnel_command
from tests.java_sample.provider_process import RunningProvider, started
from tests.support import require_env

# Seconds the features breaker stays open (pipeline.resilience.Downstream's default).
FEATURES_RECOVERY_SECONDS = 10.0
# The provider's deadlines. serve's defaults are 100 / 50 ms; the CI machine runs several suites
# on 2 cores at once (load averages of 10-17 measured), where a request's few milliseconds of
# CPU can wait tens of milliseconds for a core, so the tests give the pipelines 3x the room.
BUDGET_MS = 300
LIGHT_BUDGET_MS = 150
# The latency every call must meet at the 99th percentile, faults included: the full budget,
# then the light one, plus the client's and the transport's share on a loaded machine.
P99_BOUND_MS = BUDGET_MS + LIGHT_BUDGET_MS + 150


@pytest.fixture(scope="package")
def artifacts() -> Path:
    root = Path(require_env("ARTIFACTS_ML100K"))
    assert (root / "manifest.json").is_file(), f"ARTIFACTS_ML100K={root} is not an artifact directory"
    return root


@pytest.fixture(scope="package")
def redis_server(artifacts: Path) -> Iterator[RedisServer]:
    """A Redis of our own (the fault tests stop it), from the binary tests/ci/15-redis.sh installs;
    REDIS_URL, which that step exports, says it ran."""
    require_env("REDIS_URL")
    server = RedisServer()
    server.start()
    try:
        server.load(artifacts)
        yield server
    finally:
        server.close()


@pytest.fixture(scope="package")
def scenes_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Scene files: ``home`` (what the Java sample and load generator ask for) runs the default
    pipeline; tests add their own."""
    directory = tmp_path_factory.mktemp("funnel-scenes")
    (directory / "home.json").write_text(json.dumps({"dataId": "home", "content": {"version": "1"}}))
    return directory


@pytest.fixture(scope="package")
def funnel(
    artifacts: Path, redis_server: RedisServer, scenes_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningProvider]:
    command = funnel_command(
        artifacts,
        "--scenes",
        str(scenes_dir),
        "--budget-ms",
        str(BUDGET_MS),
        "--light-budget-ms",
        str(LIGHT_BUDGET_MS),
        redis_url=redis_server.url,
    )
    with started(command, tmp_path_factory.mktemp("funnel-serve") / "provider.log", ready_timeout=180) as provider:
        yield provider
