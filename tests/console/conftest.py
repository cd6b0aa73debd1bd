"""One real provider fleet shared by the console, try-it and Grafana tests, and the screenshots they leave.

``fleet`` runs ``dubbo-recsys serve`` as an operator would, once per test session: two
workers over the small synthetic artifacts (ARTIFACTS_SYNTH), REST, gRPC, realtime with
a Redis Streams consumer on the test Redis (REDIS_URL, a prefix of its own), stage
timings on every request and a console sample every second (so a test sees a trend in
seconds, not minutes). Screenshots go to ``$CI_WORK/screenshots`` (a temporary folder
without CI_WORK); every one saved is listed at the end of the test run's output.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.funnel.peers import funnel_command
from tests.java_sample.provider_process import RunningProvider, started
from tests.support import free_port, require_env

SAVED: list[Path] = []


@dataclass(frozen=True)
class Fleet:
    provider: RunningProvider
    rest: str  # http://127.0.0.1:PORT
    grpc_port: int
    artifacts: Path
    redis_url: str
    prefix: str


def screenshot_path(name: str) -> Path:
    """Where a test saves the screenshot ``name`` (listed in the run's summary)."""
    root = Path(os.environ.get("CI_WORK") or tempfile.gettempdir()) / "screenshots"
    root.mkdir(parents=True, exist_ok=True)
    path = root / name
    SAVED.append(path)
    return path


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    saved = [path for path in SAVED if path.exists()]
    if saved:
        terminalreporter.section("console screenshots")
        for path in saved:
            terminalreporter.write_line(str(path))


@pytest.fixture(scope="session")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    artifacts = Path(require_env("ARTIFACTS_SYNTH"))
    redis_url = require_env("REDIS_URL")
    prefix = f"console-{uuid.uuid4().hex[:8]}"
    rest_port = free_port()
    command = funnel_command(
        artifacts,
        "--rest-port",
        str(rest_port),
        "--grpc-port",
        "0",
        "--realtime",
        redis_url,
        "--redis-prefix",
        prefix,
        "--consume",
        "--console-step",
        "1",
        "--trace-every",
        "1",
        "--budget-ms",
        "3000",
        "--light-budget-ms",
        "1500",
        workers=2,
    )
    log = tmp_path_factory.mktemp("fleet") / "serve.log"
    with started(command, log, 240) as provider:
        text = provider.log()
        grpc_port = int(text.split("listening grpc://127.0.0.1:")[1].split()[0])
        yield Fleet(provider, f"http://127.0.0.1:{rest_port}", grpc_port, artifacts, redis_url, prefix)
