"""The ``dubbo-recsys`` command line.

One entry point, one sub-command per job. Each sub-command lives beside the code
it drives and exposes ``add_arguments(parser)`` and ``run(args) -> int``; the
modules named here must stay cheap to import (heavy imports go inside ``run``),
so ``dubbo-recsys --help`` answers instantly on a machine without TensorFlow.

The long jobs (``LOGGED_COMMANDS``: build, refresh, load, consume, eval, eval-rank) say what they
are doing through their module's logger; ``steps_logged_to_stderr`` prints those records as
one time-stamped line each on stderr, which reads the same on a terminal and in a log file
(progress bars, which only a terminal can show, are the build's and only on a terminal).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import os
import sys
from collections.abc import Iterator, Sequence

from dubbo_recsys.provider.version import package_version

# sub-command -> (module, one-line help). Modules are imported only when needed.
COMMANDS: dict[str, tuple[str, str]] = {
    "serve": ("dubbo_recsys.provider.serve", "run the Dubbo provider (and shims) on embedded defaults or a config"),
    "call": ("dubbo_recsys.provider.call", "call a dubbo:// provider once and print the answer"),
    "grpc-health": (
        "dubbo_recsys.provider.grpc_shim.health_check",
        "ask a gRPC server's grpc.health.v1 whether it serves (exit 0 = SERVING)",
    ),
    "java-api": (
        "dubbo_recsys.provider.javaapi.export_command",
        "write the Java API (a Maven module: interface, POJOs, enums, exceptions) of the Python services",
    ),
    "import-java": (
        "dubbo_recsys.provider.javaapi.import_command",
        "write Python bindings and a service skeleton for a Java API jar (no JVM needed)",
    ),
    "build": ("dubbo_recsys.offline.build_command", "build a versioned artifact directory (ML-100K or synthetic)"),
    "refresh": (
        "dubbo_recsys.offline.refresh_command",
        "fine-tune the newest version's two-tower on the events' interactions and add it as a new version",
    ),
    "publish": (
        "dubbo_recsys.provider.rollout.publish_command",
        "pin the artifact version every provider serving the artifact root follows (Nacos or ROOT/pin.json)",
    ),
    "rollback": ("dubbo_recsys.provider.rollout.rollback_command", "pin the artifact version published before"),
    "versions": (
        "dubbo_recsys.provider.rollout.versions_command",
        "list an artifact root's versions, the pin and what each provider serves (--wait: watch it roll)",
    ),
    "load": ("dubbo_recsys.features.load", "stream an artifact directory's user and item features into Redis"),
    "consume": (
        "dubbo_recsys.realtime.consume_command",
        "apply realtime user and item events (Kafka or Redis Streams) to the feature store's Redis",
    ),
    "eval": (
        "dubbo_recsys.recall.eval_command",
        "print recall quality (HR@50 per channel and merged) on an artifact directory",
    ),
    "eval-rank": (
        "dubbo_recsys.rank.eval_command",
        "print ranking quality (NDCG@10, HR@10: funnel, recall, popularity) on an artifact directory",
    ),
    "scene-check": (
        "dubbo_recsys.registry.scene_check",
        "validate scene config documents (the Nacos per-scene JSON) before publishing",
    ),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dubbo-recsys",
        description="Recommendation inference as a native Dubbo provider (dubbo://, Hessian2, Nacos).",
        epilog="Every flag can also be set in the --config file ([command] tables) or as "
        "DUBBO_RECSYS_<COMMAND>_<FLAG>; a flag on the command line wins (see provider/settings.py).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    parser.add_argument(
        "--config",
        default=os.environ.get("DUBBO_RECSYS_CONFIG") or None,
        metavar="FILE",
        help="TOML file with one table per command (env DUBBO_RECSYS_CONFIG)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands = {}
    for name, (module_name, help_text) in COMMANDS.items():
        module = importlib.import_module(module_name)
        command = sub.add_parser(name, help=help_text, description=module.__doc__)
        module.add_arguments(command)
        command.set_defaults(_module=module)
        commands[name] = command
    parser.set_defaults(_commands=commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from dubbo_recsys.provider.settings import SettingsError, apply, load_file

    parser = build_parser()
    # The first pass only finds the command and --config: a required flag (build --source)
    # may still come from the file or the environment, which ``apply`` reads next.
    required = [
        a
        for command in parser.get_default("_commands").values()
        for a in command._actions
        if a.required and a.option_strings
    ]
    for action in required:
        action.required = False
    args = parser.parse_args(argv)
    for action in required:
        action.required = True
    if args.command is None:
        parser.print_help()
        return 2
    try:  # settings from the file and the environment become defaults; flags still win
        apply(args.command, args._commands[args.command], load_file(args.config) if args.config else None)
    except SettingsError as exc:
        print(f"dubbo-recsys: {exc}", file=sys.stderr)
        return 2
    args = parser.parse_args(argv)
    if args.command not in LOGGED_COMMANDS:
        return int(args._module.run(args) or 0)
    with steps_logged_to_stderr():
        return int(args._module.run(args) or 0)


# long jobs: each says what it is doing, one time-stamped line per step (never a progress bar in a log)
LOGGED_COMMANDS = frozenset({"build", "refresh", "load", "consume", "eval", "eval-rank"})


class _Stderr(logging.Handler):
    """Writes to whatever ``sys.stderr`` is at the time of the record (tests swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
            sys.stderr.flush()
        except Exception:
            self.handleError(record)


class _StepFormatter(logging.Formatter):
    """``HH:MM:SS message``; a warning or an error also says which it is."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        if record.levelno > logging.INFO:
            stamp, _, rest = text.partition(" ")
            return f"{stamp} {record.levelname}: {rest}"
        return text


@contextlib.contextmanager
def steps_logged_to_stderr(level: int = logging.INFO) -> Iterator[None]:
    """While a command runs: ``HH:MM:SS message`` lines on stderr for every ``dubbo_recsys`` logger (the
    build's way, for every long command). Not propagated to the root logger meanwhile, so a library that
    configures it (TensorFlow does) cannot double each line; put back as it was afterwards (tests call
    ``main`` in process)."""
    logger = logging.getLogger("dubbo_recsys")
    saved = (logger.level, logger.propagate)
    handler = _Stderr()
    handler.setFormatter(_StepFormatter("%(asctime)s %(message)s", "%H:%M:%S"))
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
