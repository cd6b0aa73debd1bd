"""``dubbo-recsys build``: bad input is a clear message and exit code 2, never a traceback."""

from __future__ import annotations

import json
import re

import pytest

from dubbo_recsys.offline.build_command import main


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--source", "synthetic", "--users", "3"], "users must be in"),
        (["--source", "synthetic", "--items", "50000000"], "items must be in"),
        (["--source", "synthetic", "--k", "0"], "k must be in"),
        (["--source", "ml-100k", "--data-dir", "/nonexistent/ml"], "missing ML-100K file"),
    ],
)
def test_bad_input_is_reported(tmp_path, capsys, argv, message):
    assert main([*argv, "--out", str(tmp_path / "out"), "--no-progress", "--no-two-tower"]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_out_is_a_file(tmp_path, capsys):
    target = tmp_path / "file"
    target.write_text("x", encoding="utf-8")
    assert main(["--source", "synthetic", "--out", str(target), "--no-progress", "--no-two-tower"]) == 2
    assert "is a file" in capsys.readouterr().err


def test_unknown_source_is_an_argparse_error(tmp_path):
    with pytest.raises(SystemExit) as exc:
        main(["--source", "ml-1m", "--out", str(tmp_path)])
    assert exc.value.code == 2


def test_builds_and_then_skips(tmp_path, capsys):
    argv = [
        "--source",
        "synthetic",
        "--users",
        "200",
        "--items",
        "300",
        "--seed",
        "5",
        "--k",
        "10",
        "--out",
        str(tmp_path / "a"),
        "--no-progress",
        "--no-two-tower",
        "--skip-existing",
    ]
    assert main(argv) == 0
    assert capsys.readouterr().out.startswith("built:")
    assert main(argv) == 0
    assert capsys.readouterr().out.startswith("up to date:")
    manifest = json.loads((tmp_path / "a" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["params"]["synthetic"]["users"] == 200 and manifest["counts"]["users"] == 200


def test_command_module_is_cheap_to_import():
    """``dubbo-recsys --help`` imports every sub-command module: ours must not pull numpy or TensorFlow."""
    import subprocess
    import sys

    code = (
        "import sys, dubbo_recsys.offline.build_command; "
        "print(sorted(m for m in ('numpy', 'scipy', 'tensorflow') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("entry", ["module", "cli"])
def test_a_log_gets_one_line_per_step_and_no_progress_bars(tmp_path, capsys, entry):
    # stderr is not a terminal here: no bar may draw (no carriage returns), each step logs its time once,
    # whether the build runs on its own or as ``dubbo-recsys build`` (the CLI's handler for every long command)
    from dubbo_recsys.provider.cli import main as cli_main

    argv = ["--source", "synthetic", "--users", "60", "--items", "90", "--k", "5", "--hot-k", "5", "--last-n", "5"]
    argv = [*argv, "--no-two-tower", "--out", str(tmp_path / "out")]
    assert (main(argv) if entry == "module" else cli_main(["build", *argv])) == 0
    err = capsys.readouterr().err
    assert "\r" not in err
    for step in ("LoadSource", "SplitInteractions", "WriteFeatures", "HotItems", "SwingTable"):
        assert err.count(f"step {step} done in ") == 1, err
    assert "engine embedded" in err
    line = next(line for line in err.splitlines() if "step HotItems done in " in line)
    assert re.fullmatch(r"\d\d:\d\d:\d\d build \S+: step HotItems done in [0-9.]+ s", line), line


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--source", "files"], "needs --interactions"),
        (["--source", "files", "--interactions", "/nonexistent/*.parquet"], "no Parquet or CSV files"),
        (["--source", "synthetic", "--engine", "spark", "--master", "mesos://x"], "--master must be"),
        (["--source", "synthetic", "--spark-conf", "novalue"], "--spark-conf takes KEY=VALUE"),
    ],
)
def test_bad_engine_and_files_input_is_reported(tmp_path, capsys, argv, message):
    assert main([*argv, "--out", str(tmp_path / "out"), "--no-two-tower"]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
