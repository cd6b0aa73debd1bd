"""Scale of the offline build: wall time, peak RSS and the dominant step per log size and engine.

For each size (``offline.synthetic.SIZES``: 1M, 10M, 50M interactions, power-law users and
items) the log is generated once as Parquet (``--data``, default under /tmp, never committed),
(``--gen-workers`` processes, the same files whatever their number), then
``dubbo-recsys build --source files --no-models`` runs it under ``nice -n 19`` with each
engine, one run at a time. ``--no-models`` runs every step that reads the log, the training
examples included, and trains nothing (training reads the example files from disk whichever
engine wrote them; its cost does not depend on the engine).

Wall time on this shared machine depends on the other engineers' load, so the CPU seconds of
the process tree (user + sys) are reported beside it. A monitor samples the process tree every
0.5 s: the Python driver, the JVM it starts (local mode: the Spark driver and its executors'
threads) and Python workers, each's peak RSS, and their summed peak. A run over ``--time-cap``
or whose tree passes ``--rss-cap`` is killed and reported with the step it was in (the build
logs one line per finished step); an embedded build can also run under a hard address-space
limit (``--as-cap-gib``), where an allocation past it fails as MemoryError inside the step.
The load average before and after each run is recorded.

Usage::

    python bench/offline/bench_scale.py --sizes 1M 10M 50M --engines embedded spark --out bench/offline/scale.jsonl
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

from dubbo_recsys.offline.synthetic import SIZES, write_files

STEP_LINE = re.compile(r"step (\w+) done in ([\d.]+) s")


def _generate(size: str, root: Path, workers: int = 2) -> Path:
    out = root / size
    done = out / "_GENERATED"  # written last: a generation stopped half-way is redone, not reused
    if not done.is_file():
        started = time.perf_counter()
        written = write_files(SIZES[size], out, workers=workers)
        done.write_text(json.dumps({**written, "seconds": round(time.perf_counter() - started, 1)}))
        print(f"generated {size}: {written} in {time.perf_counter() - started:.0f} s", flush=True)
    return out


def _tree_rss(proc: psutil.Process, cpu: dict[int, float]) -> dict[str, int]:
    """RSS of the driver, the JVM and the Python workers; records each process's CPU seconds in ``cpu``."""
    rss = {"driver": 0, "jvm": 0, "workers": 0}
    try:
        rss["driver"] = proc.memory_info().rss
        times = proc.cpu_times()
        cpu[proc.pid] = times.user + times.system
        for child in proc.children(recursive=True):
            try:
                name = "jvm" if "java" in child.name() else "workers"
                rss[name] += child.memory_info().rss
                times = child.cpu_times()
                cpu[child.pid] = times.user + times.system
            except psutil.Error:
                continue
    except psutil.Error:
        pass
    return rss


