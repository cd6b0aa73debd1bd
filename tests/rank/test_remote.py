"""The TF Serving client against a PredictionService served by TensorFlow in the test (prediction_server)."""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pytest

from dubbo_recsys.interfaces.recommend import RecommendRequest
from dubbo_recsys.pipeline import Candidate, Query, StageKind, build_stage
from dubbo_recsys.rank.base import RankArtifacts, RankConfigError, RankerUnavailable
from dubbo_recsys.rank.remote import TFServingClient, TFServingConfig, TFServingRanker
from dubbo_recsys.rank.tf_ranker import InProcessRanker
from tests.rank.prediction_server import PredictionServer
from tests.support import free_port


def _query(user_id: str, budget: float = 5.0) -> Query:
    return Query.start(RecommendRequest(userId=user_id, count=10), budget)


def _candidates(artifacts: RankArtifacts) -> list[Candidate]:
    ids = [*artifacts.item_ids[:150], "unknown-item"]
    return [Candidate(i, 0.0, ("test",)) for i in ids]


@pytest.mark.asyncio
async def test_remote_scores_equal_in_process_scores(small_artifacts, resources):
    server = await PredictionServer(small_artifacts / "models/rank/din", model_name="rank-din").start()
    try:
        remote = build_stage(
            StageKind.RANK,
            "tfserving",
            resources,
            {"target": server.target, "model_name": "rank-din", "timeout_seconds": 5.0},
        )
        local = build_stage(StageKind.RANK, "din", resources, {})
        assert isinstance(remote, TFServingRanker)
        artifacts = RankArtifacts.of(resources)
        user_id = next(iter(artifacts.user_rows))
        by_remote = await remote.run(_query(user_id), _candidates(artifacts))
        by_local = await local.run(_query(user_id), _candidates(artifacts))
        assert [c.item_id for c in by_remote] == [c.item_id for c in by_local]
        np.testing.assert_allclose([c.score for c in by_remote], [c.score for c in by_local], rtol=1e-5, atol=1e-5)
        assert by_remote[0].channels == ("test",) and "tfserving" in by_remote[0].scores
        sent = server.requests[-1]
        assert sent.model_spec.name == "rank-din" and sent.model_spec.signature_name == "serving_default"
        assert not sent.model_spec.HasField("version")  # version 0 is omitted
        assert len(sent.inputs["itemExamples"].string_val) == 151  # one batch, every candidate
        assert next(iter(sent.inputs["userExamples"].tensor_shape.dim)).size == 1
        await remote.close()
    finally:
        await server.stop()


@pytest.mark.asyncio
async def test_a_wrong_model_name_is_an_unavailable_ranker(small_artifacts, resources):
    server = await PredictionServer(small_artifacts / "models/rank/din").start()
    try:
        client = TFServingClient(
            TFServingConfig(target=server.target, model_name="other", version=3, timeout_seconds=5.0)
        )
        stage = TFServingRanker(client, resources)
        with pytest.raises(RankerUnavailable, match="NOT_FOUND"):
            await stage.run(_query("1"), _candidates(RankArtifacts.of(resources))[:5])
        assert server.requests[-1].model_spec.version.value == 3
        await stage.close()
    finally:
        await server.stop()


@pytest.mark.asyncio
async def test_slow_server_meets_the_deadline_then_the_breaker_opens(small_artifacts, resources):
    server = await PredictionServer(small_artifacts / "models/rank/din", delay=1.0).start()
    try:
        client = TFServingClient(
            TFServingConfig(target=server.target, timeout_seconds=0.05, failure_threshold=2, recovery_seconds=60.0)
        )
        stage = TFServingRanker(client, resources)
        candidates = _candidates(RankArtifacts.of(resources))[:20]
        for _ in range(2):
            started = time.monotonic()
            with pytest.raises(RankerUnavailable, match=r"within 50 ms|DEADLINE_EXCEEDED"):
                await stage.run(_query("1"), list(candidates))
            assert time.monotonic() - started < 0.8  # the server takes 1 s
        calls = len(server.requests)
        started = time.monotonic()
        with pytest.raises(RankerUnavailable, match="circuit open"):
            await stage.run(_query("1"), list(candidates))
        assert time.monotonic() - started < 0.25 and len(server.requests) == calls  # failed fast, no call made
        # the query's own deadline bounds the call even when the configured timeout is longer
        slow = TFServingRanker(TFServingClient(TFServingConfig(target=server.target, timeout_seconds=5.0)), resources)
        started = time.monotonic()
        with pytest.raises(RankerUnavailable):
            await slow.run(_query("1", budget=0.08), list(candidates))
        assert time.monotonic() - started < 0.8
        await stage.close()
        await slow.close()
    finally:
        await server.stop()


