"""Swaps under the Java load generator: 300 calls/s over dubbo:// to 2 workers, three publishes and a rollback.

The target figures (p99 during a swap against the steady p99, peak RSS against one version) are
measured by bench/rollout/run_bench.py, not asserted here: timing on a shared machine is noise. What
must hold every time is asserted: no call fails, no answer mixes versions, every worker follows every
pin, and /metrics and the console show every worker's rollout. The load generator's check is shown
able to fail first, against a provider whose answers do mix versions (``tests.rollout.mixed_provider``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.java_sample.provider_process import started
from tests.rollout.harness import LOAD_LIMIT_SECONDS, LOOPBACK, QUIET, Scenario, run_scenario
from tests.rollout.mixed_provider import A
from tests.support import require_env


@pytest.fixture(scope="module")
def classpath() -> str:
    return require_env("LOADGEN_CLASSPATH")


def test_the_load_generator_counts_answers_that_mix_versions(classpath: str, tmp_path: Path) -> None:
    command = [sys.executable, "-m", "tests.rollout.mixed_provider", "--port", "0"]
    with started(command, tmp_path / "mixed.log") as provider:
        done = subprocess.run(
            [
                *("java", LOOPBACK, QUIET, "-cp", classpath, "org.dubborecsys.bench.LoadGenerator"),
                *("--target", f"mixed={provider.url}@1", "--call", "recommend", "--threads", "1"),
                *("--requests", "200", "--seconds", "20", "--warmup-seconds", "0", "--initial-warmup-seconds", "0"),
                *("--check-versions", "1"),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    result = json.loads(next(line for line in done.stdout.splitlines() if line.startswith("{")))
    assert result["errors"] == 0 and result["calls"] == 200
    assert result["mixed"] == 100 and result["versions"] == {A: 100}  # one call in two mixes A and B


def test_three_swaps_and_a_rollback_under_load_fail_nothing_and_mix_nothing(
    classpath: str, ml100k: Path, tmp_path: Path
) -> None:
    require_env("REDIS_URL")  # the run starts a Redis of its own; the CI step installs redis-server
    outcome = run_scenario(
        Scenario(
            artifacts=ml100k,
            work=tmp_path,
            workers=2,
            rate=300.0,
            swaps=3,
            rollback=True,
            warmup_seconds=3.0,
            steady_seconds=6.0,
            settle_seconds=2.0,
            swap_timeout=120.0,
        ),
        classpath,
    )
    summary, versions = outcome.summary, outcome.versions
    assert summary["calls"] > 0 and summary["errors"] == 0, summary.get("error_kinds")
    assert summary["mixed"] == 0, summary
    assert [e.version for e in outcome.events] == [*versions[1:], versions[-2]]
    assert all(len(e.workers) == 2 for e in outcome.events)
    assert summary["seconds"] < LOAD_LIMIT_SECONDS - 1, "the load ended (its limit) before the last swap"
    assert set(summary["versions"]) == set(versions)  # the consumer saw every version answer
    for worker in ("0", "1"):
        line = f'dubbo_recsys_rollout_serving_info{{version="{versions[-2]}",worker="{worker}"}} 1.0'
        assert line in outcome.metrics
        assert f'dubbo_recsys_rollout_swaps_total{{worker="{worker}"}} 4.0' in outcome.metrics
    rows = outcome.console["rollout"]
    assert sorted(r["worker"] for r in rows) == ["0", "1"] and all(r["serving"] == versions[-2] for r in rows)
    assert all(r["retiring"] == [] and r["swaps"] == 4 for r in rows)  # every old version released
    assert all(samples for samples in outcome.rss.values())
    steady, during = outcome.p99(outcome.between), outcome.p99(outcome.swap_windows)
    print(f"p99 steady {steady:.1f} ms, during swaps {during:.1f} ms; load average {outcome.load_average}")
