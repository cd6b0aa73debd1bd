"""The ``scene-check`` sub-command: ok lines, invalid lines with the path, the exit code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dubbo_recsys.provider.cli import COMMANDS, main
from tests.registry.scenes import SEED_STYLE, seed_style, text


def test_listed_in_the_cli() -> None:
    assert COMMANDS["scene-check"][0] == "dubbo_recsys.registry.scene_check"


def test_valid_and_invalid_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "home.json"
    good.write_text(text(SEED_STYLE))
    bad = tmp_path / "bad.json"
    bad.write_text(text(seed_style(redis_conf={"redisCluster": {"maxRetries": -1}})))
    bare = tmp_path / "bare.json"
    bare.write_text(json.dumps({"model_conf": {}}))
    assert main(["scene-check", str(good), str(bare)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (
        f"ok {good}: dataId=scene-001 group=infer version=v1 models=2 indexes=2 redis=yes pipeline=7 steps, light 3"
    )
    assert out[1].startswith(f"ok {bare}: dataId=bare group=DEFAULT_GROUP")
    assert main(["scene-check", str(good), str(bad), str(tmp_path / "missing.json")]) == 1
    out = capsys.readouterr().out.splitlines()
    assert (
        out[1] == f"invalid {bad}: -1 is out of range [0, 100] - at $.content.config.redis_conf.redisCluster.maxRetries"
    )
    assert out[2].startswith(f"unreadable {tmp_path / 'missing.json'}")
