"""Ranking quality on the CI-built ML-100K artifacts (ARTIFACTS_ML100K, made by tests/ci/40-artifacts.sh).

Leave-last-out, full ranking against all items minus the user's training
items (``rank.evaluation``); the funnel is the served default scene, its rank
fusion fitted on a validation build without the test users. Measured
(bench/rank/RESULTS.md): funnel NDCG@10 ~0.134 / HR@10 ~0.25 against recall
only 0.119 / 0.228 and popularity 0.045 / 0.086. The standard error of HR@10
is ~0.014 with 943 users: the margin over popularity is far above noise; the
one over recall is small (paired over users: NDCG@10 +0.015, standard error
0.005), so it is asserted as a paired difference that must be positive.
About 30-60 s.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest

from dubbo_recsys.provider.cli import main
from tests.support import require_env


@pytest.mark.slow
def test_funnel_beats_recall_and_popularity_on_ml100k():
    from dubbo_recsys.rank.evaluation import evaluate_rank

    path = require_env("ARTIFACTS_ML100K")
    manifest = json.loads((Path(path) / "manifest.json").read_text())
    assert manifest["metrics"]["rank_din_ndcg@10_all_items"] > 0.05  # the build's own check of the model
    fusion = json.loads((Path(path) / "models/rank/fusion.json").read_text())
    assert "no test user" in fusion["chosen_on"] and fusion["validation"]["users"] >= 900
    report = asyncio.run(evaluate_rank(path))
    assert report.users >= 900
    assert report.params["served_default"] and "ranking(deepfm)" in report.params["scene"]
    assert set(report.params["fusion"]) == set(fusion["features"])  # the served rank stage used the fusion
    assert report.ndcg["funnel"] >= 0.06  # the target
    assert report.ndcg["funnel"] > report.ndcg["recall"]  # the ranker adds to recall's order ...
    assert report.paired["ndcg_diff"] > 0 and report.hr["funnel"] >= report.hr["recall"]
    assert report.ndcg["funnel"] > report.ndcg["funnel_din"] + 0.02  # ... where DIN alone lost to it
    assert report.ndcg["funnel"] > report.ndcg["popularity"] + 0.04
    assert report.hr["funnel"] > report.hr["popularity"] + 0.08
    assert report.ndcg["funnel_fm"] > report.ndcg["popularity"]  # the degraded pipeline still personalises


def test_eval_rank_cli_reports_bad_input(tmp_path, capsys):
    assert main(["eval-rank", "--artifacts", str(tmp_path / "missing")]) == 2
    assert "eval-rank:" in capsys.readouterr().err
    assert main(["eval-rank", "--artifacts", str(tmp_path), "--mmr-lambda", "3"]) == 2
    assert main(["eval-rank", "--artifacts", str(tmp_path), "--keep", "0"]) == 2


@pytest.mark.slow
def test_eval_rank_cli_prints_json(capsys):
    path = require_env("ARTIFACTS_ML100K")
    assert main(["eval-rank", "--artifacts", path, "--users", "30", "--json", "--mmr-lambda", "1"]) == 0
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert re.search(r"^\d\d:\d\d:\d\d eval-rank: 30 users done in \d+\.\d s$", captured.err, re.MULTILINE)
    assert "\r" not in captured.err
    assert report["users"] == 30 and set(report["ndcg@10"]) >= {"popularity", "recall", "funnel", "funnel_din"}
    assert report["params"]["served_default"] is False and report["params"]["after_rank"] == ["MMRReRanker(lambda 1)"]
    assert "ndcg_diff_se" in report["paired"]
    assert any("fusion.json" in note and "no test user" in note for note in report["notes"])
