"""Reading the feature files of an artifact directory: streaming, and loud failures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dubbo_recsys.features.artifacts import ArtifactError, ArtifactFeatures
from dubbo_recsys.features.base import FeatureStoreError
from tests.features.fixtures import write_artifact


def test_streams_every_record_in_order(artifact_dir: Path, records: Any) -> None:
    users, items = records
    artifact = ArtifactFeatures.open(artifact_dir)
    assert [u.user_id for u in artifact.users()] == [u["id"] for u in users]
    assert [i.item_id for i in artifact.items()] == [i["id"] for i in items]
    assert artifact.manifest["name"] == "features-fixture"


def test_missing_directory_and_files(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="does not exist"):
        ArtifactFeatures.open(tmp_path / "nope")
    with pytest.raises(ArtifactError, match=r"features/users\.jsonl"):
        ArtifactFeatures.open(tmp_path)


def test_other_format_is_refused(tmp_path: Path) -> None:
    write_artifact(tmp_path, [], [])
    (tmp_path / "manifest.json").write_text(json.dumps({"format": 2}))
    with pytest.raises(ArtifactError, match="format 2"):
        ArtifactFeatures.open(tmp_path)
    (tmp_path / "manifest.json").write_text("{broken")
    with pytest.raises(ArtifactError, match="unreadable manifest"):
        ArtifactFeatures.open(tmp_path)


@pytest.mark.parametrize("bad_line", ['{"id": 1}', "not json", '["a list"]', '{"id": "x", "popularity": "many"}'])
def test_bad_line_names_file_and_line(tmp_path: Path, bad_line: str) -> None:
    write_artifact(tmp_path, [], [{"id": "a"}, {"id": "b"}])
    path = tmp_path / "features" / "items.jsonl"
    path.write_text(path.read_text() + "\n" + bad_line + "\n")  # line 3 blank (skipped), line 4 bad
    stream = ArtifactFeatures.open(tmp_path).items()
    assert next(stream).item_id == "a"
    assert next(stream).item_id == "b"
    with pytest.raises(ArtifactError, match=r"items\.jsonl:4") as err:
        next(stream)
    assert isinstance(err.value, FeatureStoreError)


def test_non_utf8_file_is_an_artifact_error(tmp_path: Path) -> None:
    write_artifact(tmp_path, [], [])
    (tmp_path / "features" / "users.jsonl").write_bytes(b'{"id": "\xff"}\n')
    with pytest.raises(ArtifactError, match="UTF-8"):
        list(ArtifactFeatures.open(tmp_path).users())


def test_lone_surrogate_is_a_clear_error_in_both_paths(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import argparse

    from dubbo_recsys.features import load
    from dubbo_recsys.features.embedded import EmbeddedFeatureStore

    write_artifact(tmp_path, [], [])
    (tmp_path / "features" / "items.jsonl").write_text('{"id": "ok"}\n{"id": "bad", "author": "\\ud800"}\n')
    with pytest.raises(FeatureStoreError, match="cannot encode 'bad'"):
        EmbeddedFeatureStore.from_artifacts(tmp_path)
    args = argparse.Namespace(
        artifacts=str(tmp_path), redis="redis://127.0.0.1:1/0", prefix="p", ttl=5, batch_size=10, quiet=True
    )
    assert load.run(args) == 1  # fails on the value before it ever reaches Redis
    assert "cannot encode 'bad'" in capsys.readouterr().err
