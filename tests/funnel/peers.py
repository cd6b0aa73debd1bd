"""The funnel's real peers for tests/funnel and bench/funnel: a private Redis, the provider, a load.

- ``RedisServer``: a ``redis-server`` of our own on 127.0.0.1 and a fixed free port, so it can
  be stopped and started again at the same address while the provider keeps its URL;
  ``load`` fills it with ``dubbo-recsys load``.
- ``funnel_command``: ``dubbo-recsys serve --artifacts ...`` on a free port (ready line as in
  tests/java_sample/provider_process.py, which starts and stops it).
- ``run_load``: a bounded concurrent load of ``recommend`` calls from the Python client
  (``concurrency`` callers on one connection, stopped by time or count), recording per call
  when it started, how long it took, which pipeline answered, and any failure.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dubbo_recsys.interfaces.recommend import INTERFACE, VERSION, RecommendRequest, RecommendResponse
from dubbo_recsys.provider.client import DubboClient
from tests.java_sample.provider_process import REPO_ROOT, serve_command
from tests.support import free_port

REQUEST_TYPE = "org.dubborecsys.api.RecommendRequest"


class RedisServer:
    """``redis-server`` on 127.0.0.1:<port>, no persistence; ``stop``/``start`` keep the port."""

    def __init__(self, binary: str | None = None) -> None:
        found = binary or shutil.which("redis-server")
        if not found:
            raise RuntimeError("redis-server is not on PATH (tests/ci/15-redis.sh installs it)")
        self.binary = found
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="funnel-redis-"))
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> None:
        with open(self.dir / "redis.log", "ab") as log:  # the child keeps its own copy of the descriptor
            self.process = subprocess.Popen(
                [
                    self.binary,
                    "--bind",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--protected-mode",
                    "yes",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    str(self.dir),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited: {(self.dir / 'redis.log').read_text()[-2000:]}")
            if self.ping():
                return
            time.sleep(0.05)
        raise RuntimeError(f"redis-server did not answer PING within {timeout} s")

    def ping(self) -> bool:
        import socket

        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def load(self, artifacts: Path, timeout: float = 120.0) -> str:
        done = subprocess.run(
            [*cli_entry(), "load", "--artifacts", str(artifacts), "--redis", self.url, "--quiet"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"dubbo-recsys load failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout


def cli_entry() -> list[str]:
    return serve_command()[: -len(["serve", "--host", "127.0.0.1", "--port", "0"])]


def funnel_command(artifacts: Path, *extra: str, redis_url: str | None = None, workers: int = 1) -> list[str]:
    command = [*serve_command(), "--artifacts", str(artifacts), "--workers", str(workers)]
    command += ["--redis", redis_url or ""]  # never the test run's REDIS_URL by accident
    return command + list(extra)


def known_users(artifacts: Path, limit: int = 200) -> list[str]:
    return (artifacts / "ids/users.txt").read_text().split()[:limit]


def expected_full_steps(artifacts: Path) -> list[str]:
    """The default scene's full pipeline over these artifacts (the ranker only when it was built)."""
    steps = ["recallSample", "multi_channel", "dssmRank"]
    if (artifacts / "models/rank/din/saved_model.pb").is_file():
        steps.append("din")  # the in-process ranker's name; the default scene configures it as deepfm
    return [*steps, "mmr"]


async def recommend(client: DubboClient, request: RecommendRequest, timeout: float = 10.0) -> RecommendResponse:
    return await client.call(
        INTERFACE, "recommend", [request], parameter_types=[REQUEST_TYPE], version=VERSION, timeout=timeout
    )


@dataclass(frozen=True, slots=True)
class Call:
    started: float  # seconds since the load began
    millis: float
    pipeline: str  # "" when the call failed
    error: str = ""


@dataclass
class LoadReport:
    calls: list[Call] = field(default_factory=list)
    issued: int = 0

    @property
    def failures(self) -> list[Call]:
        return [c for c in self.calls if c.error]

    def percentile(self, p: float, calls: Sequence[Call] | None = None) -> float:
        values = sorted(c.millis for c in (self.calls if calls is None else calls))
        if not values:
            return math.nan
        return values[max(0, min(len(values) - 1, math.ceil(p * len(values)) - 1))]

    def pipelines(self, since: float = 0.0, until: float = math.inf) -> dict[str, int]:
        counts: dict[str, int] = {}
        for c in self.calls:
            if since <= c.started < until and not c.error:
                counts[c.pipeline] = counts.get(c.pipeline, 0) + 1
        return counts

    def summary(self) -> str:
        return (
            f"{len(self.calls)} calls ({self.issued} issued), {len(self.failures)} failed, "
            f"p50 {self.percentile(0.5):.1f} ms, p99 {self.percentile(0.99):.1f} ms, "
            f"max {self.percentile(1.0):.1f} ms, pipelines {self.pipelines()}"
        )


async def run_load(
    host: str,
    port: int,
    users: Sequence[str],
    *,
    seconds: float,
    max_calls: int,
    concurrency: int = 4,
    scene: str = "",
    stop: asyncio.Event | None = None,
    began: float | None = None,
    report: LoadReport | None = None,
) -> LoadReport:
    """``concurrency`` callers, each waiting for its answer before the next call; stops after
    ``seconds``, ``max_calls`` or when ``stop`` is set. Every issued call ends in ``calls``,
    stamped in seconds since ``began`` (a ``time.monotonic()`` value; default: now). Pass
    ``report`` to watch the calls while the load runs."""
    report = LoadReport() if report is None else report
    numbers = itertools.count()
    began = time.monotonic() if began is None else began
    stop = stop or asyncio.Event()

    async def caller(client: DubboClient) -> None:
        while not stop.is_set() and time.monotonic() - began < seconds:
            n = next(numbers)
            if n >= max_calls:
                return
            report.issued += 1
            request = RecommendRequest(userId=users[n % len(users)], scene=scene, count=10)
            t0 = time.monotonic()
            try:
                response = await recommend(client, request, timeout=5.0)
            except Exception as exc:
                report.calls.append(
                    Call(t0 - began, (time.monotonic() - t0) * 1000, "", f"{type(exc).__name__}: {exc}")
                )
                continue
            millis = (time.monotonic() - t0) * 1000
            error = (
                ""
                if response.code == 200 and len(response.items) == 10
                else f"code {response.code}, {len(response.items)} items: {response.message}"
            )
            report.calls.append(Call(t0 - began, millis, response.pipeline, error))

    async with await DubboClient.connect(host, port) as client:
        await asyncio.gather(*(caller(client) for _ in range(concurrency)))
    return report


def main() -> None:  # pragma: no cover - a manual smoke run: python -m tests.funnel.peers HOST:PORT
    host, port = sys.argv[1].split(":")
    print(asyncio.run(run_load(host, int(port), [str(u) for u in range(1, 944)], seconds=5, max_calls=5000)).summary())


if __name__ == "__main__":
    main()
