"""Settings from a TOML file and the environment beneath the command line (provider/settings.py)."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from dubbo_recsys.provider.cli import build_parser
from dubbo_recsys.provider.settings import SettingsError, apply, load_file


def serve_parser() -> argparse.ArgumentParser:
    return build_parser().parse_args(["serve"])._commands["serve"]


def parse(argv: list[str], document: dict | None, environ: dict[str, str]) -> argparse.Namespace:
    parser = build_parser()
    first = parser.parse_args(argv)
    apply(first.command, first._commands[first.command], document, environ)
    return parser.parse_args(argv)


def test_flag_beats_environment_beats_file_beats_default(tmp_path: Path) -> None:
    config = tmp_path / "recsys.toml"
    config.write_text('[serve]\nport = 20901\nworkers = 2\nmax-inflight = 64\nloop = "asyncio"\n')
    document = load_file(config)
    args = parse(["serve", "--workers", "3"], document, {"DUBBO_RECSYS_SERVE_PORT": "20902"})
    assert (args.port, args.workers, args.max_inflight, args.loop) == (20902, 3, 64, "asyncio")
    assert parse(["serve"], None, {}).port == 20880


def test_booleans_and_paths_from_the_environment() -> None:
    args = parse(
        ["serve"],
        None,
        {"DUBBO_RECSYS_SERVE_NO_GRPC_REFLECTION": "yes", "DUBBO_RECSYS_SERVE_ARTIFACTS": "/srv/artifacts"},
    )
    assert args.no_grpc_reflection is True and str(args.artifacts) == "/srv/artifacts"


@pytest.mark.parametrize(
    "document, environ, message",
    [
        ({"serve": {"prot": 1}}, {}, "no setting 'prot'"),
        ({"serve": {"port": "many"}}, {}, "config file [serve] port: 'many' is not valid"),
        ({"serve": {"loop": "trio"}}, {}, "not one of"),
        ({"serve": 3}, {}, "must be a table"),
        (None, {"DUBBO_RECSYS_SERVE_PROT": "1"}, "DUBBO_RECSYS_SERVE_PROT names no setting"),
        (None, {"DUBBO_RECSYS_SERVE_NO_GRPC_REFLECTION": "perhaps"}, "expected true or false"),
    ],
)
def test_bad_settings_say_which_and_where(document: dict | None, environ: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message.replace("[", r"\[").replace("]", r"\]")):
        apply("serve", serve_parser(), document, environ)


def test_unreadable_files_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="cannot read config file"):
        load_file(tmp_path / "missing.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[serve\nport = 1\n")
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_file(broken)


def test_the_cli_reports_a_bad_file_and_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from dubbo_recsys.provider.cli import main

    config = tmp_path / "bad.toml"
    config.write_text("[serve]\nbogus = 1\n")
    assert main(["--config", str(config), "serve"]) == 2
    assert "[serve] has no setting 'bogus'" in capsys.readouterr().err


def test_required_flags_can_come_from_the_file_or_the_environment(
    tmp_path: Path, monkeypatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from dubbo_recsys.offline import build_command
    from dubbo_recsys.provider.cli import main

    seen: list[argparse.Namespace] = []

    def run(args: argparse.Namespace) -> int:
        seen.append(args)
        return 0

    monkeypatch.setattr(build_command, "run", run)
    config = tmp_path / "recsys.toml"
    config.write_text(f'[build]\nsource = "synthetic"\nout = "{tmp_path / "from-file"}"\n')
    assert main(["--config", str(config), "build"]) == 0
    assert (seen[-1].source, seen[-1].out) == ("synthetic", str(tmp_path / "from-file"))
    monkeypatch.setenv("DUBBO_RECSYS_BUILD_SOURCE", "ml-100k")
    assert main(["--config", str(config), "build", "--out", "elsewhere"]) == 0
    assert (seen[-1].source, seen[-1].out) == ("ml-100k", "elsewhere")
    monkeypatch.delenv("DUBBO_RECSYS_BUILD_SOURCE")
    with pytest.raises(SystemExit) as exit_info:  # still required when nothing supplies it
        main(["build", "--out", "x"])
    assert exit_info.value.code == 2 and "--source" in capsys.readouterr().err
