"""Breakers and versions read off a recommender's public attributes, as the console shows them."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

from dubbo_recsys.pipeline import Downstream
from dubbo_recsys.provider.observability import ProviderState
from dubbo_recsys.provider.observability.sources import artifact_versions, breakers_of, versions_of
from dubbo_recsys.provider.popular import PopularRecommender
from tests.support import require_env


def _artifacts(root: Path, version: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    files = {
        "models/two_tower/meta.json": {"md5": "aa" * 16, "size": 10},
        "models/two_tower/user/saved_model.pb": {"md5": "bb" * 16, "size": 10},
        "models/rank/meta.json": {"md5": "cc" * 16, "size": 10},
        "faiss/items.index": {"md5": "dd" * 16, "size": 10},
        "neighbors/i2i.npz": {"md5": "ee" * 16, "size": 10},
    }
    (root / "manifest.json").write_text(json.dumps({"format": 1, "version": version, "files": files}))
    return root


def test_models_and_indexes_come_from_the_manifest(tmp_path: Path) -> None:
    found = artifact_versions(_artifacts(tmp_path / "ml", "0123456789abcdef0123"))
    assert found == {
        "artifacts": {"ml": "0123456789ab"},
        "models": {"two_tower": "aa" * 6, "rank": "cc" * 6},
        "indexes": {"items": "dd" * 6},
    }


def test_a_missing_or_broken_manifest_is_shown_not_raised(tmp_path: Path) -> None:
    assert artifact_versions(tmp_path / "absent") == {"artifacts": {"absent": "no manifest.json"}}
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "manifest.json").write_text("{not json")
    assert "unreadable" in artifact_versions(tmp_path / "bad")["artifacts"]["bad"]


def test_a_pipeline_like_recommender_gives_its_breakers_and_versions(tmp_path: Path) -> None:
    resources = SimpleNamespace(downstreams={})
    app = SimpleNamespace(resources=resources, options=SimpleNamespace(artifacts=_artifacts(tmp_path / "a", "v1")))
    state = ProviderState(breakers=breakers_of(app), versions=versions_of(app))
    assert state.breaker_states() == []
    resources.downstreams["redis"] = Downstream("redis")  # created when a stage first uses it
    assert state.breaker_states() == [("redis", "closed")]
    assert state.version_table()["artifacts"] == {"a": "v1"}
    app.scene_versions = lambda: {"home": "2026-11-27.1"}
    assert state.version_table()["scenes"] == {"home": "2026-11-27.1"}
    plain = ProviderState(breakers=breakers_of(PopularRecommender()), versions=versions_of(PopularRecommender()))
    assert plain.breaker_states() == [] and plain.version_table() == {}


def test_a_real_artifact_directory_lists_its_two_tower_model_and_faiss_index() -> None:
    root = Path(require_env("ARTIFACTS_ML100K"))
    found = artifact_versions(root)
    assert len(found["artifacts"][root.name]) == 12
    assert "two_tower" in found["models"] and "items" in found["indexes"]
