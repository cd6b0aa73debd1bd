"""Live artifact rollout under load, a Nacos fleet following a publish, and the gate on broken builds.

    python bench/rollout/run_bench.py [--artifacts DIR] [--runs 1] [--rate 300] [--workers 2] [--swaps 3]
                                      [--steady 15] [--settle 8] [--warmup 5] [--fleet] [--out RESULTS.md]

Load (``tests.rollout.harness``, once per ``--runs``): ``dubbo-recsys serve --artifact-root ROOT --workers 2``
over Redis features; bench/rpc/java's ``LoadGenerator`` (Dubbo 3.3) in the open loop at ``--rate`` calls/s
over dubbo://, every answer checked for one artifact version across its stages; ``--steady`` seconds, then
``--swaps`` publishes and one rollback, each followed by ``--settle`` seconds. Versions are copies of one
ML-100K build (``tests.rollout.versions``). Reported: failed calls, answers mixing versions, p99 of the calls
scheduled during a swap (from a second before the command to 2 s after the last worker swapped) against the
steady p99 of the same run (the calls outside those windows: before the first command and in the settle
periods between swaps, so outside load weighs on both), and each worker's peak RSS during the swaps against
its RSS with one version (median before the first command), also as "versions held at the peak"
(1 + the growth over the version's own memory, what its load added to the RSS).

Fleet (``--fleet``, needs NACOS_ADDR): two providers registered in the real Nacos (``tests.rollout.fleet``);
per publish and per rollback, the seconds from the command's return until each provider's Nacos instance
metadata names the version. Then each deliberately broken build (``tests/rollout/test_gate.py``'s list) is
pinned for the fleet twice (written directly: ``dubbo-recsys publish`` checks the files itself and would refuse
some of them first) and must be refused by both providers each time, the good version serving.

Targets: 0 failed, 0 mixed, p99 during a swap <= 2x the steady p99, peak RSS <= 2.2x one version;
each provider of the fleet follows a publish within 10 s; every broken build refused every time.
Writes bench/rollout/RESULTS.md with the command and the load average.
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
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))

from dubbo_recsys.provider.rollout.pin import PIN_GROUP, Pin  # noqa: E402 - after the sys.path set-up above
from dubbo_recsys.provider.rollout.pins import write_pin  # noqa: E402 - after the sys.path set-up above
from tests.rollout import versions as v  # noqa: E402 - after the sys.path set-up above
from tests.rollout.fleet import fleet  # noqa: E402 - after the sys.path set-up above
from tests.rollout.harness import Outcome, Scenario, build_java, run_scenario  # noqa: E402 - after the sys.path set-up above

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
MiB = 1024 * 1024
BROKEN = {
    "truncated Faiss index (manifest stale)": ({"manifest_after": v.truncate_index}, "checksum"),
    "truncated Faiss index (manifest rewritten)": ({"change": v.truncate_index}, "index"),
    "NaN item vectors": ({"change": v.nan_in_embeddings}, "finite"),
    "NaN DIN weight": ({"change": v.nan_in_din_variables}, "finite"),
    "DIN model with the wrong signature": ({"change": v.wrong_din_signature}, "signature"),
    "collapsed offline metric": ({"metrics": {"rank_fusion_validation_fused_ndcg@10": 0.01}}, "metric"),
}


def version_memory(artifacts: Path, work: Path) -> dict[str, int]:
    """bench/rollout/version_memory.py on two versions of ``artifacts``: RSS with none, one and two loaded."""
    root = work / "memory-root"
    first, second = v.derive(artifacts, root), v.derive(artifacts, root, v.reorder_hot)
    done = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("version_memory.py")), str(root), first, second],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        sys.exit(f"version_memory.py failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return dict(json.loads(lines[0]))


def load_rows(outcome: Outcome, own: int) -> dict:
    steady, swaps = outcome.between, outcome.swap_windows
    one = {pid: statistics.median(s) for pid, s in outcome.rss_in([outcome.steady]).items() if s}
    peak = {pid: max(s) for pid, s in outcome.rss_in(swaps).items() if s}

    return {
        "calls": outcome.summary["calls"],
        "failed": outcome.summary["errors"],
        "mixed": outcome.summary["mixed"],
        "degraded": outcome.summary["degraded"],
        "p99_steady": outcome.p99(steady),
        "p99_swap": outcome.p99(swaps),
        "p50_steady": _p(outcome, steady, 0.5),
        "p50_swap": _p(outcome, swaps, 0.5),
        "n_steady": len(outcome.in_windows(steady)),
        "n_swap": len(outcome.in_windows(swaps)),
        "rss_one": one,
        "rss_peak": peak,
        "version_bytes": own,  # one version's own memory, measured alone (version_memory.py)
        "events": [(e.kind, e.version, e.done_at - e.at) for e in outcome.events],
        "load": outcome.load_average,
    }


def _p(outcome: Outcome, windows: list, q: float) -> float:
    from tests.rollout.harness import percentile

    return percentile([c[1] for c in outcome.in_windows(windows) if c[2]], q)


def run_fleet(artifacts: Path, work: Path) -> dict:
    nacos = os.environ.get("NACOS_ADDR")
    if not nacos:
        sys.exit("--fleet needs NACOS_ADDR (a Nacos server: tests/ci/30-nacos.sh starts one)")
    root = work / "fleet-root"
    a, b, c = v.derive(artifacts, root), v.derive(artifacts, root, v.reorder_hot), v.derive(artifacts, root)
    broken = {name: v.derive(artifacts, root, **how) for name, (how, _check) in BROKEN.items()}
    found: dict = {"follow": [], "gate": {}}
    with fleet(nacos, root, work, providers=2, pin=a) as providers:
        providers.wait(a, 120)
        for command, args, version in (
            ("publish", ["--version", b], b),
            ("publish", ["--version", c], c),
            ("rollback", [], b),
        ):
            seconds = providers.follow(command, *args, version=version, seconds=120)
            found["follow"].append((command, version, sorted(seconds.values())))
        refusals = asyncio.run(_gate_through(providers, root, b, broken))
        found["gate"] = {name: (count, 4, BROKEN[name][1]) for name, count in refusals.items()}
    return found


async def _gate_through(providers: Any, root: Path, good: str, broken: dict[str, str]) -> dict[str, int]:
    """Each broken build pinned for the fleet twice (in one event loop: the Nacos client's gRPC channel is bound to
    it); refusals by both providers with the expected check while the good version keeps serving, per build."""
    refusals = dict.fromkeys(broken, 0)
    for _attempt in range(2):  # two passes: each refusal awaited is a new one (the last one was another build)
        for name, version in broken.items():
            # pinned directly: `dubbo-recsys publish` checks the files itself and would not pin some of them
            pin = Pin(good).publish(version, note=f"broken: {name}")
            await write_pin(providers.registry, root, providers.pin_data_id, PIN_GROUP, pin)
            metadata = await asyncio.to_thread(
                providers.wait_for, lambda m, version=version: m.get("artifacts.refused", "").endswith(version), 120
            )
            checks = {m["artifacts.refusal"].split(":")[0] for m in metadata.values()}
            serving = {m["artifacts.version"] for m in metadata.values()}
            if checks == {BROKEN[name][1]} and serving == {good}:
                refusals[name] += len(metadata)
    return refusals


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--artifacts", type=Path, default=os.environ.get("ARTIFACTS_ML100K"))
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--rate", type=float, default=300.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--swaps", type=int, default=3)
    parser.add_argument("--steady", type=float, default=15.0)
    parser.add_argument("--settle", type=float, default=8.0)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--fleet", action="store_true", help="also the Nacos fleet and the gate (needs NACOS_ADDR)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.artifacts is None or not (Path(args.artifacts) / "manifest.json").is_file():
        parser.error("--artifacts DIR (or ARTIFACTS_ML100K): an ML-100K build")
    if not (1 <= args.runs <= 5 and 1 <= args.swaps <= 5 and 0 < args.rate <= 2000 and 1 <= args.workers <= 4):
        parser.error("bounded runs: --runs 1..5, --swaps 1..5, --rate 0..2000, --workers 1..4")
    began, load_start = time.monotonic(), os.getloadavg()
    classpath = build_java()
    runs, fleet_found = [], None
    with tempfile.TemporaryDirectory(prefix="rollout-bench-") as work:
        memory = version_memory(Path(args.artifacts), Path(work))
        print(f"version memory alone: {memory}", flush=True)
        for n in range(args.runs):
            scenario = Scenario(
                artifacts=Path(args.artifacts),
                work=Path(work) / f"run-{n}",
                workers=args.workers,
                rate=args.rate,
                swaps=args.swaps,
                warmup_seconds=args.warmup,
                steady_seconds=args.steady,
                settle_seconds=args.settle,
                swap_timeout=120.0,
            )
            row = load_rows(run_scenario(scenario, classpath), memory["two"] - memory["one"])
            runs.append(row)
            print(summary_line(n, row), flush=True)
        if args.fleet:
            fleet_found = run_fleet(Path(args.artifacts), Path(work))
            print(fleet_found, flush=True)
    command = "python bench/rollout/run_bench.py " + " ".join(argv if argv is not None else sys.argv[1:])
    text = report(runs, fleet_found, memory, args, command.strip(), load_start, time.monotonic() - began)
    args.out.write_text(text + kept_notes(args.out))
    print(text)
    return 0


def summary_line(n: int, row: dict) -> str:
    ratio = row["p99_swap"] / row["p99_steady"]
    rss = max(row["rss_peak"][pid] / row["rss_one"][pid] for pid in row["rss_one"])
    return (
        f"run {n}: {row['calls']} calls, {row['failed']} failed, {row['mixed']} mixed; p99 steady "
        f"{row['p99_steady']:.1f} ms, during swaps {row['p99_swap']:.1f} ms ({ratio:.2f}x); "
        f"peak RSS {rss:.2f}x one version"
    )


def kept_notes(path: Path) -> str:
    """The hand-written sections of an existing RESULTS.md (from the first "(hand-written" heading on)."""
    if not path.is_file():
        return ""
    lines = path.read_text().splitlines(keepends=True)
    for number, line in enumerate(lines):
        if line.startswith("## ") and "(hand-written" in line:
            return "\n" + "".join(lines[number:])
    return ""


def report(
    runs: list[dict], found: dict | None, memory: dict, args: argparse.Namespace, command: str, load: tuple, took: float
) -> str:
    out = [
        "# Rollout benchmark: artifact versions swapped while serving",
        "",
        f"Command: `{command}`  ",
        f"Run: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {took:.0f} s in all. Machine: {os.cpu_count()} "
        f"cores shared with other work (load average {load[0]:.1f} at start); the load generator, the provider's "
        "workers, Redis and Nacos all on those cores.  ",
        f"Load: bench/rpc/java LoadGenerator (Dubbo 3.3), open loop at {args.rate:.0f} `recommend`/s over dubbo:// "
        f"to {args.workers} workers (2 connections each), users 1..943, `debug=true` on every call so that each "
        f"answer's versions can be checked; {args.steady:.0f} s steady, then {args.swaps} publishes and 1 rollback, "
        f"{args.settle:.0f} s apart after each swap completes.",
        "",
        "| run | calls | failed | mixed | degraded | p99 steady ms | p99 during swaps ms | ratio (target <= 2) "
        "| p50 steady / swaps ms | peak RSS / RSS with one version, per worker (target <= 2.2) | versions' memory "
        "at the peak, in versions | swap seconds (command to last worker) | load avg start/end |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for n, row in enumerate(runs):
        ratio = row["p99_swap"] / row["p99_steady"]
        rss = ", ".join(
            f"{row['rss_peak'][pid] / MiB:.0f}/{row['rss_one'][pid] / MiB:.0f} MiB = "
            f"{row['rss_peak'][pid] / row['rss_one'][pid]:.2f}x"
            for pid in row["rss_one"]
        )
        swaps = ", ".join(f"{kind} {seconds:.1f}" for kind, _version, seconds in row["events"])
        held = ", ".join(
            f"{1 + (row['rss_peak'][pid] - row['rss_one'][pid]) / row['version_bytes']:.1f}" for pid in row["rss_one"]
        )
        out.append(
            f"| {n + 1} | {row['calls']} | {row['failed']} | {row['mixed']} | {row['degraded']} | "
            f"{row['p99_steady']:.1f} (n={row['n_steady']}) | {row['p99_swap']:.1f} (n={row['n_swap']}) | "
            f"{ratio:.2f} {'met' if ratio <= 2 else 'NOT met'} | {row['p50_steady']:.1f} / {row['p50_swap']:.1f} | "
            f"{rss} | {held} | {swaps} | {row['load'][0]:.1f} / {row['load'][1]:.1f} |"
        )
    own = memory["two"] - memory["one"]
    out += [
        "",
        f"One version's own memory, measured alone (`bench/rollout/version_memory.py`, after a throw-away load so "
        f"that first-use costs are not counted): RSS {memory['runtime'] / MiB:.0f} MiB with the libraries warm, "
        f"{memory['one'] / MiB:.0f} MiB with one version, {memory['two'] / MiB:.0f} MiB with two, "
        f"{memory['released'] / MiB:.0f} MiB after the first is released: a version adds {own / MiB:.0f} MiB when "
        "nothing freed can be reused (the second), and the allocator keeps freed pages for the next load. "
        '"Versions\' memory at the peak" = 1 + (peak - RSS with one version) / that.',
    ]
    if found is not None:
        out += [
            "",
            "Fleet: two providers (one worker each) registered in the real Nacos; seconds from the command's return "
            "until each provider's Nacos instance metadata (`artifacts.version`) names the version (target <= 10 s):",
            "",
            "| command | version | provider 1 s | provider 2 s | target |",
            "| --- | --- | --- | --- | --- |",
        ]
        for command_, version, seconds in found["follow"]:
            verdict = "met" if max(seconds) <= 10 else "NOT met"
            out.append(f"| {command_} | {version} | {seconds[0]:.1f} | {seconds[1]:.1f} | {verdict} |")
        out += [
            "",
            "Gate: each broken build published to the fleet twice; refusals counted over both providers "
            "(the right check, the good version still serving):",
            "",
            "| broken build | refused | check |",
            "| --- | --- | --- |",
        ]
        for name, (refused, of, check) in found["gate"].items():
            out.append(f"| {name} | {refused} of {of} | {check} |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.exit(main())
