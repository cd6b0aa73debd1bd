"""An artifact copy without ``faiss/``: the provider starts and answers from the full pipeline.

It runs with ``--workers 2``, which also checks that every forked worker serves the funnel (they
once fell back to the popularity list: the pipeline options were not handed to the workers).

Not marked degraded, on purpose: recall builds the u2i and look-alike channels over the item
embeddings with an exact numpy search when the index file is absent (``recall.vectors.VectorSearch``),
so no channel is lost, and for ML-100K, whose index is an exact ``IndexFlatIP``, the candidates
are the same ones. What the test checks is that this holds end to end: u2i still recalls.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from dubbo_recsys.interfaces.recommend import RecommendRequest
from dubbo_recsys.provider.client import DubboClient
from tests.funnel.conftest import BUDGET_MS, LIGHT_BUDGET_MS
from tests.funnel.peers import funnel_command, recommend
from tests.java_sample.provider_process import RunningProvider, started

pytestmark = [pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def without_faiss(artifacts: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningProvider]:
    copy = tmp_path_factory.mktemp("no-faiss") / "artifacts"
    shutil.copytree(artifacts, copy, ignore=lambda directory, names: ["faiss"] if Path(directory) == artifacts else [])
    assert not (copy / "faiss").exists() and (copy / "embeddings/items.npy").is_file()
    command = funnel_command(copy, "--budget-ms", str(BUDGET_MS), "--light-budget-ms", str(LIGHT_BUDGET_MS), workers=2)
    with started(command, tmp_path_factory.mktemp("no-faiss-serve") / "provider.log", ready_timeout=180) as provider:
        yield provider


@pytest.mark.asyncio
async def test_without_the_faiss_index_u2i_still_recalls_and_the_answer_is_full(without_faiss: RunningProvider) -> None:
    answers = []
    for _ in range(4):  # SO_REUSEPORT spreads connections over the workers
        async with await DubboClient.connect(without_faiss.host, without_faiss.port) as client:
            answers.append(await recommend(client, RecommendRequest(userId="196", count=10, debug=True)))
    assert [a.pipeline for a in answers] == ["full"] * 4, [a.message for a in answers]
    answer = answers[0]
    assert (answer.code, answer.pipeline, answer.degraded) == (200, "full", False), answer.message
    assert answer.message.startswith("ok") and "u2i" not in answer.message, answer.message
    assert len(answer.items) == 10
    assert answer.debugInfo is not None
    recalled = json.loads(answer.debugInfo["multi_channel"])
    assert recalled["out"] > 10
    assert any("u2i" in item.channel.split("+") for item in answer.items), [i.channel for i in answer.items]
    assert without_faiss.process.poll() is None, without_faiss.log()
