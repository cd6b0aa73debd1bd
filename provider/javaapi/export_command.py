"""``dubbo-recsys java-api --out DIR [--app module:attr]``: the Java API of Python services, as a Maven module.

Writes a buildable Maven module (``pom.xml`` and ``src/main/java``) declaring what a
Java consumer compiles against: each service's interface, and the POJOs, enums and
exceptions it reaches, with Javadoc from the docstrings. The types come from the
services' contracts (``provider.contract``), the same model the provider serves, so
the Java API and the provider cannot disagree.

``--app`` names the services as ``serve --app`` does (a ``Service`` class or object,
a list of them, or a factory; only their classes are used, so a class is not
instantiated); without it, the built-in services (``RecommendService``,
``DubbogoInferService``). Coordinates default to the first interface's package as
groupId, ``<interface-name>-api`` as artifactId, and the release version of the
project the services come from (its installed distribution; dubbo-recsys' own for
the built-in services). The folder must be empty or absent unless ``--force``.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import re
import sys
from pathlib import Path
from typing import Any


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, metavar="DIR", help="the Maven module's folder (created)")
    parser.add_argument(
        "--app", metavar="MODULE:ATTR", help="the services, as for serve --app (default: the built-in ones)"
    )
    parser.add_argument("--group-id", metavar="ID", help="Maven groupId (default: the first interface's package)")
    parser.add_argument("--artifact-id", metavar="ID", help="Maven artifactId (default: <interface-name>-api)")
    parser.add_argument(
        "--version", dest="api_version", metavar="V", help="Maven version (default: the project's release version)"
    )
    parser.add_argument(
        "--java-release", type=int, default=8, metavar="N", help="the Java release to compile for (default 8)"
    )
    parser.add_argument("--force", action="store_true", help="write into a folder that is not empty")


def run(args: argparse.Namespace) -> int:
    from dubbo_recsys.provider.contract import contract_of
    from dubbo_recsys.provider.errors import ProviderError
    from dubbo_recsys.provider.javaapi.mavenmodule import Coordinates, maven_module

    out = Path(args.out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not args.force:
        print(
            f"dubbo-recsys java-api: {out} exists and is not an empty folder (--force writes into it)", file=sys.stderr
        )
        return 2
    try:
        classes, distribution = _service_classes(args.app)
        contracts = [contract_of(cls) for cls in classes]
        first = contracts[0].interface
        coordinates = Coordinates(
            group_id=args.group_id or first.rpartition(".")[0],
            artifact_id=args.artifact_id or _kebab(first.rpartition(".")[2]) + "-api",
            version=args.api_version or _release_version(distribution),
            java_release=args.java_release,
        )
        files = maven_module(
            contracts, coordinates, f"the services of {args.app}" if args.app else "the built-in services"
        )
    except ProviderError as exc:  # ServiceSpecError, AppLoadError, JavaApiError: each says what and where
        print(f"dubbo-recsys java-api: {exc}", file=sys.stderr)
        return 2
    try:
        for relative, text in files.items():
            path = out / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    except OSError as exc:
        print(f"dubbo-recsys java-api: cannot write {out}: {exc}", file=sys.stderr)
        return 1
    sources = sum(1 for name in files if name.endswith(".java"))
    coords = f"{coordinates.group_id}:{coordinates.artifact_id}:{coordinates.version}"
    print(f"wrote {out}: {coords}, {sources} Java files ({', '.join(c.interface for c in contracts)})")
    print(f"build it: mvn -f {out / 'pom.xml'} package")
    return 0


def _service_classes(app: str | None) -> tuple[list[type], str]:
    """The service classes ``--app`` names (without instantiating a class), and the
    distribution whose version the API takes."""
    from dubbo_recsys.provider.importer import AppLoadError, import_from_string, services_of
    from dubbo_recsys.provider.service import Service

    if app is None:
        from dubbo_recsys.provider.services import RecommendService, SeedInferService

        return [RecommendService, SeedInferService], "dubbo-recsys"
    found: Any = import_from_string(app)
    items = list(found) if isinstance(found, (list, tuple)) else [found]
    if all(isinstance(i, type) and issubclass(i, Service) for i in items) and items:
        classes = items
    elif all(isinstance(i, (type, Service)) for i in items) and items:
        classes = [i if isinstance(i, type) else type(i) for i in items]
        if not all(issubclass(c, Service) for c in classes):
            raise AppLoadError(f"--app {app}: expected Service classes or objects")
    else:
        classes = [type(service) for service in services_of(found, app)]  # a factory: called, as serve does
    top = app.partition(":")[0].split(".")[0]
    owners = importlib.metadata.packages_distributions().get(top, [])
    return list(dict.fromkeys(classes)), owners[0] if owners else "dubbo-recsys"


def _release_version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return importlib.metadata.version("dubbo-recsys")


def _kebab(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", name.replace("$", "-")).lower()
