"""``dubbo-recsys import-java`` end to end, on real jars built by Maven in the test run.

- The orders contract (``java/orders-api``: overloads, generics, enums, nested POJOs, a checked
  exception hierarchy; built by tests/ci/21-java-api.sh): import the jar, fill the skeleton in
  (``ORDERS``), serve it with ``dubbo-recsys serve --app``, and run the unmodified Dubbo 3.3
  consumer compiled against the original jar (``java/orders-consumer``): answers and exceptions
  arrive as Java expects, and a method left unfilled answers UnsupportedOperationException.
- Back again: ``java-api`` of the imported services, compiled with javac, declares the very
  methods and fields the original class files do (descriptors compared by our parser).
- The Java sample's API (``java-client-sample/api``): the imported skeleton's contract is the
  one our built-in services serve, method for method and field for field.

Generated modules bind Java classes process-wide, so they are only ever imported in child
processes (the provider, ``python -c``), never in this one.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from dubbo_recsys.provider.cli import main
from dubbo_recsys.provider.javaapi.archive import read_class_files
from dubbo_recsys.provider.javaapi.classfile import Access, ClassFile, parse_class
from tests.java_sample.maven import assert_all_passed, run_maven
from tests.java_sample.provider_process import RunningProvider, serve_command, started
from tests.provider.javaapi.skeleton import fill
from tests.support import require_env

HERE = Path(__file__).resolve().parent
JAVA = HERE / "java"

# The provider the orders consumer expects (OrderServiceTest's javadoc says the data).
ORDERS = {
    "count": "return len(_STORE)",
    "place": """
        problems = [text for text, bad in (("no code", not order.code), ("no lines", not order.lines)) if bad]
        if problems:
            raise InvalidOrderException("order rejected", problems=problems)
        order.id = max(_STORE) + 1
        _STORE[order.id] = order
        return order.id
    """,
    "find": """
        if id not in _STORE:
            raise OrderNotFoundException(f"no order {id}", orderId=id)
        return _STORE[id]
    """,
    "find_by_string": "return next((o for o in _STORE.values() if o.code == code), None)",
    "find_by_status_int": "return [o for o in _STORE.values() if o.status is status][:limit]",
    "cancel": """
        order = self.find(id)
        order.status = Status.CANCELLED
        order.notes["cancel"] = reason
    """,
    "idsByCustomer": """
        named = {c: [o.id for o in _STORE.values() if o.customer and o.customer.name == c] for c in customers}
        return named
    """,
    "page": "return Page(list(_STORE.values())[offset : offset + size], offset, len(_STORE))",
    "quantities": "return [line.quantity for line in self.find(id).lines]",
    "firstLine": "return self.find(id).lines[0]",
    "countsByStatus": "return {s: sum(o.status is s for o in _STORE.values()) for s in Status}",
}
ORDERS_STATE = """
    from . import contract as _c

    _STORE = {
        1: _c.Order(
            1,
            "A-1",
            _c.Customer(name="Ann", email="ann@example.com", tags={"vip"}),
            [_c.OrderLine("sku-1", 2, 9.5), _c.OrderLine("sku-2", 1, None)],
            _c.Status.PAID,
            {"gift": "yes"},
            19.0,
        ),
        2: _c.Order(2, "B-2", _c.Customer(name="Bob"), [], _c.Status.NEW),
    }
"""


@pytest.fixture(scope="module")
def orders_jar() -> Path:
    jar = Path(require_env("JAVAAPI_CONTRACT_JAR"))
    assert jar.is_file(), f"{jar}: run tests/ci/21-java-api.sh"
    return jar


@pytest.fixture(scope="module")
def orders_package(orders_jar: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The imported package ``orders_api``, filled in, in a folder of its own."""
    root = tmp_path_factory.mktemp("imported")
    assert main(["import-java", str(orders_jar), "--out", str(root / "orders_api")]) == 0
    fill(root / "orders_api" / "service.py", ORDERS, ORDERS_STATE)
    return root


def _python_path(root: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])}


@pytest.fixture(scope="module")
def orders_provider(orders_package: Path) -> Iterator[RunningProvider]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYTHONPATH", _python_path(orders_package)["PYTHONPATH"])
        command = [*serve_command(), "--app", "orders_api.service:services"]
        with started(command, orders_package / "provider.log") as provider:
            yield provider


@pytest.mark.java
@pytest.mark.timeout(600)
def test_the_unmodified_java_consumer_calls_the_imported_filled_skeleton(
    orders_provider: RunningProvider, tmp_path: Path
) -> None:
    assert shutil.which("mvn"), "Maven is not installed"
    result = run_maven(JAVA, "orders-consumer", tmp_path, f"-Dprovider.url={orders_provider.url}")
    totals = assert_all_passed(result, tmp_path, {"OrderServiceTest"})
    assert totals.tests == 8, totals
    log = orders_provider.log()
    assert "exported org.dubborecsys.test.orders.OrderService:2.1.0 group=shop" in log, log
    assert orders_provider.process.poll() is None, log


