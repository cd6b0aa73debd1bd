"""RPC throughput through the service API against a reference commit of this repository, in one run.

    python bench/service_api/run_bench.py [--reference main] [--rounds 5] [--seconds 3] [--threads 16]

Two providers, both ``dubbo-recsys serve --workers 1`` on 127.0.0.1 answering from the
popularity list: this tree's (built-in services on ``provider.service``: arguments checked
against the hints, results written by the return type) and the reference commit's (checked
out in a temporary git worktree with its own virtualenv, compiled codec included). One
Java load generator (bench/rpc/java, Dubbo 3.3.6) measures both, interleaved round after
round, ``$echo`` and ``recommend`` (count 10), so the load others put on the shared cores
hits both alike; the ratio is taken within each round and the median over rounds reported.
Beside it, ``cpu_per_call.py`` measures each tree's CPU time per call in-process, which the
load of a shared machine disturbs far less. Writes bench/service_api/RESULTS.md.

Target (issue 12): ``recommend`` throughput through the new API within 5% of the reference's.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from argparse import Namespace
from collections.abc import Iterator, Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))

from bench.rpc import run_bench as rpc  # noqa: E402 - after sys.path gets the repository
from tests.java_sample.provider_process import started  # noqa: E402 - after sys.path gets the repository

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
TARGETS = (rpc.Target("ours", "ours", 1), rpc.Target("reference", "reference", 1))


@contextlib.contextmanager
def reference_checkout(ref: str, where: Path) -> Iterator[tuple[str, Path]]:
    """A worktree of ``ref`` with a virtualenv of its own (this one's packages, its code); yields its
    python and the tree."""
    tree = where / "tree"
    subprocess.run(
        ["git", "worktree", "add", "--detach", str(tree), ref], cwd=REPO_ROOT, check=True, capture_output=True
    )
    try:
        venv = where / "venv"
        subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
        python = str(venv / "bin" / "python")
        subprocess.run(
            [python, "-m", "pip", "install", "-q", "--no-deps", "-e", "./hessian2", "-e", "."],
            cwd=tree,
            check=True,
        )
        yield python, tree
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=REPO_ROOT, check=False)


def serve(python: str) -> list[str]:
    # -P: the working directory (this tree, holding hessian2/) must not shadow the interpreter's own install
    cli = [python, "-P", "-m", "dubbo_recsys.provider.cli"]
    return [*cli, "serve", "--host", "127.0.0.1", "--port", "0", "--workers", "1"]


def cpu_per_call(python: str, tree: Path) -> dict[str, list[float]]:
    """``cpu_per_call.py`` run by ``python`` in ``tree``: CPU microseconds per in-process call."""
    script = Path(__file__).with_name("cpu_per_call.py")
    done = subprocess.run(
        [python, "-P", str(script)], cwd=tree, capture_output=True, text=True, timeout=600, check=True
    )
    result: dict[str, list[float]] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def report(
    rounds: list[dict],
    cpu: dict[str, dict[str, list[float]]],
    args: Namespace,
    ref: str,
    load: tuple[float, float],
    seconds: float,
) -> str:
    command = "python bench/service_api/run_bench.py " + " ".join(sys.argv[1:])
    commit, head = (
        subprocess.run(["git", "rev-parse", "--short", r], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
        for r in (ref, "HEAD")
    )
    out = [
        "# Service API overhead: RPC throughput against a reference commit",
        "",
        f"Command: `{command.strip()}`  ",
        f"Run: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; ours = {head.stdout.strip()} (this tree), "
        f"reference = {ref} ({commit.stdout.strip()}); {len(rounds)} interleaved rounds, {args.threads} consumer "
        f"threads on 1 connection each, {args.initial_warmup} s warm-up per target and call first, then "
        f"{args.warmup} s + {args.seconds} s per measurement; {seconds:.0f} s in all.  ",
        f"Machine: {os.cpu_count()} cores shared with other work (load average {load[0]:.1f} at start, "
        f"{load[1]:.1f} at end); the Java load generator and both providers on the same cores.",
        "",
        "| call | ours calls/s | reference calls/s | ratio (median of per-round ratios) | ours p99 ms | ref p99 ms |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    verdicts = []
    for call in rpc.CALLS:
        ratio = statistics.median(r["ours"][call]["throughput"] / r["reference"][call]["throughput"] for r in rounds)
        med = {t.name: statistics.median(r[t.name][call]["throughput"] for r in rounds) for t in TARGETS}
        p99 = {t.name: statistics.median(r[t.name][call]["p99_us"] for r in rounds) / 1000 for t in TARGETS}
        out.append(
            f"| {call} | {med['ours']:,.0f} | {med['reference']:,.0f} | {ratio:.3f}x | "
            f"{p99['ours']:.2f} | {p99['reference']:.2f} |"
        )
        verdicts.append((call, ratio))
    out += [
        "",
        "Every round (calls/s, ours / reference):",
        "",
        "| round | " + " | ".join(rpc.CALLS) + " |",
        "| --- |" + " --- |" * len(rpc.CALLS),
    ]
    for n, r in enumerate(rounds, 1):
        cells = [f"{r['ours'][c]['throughput']:,.0f} / {r['reference'][c]['throughput']:,.0f}" for c in rpc.CALLS]
        out.append(f"| {n} | " + " | ".join(cells) + " |")
    out += [
        "",
        "CPU time per call in-process (`Exchange.answer`: decode, dispatch, encode, framing; thread CPU time,",
        "min / median over 60 batches of 1,000 calls; `cpu_per_call.py`, run by each tree's interpreter):",
        "",
        "| call | ours us | reference us | ratio of medians |",
        "| --- | --- | --- | --- |",
    ]
    for call in ("echo", "recommend", "seed"):
        ours, ref_cpu = cpu["ours"][call], cpu["reference"][call]
        out.append(
            f"| {call} | {ours[0]:.1f} / {ours[1]:.1f} | {ref_cpu[0]:.1f} / {ref_cpu[1]:.1f} | "
            f"{ours[1] / ref_cpu[1]:.3f}x |"
        )
    ratio = dict(verdicts)["recommend"]
    out += [
        "",
        f"Target (recommend throughput within 5% of the reference's): **{'met' if ratio >= 0.95 else 'NOT met'}** "
        f"({ratio:.3f}x).",
        "",
    ]
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reference", default="main", help="git ref to compare with (default main)")
    parser.add_argument("--rounds", type=int, default=5, choices=range(1, 10))
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--warmup", type=float, default=0.5)
    parser.add_argument("--initial-warmup", type=float, default=2.0)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--requests", type=int, default=500_000)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if not 0 < args.seconds <= 30 or not 0 <= args.warmup <= 10 or not 1 <= args.threads <= 64:
        parser.error("keep runs bounded: --seconds 0..30, --warmup 0..10, --threads 1..64")
    began, load_start = time.monotonic(), os.getloadavg()[0]
    classpath = rpc.build_java()
    where = Path(tempfile.mkdtemp(prefix="service-api-bench-"))
    try:
        with reference_checkout(args.reference, where) as (ref_python, ref_tree), contextlib.ExitStack() as stack:
            cpu = {
                name: cpu_per_call(python, tree)
                for _ in range(2)  # alternated, twice: the second pair is what is reported
                for name, python, tree in (("ours", sys.executable, REPO_ROOT), ("reference", ref_python, ref_tree))
            }
            urls = {
                "ours": stack.enter_context(started(serve(sys.executable), where / "ours.log", ready_timeout=90)).url,
                "reference": stack.enter_context(started(serve(ref_python), where / "ref.log", ready_timeout=90)).url,
            }
            rounds = rpc.measure(urls, classpath, args, TARGETS)
    finally:
        shutil.rmtree(where, ignore_errors=True)
    text = report(rounds, cpu, args, args.reference, (load_start, os.getloadavg()[0]), time.monotonic() - began)
    args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
