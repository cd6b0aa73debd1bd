"""One release number for the Python package, the Hessian2 distribution and the Java API module.

CONTRIBUTING.md ("Versions and releases") is the policy; this test is what keeps it: every place
that states the number states the same one, the installed metadata and ``dubbo-recsys --version``
say it, and CHANGELOG.md's newest section is that release.
"""

from __future__ import annotations

import configparser
import datetime as dt
import re
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET
from importlib.metadata import version
from pathlib import Path

from dubbo_recsys.provider.version import METADATA_KEY, package_version

REPO = Path(__file__).resolve().parents[1]
MAVEN = "{http://maven.apache.org/POM/4.0.0}"
SEMVER = re.compile(r"\d+\.\d+\.\d+")
HEADING = re.compile(r"^## \[(?P<version>[^\]]+)\] - (?P<date>.+)$", re.MULTILINE)


def python_version() -> str:
    setup = configparser.ConfigParser()
    setup.read(REPO / "setup.cfg", encoding="utf-8")
    return setup["metadata"]["version"]


def stated_versions() -> dict[str, str]:
    """Where the release number is written down, and what each place says."""
    setup = configparser.ConfigParser()
    setup.read(REPO / "setup.cfg", encoding="utf-8")
    pins = [r.strip() for r in setup["options"]["install_requires"].split("\n") if r.startswith("hessian2-python")]
    hessian2 = tomllib.loads((REPO / "hessian2/pyproject.toml").read_text(encoding="utf-8"))
    found = {
        "setup.cfg [metadata] version": setup["metadata"]["version"],
        "setup.cfg's hessian2-python pin": pins[0].partition("==")[2] if len(pins) == 1 else f"pins: {pins}",
        "hessian2/pyproject.toml [project] version": hessian2["project"]["version"],
    }
    reactor = ET.parse(REPO / "java-client-sample/pom.xml").getroot()
    found["java-client-sample/pom.xml <version>"] = reactor.findtext(f"{MAVEN}version", "")
    modules = [str(m.text) for m in reactor.iter(f"{MAVEN}module")]
    assert "api" in modules, modules  # the Java API module the release number is about
    for module in modules:
        pom = ET.parse(REPO / "java-client-sample" / module / "pom.xml").getroot()
        found[f"java-client-sample/{module}/pom.xml <parent><version>"] = pom.findtext(f"{MAVEN}parent/{MAVEN}version")
        assert pom.find(f"{MAVEN}version") is None, f"{module} must inherit the reactor's version"
    image = re.search(r"image: dubbo-recsys:(\S+)", (REPO / "docker/k8s/deployment.yaml").read_text(encoding="utf-8"))
    found["docker/k8s/deployment.yaml image tag"] = image.group(1) if image else "no image line"
    return found


def test_every_place_states_the_same_release() -> None:
    expected = python_version()
    assert SEMVER.fullmatch(expected), f"setup.cfg's version {expected!r} is not MAJOR.MINOR.PATCH"
    assert {where: v for where, v in stated_versions().items() if v != expected} == {}


def test_the_changelog_opens_with_this_release() -> None:
    headings = HEADING.findall((REPO / "CHANGELOG.md").read_text(encoding="utf-8"))
    assert headings, "CHANGELOG.md has no '## [X.Y.Z] - date' section"
    assert headings[0][0] == python_version()
    assert headings[0][1] == "Unreleased" or dt.date.fromisoformat(headings[0][1])
    for number, date in headings[1:]:  # released sections: dated, newest first
        assert SEMVER.fullmatch(number) and dt.date.fromisoformat(date), (number, date)
    numbers = [tuple(int(n) for n in number.split(".")) for number, _ in headings]
    assert numbers == sorted(numbers, reverse=True) and len(set(numbers)) == len(numbers)


def test_the_installation_says_the_release() -> None:
    expected = python_version()
    installed = {"dubbo-recsys": version("dubbo-recsys"), "hessian2-python": version("hessian2-python")}
    assert installed == {"dubbo-recsys": expected, "hessian2-python": expected}, (
        "the installed metadata is stale: pip install -e ./hessian2 -e ."
    )
    assert package_version() == expected
    done = subprocess.run(
        [sys.executable, "-m", "dubbo_recsys.provider.cli", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.strip() == f"dubbo-recsys {expected}"


def test_the_release_is_a_legal_registry_param() -> None:
    """The provider adds it to each record (tests/provider/test_registration reads it back from Nacos)."""
    from dubbo_recsys.registry import ExportedService, instance_metadata

    service = ExportedService(
        interface="org.dubborecsys.api.RecommendService",
        methods=("recommend",),
        host="10.0.0.5",
        port=20880,
        application="dubbo-recsys",
        params={METADATA_KEY: package_version()},
    )
    assert instance_metadata(service, timestamp_ms=1, pid=2)[METADATA_KEY] == python_version()