def _members(classes: list[ClassFile]) -> dict[str, tuple[set[tuple[str, str]], set[tuple[str, str]]]]:
    """class -> (methods an interface declares, what travels: a class's instance fields or an enum's
    constants), as (name, descriptor). An enum's own fields stay behind: Hessian sends its name only."""
    out = {}
    for cls in classes:
        methods = {(m.name, m.descriptor) for m in cls.methods if cls.is_interface and not m.access & Access.STATIC}
        travels = Access.ENUM if cls.is_enum else 0
        skipped = 0 if cls.is_enum else Access.STATIC | Access.TRANSIENT
        fields = {
            (f.name, f.descriptor) for f in cls.fields if f.access & travels == travels and not f.access & skipped
        }
        out[cls.name] = (methods, fields)
    return out


@pytest.mark.java
@pytest.mark.timeout(300)
def test_java_api_of_the_imported_services_declares_what_the_jar_declares(
    orders_jar: Path, orders_package: Path, tmp_path: Path
) -> None:
    javac = shutil.which("javac")
    assert javac, "javac is not installed"
    command = [sys.executable, "-m", "dubbo_recsys.provider.cli", "java-api", "--out", str(tmp_path / "api")]
    made = subprocess.run(
        [*command, "--app", "orders_api.service:services"],
        env=_python_path(orders_package),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    sources = sorted(str(p) for p in (tmp_path / "api").rglob("*.java"))
    compiled = subprocess.run(
        [javac, "--release", "8", "-d", str(tmp_path / "classes"), *sources],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert compiled.returncode == 0, compiled.stderr
    original = _members([parse_class(d, n) for n, d in read_class_files(orders_jar)])
    regenerated = _members([parse_class(d, n) for n, d in read_class_files(tmp_path / "classes")])
    service = "org.dubborecsys.test.orders.OrderService"
    inherited = original["org.dubborecsys.test.orders.OrderLookup"][0]
    assert regenerated[service][0] == original[service][0] | inherited  # one interface holds them all now
    for name, (_methods, fields) in original.items():
        if name in regenerated and not name.endswith(("OrderService", "OrderLookup")):
            assert regenerated[name][1] == fields, name
    assert set(original) - set(regenerated) == {"org.dubborecsys.test.orders.OrderLookup"}


CONTRACT_OF = """
import json, sys
from dubbo_recsys.provider import contract_of
def describe(cls):
    c = contract_of(cls)
    classes = {k.name: [(f.name, str(f.type)) for f in k.fields] + list(k.constants) for k in c.classes()}
    methods = [(m.name, m.descriptor, str(m.returns), [str(p.type) for p in m.parameters]) for m in c.methods]
    return {"interface": c.interface, "version": c.version, "methods": methods, "classes": classes}
if sys.argv[1] == "imported":
    from recsys_api.service import DubbogoInferService, RecommendService
else:
    from dubbo_recsys.provider.services import RecommendService, SeedInferService as DubbogoInferService
print(json.dumps([describe(RecommendService), describe(DubbogoInferService)]))
"""


def test_the_sample_apis_import_is_the_contract_our_services_serve(tmp_path: Path) -> None:
    sample = Path(require_env("JAVA_SAMPLE_DIR"))
    jars = sorted((sample / "api" / "target").glob("recsys-api-*.jar"), key=lambda jar: -jar.stat().st_mtime)
    assert jars, f"no recsys-api jar under {sample}/api/target: run tests/ci/20-java-sample.sh"
    assert main(["import-java", str(jars[0]), "--out", str(tmp_path / "recsys_api")]) == 0

    def contracts(which: str) -> object:
        done = subprocess.run(
            [sys.executable, "-c", CONTRACT_OF, which],
            env=_python_path(tmp_path),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    assert contracts("imported") == contracts("builtin")


EVERY_CONTRACT = """
from dubbo_jar import service
from dubbo_recsys.provider import contract_of
made = service.services()
print(len(made), sum(len(contract_of(s).classes()) >= 0 for s in made))
"""


@pytest.mark.timeout(300)
def test_a_large_real_jar_imports_to_services_that_all_have_contracts(tmp_path: Path) -> None:
    """Dubbo's own jar (thousands of classes, hundreds of interfaces; resolved by 20-java-sample.sh)."""
    require_env("JAVA_SAMPLE_DIR")
    jars = sorted((Path.home() / ".m2" / "repository" / "org" / "apache" / "dubbo" / "dubbo").glob("3.*/dubbo-3.*.jar"))
    assert jars, "no Dubbo 3 jar in ~/.m2: run tests/ci/20-java-sample.sh"
    assert main(["import-java", str(jars[-1]), "--out", str(tmp_path / "dubbo_jar")]) == 0
    done = subprocess.run(
        [sys.executable, "-c", EVERY_CONTRACT],
        env=_python_path(tmp_path),
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    made, with_contract = map(int, done.stdout.split())
    assert made > 100 and with_contract == made