def run_one(
    size: str, engine: str, data: Path, scratch: Path, time_cap: float, rss_cap: int, extra: list[str], as_cap: int = 0
) -> dict:
    out = scratch / f"{size}-{engine}"
    # a hard address-space limit on the embedded build (a JVM reserves far more address space than it uses,
    # so Spark runs only under the RSS watch below): an allocation past it fails as MemoryError in the step
    limit = ["prlimit", f"--as={as_cap}"] if as_cap and engine == "embedded" else []
    command = [*limit,
        "nice", "-n", "19", sys.executable, "-m", "dubbo_recsys.offline.build_command",
        "--source", "files", "--interactions", str(data / "interactions"),
        "--users-table", str(data / "users.parquet"), "--items-table", str(data / "items.parquet"),
        "--no-models", "--no-progress", "--engine", engine, "--out", str(out), *extra,
    ]  # fmt: skip
    load_before = os.getloadavg()
    started = time.perf_counter()
    proc = subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    steps: dict[str, float] = {}
    step_cpu: dict[str, float] = {}  # CPU seconds of the tree when each step's line appeared
    cpu: dict[int, float] = {}
    lines: list[str] = []

    def read() -> None:
        for line in proc.stderr:
            lines.append(line.rstrip())
            match = STEP_LINE.search(line)
            if match:
                steps[match.group(1)] = float(match.group(2))
                step_cpu[match.group(1)] = round(sum(cpu.values()), 1)
                print(f"{size} {engine}: {line.strip()} (tree CPU {step_cpu[match.group(1)]} s)", flush=True)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    watched = psutil.Process(proc.pid)
    peak = {"driver": 0, "jvm": 0, "workers": 0, "total": 0}
    stopped = None
    while proc.poll() is None:
        rss = _tree_rss(watched, cpu)
        for key, value in rss.items():
            peak[key] = max(peak[key], value)
        peak["total"] = max(peak["total"], sum(rss.values()))
        elapsed = time.perf_counter() - started
        if elapsed > time_cap or sum(rss.values()) > rss_cap:
            stopped = f"time cap {time_cap:.0f} s" if elapsed > time_cap else f"RSS cap {rss_cap / 2**30:.0f} GiB"
            for child in watched.children(recursive=True):
                child.kill()
            proc.kill()
            break
        time.sleep(0.5)
    proc.wait()
    reader.join(timeout=5)
    wall = time.perf_counter() - started
    order = ["LoadSource", "SplitInteractions", "WriteFeatures", "HotItems", "ItemCFTable", "UserCFTable"]
    order += ["SwingTable", "TrainingExamples"]
    running = next((s for s in order if s not in steps), None)
    import pyarrow.parquet as pq

    interactions = sum(pq.ParquetFile(f).metadata.num_rows for f in sorted((data / "interactions").glob("*.parquet")))
    result = {
        "size": size,
        "engine": engine,
        "finished": proc.returncode == 0 and stopped is None,
        "stopped": stopped or (None if proc.returncode == 0 else f"exit {proc.returncode}"),
        "in_step": None if proc.returncode == 0 and stopped is None else running,
        "wall_s": round(wall, 1),
        "cpu_s": round(sum(cpu.values()), 1),  # user + sys of the tree, sampled every 0.5 s
        "cpu_us_per_event": round(sum(cpu.values()) / max(interactions, 1) * 1e6, 1),
        "peak_rss_gib": {k: round(v / 2**30, 2) for k, v in peak.items()},
        "steps_s": steps,
        "cpu_at_step_end_s": step_cpu,
        "dominant_step": max(steps, key=steps.get) if steps else None,
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()],
        "interactions": interactions,
    }
    if not result["finished"]:
        result["last_lines"] = lines[-3:]
        errors = scratch.parent / "logs" / f"{size}-{engine}.stderr.txt"  # the whole log: a JVM error's cause
        errors.parent.mkdir(exist_ok=True)
        errors.write_text("\n".join(lines) + "\n", encoding="utf-8")
        result["stderr"] = str(errors)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="+", default=["1M", "10M", "50M"], choices=sorted(SIZES))
    parser.add_argument("--engines", nargs="+", default=["embedded", "spark"], choices=["embedded", "spark"])
    parser.add_argument("--data", default="/tmp/dubbo-recsys-bench", help="generated logs (never committed)")
    parser.add_argument("--time-cap", type=float, default=3600.0, help="seconds before a run is stopped")
    parser.add_argument("--rss-cap-gib", type=float, default=12.0, help="process-tree RSS that stops a run")
    parser.add_argument(
        "--build-args",
        default="--shuffle-partitions 16 --max-item-users 50",
        help="passed to every build (the same for both engines)",
    )
    parser.add_argument("--as-cap-gib", type=float, default=0.0, help="address-space limit of embedded builds")
    parser.add_argument("--gen-workers", type=int, default=2, help="processes generating a missing log")
    parser.add_argument("--out", default="bench/offline/scale.jsonl")
    args = parser.parse_args()
    root = Path(args.data)
    scratch = root / "builds"
    scratch.mkdir(parents=True, exist_ok=True)
    for size in args.sizes:
        data = _generate(size, root, args.gen_workers)
        for engine in args.engines:
            cap = int(args.rss_cap_gib * 2**30)
            as_cap = int(args.as_cap_gib * 2**30)
            result = run_one(size, engine, data, scratch, args.time_cap, cap, args.build_args.split(), as_cap)
            result["build_args"] = args.build_args
            result["as_cap_gib"] = args.as_cap_gib if engine == "embedded" else None
            with open(args.out, "a", encoding="utf-8") as out:
                out.write(json.dumps(result) + "\n")
            print(json.dumps(result), flush=True)
            for leftover in scratch.glob(f"*{size}-{engine}*"):  # the build and a stopped run's hidden siblings
                subprocess.run(["rm", "-rf", str(leftover)], check=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
