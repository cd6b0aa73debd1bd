"""The import rules of the architecture, checked on the source (CONTRIBUTING.md, "Layers").

Dependencies point down; nothing below the transport does I/O::

    provider            the served application: transport, dispatch, shims, services, CLI
    offline             the build (never imported by what serves)
    rank                concrete ranking stages (may use recall's evidence)
    recall              concrete recall channels and the merger
    pipeline            stage protocols, the runner, fallbacks; reads scene configs from registry
    realtime            the event consumer (Kafka, Redis Streams) writing to the feature store
    registry features interfaces   each on its own: Nacos records and configs, feature stores, contracts
    hessian2            the codec: imports nothing of ours

Every module of ours is read with ``ast`` (nothing is imported), and every import counts:
module level, inside functions (a lazy import still runs), under ``TYPE_CHECKING``, and the
string forms ``importlib.import_module("...")`` / ``__import__("...")`` with a literal name.
Three rules: which of our packages each package may import (``MAY_IMPORT``), which modules
are sans-I/O and may not import socket, asyncio or a network client (``SANS_IO``), and which
packages' modules must not import each other in a circle (``ACYCLIC``). A rule that names a
module which no longer exists fails too, so a rename cannot switch a rule off silently.
"""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import pytest

from tests.layout import FOLDERS

REPO = Path(__file__).resolve().parents[1]

# package -> the other packages of ours it may import (anything not listed is refused)
MAY_IMPORT: Mapping[str, frozenset[str]] = {
    "hessian2": frozenset(),
    "interfaces": frozenset({"hessian2"}),
    "features": frozenset(),
    "registry": frozenset(),  # knows nothing of requests, stages or the provider
    "pipeline": frozenset({"interfaces", "features", "registry"}),
    "recall": frozenset({"interfaces", "features", "pipeline"}),
    "rank": frozenset({"interfaces", "features", "pipeline", "recall"}),
    "offline": frozenset({"interfaces", "features", "pipeline", "recall", "rank"}),
    "realtime": frozenset({"interfaces", "features"}),  # the event consumer: applies events to the store
    "provider": frozenset({"hessian2", "interfaces", "features", "registry", "pipeline", "recall", "rank", "realtime"}),
}

# Modules (and everything under them) that do no I/O: bytes and values in, bytes and values out.
SANS_IO = (
    "hessian2",
    "dubbo_recsys.interfaces",
    "dubbo_recsys.provider.protocol",
    "dubbo_recsys.provider.body",
    "dubbo_recsys.provider.exchange",
    "dubbo_recsys.provider.dispatch",
    "dubbo_recsys.provider.descriptor",
    "dubbo_recsys.provider.javatype",
    "dubbo_recsys.provider.service",
    "dubbo_recsys.provider.contract",
    "dubbo_recsys.provider.convert",
    "dubbo_recsys.registry.url",
    "dubbo_recsys.registry.record",
    "dubbo_recsys.registry.naming",
    "dubbo_recsys.registry.scene_config",
    "dubbo_recsys.features.base",
    "dubbo_recsys.features.codec",
    "dubbo_recsys.features.bloom",
    "dubbo_recsys.provider.javaapi.classfile",
    "dubbo_recsys.provider.javaapi.signature",
    "dubbo_recsys.provider.javaapi.imported",
    "dubbo_recsys.provider.javaapi.pybindings",
    "dubbo_recsys.provider.javaapi.javasource",
    "dubbo_recsys.provider.javaapi.mavenmodule",
)
# grpc_tools writes the gRPC stubs beside the messages; they belong to the gRPC shim, not to the contracts
SANS_IO_EXCEPT = (
    "dubbo_recsys.interfaces.proto.recommend_v1_pb2_grpc",
    "dubbo_recsys.interfaces.proto.recommender_infer_pb2_grpc",
)
IO_MODULES = (
    "socket",
    "selectors",
    "asyncio",
    "ssl",
    "subprocess",
    "http.client",
    "http.server",
    "urllib.request",
    "redis",
    "grpc",
    "uvicorn",
    "fastapi",
    "starlette",
    "requests",
    "httpx",
    "aiohttp",
    "v2",  # nacos-sdk-python
    "confluent_kafka",
    "aiokafka",
    "kafka",
)

