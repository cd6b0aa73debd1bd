"""manifest.json: md5s and sizes match the files, versions identify the inputs."""

from __future__ import annotations

import json
import shutil

import pytest

from dubbo_recsys.offline.build import run_build
from dubbo_recsys.offline.config import NeighborConfig
from dubbo_recsys.offline.errors import ArtifactError, BuildConfigError
from dubbo_recsys.offline.manifest import file_digests, read_manifest, verify_artifacts
from tests.offline.conftest import small_config

REQUIRED = [
    "ids/users.txt",
    "ids/items.txt",
    "interactions/train.npz",
    "interactions/test.npz",
    "features/users.jsonl",
    "features/items.jsonl",
    "neighbors/itemcf.npz",
    "neighbors/usercf.npz",
    "neighbors/swing.npz",
    "hot.json",
]
MODEL_FILES = [
    "embeddings/items.npy",
    "embeddings/users.npy",
    "faiss/items.index",
    "faiss/meta.json",
    "neighbors/i2i_emb.npz",
    "models/two_tower/meta.json",
    "models/two_tower/user_tower/saved_model.pb",
    "models/two_tower/item_tower/saved_model.pb",
]


def test_manifest_lists_every_file_with_matching_md5(any_artifacts):
    manifest = verify_artifacts(any_artifacts)
    assert manifest["files"] == file_digests(any_artifacts)
    for path in REQUIRED:
        assert path in manifest["files"]
    for key in ("format", "name", "version", "built_at", "source", "params", "counts", "files", "software"):
        assert key in manifest
    assert manifest["built_at"].endswith("Z")
    assert manifest["counts"]["test"] <= manifest["counts"]["users"]
    if manifest["params"]["two_tower"]["enabled"]:
        for path in MODEL_FILES:
            assert path in manifest["files"]


def test_ci_builds_include_the_model(ml100k_artifacts, synth_artifacts):
    for root in (ml100k_artifacts, synth_artifacts):
        files = verify_artifacts(root, check_md5=False)["files"]
        assert all(path in files for path in MODEL_FILES)


def test_tampered_file_is_detected(small_build, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(small_build, copy)
    verify_artifacts(copy)
    with (copy / "hot.json").open("a", encoding="utf-8") as handle:
        handle.write(" ")
    with pytest.raises(ArtifactError, match=r"hot\.json"):
        verify_artifacts(copy, check_md5=False)  # the size changed
    (copy / "ids/items.txt").write_bytes((copy / "ids/items.txt").read_bytes().replace(b"i1\n", b"i9\n", 1))
    (copy / "hot.json").write_bytes((small_build / "hot.json").read_bytes())
    with pytest.raises(ArtifactError, match="md5"):
        verify_artifacts(copy)
    (copy / "neighbors/swing.npz").unlink()
    with pytest.raises(ArtifactError, match="missing"):
        verify_artifacts(copy, check_md5=False)


def test_missing_or_foreign_manifest(tmp_path):
    with pytest.raises(ArtifactError, match="no manifest"):
        read_manifest(tmp_path)
    (tmp_path / "manifest.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ArtifactError, match="unreadable"):
        read_manifest(tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps({"format": 99}), encoding="utf-8")
    with pytest.raises(ArtifactError, match="format"):
        read_manifest(tmp_path)


def test_skip_existing_only_for_the_same_version(tmp_path):
    out = tmp_path / "build"
    first = run_build(small_config(out))
    again = run_build(small_config(out), skip_existing=True)
    assert again.skipped and again.manifest == first.manifest
    changed = run_build(small_config(out, neighbors=NeighborConfig(k=7, hot_k=30, last_n=10)), skip_existing=True)
    assert not changed.skipped and changed.manifest["version"] != first.manifest["version"]
    assert read_manifest(out)["version"] == changed.manifest["version"]
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir()), "staging directory left behind"


def test_refuses_to_replace_a_foreign_directory(tmp_path):
    out = tmp_path / "precious"
    out.mkdir()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(BuildConfigError, match="not an artifact directory"):
        run_build(small_config(out))
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert [p.name for p in tmp_path.iterdir()] == ["precious"]
