"""``dubbo-recsys import-java API.jar --out PACKAGE``: Python bindings and a service skeleton for a Java API.

Reads the class files of an interface jar (or a classes directory, or ``.class``
files) without a JVM and writes a Python package: ``contract.py`` binds every POJO,
enum and exception the interfaces reach, ``service.py`` has one ``Service`` class
per interface whose methods answer a ``RuntimeException`` until filled in, and a
``services()`` factory: ``dubbo-recsys serve --app PACKAGE.service:services``.

The services are the first input's public interfaces (or those named with
``--interface``) but those another one extends (served as its part); further
inputs (dependency jars) provide classes only. Existing files are never
overwritten without ``--force`` (a filled-in skeleton is work).
A malformed, truncated, oversized or zip-bomb input is an error naming the file;
exit status 1 for an unreadable input, 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "inputs", nargs="+", metavar="JAR_OR_DIR", help="the API jar (or classes directory); then dependency jars"
    )
    parser.add_argument(
        "--out", required=True, metavar="DIR", help="the Python package to write (its name is the folder's name)"
    )
    parser.add_argument(
        "--interface",
        action="append",
        default=[],
        metavar="JAVA_NAME",
        help="serve only this interface (repeatable; default: every public interface of the first input)",
    )
    parser.add_argument("--force", action="store_true", help="overwrite files the package already has")


def run(args: argparse.Namespace) -> int:
    from dubbo_recsys.provider.javaapi.archive import read_class_files
    from dubbo_recsys.provider.javaapi.classfile import parse_class
    from dubbo_recsys.provider.javaapi.errors import JavaApiError
    from dubbo_recsys.provider.javaapi.imported import is_service, read_api
    from dubbo_recsys.provider.javaapi.pybindings import python_sources

    out = Path(args.out)
    package = out.resolve().name
    if not package.isidentifier():
        print(f"dubbo-recsys import-java: --out {out}: {package!r} is no Python package name", file=sys.stderr)
        return 2
    try:
        inputs = [
            [parse_class(data, f"{path}!{name}") for name, data in read_class_files(path)] for path in args.inputs
        ]
        first = [c for c in inputs[0] if is_service(c)]
        extended = {name for c in first for name in c.interfaces}  # served as part of the one extending it
        services = args.interface or [c.name for c in first if c.name not in extended]
        api = read_api((c for classes in inputs for c in classes), services)
        sources = python_sources(api, package=package, origin=Path(args.inputs[0]).name)
    except JavaApiError as exc:
        print(f"dubbo-recsys import-java: {exc}", file=sys.stderr)
        return 1
    existing = [name for name in sources.files if (out / name).exists()]
    if existing and not args.force:
        print(
            f"dubbo-recsys import-java: {out} already has {', '.join(existing)} (--force overwrites)", file=sys.stderr
        )
        return 2
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name, text in sources.files.items():
            (out / name).write_text(text, encoding="utf-8")
    except OSError as exc:
        print(f"dubbo-recsys import-java: cannot write {out}: {exc}", file=sys.stderr)
        return 1
    for warning in sources.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    names = [s.simple_name for s in api.services]
    shown = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
    print(f"wrote {out}: contract.py ({len(api.classes)} classes), service.py ({shown})")
    print(f"fill in {out / 'service.py'}, then: dubbo-recsys serve --app {package}.service:services")
    return 0
