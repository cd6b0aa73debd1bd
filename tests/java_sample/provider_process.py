"""Run a provider as a child process, the way an operator would, and stop it with SIGTERM.

``started(command, log_path)`` starts ``command``, waits for its ready line
``listening dubbo://HOST:PORT`` (printed by ``dubbo-recsys serve`` and by the Java
reference provider alike) and yields the address; on exit it sends SIGTERM and
waits, so a provider that does not stop gracefully is killed and reported.

Output goes to a file, not a pipe, so a chatty provider can never block on a full
pipe while a test is running; the file is quoted when something goes wrong.
Used by tests/java_sample and tests/dubbo_python.
"""

from __future__ import annotations

import contextlib
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

REPO_ROOT = Path(__file__).resolve().parents[2]
READY = re.compile(r"^listening dubbo://([\d.]+):(\d+)\s*$", re.MULTILINE)


class ProviderStartError(RuntimeError):
    """The provider exited or stayed silent instead of printing its ready line."""


@dataclass(frozen=True)
class RunningProvider:
    host: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def url(self) -> str:
        return f"dubbo://{self.host}:{self.port}"

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def serve_command() -> list[str]:
    """``dubbo-recsys serve`` on 127.0.0.1 and a port the kernel picks (announced in the ready line)."""
    script = Path(sys.executable).with_name("dubbo-recsys")
    entry = [str(script)] if script.exists() else [sys.executable, "-m", "dubbo_recsys.provider.cli"]
    return [*entry, "serve", "--host", "127.0.0.1", "--port", "0"]


def failing_provider_command() -> list[str]:
    return [sys.executable, "-m", "tests.java_sample.failing_provider", "--port", "0"]


@contextlib.contextmanager
def started(command: Sequence[str], log_path: Path, ready_timeout: float = 60.0) -> Iterator[RunningProvider]:
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            list(command), cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    try:
        provider = _wait_ready(process, log_path, ready_timeout)
        yield provider
    finally:
        _stop(process)


def _wait_ready(process: subprocess.Popen[bytes], log_path: Path, timeout: float) -> RunningProvider:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        match = READY.search(log_path.read_text(errors="replace"))
        if match:
            return RunningProvider(match.group(1), int(match.group(2)), process, log_path)
        if process.poll() is not None:
            raise ProviderStartError(
                f"{' '.join(cast(list[str], process.args))} exited with {process.returncode}:\n"
                f"{log_path.read_text(errors='replace')}"
            )
        time.sleep(0.05)
    raise ProviderStartError(f"no ready line within {timeout} s:\n{log_path.read_text(errors='replace')}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
