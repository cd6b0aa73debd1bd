"""A buildable Maven module holding the Java API of some service contracts.

``maven_module(contracts, coordinates)`` returns the module's files (relative path ->
text): ``pom.xml`` and one ``src/main/java/<package>/<Type>.java`` per top-level type:
each interface, and every POJO, enum and exception the contracts reach (JDK classes
excepted); a nested class (``pkg.Outer$Inner``) is declared inside its outer class,
which is written as a holder when it is not itself bound. The pom has no dependencies
(an API jar must not drag any in) and pins the plugins it builds with, so
``mvn package`` gives the same jar anywhere (and works offline once they are cached).
No I/O: ``export_command`` writes the files.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

from dubbo_recsys.provider.contract import JavaClass, ServiceContract
from dubbo_recsys.provider.javaapi.errors import JavaApiError
from dubbo_recsys.provider.javaapi.javasource import TypeDecl, class_decl, interface_decl, java_file

__all__ = ["Coordinates", "maven_module"]

# the plugins `mvn package` runs, pinned (the versions the project's own Java builds use)
PLUGINS = {
    "maven-resources-plugin": "3.3.1",
    "maven-compiler-plugin": "3.13.0",
    "maven-surefire-plugin": "3.5.4",
    "maven-jar-plugin": "3.4.2",
    "maven-install-plugin": "3.1.2",
    "maven-deploy-plugin": "3.1.2",
}
_COORDINATE = re.compile(r"[A-Za-z0-9_.\-]+")


@dataclass(frozen=True, slots=True)
class Coordinates:
    """The module's Maven coordinates and the Java release its classes target."""

    group_id: str
    artifact_id: str
    version: str
    java_release: int = 8

    def __post_init__(self) -> None:
        for what, value in (("groupId", self.group_id), ("artifactId", self.artifact_id), ("version", self.version)):
            if not _COORDINATE.fullmatch(value):
                raise JavaApiError(f"{what} {value!r}: letters, digits, '.', '-' and '_' only")
        if not 7 <= self.java_release <= 99:
            raise JavaApiError(f"Java release {self.java_release} is not one javac targets")


def maven_module(contracts: Sequence[ServiceContract], coordinates: Coordinates, origin: str) -> dict[str, str]:
    """The files of the module declaring ``contracts`` (``origin`` says where they came from)."""
    contracts = _distinct(contracts)
    decls: dict[str, TypeDecl] = {c.interface: interface_decl(c) for c in contracts}
    for model in _classes(contracts):
        decls[model.name] = class_decl(model)
    top_level = _nest(decls)
    files = {"pom.xml": _pom(coordinates, contracts, origin)}
    comment = f"Written by dubbo-recsys java-api from {origin}; edit the Python, not this file."
    for name, decl in sorted(top_level.items()):
        package, _, simple = name.rpartition(".")
        if not package:
            raise JavaApiError(f"{name}: a class in the default package cannot be imported from Java")
        path = f"src/main/java/{package.replace('.', '/')}/{simple}.java"
        neighbours = [other for other in top_level if other.rpartition(".")[0] == package]
        files[path] = java_file(package, [decl], comment, neighbours)
    return files


def _distinct(contracts: Sequence[ServiceContract]) -> list[ServiceContract]:
    """One contract per interface (a service exported twice, in two groups, is one interface)."""
    found: dict[str, ServiceContract] = {}
    for contract in contracts:
        other = found.setdefault(contract.interface, contract)
        if [m.signature for m in other.methods] != [m.signature for m in contract.methods]:
            raise JavaApiError(
                f"{contract.interface} is declared twice with different methods "
                f"({other.service.__name__} and {contract.service.__name__}): one Java interface has one set"
            )
    if not found:
        raise JavaApiError("no services: nothing to write")
    return list(found.values())


def _classes(contracts: Sequence[ServiceContract]) -> list[JavaClass]:
    found: dict[str, JavaClass] = {}
    for contract in contracts:
        for model in contract.classes():
            other = found.setdefault(model.name, model)
            if other.python is not model.python:
                raise JavaApiError(
                    f"{model.name} is bound twice ({other.python.__qualname__} and {model.python.__qualname__})"
                )
    return list(found.values())


def _nest(decls: dict[str, TypeDecl]) -> dict[str, TypeDecl]:
    """Top-level declarations, each nested one inside its outer class (a holder if unbound)."""
    top: dict[str, TypeDecl] = {}
    for name in sorted(decls, key=lambda n: n.count("$")):
        outer, dollar, _ = name.rpartition("$")
        if not dollar:
            top[name] = decls[name]
            continue
        parent = decls.get(outer) or _holder(outer, decls, top)
        parent.nested.append(decls[name])
    return top


def _holder(name: str, decls: dict[str, TypeDecl], top: dict[str, TypeDecl]) -> TypeDecl:
    """An outer class that only holds nested ones (its name is part of theirs in Java)."""
    simple = name.rpartition(".")[2].rpartition("$")[2]
    holder = TypeDecl(
        name,
        "",
        lambda namer: f"public final class {simple}",
        lambda namer: [f"private {simple}() {{", "}"],
    )
    decls[name] = holder
    outer, dollar, _ = name.rpartition("$")
    if dollar:
        (decls.get(outer) or _holder(outer, decls, top)).nested.append(holder)
    else:
        top[name] = holder
    return holder


def _pom(coordinates: Coordinates, contracts: Sequence[ServiceContract], origin: str) -> str:
    interfaces = ", ".join(c.interface for c in contracts)
    origin = escape(origin).replace("--", "- -")  # "--" may not appear inside an XML comment
    plugins = "\n".join(
        f"        <plugin>\n          <groupId>org.apache.maven.plugins</groupId>\n"
        f"          <artifactId>{artifact}</artifactId>\n          <version>{version}</version>\n        </plugin>"
        for artifact, version in PLUGINS.items()
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<!--
  The Java API of {escape(interfaces)}, written by `dubbo-recsys java-api`
  from {origin}: the interfaces, POJOs, enums and exceptions a Java consumer compiles
  against. No dependencies. Build with `mvn package`; regenerate instead of editing.
-->
<project xmlns="http://maven.apache.org/POM/4.0.0"
         xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
         xsi:schemaLocation="http://maven.apache.org/POM/4.0.0 https://maven.apache.org/xsd/maven-4.0.0.xsd">
  <modelVersion>4.0.0</modelVersion>
  <groupId>{coordinates.group_id}</groupId>
  <artifactId>{coordinates.artifact_id}</artifactId>
  <version>{coordinates.version}</version>
  <packaging>jar</packaging>
  <description>Java API of {escape(interfaces)}</description>

  <properties>
    <project.build.sourceEncoding>UTF-8</project.build.sourceEncoding>
    <maven.compiler.release>{coordinates.java_release}</maven.compiler.release>
  </properties>

  <build>
    <pluginManagement>
      <plugins>
{plugins}
      </plugins>
    </pluginManagement>
  </build>
</project>
"""
