"""Server CPU time per dubbo:// call, this checkout against another (``--before``), rounds alternating.

    python bench/rpc/cpu_per_call.py --before TREE [--rounds 5] [--windows 16,64]

Throughput on this shared 2-core machine moves 30% from round to round (bench/rpc/RESULTS.md),
far more than the few percent a change to the per-call path costs. The CPU time the server
process spends per call (``utime + stime`` from ``/proc``, over tens of thousands of calls)
moves much less with other people's load, so it is what this measures: both checkouts'
``dubbo-recsys serve`` (one worker, uvloop), in turn, round after round, each driven by the
same Python client pipelining pre-encoded calls on one connection with ``window`` calls in
flight (16: like the Java load generator's 16 threads; 64: past ``--frames-per-turn``, so
the fair-scheduling path runs). Reported: median over rounds of microseconds per call, and
after / before. ``TREE`` is a checkout with its own ``.venv`` (``git worktree add`` + an
editable install), e.g. of the commit before a change.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from dubbo_recsys.provider.protocol import NEED_DATA, FrameReader  # noqa: E402 - after the sys.path set-up above
from tests.provider.attacks import process  # noqa: E402 - after the sys.path set-up above
from tests.provider.attacks.frames import echo_request, recommend_request, with_request_id  # noqa: E402 - after the sys.path set-up above

TICK = os.sysconf("SC_CLK_TCK")
CALLS = {"echo": (echo_request(1, "x"), 40_000), "recommend": (recommend_request(1), 20_000)}


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


async def pipeline(port: int, frame: bytes, calls: int, window: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    frames = FrameReader()
    sent = answered = 0
    for _ in range(min(window, calls)):
        sent += 1
        writer.write(with_request_id(frame, sent))
    while answered < calls:
        frames.receive_data(await reader.read(1 << 16))
        while frames.next_event() is not NEED_DATA:
            answered += 1
            if sent < calls:
                sent += 1
                writer.write(with_request_id(frame, sent))
    writer.close()


def one_round(tree: Path | None, windows: list[int]) -> dict[str, float]:
    served = process.serve(tree=tree)
    try:
        time.sleep(0.3)
        out = {}
        for kind, (frame, calls) in CALLS.items():
            for window in windows:
                asyncio.run(pipeline(served.port, frame, 2_000, window))  # warm
                before = cpu_seconds(served.proc.pid)
                asyncio.run(pipeline(served.port, frame, calls, window))
                out[f"{kind} w{window}"] = (cpu_seconds(served.proc.pid) - before) / calls * 1e6
        return out
    finally:
        served.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=5, choices=range(1, 21))
    parser.add_argument("--windows", default="16,64")
    parser.add_argument("--write", action="store_true", help="put the table in bench/rpc/RESULTS.md (its last section)")
    args = parser.parse_args()
    windows = [int(w) for w in args.windows.split(",")]
    trees = [("before", args.before.resolve()), ("after", None)]
    results: dict[str, dict[str, list[float]]] = {"before": {}, "after": {}}
    load = [Path("/proc/loadavg").read_text().split()[0]]
    for n in range(args.rounds):
        for label, tree in trees if n % 2 == 0 else trees[::-1]:
            for key, value in one_round(tree, windows).items():
                results[label].setdefault(key, []).append(value)
        print(
            f"round {n + 1}: "
            + ", ".join(f"{k} {v[-1]:.1f}/{results['after'][k][-1]:.1f}" for k, v in results["before"].items()),
            flush=True,
        )
    load.append(Path("/proc/loadavg").read_text().split()[0])
    lines = [
        "## Server CPU time per call",
        "",
        f"Command: `python bench/rpc/cpu_per_call.py --before <checkout> --rounds {args.rounds}` "
        f"({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load average {load[0]} -> {load[1]}). "
        "The server's utime + stime per call, median of the rounds (both checkouts in turn, each round); "
        "one connection, a Python client pipelining `window` calls (w16 like the Java load generator's 16 "
        "threads, w64 past `--frames-per-turn` 16).",
        "",
        "| call, calls in flight | before µs | after µs | after / before |",
        "| --- | --- | --- | --- |",
    ]
    for key in results["before"]:
        before, after = statistics.median(results["before"][key]), statistics.median(results["after"][key])
        lines.append(f"| {key} | {before:.1f} | {after:.1f} | {after / before:.3f}x |")
    text = "\n".join(lines) + "\n"
    print("\n" + text)
    if args.write:
        results_md = Path(__file__).resolve().parent / "RESULTS.md"
        current = results_md.read_text() if results_md.is_file() else ""
        results_md.write_text(current.split(lines[0], 1)[0].rstrip("\n") + "\n\n" + text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
