"""``dubbo-recsys publish``, ``rollback`` and ``versions`` on the local pin (``ROOT/pin.json``); Nacos: test_fleet."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dubbo_recsys.provider.cli import main
from tests.rollout.versions import derive, reorder_hot


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_publish_rollback_and_versions_on_the_local_pin(
    tmp_path: Path, small_build: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = str(tmp_path)
    a, b = derive(small_build, tmp_path), derive(small_build, tmp_path, reorder_hot)
    assert run(capsys, "publish", "--artifact-root", root, "--version", a)[0] == 0
    code, out, _ = run(capsys, "publish", "--artifact-root", root, "--latest", "--note", "daily")
    assert code == 0 and f"published {b} (was {a})" in out
    pin = json.loads((tmp_path / "pin.json").read_text())
    assert pin["version"] == b and pin["history"] == [a] and pin["note"] == "daily" and not pin["skipMetricGate"]
    code, out, _ = run(capsys, "versions", "--artifact-root", root)
    assert code == 0 and f"{b}" in out and "<- pinned" in out and f"pin: {b} (before: {a})" in out

    code, out, _ = run(capsys, "rollback", "--artifact-root", root)
    assert code == 0 and f"rolled back to {a} (from {b})" in out
    pin = json.loads((tmp_path / "pin.json").read_text())
    assert pin["version"] == a and pin["history"] == [] and pin["skipMetricGate"]
    code, _, err = run(capsys, "rollback", "--artifact-root", root)
    assert code == 2 and "nothing to roll back to" in err and "Traceback" not in err


def test_publish_refuses_what_is_not_a_whole_version(
    tmp_path: Path, small_build: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = str(tmp_path)
    stale = derive(small_build, tmp_path, manifest_after=truncate_hot)
    code, _, err = run(capsys, "publish", "--artifact-root", root, "--version", stale)
    assert code == 2 and "manifest says" in err and not (tmp_path / "pin.json").exists()
    code, _, err = run(capsys, "publish", "--artifact-root", root, "--version", "20990101T000000Z-000000000000")
    assert code == 2 and "is not a version under" in err
    assert run(capsys, "publish", "--artifact-root", root)[2].endswith("give --version V or --latest\n")
    assert "give --artifact-root" in run(capsys, "publish", "--version", stale)[2]
    code, _, err = run(capsys, "rollback", "--artifact-root", root)
    assert code == 2 and "there is no pin to roll back" in err


def truncate_hot(directory: Path) -> None:
    """A file cut short after the manifest was written (the small build has no Faiss index to cut)."""
    path = directory / "hot.json"
    path.write_bytes(path.read_bytes()[:10])
