"""``recommend`` through the whole funnel over dubbo://, measured by the Java load generator.

    python bench/funnel/run_bench.py [--artifacts DIR] [--workers 1,2] [--threads 8] [--seconds 20] [--warmup 5]

What runs, all on 127.0.0.1: a private ``redis-server`` loaded with ``dubbo-recsys load``;
``dubbo-recsys serve --artifacts DIR --redis URL --scenes <home = default scene> --workers W``
(Redis features, Faiss recall, the in-process ranker when the artifacts hold it, MMR), once per
worker count; bench/rpc/java's ``LoadGenerator`` (a Dubbo 3.3 consumer) calling ``recommend``
for the ML-100K users "1".."943" in turn (``--users``), ``--threads`` callers, a warm-up and then
``--seconds`` of measurement or ``--requests`` calls, whichever ends first. Answers not from the
full pipeline are counted as degraded (deadline or fault), wrong answers as errors.

Before the load, the Python client sends ``--profile`` sequential requests with ``debug=true``
and the per-stage milliseconds of their traces are summarised: where one request's time goes.

Each run is bounded: provider start (< 90 s wait), warm-up + measurement (< 60 s), so under 2
minutes per worker count. Writes bench/funnel/RESULTS.md (with the exact command).
Target: >= 300 requests/s at p99 <= 50 ms.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Sequence

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(REPO_ROOT / "bench" / "rpc"))

from run_bench import LOOPBACK, QUIET, build_java  # noqa: E402  (bench/rpc/run_bench.py)

from interfaces.recommend import RecommendRequest  # noqa: E402
from provider.client import DubboClient  # noqa: E402
from tests.funnel.peers import RedisServer, funnel_command, recommend  # noqa: E402
from tests.java_sample.provider_process import started  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
TARGET_RPS, TARGET_P99_MS = 300.0, 50.0


async def profile(host: str, port: int, users: Sequence[str], count: int) -> dict[str, list[float]]:
    """Per-stage milliseconds (and the whole call's, as seen by the client) of sequential debug requests."""
    stages: dict[str, list[float]] = {}
    async with await DubboClient.connect(host, port) as client:
        for n in range(count):
            began = time.perf_counter()
            answer = await recommend(client, RecommendRequest(userId=users[n % len(users)], scene="home", count=10,
                                                              debug=True))
            stages.setdefault("(call, client side)", []).append((time.perf_counter() - began) * 1000)
            stages.setdefault(f"pipeline={answer.pipeline}", []).append(1.0)
            for stage, text in (answer.debugInfo or {}).items():
                trace = json.loads(text)
                if isinstance(trace, dict) and "millis" in trace:
                    stages.setdefault(stage, []).append(trace["millis"])
                else:
                    stages.setdefault(f"({stage}: {text[:200]})", []).append(0.0)
    return stages


def percentile(values: Sequence[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, int(round(p * len(ordered) + 0.5)) - 1))]


