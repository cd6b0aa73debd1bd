"""Three ``serve`` processes in one Nacos group and one unmodified Java consumer that knows only
``nacos://...`` (java-client-sample's NacosClusterTest, tag ``nacos-cluster``).

The Java test spreads calls over all three (counted by the provider address Dubbo reports per
call), sends SIGTERM to the first while a bounded load runs (no call may fail), then SIGKILL to
the second (calls must succeed again once Nacos drops it; bounded at 30 s). It writes what it
measured to a properties file; this side checks the processes' ends and reports the numbers.
"""

from __future__ import annotations

import contextlib
import signal
from pathlib import Path

import pytest

from tests.java_sample.provider_process import started
from tests.java_sample.test_java_consumers import assert_all_passed, run_maven, sample_dir  # noqa: F401 - fixture
from tests.nacos_e2e.providers import reaping, registry_url, serve_registered, unique_group, wait_listed
from tests.registry.openapi import OpenApi
from tests.support import require_env

pytestmark = [pytest.mark.java, pytest.mark.nacos, pytest.mark.timeout(420)]

#: Long enough for the consumer to receive Nacos's push before READONLY goes out (Java waits 10 s).
UNREGISTER_WAIT_MS = 1500


def read_properties(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            values[key] = value.replace("\\", "")
    return values


def test_java_consumer_over_three_providers_sigterm_and_sigkill(sample_dir: Path, tmp_path: Path) -> None:  # noqa: F811 - the fixture imported above, requested by name
    nacos = require_env("NACOS_ADDR")
    api = OpenApi(nacos)
    group = unique_group("cluster")
    url = registry_url(nacos, group, UNREGISTER_WAIT_MS)
    results = tmp_path / "results.properties"
    with contextlib.ExitStack() as stack:
        providers = [
            stack.enter_context(started(serve_registered(url, f"e2e-cluster-{n}"), tmp_path / f"p{n}.log"))
            for n in range(3)
        ]
        ports = {p.port for p in providers}
        assert wait_listed(api, group, ports) == ports, [p.log() for p in providers]
        with reaping([p.process for p in providers]):
            result = run_maven(
                sample_dir,
                "recsys-consumer",
                tmp_path / "reports",
                "-Dgroups=nacos-cluster",
                "-DexcludedGroups=",
                f"-Dnacos.url=nacos://{nacos}?group={group}",
                "-Dcluster.providers=" + ",".join(f"{p.process.pid}@{p.port}" for p in providers),
                f"-Dcluster.nacos.http={nacos}",
                f"-Dcluster.nacos.group={group}",
                f"-Dcluster.results={results}",
            )
        measured = read_properties(results) if results.exists() else {}
        print("NacosClusterTest measured:", measured)
        totals = assert_all_passed(result, tmp_path / "reports", {"NacosClusterTest"})
        assert set(totals.classes) == {"NacosClusterTest"} and totals.tests == 3, totals
        terminated, killed, survivor = providers
        # SIGTERM: a graceful exit; SIGKILL: killed by the test, not stopped some other way.
        assert terminated.process.poll() == 0, terminated.log()
        assert killed.process.poll() == -signal.SIGKILL, killed.log()
        assert survivor.process.poll() is None, survivor.log()
        assert measured["sigterm.failed"] == "0" and int(measured["sigterm.calls"]) > 100, measured
        assert int(measured["sigkill.nacos_dropped_ms"]) <= 30_000, measured
        assert wait_listed(api, group, {survivor.port}) == {survivor.port}