# packages whose modules must not import each other in a circle (package facades, the __init__ modules, aside)
ACYCLIC = ("hessian2", *FOLDERS)
# packages with a known circle being broken (xfail, strict: the test fails once the circle is gone); offline's
# was broken by issue 15 (context < steps < recipe < build, the engines chosen in build.make_engine)
ACYCLIC_PENDING: dict[str, str] = {}


@dataclasses.dataclass(frozen=True)
class Import:
    importer: str  # dotted module name
    imported: str  # dotted name as written (absolute), possibly a name inside a module
    line: int
    type_only: bool = False  # under ``if TYPE_CHECKING:``: never runs


def _type_only_nodes(tree: ast.AST) -> set[int]:
    """ids of the nodes inside ``if TYPE_CHECKING:`` blocks (their ``else`` branches run)."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
            inside.update(id(child) for statement in node.body for child in ast.walk(statement))
    return inside


def module_name(path: Path, root: Path = REPO) -> str:
    """``provider/body.py`` -> ``dubbo_recsys.provider.body``; ``hessian2/_text.py`` -> ``hessian2._text``."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts if parts[0] == "hessian2" else ["dubbo_recsys", *parts])


def imports_of(source: str, module: str, is_package: bool) -> Iterator[Import]:
    """Every import in one module's source, relative ones made absolute."""
    package = module if is_package else module.rpartition(".")[0]
    tree = ast.parse(source)
    type_only = _type_only_nodes(tree)
    for node in ast.walk(tree):
        hint = id(node) in type_only
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, alias.name, node.lineno, hint)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                origin = ".".join([*base, node.module] if node.module else base)
            else:
                origin = node.module or ""
            yield Import(module, origin, node.lineno, hint)
            for alias in node.names:
                yield Import(module, f"{origin}.{alias.name}", node.lineno, hint)
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = ast.unparse(node.func)
            if func in ("importlib.import_module", "import_module", "__import__") and isinstance(
                node.args[0].value, str
            ):
                yield Import(module, node.args[0].value, node.lineno)


def source_modules(root: Path = REPO) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for folder in ("hessian2", *FOLDERS):
        for path in sorted((root / folder).rglob("*.py")):
            if "build" not in path.relative_to(root).parts:
                found[module_name(path, root)] = path
    return found


def all_imports(modules: Mapping[str, Path]) -> list[Import]:
    return [
        imp
        for name, path in modules.items()
        for imp in imports_of(path.read_text(encoding="utf-8"), name, path.name == "__init__.py")
    ]


def package_of(dotted: str) -> str | None:
    """Our top-level package a dotted name belongs to (``None`` for anything else)."""
    parts = dotted.split(".")
    if parts[0] == "hessian2":
        return "hessian2"
    if parts[0] == "dubbo_recsys" and len(parts) > 1 and parts[1] in FOLDERS:
        return parts[1]
    return None


def under(dotted: str, prefix: str) -> bool:
    return dotted == prefix or dotted.startswith(prefix + ".")


def layer_violations(imports: Iterable[Import]) -> list[str]:
    out = []
    for imp in imports:
        mine, theirs = package_of(imp.importer), package_of(imp.imported)
        if mine is not None and theirs is not None and theirs != mine and theirs not in MAY_IMPORT[mine]:
            out.append(f"{imp.importer}:{imp.line} imports {imp.imported} ({mine} may not import {theirs})")
    return out


def io_violations(imports: Iterable[Import]) -> list[str]:
    out = []
    for imp in imports:
        sans_io = any(under(imp.importer, m) for m in SANS_IO) and imp.importer not in SANS_IO_EXCEPT
        if sans_io and any(under(imp.imported, io) for io in IO_MODULES):
            out.append(f"{imp.importer}:{imp.line} imports {imp.imported}, but it is a sans-I/O module")
    return out


def plain_modules(modules: Mapping[str, Path], package: str) -> set[str]:
    """One package's modules, less the package facades (``__init__``), which import their own modules."""
    prefix = package if package == "hessian2" else f"dubbo_recsys.{package}"
    return {name for name, path in modules.items() if under(name, prefix) and path.name != "__init__.py"}