@pytest.mark.asyncio
async def test_nothing_listening_is_an_unavailable_ranker(resources):
    client = TFServingClient(TFServingConfig(target=f"127.0.0.1:{free_port()}", timeout_seconds=0.5))
    stage = TFServingRanker(client, resources)
    with pytest.raises(RankerUnavailable):
        await stage.run(_query("1"), [Candidate("1"), Candidate("2")])
    await stage.close()
    await asyncio.sleep(0)


def test_remote_config_is_validated_when_built(resources):
    for params in (
        {},
        {"target": "no-port"},
        {"target": "h:1", "version": -1},
        {"target": "h:1", "timeout_seconds": "x"},
    ):
        with pytest.raises(RankConfigError):
            build_stage(StageKind.RANK, "tfserving", resources, params)
    stage = build_stage(StageKind.RANK, "tfserving", resources, {"tfservingAddrs": ["h:8500"], "modelName": "m"})
    assert isinstance(stage, TFServingRanker)
    assert stage.client.config.target == "h:8500" and stage.client.config.model_name == "m"


def _with_fusion(small_artifacts, resources, root):
    """A copy of the artifacts with a fusion file (weights on DIN, recall's score and popularity)."""
    import json
    import shutil
    from types import SimpleNamespace

    from dubbo_recsys.rank.fusion import FEATURES, FUSION_FILE

    shutil.copytree(small_artifacts, root)
    weights = {"din": 1.0, "log_recall": 0.7, "log_popularity": 0.3}
    (root / FUSION_FILE).write_text(
        json.dumps({"features": list(FEATURES), "weights": [weights.get(f, 0.0) for f in FEATURES]})
    )
    return SimpleNamespace(artifacts=root, features=resources.features, rank_artifacts=RankArtifacts.load(root))


@pytest.mark.asyncio
async def test_remote_scores_through_the_learned_fusion_rank_as_in_process(small_artifacts, resources, tmp_path):
    """``fusion: true``: TF Serving's DIN scores go through the artifacts' fusion, as the ``din`` stage's do."""
    scoped = _with_fusion(small_artifacts, resources, tmp_path / "artifacts")
    artifacts = scoped.rank_artifacts
    server = await PredictionServer(small_artifacts / "models/rank/din").start()
    try:
        remote = build_stage(
            StageKind.RANK, "tfserving", scoped, {"target": server.target, "timeout_seconds": 5.0, "fusion": True}
        )
        plain = build_stage(StageKind.RANK, "tfserving", scoped, {"target": server.target, "timeout_seconds": 5.0})
        local = build_stage(StageKind.RANK, "din", scoped, {})  # fusion on by default
        assert isinstance(remote, TFServingRanker) and isinstance(plain, TFServingRanker)
        assert isinstance(local, InProcessRanker)
        assert local.fusion is not None and remote.fusion is not None and plain.fusion is None
        user_id = next(iter(artifacts.user_rows))
        candidates = [
            Candidate(c.item_id, 1.0 / (1 + i), ("test",), scores={"multi_channel": 1.0 / (60 + i)})
            for i, c in enumerate(_candidates(artifacts))
        ]
        by_remote = await remote.run(_query(user_id), list(candidates))
        by_local = await local.run(_query(user_id), list(candidates))
        by_plain = await plain.run(_query(user_id), list(candidates))
        assert [c.item_id for c in by_remote] == [c.item_id for c in by_local]
        np.testing.assert_allclose([c.score for c in by_remote], [c.score for c in by_local], rtol=1e-4, atol=1e-4)
        assert [c.item_id for c in by_plain] != [c.item_id for c in by_remote]  # the fusion changed the order
        await remote.close()
        await plain.close()
    finally:
        await server.stop()


def test_remote_fusion_needs_a_fitted_fusion(small_artifacts, resources):
    from types import SimpleNamespace

    with pytest.raises(RankConfigError, match="no fitted fusion"):
        build_stage(
            StageKind.RANK,
            "tfserving",
            SimpleNamespace(artifacts=small_artifacts),
            {"target": "127.0.0.1:1", "fusion": True},
        )
