"""Ranking quality on the CI-built ML-100K artifacts (ARTIFACTS_ML100K, made by tests/ci/40-artifacts.sh).

Leave-last-out, full ranking against all items minus the user's training
items (``rank.evaluation``). Measured (bench/rank/RESULTS.md): funnel NDCG@10
~0.090 / HR@10 ~0.17 against popularity 0.045 / 0.086; with 943 users the
standard error of HR@10 is ~0.012, so the margins asserted are far above noise.
About 40-60 s.
"""
from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from provider.cli import main
from tests.support import require_env


@pytest.mark.slow
def test_funnel_beats_popularity_on_ml100k():
    from rank.evaluation import evaluate_rank

    path = require_env("ARTIFACTS_ML100K")
    manifest = json.loads((Path(path) / "manifest.json").read_text())
    assert manifest["metrics"]["rank_din_ndcg@10_all_items"] > 0.05  # the build's own check of the model
    report = asyncio.run(evaluate_rank(path))
    assert report.users >= 900
    assert report.ndcg["funnel"] >= 0.06  # the target
    assert report.ndcg["funnel"] > report.ndcg["popularity"] + 0.015
    assert report.hr["funnel"] > report.hr["popularity"] + 0.03
    assert report.ndcg["funnel_fm"] > report.ndcg["popularity"]  # the degraded pipeline still personalises


def test_eval_rank_cli_reports_bad_input(tmp_path, capsys):
    assert main(["eval-rank", "--artifacts", str(tmp_path / "missing")]) == 2
    assert "eval-rank:" in capsys.readouterr().err
    assert main(["eval-rank", "--artifacts", str(tmp_path), "--mmr-lambda", "3"]) == 2


@pytest.mark.slow
def test_eval_rank_cli_prints_json(capsys):
    path = require_env("ARTIFACTS_ML100K")
    assert main(["eval-rank", "--artifacts", path, "--users", "30", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["users"] == 30 and set(report["ndcg@10"]) >= {"popularity", "recall", "funnel"}
