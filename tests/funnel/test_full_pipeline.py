"""The funnel over dubbo://: ``serve --artifacts $ARTIFACTS_ML100K --redis <our Redis>`` answers
from the full pipeline, with recall provenance, the exposure list filtered and one debug trace
per configured step."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dubbo_recsys.interfaces.recommend import RecommendRequest
from dubbo_recsys.provider.client import DubboClient
from tests.funnel.peers import expected_full_steps, recommend
from tests.java_sample.provider_process import RunningProvider

pytestmark = [pytest.mark.redis, pytest.mark.timeout(300)]

RECALL_CHANNELS = {"u2i", "i2i", "itemcf", "usercf", "swing", "hot", "lookalike", "new_items"}


@pytest.mark.asyncio
async def test_known_user_gets_a_full_answer_with_provenance_and_every_stage_traced(
    funnel: RunningProvider, artifacts: Path
) -> None:
    async with await DubboClient.connect(funnel.host, funnel.port) as client:
        first = await recommend(client, RecommendRequest(userId="196", count=10))
        assert (first.code, first.pipeline, first.degraded) == (200, "full", False), first.message
        seen = [item.itemId for item in first.items[:5]]
        answer = await recommend(client, RecommendRequest(userId="196", count=10, exposureList=seen, debug=True))

    assert (answer.code, answer.pipeline, answer.degraded) == (200, "full", False), answer.message
    assert answer.message.startswith("ok"), answer.message  # "ok; partial: ..." when a channel was late
    ids = [item.itemId for item in answer.items]
    assert len(ids) == 10 and len(set(ids)) == 10
    assert not set(ids) & set(seen), "the exposure list came back"
    for item in answer.items:
        channels = set(item.channel.split("+"))
        assert channels and channels <= RECALL_CHANNELS, item
    assert len({c for item in answer.items for c in item.channel.split("+")}) >= 2, "one channel only"
    scores = [item.score for item in answer.items]
    assert all(s == s for s in scores)  # finite, no NaN

    assert answer.debugInfo is not None
    traces = {stage: json.loads(text) for stage, text in answer.debugInfo.items()}
    assert list(traces) == expected_full_steps(artifacts), answer.debugInfo
    assert all(t["millis"] >= 0 for t in traces.values())
    recalled = traces["multi_channel"]["out"]
    assert recalled > 10 and traces["dssmRank"]["in"] == recalled and traces["dssmRank"]["out"] <= 200
    recall_top = {entry["itemId"] for entry in traces["multi_channel"]["top"]}
    assert not recall_top & set(seen), "recall let the exposure list through"


@pytest.mark.asyncio
async def test_new_user_is_answered_by_the_full_pipeline_from_hot_items(funnel: RunningProvider) -> None:
    async with await DubboClient.connect(funnel.host, funnel.port) as client:
        answer = await recommend(client, RecommendRequest(userId="nobody-at-all", count=5, debug=True))
    assert (answer.code, answer.pipeline, answer.degraded) == (200, "full", False)
    assert len(answer.items) == 5 and all("hot" in item.channel.split("+") for item in answer.items)
