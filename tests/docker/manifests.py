"""Readers for the deployment files, shared by the static checks in tests/docker/.

No Docker engine or cluster runs here, so these tests read the files: a small
Dockerfile instruction reader, YAML loading, and ``parse_serve``, which feeds a
container's command line to the real ``dubbo-recsys serve`` argument parser. That
last one is what keeps the images, compose and Kubernetes honest about the flags
and ports ``serve`` actually has.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCKER = REPO / "docker"
DOCKERFILE = DOCKER / "Dockerfile"
COMPOSE = DOCKER / "compose.yaml"
K8S = DOCKER / "k8s"


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case: FROM, RUN, CMD, ...
    argument: str  # the rest, continuation lines joined

    def exec_form(self) -> list[str]:
        """The JSON array of CMD/ENTRYPOINT/HEALTHCHECK CMD; fails the test on shell form."""
        text = self.argument
        if self.keyword == "HEALTHCHECK":
            text = text[text.index(" CMD ") + 5 :] if " CMD " in text else text.removeprefix("CMD ")
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            pytest.fail(f"{self.keyword} must use the exec (JSON array) form: {self.argument}")
        assert isinstance(value, list) and all(isinstance(part, str) for part in value)
        return value


def dockerfile_instructions(path: Path = DOCKERFILE) -> list[Instruction]:
    """Instructions in order; comments dropped, ``\\`` continuations joined."""
    instructions: list[Instruction] = []
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        keyword, _, argument = line.partition(" ")
        instructions.append(Instruction(keyword.upper(), re.sub(r"\s+", " ", argument).strip()))
    assert not pending, "Dockerfile ends inside a continuation"
    return instructions


def stages(instructions: list[Instruction]) -> list[list[Instruction]]:
    """Instructions grouped by build stage, each group starting with its FROM."""
    groups: list[list[Instruction]] = []
    for instruction in instructions:
        if instruction.keyword == "FROM":
            groups.append([])
        if groups:
            groups[-1].append(instruction)
    return groups


def load_yaml(path: Path) -> list[dict[str, Any]]:
    import yaml

    with path.open() as handle:
        return [doc for doc in yaml.safe_load_all(handle) if doc is not None]


def command_parser(name: str) -> argparse.ArgumentParser:
    """The parser of ``dubbo-recsys <name>``, built from the module the CLI names."""
    from dubbo_recsys.provider import cli

    module_name, _ = cli.COMMANDS[name]
    module = __import__(module_name, fromlist=["add_arguments"])
    parser = argparse.ArgumentParser(prog=f"dubbo-recsys {name}")
    module.add_arguments(parser)
    return parser


def parse_command(argv: list[str], name: str) -> argparse.Namespace:
    """Parse ``dubbo-recsys <argv>`` (argv[0] must be ``name``) as the real CLI would."""
    assert argv and argv[0] == name, f"expected `dubbo-recsys {name} ...`, got {argv}"
    errors = io.StringIO()
    try:
        with contextlib.redirect_stderr(errors):
            return command_parser(name).parse_args(argv[1:])
    except SystemExit as error:
        pytest.fail(f"`dubbo-recsys {name}` rejects {argv[1:]}: exit {error} {errors.getvalue().strip()}")


def parse_serve(argv: list[str]) -> argparse.Namespace:
    return parse_command(argv, "serve")


def serve_has_grpc() -> bool:
    """Whether ``serve`` can run the gRPC shim yet (it gains ``--grpc-port``)."""
    return "--grpc-port" in command_parser("serve")._option_string_actions


def grpc_port(args: argparse.Namespace) -> int | None:
    return getattr(args, "grpc_port", None)


def served_ports(args: argparse.Namespace) -> set[int]:
    """The ports a serve command line listens on: dubbo://, and gRPC and REST when on."""
    ports = {args.port}
    if grpc_port(args) is not None:
        ports.add(grpc_port(args))
    if getattr(args, "rest_port", None):
        ports.add(args.rest_port)
    return ports


def check_health_command(argv: list[str], serve: argparse.Namespace) -> None:
    """A container health check must probe the server that ``serve`` runs.

    With the gRPC shim on: grpc.health.v1 on ``--grpc-port``, through
    ``dubbo-recsys grpc-health``. Without: a Dubbo ``$echo`` on ``--port``, through
    ``dubbo-recsys call``.
    """
    assert argv[0] == "dubbo-recsys", argv
    if grpc_port(serve) is not None:
        health = parse_command(argv[1:], "grpc-health")
        assert port_of(health.addr) == grpc_port(serve) and health.service == "", argv
        assert health.timeout <= 5
        return
    call = parse_command(argv[1:], "call")
    assert (call.host, call.port, call.method) == ("127.0.0.1", serve.port, "$echo"), argv
    assert call.timeout <= 5


def port_of(address: str) -> int:
    """The port of ``host:port``."""
    return int(address.rsplit(":", 1)[1])
