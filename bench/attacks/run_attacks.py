"""The good consumer's latency and the server's memory during each attack, against the same consumer alone.

    python bench/attacks/run_attacks.py [--seconds 6] [--repeat 1] [--before TREE] [--only ATTACK ...]

For each attack of tests/provider/attacks/attackers.py (run as SCHED_IDLE at nice 19: on
this 2-core machine an attacker at full speed would otherwise take the CPU the server needs,
and the figure would be the machine's, not the server's; nice 19 alone still let a woken
attacker preempt the server for a few ms): the good consumer alone for the same
time just before (the reference, measured in the same run), then the good consumer
during the attack; ``--repeat N`` does that pair N times per attack and reports the median
ratio (on a shared machine one p99 of ~1,000 calls moves by 2-3x between two runs of the
same thing, so a single pair judges the machine as much as the server). Reported: calls,
errors, p50/p99 of both, the p99 ratio (target: 2x at most), and the server's RSS before,
at the peak during, and after the attack. Then
two process-level scenarios: SIGTERM while 8 connections ignore READONLY, and SIGKILL of
one of two workers while the consumer calls. ``--before TREE`` runs everything against
another checkout first (its own .venv; e.g. the commit before issue 11's fixes), so
before and after come from one run. Writes bench/attacks/RESULTS.md (keeping what
follows its "## Reading" heading).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.provider.attacks import process  # noqa: E402 - after the sys.path set-up above
from tests.provider.attacks.attackers import ATTACKS, BESIDE_A_CONSUMER  # noqa: E402 - after the sys.path set-up above
from tests.support import free_port  # noqa: E402 - after the sys.path set-up above

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
NOTES = "\n## Reading\n"  # a hand-written reading of a run below this heading is kept when the script rewrites the rest


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def commit(tree: Path) -> str:
    git = ["git", "-C", str(tree), "rev-parse", "--short", "HEAD"]
    found = subprocess.run(git, check=False, capture_output=True, text=True)
    return found.stdout.strip() or "?"


def run_attacks(tree: Path | None, attacks: list[str], seconds: float, repeat: int = 1) -> list[dict[str, Any]]:
    served = process.serve(tree=tree)
    rows = []
    try:
        time.sleep(0.5)
        process.run_consumer(served.port, 1.0)  # warm-up
        for attack in attacks:
            pairs = []
            for _ in range(repeat):
                alone = process.run_consumer(served.port, seconds - 1.0)
                during = process.measure(served, attack, seconds, settle=20.0, settled_mib=10.0)
                pairs.append((alone["all"], during))
                good = during["consumer"]["all"]
                print(
                    f"{attack:14} alone p99 {alone['all']['p99_ms']:8.2f} ms  during p99 {good['p99_ms']:8.2f} ms "
                    f"errors {good['errors']}  rss {during['rss_mib']}  server {during['server_cpu']}  "
                    f"load {loadavg()}",
                    flush=True,
                )
            rows.append(_median_pair(attack, pairs))
    finally:
        served.stop()
    return rows


def _ratio(alone: dict[str, Any], good: dict[str, Any]) -> float:
    p99 = alone["p99_ms"]
    return good["p99_ms"] / p99 if p99 == p99 and p99 else float("nan")


def _median_pair(attack: str, pairs: list[tuple[dict[str, Any], dict[str, Any]]]) -> dict[str, Any]:
    """The pair whose ratio is the median, with every ratio and the worst errors / memory of all pairs."""
    ranked = sorted(pairs, key=lambda pair: _ratio(pair[0], pair[1]["consumer"]["all"]))
    alone, during = ranked[(len(ranked) - 1) // 2]
    ratios = [_ratio(a, d["consumer"]["all"]) for a, d in pairs]
    errors = sum(d["consumer"]["all"]["errors"] for _, d in pairs)
    grown = max(d["rss_mib"]["after"] - d["rss_mib"]["before"] for _, d in pairs)
    return {
        **during,
        "attack": attack,
        "attacker": during["attack"],
        "alone": alone,
        "load": loadavg(),
        "ratios": ratios,
        "errors_all": errors,
        "grown_mib": grown,
    }


def sigterm_scenario(tree: Path | None) -> dict[str, Any]:
    quiet = ["--drain-quiet", "0.5"] if tree is None else []  # the flag is new: "before" lacks it
    served = process.serve("--drain-timeout", "3", *quiet, tree=tree)
    attacker = process.module_process(
        "tests.provider.attacks.attackers", "ignore-readonly", "--port", str(served.port), "--seconds", "40"
    )
    try:
        time.sleep(1.0)
        started = time.monotonic()
        served.proc.send_signal(signal.SIGTERM)
        code = served.proc.wait(30)
        exited = time.monotonic() - started
        stats = process.finish(attacker, 40)
    finally:
        if attacker.poll() is None:
            attacker.kill()
            attacker.communicate()
        served.stop()
    return {"exit": code, "exit_seconds": round(exited, 2), **stats}


def sigkill_scenario(tree: Path | None, seconds: float) -> dict[str, Any]:
    rest = free_port()
    served = process.serve("--workers", "2", "--rest-port", str(rest), tree=tree)
    try:
        workers = process.children(served.proc.pid)
        good = process.consumer(served.port, seconds)
        time.sleep(1.0)
        os.kill(workers[0], signal.SIGKILL)
        time.sleep(seconds)
        report = process.finish(good, 60)
        replaced = [pid for pid in process.children(served.proc.pid) if pid not in workers]
        state = {pid: _state(pid) for pid in workers}
    finally:
        code = served.stop()
    return {
        "consumer": report["all"],
        "errors": report["error_samples"][:3],
        "replaced": bool(replaced),
        "killed_worker": state[workers[0]],
        "exit": code,
    }


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return "reaped"


def table(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| attack | alone: calls / p50 / p99 ms | during: calls / errors / p50 / p99 ms | p99 ratio "
        "| RSS MiB before / peak / after | server ran / waited for a core, s per s | load (1 min) "
        "| every pair: p99 ratio; errors; most RSS kept MiB |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        alone, good, rss, cpu = row["alone"], row["consumer"]["all"], row["rss_mib"], row["server_cpu"]
        wall = cpu["wall"] or float("nan")
        ratio = _ratio(alone, good)
        lines.append(
            f"| {row['attack']} | {alone['calls']} / {alone['p50_ms']:.2f} / {alone['p99_ms']:.2f} "
            f"| {good['calls']} / {good['errors']} / {good['p50_ms']:.2f} / {good['p99_ms']:.2f} "
            f"| {ratio:.2f}x | {rss['before']:.1f} / {rss['peak']:.1f} / {rss['after']:.1f} "
            f"| {cpu['ran'] / wall:.2f} / {cpu['waited'] / wall:.2f} | {row['load'].split()[0]} "
            f"| {', '.join(f'{r:.2f}x' for r in row['ratios'])}; {row['errors_all']}; {row['grown_mib']:+.1f} |"
        )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--repeat", type=int, default=1, help="alone/during pairs per attack; the median is reported")
    parser.add_argument("--before", type=Path, default=None, help="another checkout (with .venv) to run first")
    parser.add_argument("--only", nargs="*", choices=sorted(ATTACKS), default=None)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    command = " ".join(["python", "bench/attacks/run_attacks.py", *sys.argv[1:]])
    if args.before:
        command = command.replace(str(args.before), "<checkout of the commit before>")
    niced = f"nice -n {os.nice(0)} " if os.nice(0) else ""
    attacks = args.only or BESIDE_A_CONSUMER
    started, load_start = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), loadavg()
    trees = ([("before", args.before.resolve())] if args.before else []) + [("after", None)]
    sections = []
    for label, tree in trees:
        print(f"== {label}", flush=True)
        rows = run_attacks(tree, attacks, args.seconds, args.repeat)
        term = sigterm_scenario(tree)
        print(f"sigterm: {term}", flush=True)
        kill = sigkill_scenario(tree, args.seconds)
        print(f"sigkill: {kill}", flush=True)
        sections.append((label, rows, term, kill))
    if args.no_write:
        return 0
    out = [
        "# Attacks beside a well-behaved consumer",
        "",
        f"Command: `{niced}{command}`"
        + f"; after: this tree at {commit(REPO)}"
        + (
            f", before: a checkout of {commit(args.before)} (`git worktree add --detach <checkout> <commit>`)"
            if args.before
            else ""
        ),
        "",
        f"Run: {started}, {args.seconds:g} s per attack; load average {load_start} at start, {loadavg()} at end "
        "(2 cores shared with other work). Server: `dubbo-recsys serve` (popularity recommender, one worker, "
        "default flags). Good consumer: one persistent connection at 200 calls/s (recommend and $echo "
        "alternating) plus a fresh connection every 50 ms, every answer checked. "
        "Attackers run as SCHED_IDLE at nice 19. "
        '"alone" is the same consumer for the same time just before the attack, on the same server. '
        '"server ran / waited": seconds the server ran and seconds it was ready to run but waited for a core, '
        "per second of the good consumer's run (`/proc/PID/schedstat`): where it waited about as long as it "
        "ran, the machine, not the server's turns between its callers, set the latency.",
        "",
    ]
    for label, rows, term, kill in sections:
        out += [f"## {label}", "", *table(rows), ""]
        out += [
            f"SIGTERM (drain 3 s) while 8 connections keep 16 calls each outstanding and ignore READONLY: "
            f"exit {term['exit']} after {term['exit_seconds']} s; answers before READONLY {term['ok_before']}, "
            f"after it {term['ok_after']} (status 20) and {term['refused_after']} (status 80); streams ended "
            f"cleanly {term['clean_end']}, reset {term['reset']}, cut mid-frame {term['truncated']}; calls "
            f"unanswered {term['unanswered']} of {term['sent']} sent.",
            "",
            f"SIGKILL of one of two workers (REST on): consumer {kill['consumer']['calls']} calls, "
            f"{kill['consumer']['errors']} errors {kill['errors']}, p99 {kill['consumer']['p99_ms']:.2f} ms; "
            f"worker replaced: {kill['replaced']}; the killed one {kill['killed_worker']}; exit {kill['exit']}.",
            "",
        ]
    notes = RESULTS.read_text().partition(NOTES)[2] if RESULTS.exists() else ""
    RESULTS.write_text("\n".join(out) + (NOTES + notes if notes else ""))
    print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