def load(url: str, name: str, classpath: str, args: argparse.Namespace, connections: int) -> dict:
    command = ["java", LOOPBACK, QUIET, "-cp", classpath, "org.dubborecsys.bench.LoadGenerator",
               "--target", f"{name}={url}@{connections}", "--call", "recommend", "--users", "943",
               "--threads", str(args.threads), "--rounds", "1", "--requests", str(args.requests),
               "--seconds", str(args.seconds), "--warmup-seconds", "0", "--initial-warmup-seconds", str(args.warmup)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=90 + args.seconds + args.warmup, check=False)
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or len(lines) != 1:
        sys.exit(f"load generator failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    return lines[0]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--artifacts", type=Path, default=os.environ.get("ARTIFACTS_ML100K"))
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20.0, help="measured seconds per run (max 45)")
    parser.add_argument("--warmup", type=float, default=5.0, help="warm-up seconds per run (max 15)")
    parser.add_argument("--requests", type=int, default=30_000, help="cap on measured calls per run")
    parser.add_argument("--profile", type=int, default=200, help="sequential debug requests per run (max 1000)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    workers = [int(w) for w in args.workers.split(",")]
    if (args.artifacts is None or not (Path(args.artifacts) / "manifest.json").is_file()
            or not 0 < args.seconds <= 45 or not 0 <= args.warmup <= 15 or not 1 <= args.threads <= 64
            or not 0 <= args.profile <= 1000 or not all(1 <= w <= 4 for w in workers)):
        parser.error("--artifacts DIR (or ARTIFACTS_ML100K) and bounded runs: --seconds 0..45, --warmup 0..15, "
                     "--threads 1..64, --profile 0..1000, --workers 1..4 each")
    artifacts = Path(args.artifacts)
    users = (artifacts / "ids/users.txt").read_text().split()
    began, load_start = time.monotonic(), os.getloadavg()[0]
    classpath = build_java()
    runs = []
    redis = RedisServer()
    with tempfile.TemporaryDirectory(prefix="funnel-bench-") as work:
        scenes = Path(work) / "scenes"
        scenes.mkdir()
        (scenes / "home.json").write_text(json.dumps({"dataId": "home", "content": {"version": "1"}}))
        try:
            redis.start()
            redis.load(artifacts)
            for count in workers:
                command = funnel_command(artifacts, "--scenes", str(scenes), redis_url=redis.url, workers=count)
                run_began = time.monotonic()
                with started(command, Path(work) / f"serve-w{count}.log", ready_timeout=90) as provider:
                    stages = asyncio.run(profile(provider.host, provider.port, users, args.profile))
                    result = load(provider.url, f"python-w{count}", classpath, args, connections=2 * count)
                runs.append({"workers": count, "stages": stages, "result": result, "load": os.getloadavg()[0],
                             "seconds": time.monotonic() - run_began})
                print(f"workers {count}: {result['throughput']:.0f}/s p50 {result['p50_us'] / 1000:.1f} ms "
                      f"p99 {result['p99_us'] / 1000:.1f} ms errors {result['errors']} degraded {result['degraded']}")
        finally:
            redis.close()
    command = "python bench/funnel/run_bench.py " + " ".join(argv if argv is not None else sys.argv[1:])
    text = report(runs, args, command.strip(), load_start, time.monotonic() - began)
    args.out.write_text(text)
    print(text)
    return 0


def report(runs: list[dict], args: argparse.Namespace, command: str, load_start: float, seconds: float) -> str:
    out = [
        "# Funnel benchmark: `recommend` through the whole pipeline over dubbo://",
        "",
        f"Command: `{command}`  ",
        f"Run: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {seconds:.0f} s in all. Machine: {os.cpu_count()} "
        f"cores shared with other work (load average {load_start:.1f} at start); the Java load generator, the "
        "provider(s) and Redis all on those cores.  ",
        f"Load: bench/rpc/java LoadGenerator (Dubbo 3.3), {args.threads} threads, 2 connections per worker, users "
        f"1..943 in turn, scene `home` (the default funnel), {args.warmup} s warm-up then {args.seconds} s "
        f"(or {args.requests} calls).",
        "",
        "| workers | throughput (req/s) | p50 ms | p99 ms | p99.9 ms | max ms | errors | degraded | load avg after | target |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for run in runs:
        r = run["result"]
        met = r["throughput"] >= TARGET_RPS and r["p99_us"] / 1000 <= TARGET_P99_MS and r["errors"] == 0
        out.append(f"| {run['workers']} | {r['throughput']:,.0f} | {r['p50_us'] / 1000:.1f} | {r['p99_us'] / 1000:.1f} | "
                   f"{r['p999_us'] / 1000:.1f} | {r['max_us'] / 1000:.1f} | {r['errors']} | {r['degraded']} | "
                   f"{run['load']:.1f} | {'met' if met else 'NOT met'} |")
    out += ["", f"Target: >= {TARGET_RPS:.0f} requests/s at p99 <= {TARGET_P99_MS:.0f} ms, no errors.", "",
            f"Where one request's time goes: {args.profile} sequential `debug=true` requests before each load "
            "(per-stage milliseconds from the provider's traces; the call as the Python client saw it):", ""]
    for run in runs:
        out += [f"workers {run['workers']}:", "", "| stage | median ms | p99 ms | share of summed medians |",
                "| --- | --- | --- | --- |"]
        stages = {k: v for k, v in run["stages"].items() if not k.startswith("pipeline=") and not k.startswith("(")}
        total = sum(statistics.median(v) for v in stages.values()) or 1.0
        for name, values in list(stages.items()) + [(k, v) for k, v in run["stages"].items() if k.startswith("(")]:
            share = f"{statistics.median(values) / total:.0%}" if name in stages else ""
            out.append(f"| {name} | {statistics.median(values):.2f} | {percentile(values, 0.99):.2f} | {share} |")
        answered = {k.split("=", 1)[1]: len(v) for k, v in run["stages"].items() if k.startswith("pipeline=")}
        out += ["", f"answered by: {answered}", ""]
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main())
