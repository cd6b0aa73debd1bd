"""docker/Dockerfile: linted by hadolint, multi-stage, non-root, with a health
check and a command that ``dubbo-recsys serve`` accepts."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.docker.manifests import (
    DOCKERFILE,
    Instruction,
    check_health_command,
    dockerfile_instructions,
    grpc_port,
    parse_serve,
    serve_has_grpc,
    served_ports,
    stages,
)
from tests.support import require_env


def final_stage() -> list[Instruction]:
    return stages(dockerfile_instructions())[-1]


def only(stage: list[Instruction], keyword: str) -> Instruction:
    found = [i for i in stage if i.keyword == keyword]
    assert len(found) == 1, f"expected one {keyword} in the runtime stage, found {len(found)}"
    return found[0]


def serve_argv() -> list[str]:
    stage = final_stage()
    assert only(stage, "ENTRYPOINT").exec_form() == ["dubbo-recsys"]
    return only(stage, "CMD").exec_form()


def healthcheck_argv() -> list[str]:
    """The HEALTHCHECK command as the container runs it (ENTRYPOINT does not apply)."""
    return only(final_stage(), "HEALTHCHECK").exec_form()


def test_hadolint_finds_nothing() -> None:
    hadolint = require_env("HADOLINT_BIN")
    result = subprocess.run([hadolint, str(DOCKERFILE)], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_is_really_checking(tmp_path: Path) -> None:
    hadolint = require_env("HADOLINT_BIN")
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN apt-get install curl\nCMD python app.py\n")
    result = subprocess.run([hadolint, str(bad)], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode != 0
    assert "DL3007" in result.stdout  # `latest` tag


def test_multi_stage_with_a_slim_runtime_built_from_the_build_stage() -> None:
    all_stages = stages(dockerfile_instructions())
    assert len(all_stages) >= 2
    runtime = all_stages[-1]
    assert "-slim" in runtime[0].argument
    assert any(i.keyword == "COPY" and i.argument.startswith("--from=build ") for i in runtime)
    assert not any(i.keyword == "RUN" and "pip install" in i.argument for i in runtime), "install in the build stage"


def test_runs_as_a_numeric_non_root_user() -> None:
    user = only(final_stage(), "USER").argument
    uid, _, gid = user.partition(":")
    assert uid.isdigit() and int(uid) > 0, user
    assert not gid or (gid.isdigit() and int(gid) > 0), user


def test_command_is_serve_on_all_interfaces_and_exposes_its_ports() -> None:
    args = parse_serve(serve_argv())
    assert args.host == "0.0.0.0"
    exposed = {int(port) for port in only(final_stage(), "EXPOSE").argument.split()}
    assert exposed == served_ports(args)


def test_healthcheck_probes_what_serve_runs() -> None:
    check_health_command(healthcheck_argv(), parse_serve(serve_argv()))
    check = only(final_stage(), "HEALTHCHECK")
    for option in ("--interval=", "--timeout=", "--start-period=", "--retries="):
        assert option in check.argument


def test_image_runs_the_grpc_shim_once_serve_can() -> None:
    """Fails on the day serve gains --grpc-port until docker/ turns the shim on (docker/README.md)."""
    assert (grpc_port(parse_serve(serve_argv())) is not None) == serve_has_grpc(), (
        "serve and docker/ disagree on --grpc-port: see docker/README.md, 'Turning on the gRPC shim'"
    )


def test_build_context_keeps_every_package_the_image_installs() -> None:
    """docker/Dockerfile.dockerignore must not drop a folder setup.py maps into dubbo_recsys, nor hessian2/."""
    import ast
    import fnmatch

    tree = ast.parse((DOCKERFILE.parents[1] / "setup.py").read_text())
    (folders,) = [
        ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "FOLDERS"
    ]
    packages = {*folders, "hessian2"}
    patterns = [
        line.strip().removeprefix("**/")
        for line in (DOCKERFILE.parent / "Dockerfile.dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert packages >= {"provider", "interfaces", "hessian2"}
    for package in sorted(packages):
        for probe in (package, f"{package}/__init__.py"):
            dropped = [p for p in patterns if fnmatch.fnmatch(probe, p)]
            assert not dropped, f"{probe} is excluded from the image by {dropped}"
    for needed in (
        "setup.cfg",
        "setup.py",
        "pyproject.toml",
        "README.md",
        "hessian2/pyproject.toml",
        "hessian2/setup.py",
        "interfaces/proto/recommend_v1_pb2.py",
    ):
        assert not [p for p in patterns if fnmatch.fnmatch(needed, p)], needed
