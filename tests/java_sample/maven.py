"""Running java-client-sample's Maven modules offline and reading what surefire reported.

Each run writes its surefire reports to a fresh directory and the assertions read those
reports, so a test class that stopped running cannot pass unnoticed.
"""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SurefireTotals:
    classes: dict[str, int]
    tests: int
    failures: int
    errors: int
    skipped: int


def read_reports(directory: Path) -> SurefireTotals:
    classes: dict[str, int] = {}
    totals = [0, 0, 0, 0]
    for report in sorted(directory.glob("TEST-*.xml")):
        suite = ET.parse(report).getroot()
        counts = [int(suite.get(key, "0")) for key in ("tests", "failures", "errors", "skipped")]
        classes[suite.get("name", "").rsplit(".", 1)[-1]] = counts[0]
        totals = [a + b for a, b in zip(totals, counts, strict=True)]
    return SurefireTotals(classes, *totals)


def run_maven(sample_dir: Path, module: str, reports: Path, *properties: str) -> subprocess.CompletedProcess[str]:
    """``mvn -o verify`` of one module of java-client-sample's build (``sample_dir``)."""
    command = [
        "mvn",
        "-B",
        "-o",
        "-q",
        "verify",
        "-pl",
        f":{module}",
        "-am",
        f"-Djava.sample.reports={reports}",
        *properties,
    ]
    return subprocess.run(command, cwd=sample_dir, capture_output=True, text=True, timeout=420, check=False)


def assert_all_passed(result: subprocess.CompletedProcess[str], reports: Path, expected: set[str]) -> SurefireTotals:
    totals = read_reports(reports)
    context = f"mvn exit {result.returncode}\n{result.stdout[-6000:]}\n{result.stderr[-3000:]}"
    assert result.returncode == 0, context
    assert expected <= set(totals.classes), f"test classes that did not run: {expected - set(totals.classes)}"
    assert all(count > 0 for count in totals.classes.values()), totals
    assert (totals.failures, totals.errors, totals.skipped) == (0, 0, 0), totals
    return totals
