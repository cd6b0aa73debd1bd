"""Swaps under load: a provider serving an artifact root, the Java load generator, publishes and a rollback.

Shared by tests/rollout/test_java_load.py (short, in CI) and bench/rollout/run_bench.py (the measured
run). What ``run_scenario`` does, all on 127.0.0.1:

1. versions: ``swaps + 1`` versions derived from one build (``tests.rollout.versions.derive``), the first
   one pinned with ``dubbo-recsys publish`` (the local pin, ``ROOT/pin.json``);
2. a private Redis loaded with the build's features; ``dubbo-recsys serve --artifact-root ROOT --workers W
   --redis URL --scenes <home = default scene> --rest-port P``;
3. bench/rpc/java's ``LoadGenerator`` (a Dubbo 3.3 consumer) in the open loop at ``rate`` requests/s,
   every answer checked for one version across its stages (``--check-versions``), every call written
   to a CSV with its scheduled time, latency and version (``--calls-out``);
4. once the load is measured: ``steady_seconds`` of steady state, then per event (``publish`` of the next
   version, ..., one ``rollback``): the command, a wait until every worker serves the version
   (``/console/state``, which gathers every worker's rollout row), ``settle_seconds``;
5. the workers' RSS sampled every 0.2 s from /proc throughout.

``Outcome`` has the load generator's summary, every call, the events with their times, and the
windows: steady (before the first publish) and "during a swap" (from each command to two seconds
after the last worker swapped, which covers the old version's release).
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
import subprocess
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.funnel.peers import RedisServer, cli_entry
from tests.java_sample.provider_process import REPO_ROOT, serve_command, started
from tests.rollout.versions import derive, reorder_hot
from tests.support import free_port

JAVA_DIR = REPO_ROOT / "bench" / "rpc" / "java"
LOOPBACK = "-Ddubbo.network.interface.ignored=.*"
QUIET = "-Dorg.slf4j.simpleLogger.defaultLogLevel=error"
# The longest the Java load may run. It normally ends far sooner (the stop file, once the events are done);
# on a busy shared machine (load 12 on 2 cores) four swaps of ML-100K took 130 s, so 120 s was too short.
LOAD_LIMIT_SECONDS = 300.0
_PIDS = re.compile(r"^workers \d+ pids ([\d,]+)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Scenario:
    artifacts: Path  # the build every version is derived from
    work: Path  # a fresh directory for the root, logs and the calls file
    workers: int = 2
    rate: float = 300.0
    swaps: int = 3
    rollback: bool = True
    warmup_seconds: float = 5.0
    steady_seconds: float = 10.0
    settle_seconds: float = 5.0
    swap_timeout: float = 30.0  # per event: every worker serves the version within this
    rate_threads: int = 64


@dataclass
class Event:
    kind: str  # publish | rollback
    version: str
    at: float  # epoch seconds when the command returned (the pin written)
    done_at: float = math.nan  # epoch seconds when every worker served it
    workers: dict[str, float] = field(default_factory=dict)  # worker -> serving_since
    load_rss: dict[str, int] = field(default_factory=dict)  # worker -> what the load added to its RSS


@dataclass
class Outcome:
    summary: dict[str, Any]  # the load generator's JSON line
    calls: list[tuple[float, float, bool, str]]  # (epoch s scheduled, latency ms, ok, version)
    events: list[Event]
    versions: list[str]
    rss: dict[int, list[tuple[float, int]]]  # worker pid -> (epoch s, bytes)
    measure_start: float
    metrics: str  # /metrics after the last event
    console: dict[str, Any]  # /console/state after the last event
    load_average: tuple[float, float]  # at start and at end

    @property
    def steady(self) -> tuple[float, float]:
        """Before the first command (from a second into the measured load)."""
        return (self.measure_start + 1.0, self.events[0].at - 1.0 if self.events else math.inf)

    @property
    def between(self) -> list[tuple[float, float]]:
        """The steady state around the swaps: before the first one and between each swap's window and the
        next command (the settle periods), so that outside load falls on both sides of the comparison."""
        edges = [self.measure_start + 1.0]
        for start, end in self.swap_windows:
            edges += [start, end]
        edges.append(max((c[0] for c in self.calls), default=edges[-1]))
        return [(a, b) for a, b in zip(edges[::2], edges[1::2], strict=True) if b > a]

    @property
    def swap_windows(self) -> list[tuple[float, float]]:
        return [(e.at - 1.0, e.done_at + 2.0) for e in self.events]  # the command starts up to ~1 s before

    def in_windows(self, windows: list[tuple[float, float]]) -> list[tuple[float, float, bool, str]]:
        return [c for c in self.calls if any(a <= c[0] < b for a, b in windows)]

    def p99(self, windows: list[tuple[float, float]]) -> float:
        return percentile([c[1] for c in self.in_windows(windows) if c[2]], 0.99)

    def rss_in(self, windows: list[tuple[float, float]]) -> dict[int, list[int]]:
        return {
            pid: [b for t, b in samples if any(a <= t < z for a, z in windows)] for pid, samples in self.rss.items()
        }


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return math.nan
    return ordered[max(0, min(len(ordered) - 1, math.ceil(p * len(ordered)) - 1))]


def build_java() -> str:
    """Compile bench/rpc/java (offline first) and return its classpath."""
    for offline in (["-o"], []):
        done = subprocess.run(
            ["mvn", "-B", "-q", *offline, "package"],
            cwd=JAVA_DIR,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if done.returncode == 0:
            break
    else:
        raise RuntimeError(f"bench/rpc/java does not build:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    jar = next((JAVA_DIR / "target").glob("rpc-bench-*.jar"))
    return f"{jar}:{(JAVA_DIR / 'target' / 'classpath.txt').read_text().strip()}"


def dubbo_recsys(*args: str, timeout: float = 60.0) -> str:
    done = subprocess.run(
        [*cli_entry(), *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"dubbo-recsys {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as answer:
        return json.loads(answer.read())


def get_text(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as answer:
        return str(answer.read().decode())


def wait_all_serving(rest: str, version: str, workers: int, timeout: float) -> list[dict[str, Any]]:
    """Poll the console state until every worker serves ``version``; returns their rollout rows."""
    deadline = time.monotonic() + timeout
    rows: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        rows = get_json(f"{rest}/console/state")["rollout"]
        if len(rows) == workers and all(r["serving"] == version for r in rows):
            return rows
        time.sleep(0.1)
    raise TimeoutError(f"not every worker serves {version} after {timeout} s: {rows}")


def rss_of(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def run_scenario(scenario: Scenario, classpath: str | None = None) -> Outcome:
    classpath = classpath or build_java()
    work, root = scenario.work, scenario.work / "root"
    root.mkdir(parents=True)
    versions = [derive(scenario.artifacts, root, reorder_hot if n % 2 else None) for n in range(scenario.swaps + 1)]
    dubbo_recsys("publish", "--artifact-root", str(root), "--version", versions[0])
    scenes = work / "scenes"
    scenes.mkdir()
    (scenes / "home.json").write_text(json.dumps({"dataId": "home", "content": {"version": "1"}}))
    redis = RedisServer()
    load_start = os.getloadavg()[0]
    try:
        redis.start()
        redis.load(root / "versions" / versions[0])
        rest_port = free_port()
        command = [
            *serve_command(),
            *("--artifact-root", str(root), "--workers", str(scenario.workers), "--redis", redis.url),
            *("--scenes", str(scenes), "--rest-port", str(rest_port), "--rollout-poll", "0.5"),
        ]
        with started(command, work / "serve.log", ready_timeout=120) as provider:
            rest = f"http://127.0.0.1:{rest_port}"
            pids = _worker_pids(provider.log_path, provider.process.pid)
            return _drive(scenario, classpath, provider.url, rest, root, versions, pids, load_start)
    finally:
        redis.close()


def _worker_pids(log_path: Path, parent: int) -> list[int]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = _PIDS.search(log_path.read_text(errors="replace"))
        if found:
            return [int(p) for p in found.group(1).split(",")]
        time.sleep(0.05)
    return [parent]  # one worker: the process itself


def _drive(
    scenario: Scenario,
    classpath: str,
    url: str,
    rest: str,
    root: Path,
    versions: list[str],
    pids: list[int],
    load_start: float,
) -> Outcome:
    events_planned = [("publish", v) for v in versions[1:]] + (
        [("rollback", versions[-2])] if scenario.rollback else []
    )
    seconds = LOAD_LIMIT_SECONDS  # the longest the load may run; it stops (--stop-file) when the events are done
    calls_file, stop_file = scenario.work / "calls.csv", scenario.work / "stop"
    java = subprocess.Popen(
        [
            *("java", LOOPBACK, QUIET, "-cp", classpath, "org.dubborecsys.bench.LoadGenerator"),
            *("--target", f"rollout={url}@{2 * scenario.workers}", "--call", "recommend", "--users", "943"),
            *("--threads", str(scenario.rate_threads), "--rounds", "1", "--requests", "10000000"),
            *("--seconds", f"{seconds:.0f}", "--warmup-seconds", "0", "--stop-file", str(stop_file)),
            *("--initial-warmup-seconds", str(scenario.warmup_seconds), "--rate", str(scenario.rate)),
            *("--check-versions", "1", "--calls-out", str(calls_file)),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    killer = threading.Timer(seconds + scenario.warmup_seconds + 300, java.kill)
    killer.start()
    lines: list[str] = []
    measuring = threading.Event()

    def read() -> None:
        assert java.stdout is not None
        for line in java.stdout:
            lines.append(line)
            if line.strip() == "measure-start":
                measuring.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    rss: dict[int, list[tuple[float, int]]] = {pid: [] for pid in pids}
    sampling = threading.Event()

    def sample() -> None:
        while not sampling.wait(0.2):
            now = time.time()
            for pid in pids:
                rss[pid].append((now, rss_of(pid)))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    events: list[Event] = []
    try:
        if not measuring.wait(scenario.warmup_seconds + 90):
            raise RuntimeError(f"the load generator did not start measuring:\n{''.join(lines)[-3000:]}")
        measure_start = time.time()
        time.sleep(scenario.steady_seconds)
        for kind, version in events_planned:
            if java.poll() is not None:
                break  # the load ended first (its longest run): the events left would be measured by nothing
            if kind == "publish":
                dubbo_recsys("publish", "--artifact-root", str(root), "--version", version)
            else:
                dubbo_recsys("rollback", "--artifact-root", str(root))
            event = Event(kind, version, time.time())
            events.append(event)
            rows = wait_all_serving(rest, version, scenario.workers, scenario.swap_timeout)
            event.workers = {str(r["worker"]): float(r["serving_since"]) for r in rows}
            event.load_rss = {str(r["worker"]): int(r["load_rss_bytes"]) for r in rows}
            event.done_at = max(event.workers.values())
            time.sleep(scenario.settle_seconds)
        metrics, console = get_text(f"{rest}/metrics"), get_json(f"{rest}/console/state")
        stop_file.touch()
        java.wait(timeout=60)
        reader.join(timeout=10)
    finally:
        killer.cancel()
        sampling.set()
        if java.poll() is None:
            java.kill()
            java.wait()
    err = java.stderr.read() if java.stderr is not None else ""
    for pipe in (java.stdout, java.stderr):
        if pipe is not None:
            pipe.close()
    summary = [json.loads(line) for line in lines if line.startswith("{")]
    if java.returncode != 0 or len(summary) != 1:
        raise RuntimeError(f"load generator failed ({java.returncode}):\n{''.join(lines)[-3000:]}{err[-3000:]}")
    with calls_file.open() as handle:
        calls = [
            (float(row["epoch_ms"]) / 1000, float(row["latency_us"]) / 1000, row["ok"] == "1", row["version"])
            for row in csv.DictReader(handle)
        ]
    return Outcome(
        summary[0], calls, events, versions, rss, measure_start, metrics, console, (load_start, os.getloadavg()[0])
    )
