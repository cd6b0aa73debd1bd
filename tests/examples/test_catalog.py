"""The catalog example: a Java contract served by ``dubbo-recsys serve --app``, called by Java.

``examples/catalog`` holds the contract in Java (``java/src/main``), its Python bindings
and a provider of under 60 lines; ``java/src/test`` is an unmodified Dubbo 3.3 consumer.
Here: the contract the provider declares is the Java one, the CLI serves it with the
operator features (registry in a real Nacos, the application name from the app), and the
Java suite passes against it, directly and through Nacos (one Maven run).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from dubbo_recsys.provider import contract_of
from examples.catalog.provider import CatalogService
from tests.java_sample.maven import assert_all_passed, run_maven
from tests.java_sample.provider_process import RunningProvider, serve_command, started
from tests.support import require_env

APP = "examples.catalog.provider:CatalogService"
PROVIDER = Path(__file__).resolve().parents[2] / "examples" / "catalog" / "provider.py"


def test_the_provider_declares_the_java_contract() -> None:
    contract = contract_of(CatalogService)
    assert (contract.interface, contract.version) == ("org.dubborecsys.example.catalog.CatalogService", "1.0.0")
    assert [m.signature for m in contract.methods] == [
        "get(long)",
        "get(java.lang.String)",
        "put(org.dubborecsys.example.catalog.Product)",
        "ids(org.dubborecsys.example.catalog.Category)",
        "describe(long)",
        "thumbnail(long)",
        "primitives(boolean, byte, short, int, long, float, double, char)",
        "scale(float, int)",
        "reserve(long, int)",
        "remove(long)",
    ]
    returns = {m.signature: str(m.returns) for m in contract.methods}
    assert returns["ids(org.dubborecsys.example.catalog.Category)"] == "java.util.List<java.lang.Long>"
    assert returns["describe(long)"] == "java.util.Map<java.lang.String, java.lang.Object>"
    assert returns["thumbnail(long)"] == "byte[]" and returns["put(org.dubborecsys.example.catalog.Product)"] == "void"


def test_the_provider_is_small_and_wraps_nothing() -> None:
    source = PROVIDER.read_text()
    assert len(source.splitlines()) <= 60
    assert "Long(" not in source and '"java.' not in source  # no width wrapping, no type names as strings


@pytest.fixture(scope="module")
def sample_dir() -> Path:
    path = Path(require_env("JAVA_SAMPLE_DIR"))
    assert (path / "pom.xml").is_file() and shutil.which("mvn"), f"JAVA_SAMPLE_DIR={path} is not a Maven build"
    return path


@pytest.fixture(scope="module")
def catalog_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningProvider, str]]:
    """``serve --app`` registered in a real Nacos, under a Nacos group of its own."""
    nacos = require_env("NACOS_ADDR")
    registry = f"nacos://{nacos}?group=catalog-example-{os.getpid()}"
    command = [*serve_command(), "--app", APP, "--registry", f"{registry}&unregister.wait=0"]
    with started(command, tmp_path_factory.mktemp("catalog") / "provider.log") as provider:
        yield provider, registry


@pytest.mark.java
@pytest.mark.nacos
@pytest.mark.timeout(600)
def test_an_unmodified_java_consumer_calls_the_python_provider(
    sample_dir: Path, catalog_provider: tuple[RunningProvider, str], tmp_path: Path
) -> None:
    provider, registry = catalog_provider
    result = run_maven(
        sample_dir,
        "catalog-example",
        tmp_path,
        f"-Dprovider.url={provider.url}",
        f"-Dnacos.url={registry}",
        "-DexcludedGroups=",
    )
    totals = assert_all_passed(result, tmp_path, {"CatalogServiceTest", "CatalogThroughNacosTest"})
    assert totals.tests == 12, totals
    log = provider.log()
    assert "exported org.dubborecsys.example.catalog.CatalogService:1.0.0 methods=get,put,ids," in log
    # the one deliberate provider bug the Java suite provokes: logged here with its traceback and error id
    assert "describe(long) failed (error id " in log and "AttributeError" in log
    assert provider.process.poll() is None, log
