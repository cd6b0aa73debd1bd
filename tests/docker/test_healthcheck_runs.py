"""The image's HEALTHCHECK command, run for real against `dubbo-recsys serve`.

Static checks prove the command parses; this proves it answers 0 while serve
serves and non-zero once it has stopped. Serve runs as a subprocess on a free
loopback port (the command's port is swapped for that one).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time

from tests.docker.manifests import parse_serve
from tests.docker.test_dockerfile import healthcheck_argv, serve_argv
from tests.support import free_port


def with_port(argv: list[str], old: int, new: int) -> list[str]:
    return [str(new) if arg == str(old) else arg.replace(f":{old}", f":{new}") for arg in argv]


def as_python(argv: list[str]) -> list[str]:
    """Run ``dubbo-recsys ...`` with this interpreter, so no installed script is assumed."""
    if argv[0] == "dubbo-recsys":
        return [sys.executable, "-m", "dubbo_recsys.provider.cli", *argv[1:]]
    if argv[0] == "python":
        return [sys.executable, *argv[1:]]
    return argv


def test_healthcheck_passes_while_serving_and_fails_after() -> None:
    serve = parse_serve(serve_argv())
    port = free_port()
    serve_cmd = with_port(serve_argv(), serve.port, port)
    serve_cmd[serve_cmd.index("--host") + 1] = "127.0.0.1"
    check = as_python(with_port(healthcheck_argv(), serve.port, port))
    process = subprocess.Popen(
        as_python(["dubbo-recsys", *serve_cmd]), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 30
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith("listening "):
                break
            assert time.monotonic() < deadline, "serve did not start within 30 s"
        else:
            raise AssertionError(f"serve exited: {process.stderr.read() if process.stderr else ''}")
        healthy = subprocess.run(check, capture_output=True, text=True, timeout=30, check=False)
        assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
    assert process.returncode == 0
    unhealthy = subprocess.run(check, capture_output=True, text=True, timeout=30, check=False)
    assert unhealthy.returncode != 0