def cycles(imports: Iterable[Import], nodes: set[str]) -> list[list[str]]:
    """Circles among ``nodes`` (strongly connected components of more than one module).

    Imports under ``if TYPE_CHECKING:`` do not count here: they never run, and an annotation
    naming the type of a caller (a decoder handler naming ``Decoder``) is no dependency circle.
    """
    graph: dict[str, set[str]] = {m: set() for m in nodes}
    for imp in imports:
        if imp.importer in nodes and not imp.type_only:
            target = next((n for n in (imp.imported, imp.imported.rpartition(".")[0]) if n in nodes), None)
            if target is not None and target != imp.importer:
                graph[imp.importer].add(target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's algorithm
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


@pytest.fixture(scope="module")
def tree() -> tuple[dict[str, Path], list[Import]]:
    modules = source_modules()
    return modules, all_imports(modules)


def test_each_package_imports_only_the_layers_below_it(tree) -> None:
    _, imports = tree
    assert layer_violations(imports) == []


def test_sans_io_modules_import_no_socket_asyncio_or_network_client(tree) -> None:
    _, imports = tree
    assert io_violations(imports) == []


@pytest.mark.parametrize(
    "package",
    [
        pytest.param(p, marks=pytest.mark.xfail(strict=True, reason=ACYCLIC_PENDING[p])) if p in ACYCLIC_PENDING else p
        for p in ACYCLIC
    ],
)
def test_no_import_circle_inside_the_package(tree, package: str) -> None:
    modules, imports = tree
    assert cycles(imports, plain_modules(modules, package)) == []


def test_every_rule_names_modules_that_exist(tree) -> None:
    modules, _ = tree
    assert set(MAY_IMPORT) == {"hessian2", *FOLDERS}
    named = [*SANS_IO, *SANS_IO_EXCEPT]
    assert [m for m in named if not any(under(found, m) for found in modules)] == []


def test_the_checks_see_lazy_relative_and_string_imports() -> None:
    """The checker itself: each kind of import it promises to see is caught when it breaks a rule."""
    source = (
        "import asyncio\n"
        "from . import _text\n"
        "def later():\n"
        "    from dubbo_recsys.provider import serve\n"
        "    return __import__('dubbo_recsys.offline.build', fromlist=['x'])\n"
        "if TYPE_CHECKING:\n"
        "    from dubbo_recsys.recall import base\n"
    )
    imports = list(imports_of(source, "hessian2._objects", is_package=False))
    assert Import("hessian2._objects", "hessian2._text", 2) in imports
    assert sorted(layer_violations(imports)) == [
        "hessian2._objects:4 imports dubbo_recsys.provider (hessian2 may not import provider)",
        "hessian2._objects:4 imports dubbo_recsys.provider.serve (hessian2 may not import provider)",
        "hessian2._objects:5 imports dubbo_recsys.offline.build (hessian2 may not import offline)",
        "hessian2._objects:7 imports dubbo_recsys.recall (hessian2 may not import recall)",  # type-only still counts
        "hessian2._objects:7 imports dubbo_recsys.recall.base (hessian2 may not import recall)",
    ]
    assert [imp.line for imp in imports if imp.type_only] == [7, 7]
    assert io_violations(imports) == ["hessian2._objects:1 imports asyncio, but it is a sans-I/O module"]
    modules = {f"dubbo_recsys.offline{m}": Path(f"offline{p}") for m, p in (("", "/__init__.py"), (".a", "/a.py"))}
    modules["dubbo_recsys.offline.b"] = Path("offline/b.py")
    nodes = plain_modules(modules, "offline")
    assert nodes == {"dubbo_recsys.offline.a", "dubbo_recsys.offline.b"}
    circle = [
        Import("dubbo_recsys.offline.a", "dubbo_recsys.offline.b.f", 1),  # a name inside b
        Import("dubbo_recsys.offline.b", "dubbo_recsys.offline.a", 1),
        Import("dubbo_recsys.offline.b", "dubbo_recsys.offline", 1),  # the facade does not count
    ]
    assert cycles(circle, nodes) == [["dubbo_recsys.offline.a", "dubbo_recsys.offline.b"]]
    assert cycles(circle[1:], nodes) == []
    hint = Import("dubbo_recsys.offline.b", "dubbo_recsys.offline.a", 1, type_only=True)  # annotations only
    assert cycles([circle[0], hint], nodes) == []
