"""``provider.app.PipelineApp``: the recommender serve hands to every protocol."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dubbo_recsys.interfaces.recommend import RecommendRequest
from dubbo_recsys.provider.app import AppConfigError, PipelineApp, PipelineOptions
from tests.recall.fixtures import write_artifacts
from tests.support import require_env


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_artifacts(tmp_path_factory.mktemp("app-artifacts"))


def test_options_reject_what_cannot_run(tmp_path: Path, tiny: Path) -> None:
    with pytest.raises(AppConfigError, match="not an artifact directory"):
        PipelineOptions(artifacts=tmp_path)
    with pytest.raises(AppConfigError, match="--redis needs --artifacts"):
        PipelineOptions(redis_url="redis://127.0.0.1:1/0")
    with pytest.raises(AppConfigError, match="budgets"):
        PipelineOptions(artifacts=tiny, budget_ms=0)


@pytest.mark.asyncio
async def test_without_artifacts_the_popularity_list_answers() -> None:
    app = PipelineApp(PipelineOptions())
    await app.open()
    resp = await app.recommend(RecommendRequest(userId="u", count=3))
    assert resp.code == 200 and resp.pipeline == "popular" and len(resp.items) == 3
    await app.close()


@pytest.mark.asyncio
async def test_artifacts_run_the_funnel_and_scenes_come_from_files(tiny: Path, tmp_path: Path) -> None:
    scene = {
        "dataId": "tiny",
        "content": {
            "version": "1",
            "pipeline_conf": {"pipeline": ["('recall','multi_channel')"], "recallNum": 4, "preRankingNum": 4},
        },
    }
    (tmp_path / "tiny.json").write_text(json.dumps(scene))
    app = PipelineApp(PipelineOptions(artifacts=tiny, scenes=str(tmp_path), budget_ms=2000))
    await app.open()
    try:
        default = await app.recommend(RecommendRequest(userId="u0", count=2, debug=True))
        assert default.code == 200 and default.pipeline == "full" and len(default.items) == 2
        assert default.debugInfo is not None and "multi_channel" in default.debugInfo
        scened = await app.recommend(RecommendRequest(userId="u0", scene="tiny", count=2, debug=True))
        assert scened.pipeline == "full" and set(scened.debugInfo or {}) == {"multi_channel"}
        unknown = await app.recommend(RecommendRequest(userId="u0", scene="other"))
        assert unknown.code == 404
        assert app.scene_versions() == {"default": "built-in", "tiny": "1"}
    finally:
        await app.close()


@pytest.mark.asyncio
async def test_ml100k_funnel_answers_a_known_and_a_new_user() -> None:
    root = Path(require_env("ARTIFACTS_ML100K"))
    app = PipelineApp(PipelineOptions(artifacts=root, budget_ms=5000))
    await app.open()
    try:
        known = await app.recommend(RecommendRequest(userId="196", count=10, debug=True))
        assert known.code == 200 and known.pipeline == "full" and len(known.items) == 10
        assert len({i.itemId for i in known.items}) == 10
        new = await app.recommend(RecommendRequest(userId="no-such-user", count=5))
        assert new.code == 200 and len(new.items) == 5 and all("hot" in i.channel for i in new.items)
    finally:
        await app.close()
