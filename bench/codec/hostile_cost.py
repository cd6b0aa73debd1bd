"""What each hostile input class costs the decoder: CPU time and peak memory per case.

    python bench/codec/hostile_cost.py [--pure] [--only NAME ...] [--timeout 60] [--memory-mb 3000]

Every case runs in two subprocesses of its own with a CPU-time and address-space
limit (``resource.setrlimit``), so a case that explodes (the point of measuring the
code before a fix) ends as ``killed`` instead of taking the shared machine with it.
In each, the input is built first (tests/hessian2/hostile.py), then decoded: once
timed with ``time.process_time`` (CPU seconds), once under ``tracemalloc`` (peak
traced bytes, and what is still allocated after ``gc.collect()``; tracemalloc slows
allocation down, so it gets its own run). ``--pure`` sets HESSIAN2_PURE_PYTHON=1.
Output: one JSON object per case (bytes in, CPU seconds and microseconds per input
byte, peak MiB and bytes per input byte, and what came out).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CASES = {
    "error_fanout_small": "error text of a refused BigDecimal whose field is a 9-level, 4-wide DAG (~110 B)",
    "error_fanout": "error text of a refused BigDecimal whose field is a 12-level, 4-wide DAG (~160 B)",
    "enum_fanout": "error text of an enum constant that is the same DAG",
    "colliding_decimal_keys": "HashMap of 20,000 BigDecimal keys with one Python hash",
    "colliding_uuid_keys": "HashMap of 20,000 UUID keys with one Python hash",
    "fresh_names_x1000": "1,000 messages, each a class with a new name and 200 new field names (memory kept after)",
    "merging_keys": "HashMap of 13 keys Java keeps apart (1, 1L, 1.0, true, BigDecimal 1/1.0/1.00, ...)",
    "deep_nesting": "lists nested 1,000,000 deep",
    "huge_claims": "10 values announcing 2^31 elements, 64 KiB strings, ... in a few bytes",
    "generic_fanout_small": "from_generic over a 10-level, 4-wide DAG of lists ($invoke arguments)",
    "generic_fanout": "from_generic over a 24-level, 4-wide DAG of lists ($invoke arguments)",
    "set_field_fanout_small": "1,000 objects whose set[str] field is the same 5,000-element list",
    "set_field_fanout": "100,000 objects whose set[str] field is the same 50,000-element list",
    "typed_field": "RecommendItem whose double field holds a list (is it refused?)",
    "empty_lists": "a list of 1,000,000 empty lists (1 MB: one Python list per input byte)",
    "tiny_objects": "a list of 500,000 generic objects of one int field (two bytes each)",
    "one_entry_maps": "a list of 250,000 maps of one small int entry (four bytes each)",
    "rows": "an ordinary payload: 200,000 objects of four fields (int, short string, list, double)",
}


def _build_and_decode(name: str, memory: bool) -> dict:
    """Runs inside the limited subprocess."""
    import gc
    import time
    import tracemalloc

    sys.path.append(str(ROOT))  # after PYTHONPATH, so another hessian2 (the code before a fix) can be measured
    from dataclasses import dataclass, field

    import hessian2
    from tests.hessian2 import hostile
    from tests.hessian2.hostile import Raw

    class Level(hessian2.JavaEnum, java_class="bench.hostile.Level"):
        LOW = 0

    @dataclass
    class Tagged(hessian2.JavaObject, java_class="bench.hostile.Tagged"):
        tags: set[str] = field(default_factory=set)

    def outcome(run):
        try:
            value = run()
        except hessian2.Hessian2Error as exc:
            return f"{type(exc).__name__} ({len(str(exc))} chars): {str(exc)[:160]}"
        return f"value {type(value).__name__}" + (f" of {len(value)}" if hasattr(value, "__len__") else "")

    data = b""
    run = None
    keep = None
    if name == "error_fanout_small":
        data = hostile.error_fanout(9, 4)
    elif name == "error_fanout":
        data = hostile.error_fanout(12, 4)
    elif name == "enum_fanout":
        data = hostile.error_fanout(12, 4, target=Level.__java_class__)
    elif name == "colliding_decimal_keys":
        data = hostile.colliding_keys(20_000, "decimal")
    elif name == "colliding_uuid_keys":
        data = hostile.colliding_keys(20_000, "uuid")
    elif name == "merging_keys":
        data = hostile.merging_keys()

        def run():
            value = hessian2.loads(data)
            entries = value.items() if hasattr(value, "items") else value
            return list(entries)

    elif name == "deep_nesting":
        data = hostile.deep_nesting(1_000_000)
    elif name == "huge_claims":
        claims = hostile.huge_claims()
        data = b"".join(claims.values())

        def run():
            errors = 0
            for blob in claims.values():
                try:
                    hessian2.loads(blob)
                except hessian2.DecodeError:
                    errors += 1
            return ["refused"] * errors

    elif name.startswith("generic_fanout"):
        data = hostile.fanout(10 if name.endswith("small") else 24, 4)

        def run():
            return hessian2.from_generic(hessian2.loads(data))

    elif name.startswith("set_field_fanout"):
        count, size = (1000, 5000) if name.endswith("small") else (100_000, 50_000)
        items = Raw.list(Raw.str(f"t{i}") for i in range(size))
        objects = [Raw.instance(0) + (items if i == 0 else Raw.ref(2)) for i in range(count)]
        data = b"X" + Raw.int(count) + Raw.classdef(Tagged.__java_class__, ["tags"]) + b"".join(objects)
    elif name == "typed_field":
        data = hostile.typed_field(
            "org.dubborecsys.api.RecommendItem",
            {"itemId": Raw.str("i1"), "score": Raw.list([Raw.int(1)]), "channel": Raw.str("hot")},
        )
        import dubbo_recsys.interfaces.recommend  # noqa: F401  (binds RecommendItem)
    elif name == "empty_lists":
        data = b"X" + Raw.int(1_000_000) + b"\x78" * 1_000_000
    elif name == "tiny_objects":
        data = b"X" + Raw.int(500_000) + Raw.classdef("bench.hostile.Tiny", ["id"]) + b"\x60\x90" * 500_000
    elif name == "one_entry_maps":
        data = b"X" + Raw.int(250_000) + b"H\x90\x90Z" * 250_000
    elif name == "rows":
        row = Raw.classdef("bench.hostile.Row", ["id", "name", "tags", "score"])
        rows = [
            Raw.instance(0) + Raw.int(i % 40) + Raw.str(f"n{i % 7}") + b"\x79" + Raw.str("a") + b"\x5b"
            for i in range(200_000)
        ]
        data = b"X" + Raw.int(200_000) + row + b"".join(rows)
    elif name == "fresh_names_x1000":
        messages = [hostile.fresh_names(i, fields=200) for i in range(1000)]
        data = b"".join(messages)

        def run():
            for message in messages:
                hessian2.loads(message)
            return [len(messages)]

        keep = True
    if run is None:

        def run():
            return hessian2.loads(data)

    gc.collect()
    if not memory:
        start = time.process_time()
        result = outcome(run)
        cpu = time.process_time() - start
        return {
            "bytes": len(data),
            "cpu_s": round(cpu, 4),
            "us_per_byte": round(cpu * 1e6 / max(1, len(data)), 3),
            "outcome": result,
        }
    tracemalloc.start()
    outcome(run)
    peak = tracemalloc.get_traced_memory()[1]
    gc.collect()
    kept = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    report = {"peak_mib": round(peak / 2**20, 2), "peak_per_byte": round(peak / max(1, len(data)), 1)}
    if keep:
        report["kept_after_mib"] = round(kept / 2**20, 2)
    return report


def _limit(seconds: int, megabytes: int):
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 5))
        resource.setrlimit(resource.RLIMIT_AS, (megabytes << 20, megabytes << 20))

    return apply


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pure", action="store_true", help="HESSIAN2_PURE_PYTHON=1 in the subprocesses")
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument("--timeout", type=int, default=60, help="CPU seconds per case")
    parser.add_argument("--memory-mb", type=int, default=3000, help="address space per case")
    parser.add_argument("--case", help=argparse.SUPPRESS)
    parser.add_argument("--memory", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(_build_and_decode(args.case, args.memory)))
        return 0
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [os.environ.get("PYTHONPATH"), str(ROOT)])))
    if args.pure:
        env["HESSIAN2_PURE_PYTHON"] = "1"
    for name in args.only or CASES:
        report: dict = {"case": name, "pure": args.pure}
        for memory in (False, True):
            proc = subprocess.run(
                [sys.executable, __file__, "--case", name, *(["--memory"] if memory else [])],
                env=env,
                capture_output=True,
                text=True,
                preexec_fn=_limit(args.timeout, args.memory_mb),
                check=False,
            )
            if proc.returncode == 0:
                report.update(json.loads(proc.stdout.strip().splitlines()[-1]))
            else:
                tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
                report["memory_run" if memory else "outcome"] = f"killed (exit {proc.returncode}): {tail[:160]}"
        print(json.dumps(report), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
