"""The ``load`` sub-command is registered and cheap to import."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from dubbo_recsys.provider.cli import COMMANDS


def test_load_is_a_cli_command() -> None:
    module_name, help_text = COMMANDS["load"]
    assert module_name == "dubbo_recsys.features.load" and "Redis" in help_text


def test_importing_load_does_not_import_redis() -> None:
    code = "import sys, dubbo_recsys.features.load; print('redis' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert result.stdout.split() == ["False"]


def test_arguments_and_defaults() -> None:
    from dubbo_recsys.features import load

    parser = argparse.ArgumentParser()
    load.add_arguments(parser)
    args = parser.parse_args(["--artifacts", "/tmp/a"])
    assert (args.redis, args.prefix, args.ttl, args.batch_size) == ("redis://127.0.0.1:6379/0", "recsys", 604800, 1000)
    with pytest.raises(SystemExit):
        parser.parse_args([])  # --artifacts is required


def test_bad_arguments_exit_cleanly(tmp_path: object, capsys: pytest.CaptureFixture[str]) -> None:
    from dubbo_recsys.features import load

    base = dict(artifacts=str(tmp_path), redis="redis://127.0.0.1:1/0", prefix="p", batch_size=10, quiet=True)
    assert load.run(argparse.Namespace(**base, ttl=-1)) == 2
    assert load.run(argparse.Namespace(**{**base, "batch_size": 0}, ttl=5)) == 2
    assert load.run(argparse.Namespace(**{**base, "batch_size": 10**9}, ttl=5)) == 2
    assert load.run(argparse.Namespace(**{**base, "redis": "http://nope"}, ttl=5)) == 1
    assert "redis url" in capsys.readouterr().err
    assert load.run(argparse.Namespace(**{**base, "artifacts": "/nonexistent/dir"}, ttl=5)) == 1
    assert "does not exist" in capsys.readouterr().err


def test_unparseable_redis_url_is_reported(artifact_dir: object, capsys: pytest.CaptureFixture[str]) -> None:
    from dubbo_recsys.features import load

    args = argparse.Namespace(
        artifacts=str(artifact_dir), redis="redis://127.0.0.1:notaport/0", prefix="p", batch_size=10, quiet=True, ttl=5
    )
    assert load.run(args) == 1
    assert "bad redis url" in capsys.readouterr().err


def test_package_facade_exports_what_it_lists_and_no_redis() -> None:
    code = (
        "import sys, features; "
        "assert all(hasattr(features, n) for n in features.__all__); print('redis' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert result.stdout.strip() == "False"
