"""Unmodified Java Dubbo consumers (3.3 and 2.7) calling ``dubbo-recsys serve``.

The Java side is java-client-sample/, built once by tests/ci/20-java-sample.sh
(``JAVA_SAMPLE_DIR``); here Maven runs offline against providers this module starts:
``dubbo-recsys serve`` for everything (with ``--registry`` for the Nacos test), and
tests/java_sample/failing_provider.py for the one test that needs a method that raises.
Each Maven run writes its surefire
reports to a fresh directory, and the assertions read those reports, so a test
class that stopped running cannot pass unnoticed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.java_sample.maven import assert_all_passed, run_maven
from tests.java_sample.provider_process import (
    RunningProvider,
    failing_provider_command,
    serve_command,
    started,
)
from tests.support import require_env

pytestmark = [pytest.mark.java, pytest.mark.timeout(600)]

# The JVM settings a test JVM needs here and a real deployment does not: see java-client-sample/README.md.
LOOPBACK_JVM_FLAG = "-Ddubbo.network.interface.ignored=.*"

DUBBO33_CLASSES = {
    "ContractShapeTest",
    "RecommendServiceTest",
    "SeedServiceTest",
    "EchoTest",
    "GenericInvokeTest",
    "ApplicationErrorTest",
    "ConcurrentCallsTest",
}
DUBBO27_CLASSES = {"Dubbo27ConsumerTest"}
NACOS_CLASSES = {"NacosDiscoveryTest"}


@pytest.fixture(scope="module")
def sample_dir() -> Path:
    path = Path(require_env("JAVA_SAMPLE_DIR"))
    assert (path / "pom.xml").is_file(), f"JAVA_SAMPLE_DIR={path} has no pom.xml"
    assert shutil.which("mvn"), "mvn is not on PATH"
    return path


@pytest.fixture(scope="module")
def python_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningProvider]:
    with started(serve_command(), tmp_path_factory.mktemp("serve") / "provider.log") as provider:
        yield provider


@pytest.fixture(scope="module")
def failing_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningProvider]:
    with started(failing_provider_command(), tmp_path_factory.mktemp("failing") / "provider.log") as provider:
        yield provider


def test_dubbo33_consumer_suite(
    sample_dir: Path, python_provider: RunningProvider, failing_provider: RunningProvider, tmp_path: Path
) -> None:
    result = run_maven(
        sample_dir,
        "recsys-consumer",
        tmp_path,
        f"-Dprovider.url={python_provider.url}",
        f"-Dfailing.provider.url={failing_provider.url}",
    )
    totals = assert_all_passed(result, tmp_path, DUBBO33_CLASSES)
    assert totals.tests >= 23, totals
    assert python_provider.process.poll() is None, python_provider.log()


@pytest.mark.nacos
def test_dubbo33_consumer_finds_the_provider_through_nacos(sample_dir: Path, tmp_path: Path) -> None:
    """A Java consumer configured with nothing but the registry address finds the Python
    provider in a real Nacos and calls both services."""
    nacos = require_env("NACOS_ADDR")
    # A Nacos group of our own, so records other tests register in the same server never mix in.
    group = f"java-sample-{os.getpid()}"
    command = [
        *serve_command(),
        "--registry",
        f"nacos://{nacos}?group={group}&unregister.wait=0",
        "--application",
        "dubbo-recsys-java-sample",
    ]
    with started(command, tmp_path / "provider.log") as provider:
        result = run_maven(
            sample_dir,
            "recsys-consumer",
            tmp_path / "reports",
            "-Dgroups=nacos",
            "-DexcludedGroups=",
            f"-Dnacos.url=nacos://{nacos}?group={group}",
        )
        totals = assert_all_passed(result, tmp_path / "reports", NACOS_CLASSES)
        assert set(totals.classes) == NACOS_CLASSES and totals.tests == 2, totals
        process = provider.process
    assert process.returncode == 0, provider.log()


def test_dubbo27_consumer_suite(sample_dir: Path, python_provider: RunningProvider, tmp_path: Path) -> None:
    result = run_maven(sample_dir, "recsys-consumer-27", tmp_path, f"-Dprovider.url={python_provider.url}")
    totals = assert_all_passed(result, tmp_path, DUBBO27_CLASSES)
    assert totals.tests >= 5, totals


def test_sample_main_then_graceful_stop(sample_dir: Path, tmp_path: Path) -> None:
    """The sample a Java shop starts from, against its own provider; then SIGTERM: the
    provider sends READONLY, drains and exits 0."""
    consumer = sample_dir / "consumer" / "target"
    classpath = os.pathsep.join([str(consumer / "classes"), (consumer / "classpath.txt").read_text().strip()])
    with started(serve_command(), tmp_path / "provider.log") as provider:
        result = subprocess.run(
            [
                "java",
                LOOPBACK_JVM_FLAG,
                "-cp",
                classpath,
                "org.dubborecsys.sample.SampleConsumer",
                provider.url,
                "sample-user",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        process = provider.process
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert "recommend: code=200 pipeline=popular degraded=true" in result.stdout, result.stdout
    assert "RecommenderInfer: code=200 data=[item-" in result.stdout, result.stdout
    assert process.returncode == 0, provider.log()
