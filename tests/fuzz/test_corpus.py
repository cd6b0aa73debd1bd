"""Every committed fuzz corpus replays without a finding, and its seeds are up to date (no atheris needed)."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from tests.fuzz.run import TARGETS

CORPUS = Path(__file__).parent / "corpus"


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_corpus_replays_without_a_finding(name):
    module = importlib.import_module(f"tests.fuzz.fuzz_{name}")
    files = sorted((CORPUS / name).iterdir())
    assert files
    for file in files:
        module.one_input(file.read_bytes())


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_seeds_are_committed(name):
    module = importlib.import_module(f"tests.fuzz.fuzz_{name}")
    committed = {p.stem: p.read_bytes() for p in (CORPUS / name).iterdir() if not p.name.startswith("found-")}
    assert committed == module.seeds(), f"python tests/fuzz/run.py --write-seeds {name}"
