"""``dubbo-recsys java-api`` end to end: the Java API written from Python services, compiled by Maven
and called by a Java consumer against ``dubbo-recsys serve``.

Two APIs are generated, for the built-in services (served on the popularity list) and for
``examples/catalog`` (served with ``--app``); ``java/generated-consumer`` (Dubbo 3.3, JUnit) is
compiled against the two generated modules, in one offline Maven reactor with them, and calls
both providers. The consumer uses what only the generated API has (the Python defaults as Java
initializers, the all-fields constructors), so it cannot pass against the hand-written APIs.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from dubbo_recsys.provider.cli import main
from tests.java_sample.maven import assert_all_passed, run_maven
from tests.java_sample.provider_process import RunningProvider, serve_command, started
from tests.support import require_env

HERE = Path(__file__).resolve().parent
CONSUMER = HERE / "java" / "generated-consumer"
VERSION = "0.0.0-test"  # generated-consumer/pom.xml depends on this version of both generated APIs


def _reactor(root: Path, modules: list[Path]) -> None:
    """An aggregator pom in ``root`` listing ``modules`` (relative paths, as Maven wants them)."""
    listed = "".join(f"    <module>{os.path.relpath(m, root)}</module>\n" for m in modules)
    (root / "pom.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<project xmlns="http://maven.apache.org/POM/4.0.0">\n'
        "  <modelVersion>4.0.0</modelVersion>\n"
        "  <groupId>org.dubborecsys.generated</groupId>\n"
        "  <artifactId>generated-reactor</artifactId>\n"
        f"  <version>{VERSION}</version>\n"
        "  <packaging>pom</packaging>\n"
        f"  <modules>\n{listed}  </modules>\n"
        "</project>\n"
    )


@pytest.fixture(scope="module")
def maven() -> None:
    require_env("JAVA_SAMPLE_DIR")  # the Maven dependencies are resolved by tests/ci/20-java-sample.sh
    assert shutil.which("mvn"), "Maven is not installed"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Both generated APIs and the reactor that builds them with the consumer."""
    root = tmp_path_factory.mktemp("generated")
    common = ["--group-id", "org.dubborecsys.generated", "--version", VERSION]
    assert main(["java-api", "--out", str(root / "recsys-api"), "--artifact-id", "recsys-api", *common]) == 0
    app = ["--app", "examples.catalog.provider:CatalogService"]
    assert main(["java-api", "--out", str(root / "catalog-api"), "--artifact-id", "catalog-api", *app, *common]) == 0
    _reactor(root, [root / "recsys-api", root / "catalog-api", CONSUMER])
    return root


@pytest.fixture(scope="module")
def providers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningProvider, RunningProvider]]:
    logs = tmp_path_factory.mktemp("providers")
    with (
        started(serve_command(), logs / "builtin.log") as builtin,
        started([*serve_command(), "--app", "examples.catalog.provider:CatalogService"], logs / "catalog.log") as cat,
    ):
        yield builtin, cat


@pytest.mark.java
@pytest.mark.timeout(600)
def test_a_java_consumer_calls_python_services_through_their_generated_api(
    maven: None, generated: Path, providers: tuple[RunningProvider, RunningProvider], tmp_path: Path
) -> None:
    builtin, catalog = providers
    result = run_maven(
        generated,
        "generated-api-consumer",
        tmp_path,
        f"-Dbuiltin.url={builtin.url}",
        f"-Dcatalog.url={catalog.url}",
    )
    totals = assert_all_passed(result, tmp_path, {"BuiltinServicesTest", "CatalogServiceTest"})
    assert totals.tests == 7, totals
    assert builtin.process.poll() is None and catalog.process.poll() is None
