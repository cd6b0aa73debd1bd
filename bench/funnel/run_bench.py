"""``recommend`` through the whole funnel over dubbo://, measured by the Java load generator.

    python bench/funnel/run_bench.py [--artifacts DIR] [--workers 1,2] [--threads 8] [--seconds 20] [--warmup 5]
                                     [--rate 300 [--rate-threads 64]] [--tf-threads 1]

What runs, all on 127.0.0.1: a private ``redis-server`` loaded with ``dubbo-recsys load``;
``dubbo-recsys serve --artifacts DIR --redis URL --scenes <home = default scene> --workers W``
(Redis features, Faiss recall, the in-process ranker when the artifacts hold it, MMR), once per
worker count; bench/rpc/java's ``LoadGenerator`` (a Dubbo 3.3 consumer) calling ``recommend``
for the ML-100K users "1".."943" in turn (``--users``), ``--threads`` callers, a warm-up and then
``--seconds`` of measurement or ``--requests`` calls, whichever ends first. Answers not from the
full pipeline are counted as degraded (deadline or fault), wrong answers as errors.

Two load models. The closed loop (always): ``--threads`` callers each send their next call when
the last one answered, so at saturation it measures throughput, and its latency is mostly time
spent queueing behind the other callers. The open loop (``--rate R``, after the closed loop, on
the same provider): calls are scheduled at R per second whatever the provider does, up to
``--rate-threads`` in flight, and each latency counts from the scheduled send time, so a provider
that falls behind shows it in p99 (no coordinated omission). The target is judged on both: the
closed loop's throughput, and p99 at the target rate.

Over each measured phase (the LoadGenerator prints ``measure-start``/``measure-end`` around it) the
provider's CPU time (parent and workers, from /proc), Redis's and the load generator's own are
sampled and divided by the calls: CPU milliseconds per call, which unlike latency hardly depends
on what else the shared machine runs (the load generator's share is CPU the provider cannot use).

Before the load, the Python client sends ``--profile`` sequential requests with ``debug=true``
and the per-stage milliseconds of their traces are summarised: where one request's time goes.

Each run is bounded: provider start (< 90 s wait), warm-up + measurement (< 60 s per load model),
so under 3 minutes per worker count. Writes bench/funnel/RESULTS.md (with the exact command).
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
import threading
import time
from collections.abc import Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(REPO_ROOT / "bench" / "rpc"))

from run_bench import LOOPBACK, QUIET, build_java  # noqa: E402 - bench/rpc/run_bench.py, on sys.path above

from dubbo_recsys.interfaces.recommend import RecommendRequest  # noqa: E402 - after the sys.path set-up above
from dubbo_recsys.provider.client import DubboClient  # noqa: E402 - after the sys.path set-up above
from tests.funnel.peers import RedisServer, funnel_command, recommend  # noqa: E402 - after the sys.path set-up above
from tests.java_sample.provider_process import started  # noqa: E402 - after the sys.path set-up above

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
TARGET_RPS, TARGET_P99_MS = 300.0, 50.0


async def profile(host: str, port: int, users: Sequence[str], count: int) -> dict[str, list[float]]:
    """Per-stage milliseconds (and the whole call's, as seen by the client) of sequential debug requests."""
    stages: dict[str, list[float]] = {}
    async with await DubboClient.connect(host, port) as client:
        for n in range(count):
            began = time.perf_counter()
            answer = await recommend(
                client, RecommendRequest(userId=users[n % len(users)], scene="home", count=10, debug=True)
            )
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
    return ordered[max(0, min(len(ordered) - 1, round(p * len(ordered) + 0.5) - 1))]


def load(
    url: str,
    name: str,
    classpath: str,
    args: argparse.Namespace,
    connections: int,
    provider_pid: int,
    redis_pid: int,
    rate: float = 0.0,
) -> dict:
    """One LoadGenerator run: the closed loop of ``--threads`` callers, or (``rate`` > 0) the open loop; adds the
    provider's, Redis's and the load generator's CPU milliseconds per measured call."""
    threads = args.rate_threads if rate else args.threads
    command = [
        "java",
        LOOPBACK,
        QUIET,
        "-cp",
        classpath,
        "org.dubborecsys.bench.LoadGenerator",
        "--target",
        f"{name}={url}@{connections}",
        "--call",
        "recommend",
        "--users",
        "943",
        "--threads",
        str(threads),
        "--rounds",
        "1",
        "--requests",
        str(args.requests),
        "--seconds",
        str(args.seconds),
        "--warmup-seconds",
        "0",
        "--initial-warmup-seconds",
        str(args.warmup),
        "--rate",
        str(rate),
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    timer = threading.Timer(90 + args.seconds + args.warmup, process.kill)  # bounded, whatever happens
    timer.start()
    out, cpu = [], {}
    try:
        assert process.stdout is not None
        for line in process.stdout:  # sample the provider's and Redis's CPU time over the measured calls only
            out.append(line)
            if line.strip() in ("measure-start", "measure-end"):
                cpu[line.strip()] = (cpu_seconds(provider_pid), cpu_seconds(redis_pid), cpu_seconds(process.pid))
        err = process.stderr.read() if process.stderr is not None else ""
        process.wait()
    finally:
        timer.cancel()
    lines = [json.loads(line) for line in out if line.startswith("{")]
    if process.returncode != 0 or len(lines) != 1 or len(cpu) != 2:
        sys.exit(f"load generator failed:\n{''.join(out)[-3000:]}{err[-3000:]}")
    result = lines[0]
    calls = max(1, result["calls"] + result["errors"])
    for n, name in enumerate(("provider_cpu_ms", "redis_cpu_ms", "java_cpu_ms")):
        result[name] = (cpu["measure-end"][n] - cpu["measure-start"][n]) * 1000 / calls
    return result


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and of its live children (the serve workers), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        if int(entry.name) == pid or int(fields[1]) == pid:  # fields: state ppid ... utime(12) stime(13)
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--artifacts", type=Path, default=os.environ.get("ARTIFACTS_ML100K"))
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20.0, help="measured seconds per run (max 45)")
    parser.add_argument("--warmup", type=float, default=5.0, help="warm-up seconds per run (max 15)")
    parser.add_argument("--requests", type=int, default=30_000, help="cap on measured calls per run")
    parser.add_argument("--profile", type=int, default=200, help="sequential debug requests per run (max 1000)")
    parser.add_argument(
        "--rate", type=float, default=0.0, help="also run the open loop at this many requests/s (0 = closed loop only)"
    )
    parser.add_argument("--rate-threads", type=int, default=64, help="open loop: most calls in flight (default 64)")
    parser.add_argument(
        "--tf-threads", type=int, default=None, help="passed to serve --tf-threads (default: serve's own default)"
    )
    parser.add_argument(
        "--full-concurrency",
        type=int,
        default=None,
        help="passed to serve --full-concurrency (0 = no bound; default: serve's own)",
    )
    parser.add_argument(
        "--light-concurrency",
        type=int,
        default=None,
        help="passed to serve --light-concurrency (0 = no bound; default: serve's own)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    workers = [int(w) for w in args.workers.split(",")]
    if (
        args.artifacts is None
        or not (Path(args.artifacts) / "manifest.json").is_file()
        or not 0 < args.seconds <= 45
        or not 0 <= args.warmup <= 15
        or not 1 <= args.threads <= 64
        or not 0 <= args.profile <= 1000
        or not all(1 <= w <= 4 for w in workers)
        or not 0 <= args.rate <= 5000
        or not 1 <= args.rate_threads <= 256
    ):
        parser.error(
            "--artifacts DIR (or ARTIFACTS_ML100K) and bounded runs: --seconds 0..45, --warmup 0..15, "
            "--threads 1..64, --profile 0..1000, --workers 1..4 each, --rate 0..5000, --rate-threads 1..256"
        )
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
                extra = ["--scenes", str(scenes)]
                for flag in ("tf_threads", "full_concurrency", "light_concurrency"):
                    if getattr(args, flag) is not None:
                        extra += ["--" + flag.replace("_", "-"), str(getattr(args, flag))]
                command = funnel_command(artifacts, *extra, redis_url=redis.url, workers=count)
                run_began = time.monotonic()
                with started(command, Path(work) / f"serve-w{count}.log", ready_timeout=90) as provider:
                    stages = asyncio.run(profile(provider.host, provider.port, users, args.profile))
                    pids = (provider.process.pid, redis.process.pid if redis.process is not None else -1)
                    results = [load(provider.url, f"python-w{count}", classpath, args, 2 * count, *pids)]
                    if args.rate:
                        results.append(
                            load(provider.url, f"python-w{count}", classpath, args, 2 * count, *pids, rate=args.rate)
                        )
                for result in results:
                    runs.append(
                        {
                            "workers": count,
                            "stages": stages,
                            "result": result,
                            "load": os.getloadavg()[0],
                            "seconds": time.monotonic() - run_began,
                        }
                    )
                    print(
                        f"workers {count} {model(result, args)}: {result['throughput']:.0f}/s "
                        f"p50 {result['p50_us'] / 1000:.1f} ms p99 {result['p99_us'] / 1000:.1f} ms "
                        f"errors {result['errors']} degraded {result['degraded']} late {result.get('late', 0)} "
                        f"CPU ms/call provider {result['provider_cpu_ms']:.2f} redis {result['redis_cpu_ms']:.2f} "
                        f"java {result['java_cpu_ms']:.2f}"
                    )
        finally:
            redis.close()
    command = "python bench/funnel/run_bench.py " + " ".join(argv if argv is not None else sys.argv[1:])
    text = report(runs, args, command.strip(), load_start, time.monotonic() - began)
    args.out.write_text(text + kept_notes(args.out))
    print(text)
    return 0


def model(result: dict, args: argparse.Namespace) -> str:
    rate = result.get("rate", 0.0)
    return f"open loop, {rate:.0f}/s" if rate else f"closed loop, {args.threads} callers"


def met(result: dict) -> bool:
    """The target: the closed loop's throughput, or the open loop's p99 at (at least) the target rate; no
    errors, and at most 0.1% of the answers degraded (a fallback answer is not the funnel's)."""
    if result["errors"] or result["degraded"] > result["calls"] / 1000:
        return False
    if result.get("rate", 0.0):
        return result["rate"] >= TARGET_RPS and result["p99_us"] / 1000 <= TARGET_P99_MS
    return result["throughput"] >= TARGET_RPS and result["p99_us"] / 1000 <= TARGET_P99_MS


def kept_notes(path: Path) -> str:
    """The hand-written sections of an existing RESULTS.md (from the first "## ... (hand-written" heading on):
    a new run replaces the measured part above them, never the notes."""
    if not path.is_file():
        return ""
    lines = path.read_text().splitlines(keepends=True)
    for number, line in enumerate(lines):
        if line.startswith("## ") and "(hand-written" in line:
            return "\n" + "".join(lines[number:])
    return ""


def report(runs: list[dict], args: argparse.Namespace, command: str, load_start: float, seconds: float) -> str:
    out = [
        "# Funnel benchmark: `recommend` through the whole pipeline over dubbo://",
        "",
        f"Command: `{command}`  ",
        f"Run: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {seconds:.0f} s in all. Machine: {os.cpu_count()} "
        f"cores shared with other work (load average {load_start:.1f} at start); the Java load generator, the "
        "provider(s) and Redis all on those cores.  ",
        f"Load: bench/rpc/java LoadGenerator (Dubbo 3.3), 2 connections per worker, users 1..943 in turn, scene "
        f"`home` (the default funnel), {args.warmup} s warm-up then {args.seconds} s (or {args.requests} calls) per "
        f"load model: the closed loop of {args.threads} callers"
        + (
            f", then the open loop at {args.rate:.0f} requests/s (up to {args.rate_threads} in flight, latency from "
            "the scheduled send time; 'late' = sent over 1 ms after it)."
            if args.rate
            else "."
        ),
        "",
        "| workers | load | throughput (req/s) | p50 ms | p99 ms | p99.9 ms | max ms | errors | degraded | late "
        "| CPU ms/call: provider | Redis | load generator | load avg after | target |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for run in runs:
        r = run["result"]
        out.append(
            f"| {run['workers']} | {model(r, args)} | {r['throughput']:,.0f} | {r['p50_us'] / 1000:.1f} | "
            f"{r['p99_us'] / 1000:.1f} | {r['p999_us'] / 1000:.1f} | {r['max_us'] / 1000:.1f} | {r['errors']} | "
            f"{r['degraded']} | {r.get('late', '')} | {r['provider_cpu_ms']:.2f} | {r['redis_cpu_ms']:.2f} | "
            f"{r['java_cpu_ms']:.2f} | "
            f"{run['load']:.1f} | {'met' if met(r) else 'NOT met'} |"
        )
    out += [
        "",
        f"Target: >= {TARGET_RPS:.0f} requests/s at p99 <= {TARGET_P99_MS:.0f} ms, no errors: judged on the "
        "closed loop's throughput and p99, and on p99 in the open loop at the target rate; at most 0.1% of the answers "
        "degraded.",
        "",
        f"Where one request's time goes: {args.profile} sequential `debug=true` requests before each load "
        "(per-stage milliseconds from the provider's traces; the call as the Python client saw it):",
        "",
    ]
    for run in [r for n, r in enumerate(runs) if n == 0 or runs[n - 1]["workers"] != r["workers"]]:
        out += [
            f"workers {run['workers']}:",
            "",
            "| stage | median ms | p99 ms | share of summed medians |",
            "| --- | --- | --- | --- |",
        ]
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
