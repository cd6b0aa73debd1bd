"""An artifact root: each build a new immutable version directory, named by build time and content hash."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from dubbo_recsys.interfaces.artifacts import ArtifactFormatError, is_version_id, list_versions, version_dir, version_id
from dubbo_recsys.offline.build import run_build
from dubbo_recsys.offline.build_command import main
from dubbo_recsys.offline.config import NeighborConfig
from dubbo_recsys.offline.errors import ArtifactError
from dubbo_recsys.offline.manifest import MANIFEST, content_hash, read_manifest, verify_artifacts
from dubbo_recsys.offline.versions import publish_version, staging_dir
from tests.offline.conftest import small_config


def test_a_build_into_a_root_is_a_new_version_named_by_time_and_content(tmp_path: Path) -> None:
    root = tmp_path / "root"
    first = run_build(small_config(root), into_root=True)
    assert first.root.parent == root / "versions" and is_version_id(first.root.name)
    manifest = verify_artifacts(first.root)
    assert first.root.name == version_id(manifest)
    assert manifest["content_hash"] == content_hash(manifest["files"]) and manifest["content_hash"].startswith(
        first.root.name.split("-")[1]
    )
    assert manifest["build"]["engine"] == "embedded" and manifest["build"]["seconds"] > 0
    assert list_versions(root) == [first.root.name]
    assert not [p for p in root.iterdir() if p.name.startswith(".staging")]  # nothing half-built left

    again = run_build(small_config(root), into_root=True, skip_existing=True)
    assert again.skipped and again.root == first.root  # same inputs as the newest version: nothing to do
    other = run_build(
        small_config(root, neighbors=NeighborConfig(k=10, hot_k=30, last_n=10)), into_root=True, skip_existing=True
    )
    assert not other.skipped and other.root != first.root
    assert list_versions(root) == sorted([first.root.name, other.root.name])
    assert list_versions(root)[-1] == max(first.root.name, other.root.name)  # newest = greatest id


def test_listing_ignores_what_is_not_a_whole_version(tmp_path: Path) -> None:
    versions = tmp_path / "versions"
    (versions / "20260101T000000Z-0123456789ab").mkdir(parents=True)  # no manifest: still being copied
    (versions / "not-a-version").mkdir()
    whole = versions / "20260102T000000Z-0123456789ab"
    whole.mkdir()
    (whole / MANIFEST).write_text("{}")
    assert list_versions(tmp_path) == [whole.name]
    assert list_versions(tmp_path / "absent") == []


def test_version_ids_cannot_name_a_path_outside_the_root(tmp_path: Path) -> None:
    for bad in ("../etc", "20260101T000000Z-0123456789ab/..", "", "20260101T000000Z-XYZ"):
        with pytest.raises(ArtifactFormatError, match="not a version id"):
            version_dir(tmp_path, bad)
    with pytest.raises(ArtifactFormatError, match="built_at/content_hash"):
        version_id({"built_at": "yesterday", "content_hash": "00"})


def test_the_same_content_again_keeps_the_directory_being_served(tmp_path: Path, small_build: Path) -> None:
    manifest = read_manifest(small_build)
    target = publish_version(_copy(small_build, staging_dir(tmp_path)), tmp_path, manifest)
    marker = target / "served"
    marker.write_text("a provider reads this directory")
    again = publish_version(_copy(small_build, staging_dir(tmp_path)), tmp_path, manifest)
    assert again == target and marker.is_file()  # untouched, and the copy is gone
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".staging")]


def test_a_file_changed_after_the_build_breaks_the_content_hash(tmp_path: Path, small_build: Path) -> None:
    copy = _copy(small_build, tmp_path / "copy")
    (copy / MANIFEST).write_text((small_build / MANIFEST).read_text())
    document = json.loads((copy / MANIFEST).read_text())
    document["files"]["hot.json"]["md5"] = "0" * 32  # md5 listed for a file that is not there
    (copy / MANIFEST).write_text(json.dumps(document))
    with pytest.raises(ArtifactError, match="content_hash"):
        verify_artifacts(copy)


def test_the_command_builds_into_a_root(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--source", "synthetic", "--users", "60", "--items", "90", "--no-two-tower", "--no-progress"]
    assert main([*argv, "--artifact-root", str(tmp_path)]) == 0
    assert "built: " + str(tmp_path / "versions") in capsys.readouterr().out
    assert main(argv) == 2 and "--out DIR or --artifact-root ROOT" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([*argv, "--out", str(tmp_path / "x"), "--artifact-root", str(tmp_path)])


def _copy(source: Path, target: Path) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    for directory, _, names in os.walk(source):
        for name in names:
            path = Path(directory) / name
            if name == MANIFEST and path.parent == source:
                continue
            destination = target / path.relative_to(source)
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(path.read_bytes())
    return target
