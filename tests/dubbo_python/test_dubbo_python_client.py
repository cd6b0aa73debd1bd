"""``dubbo-python`` 0.0.4, an independent Python Dubbo client from PyPI, calls
``dubbo-recsys serve`` in direct-host mode.

A second implementation of the consumer side (besides Java's) that owes nothing to
our codec. The calls run in a child process (tests/dubbo_python/driver.py says why
and lists what 0.0.4 cannot do); this test checks what came back.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from tests.java_sample.provider_process import REPO_ROOT, RunningProvider, serve_command, started

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def answers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    log = tmp_path_factory.mktemp("dubbo_python") / "provider.log"
    with started(serve_command(), log) as provider:
        yield drive(provider)


def drive(provider: RunningProvider) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-m", "tests.dubbo_python.driver", provider.address],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"{result.stderr[-4000:]}\nprovider log:\n{provider.log()[-4000:]}"
    return json.loads(result.stdout)


def test_recommend_decodes_with_python_types(answers: dict[str, Any]) -> None:
    response = answers["recommend"]
    assert response["code"] == 200 and type(response["code"]) is int
    assert response["pipeline"] == "popular" and response["degraded"] is True
    assert response["debugInfo"] is None
    items = response["items"]
    assert len(items) == 3
    for item in items:
        assert set(item) == {"itemId", "score", "channel"}
        assert isinstance(item["itemId"], str) and type(item["score"]) is float
    scores = [item["score"] for item in items]
    assert scores == sorted(scores, reverse=True)


def test_exposed_item_is_filtered(answers: dict[str, Any]) -> None:
    exposed = answers["recommend"]["items"][0]["itemId"]
    response = answers["recommend_exposed"]
    assert response["code"] == 200
    assert exposed not in [item["itemId"] for item in response["items"]]
    assert len(response["items"]) == 3


def test_bad_count_is_a_400_answer(answers: dict[str, Any]) -> None:
    response = answers["recommend_bad_count"]
    assert response["code"] == 400
    assert response["items"] == []
    assert "count" in response["message"]


def test_seed_contract_both_spellings(answers: dict[str, Any]) -> None:
    upper, lower = answers["infer_upper"], answers["infer_lower"]
    assert upper["code"] == 200 and upper == lower
    assert upper["data"] and all(isinstance(entry, str) and ":" in entry for entry in upper["data"])
    scores = [float(entry.rsplit(":", 1)[1]) for entry in upper["data"]]
    assert scores == sorted(scores, reverse=True)
    assert answers["infer_missing"]["code"] == 400
    assert "dataId" in answers["infer_missing"]["message"]


def test_echo(answers: dict[str, Any]) -> None:
    assert answers["echo"] == "héllo 世界"


def test_concurrent_answers_reach_their_callers(answers: dict[str, Any]) -> None:
    alone, together = answers["alone"], answers["together"]
    assert len(set(alone.values())) == len(alone), "request ids must differ per user for this check"
    for user, request_ids in together.items():
        assert request_ids == [alone[user]] * 10, user
