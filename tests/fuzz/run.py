"""Run every fuzz target for its share of time, on a scratch copy of its committed corpus.

    python tests/fuzz/run.py [--only NAME ...] [--scale 1.0]   # fuzz (needs atheris)
    python tests/fuzz/run.py --write-seeds NAME                # rewrite corpus/NAME/ from seeds()

CI runs it from tests/ci/12-fuzz.sh. Exit status 1 when a target finds something; the
finding is in ``$CI_WORK/fuzz/NAME/`` (``crash-*``, ``timeout-*``, ``oom-*``) and the
command to replay it is printed. See README.md beside this file for the conventions.
"""

from __future__ import annotations

import argparse
import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]

# target -> seconds of fuzzing per CI run (each target adds its own line)
TARGETS = {"decoder": 45, "frames": 20}

LIBFUZZER_FLAGS = [
    "-timeout=10",  # seconds of wall time for one input (harness.within_time is the real bound)
    "-rss_limit_mb=2048",
    "-malloc_limit_mb=256",  # no single allocation of that size is ever right for a small input
    "-max_len=8192",
    "-print_final_stats=1",
]


def write_seeds(name: str) -> None:
    module = importlib.import_module(f"tests.fuzz.fuzz_{name}")
    corpus = HERE / "corpus" / name
    corpus.mkdir(parents=True, exist_ok=True)
    for stale in corpus.iterdir():
        if not stale.name.startswith("found-"):
            stale.unlink()
    for seed_name, data in module.seeds().items():
        (corpus / f"{seed_name}.bin").write_bytes(data)


def fuzz(name: str, seconds: int, work_root: Path) -> bool:
    work = work_root / name
    shutil.rmtree(work, ignore_errors=True)
    scratch = work / "corpus"
    shutil.copytree(HERE / "corpus" / name, scratch)
    command = [
        sys.executable,
        str(HERE / f"fuzz_{name}.py"),
        f"-max_total_time={seconds}",
        f"-artifact_prefix={work}/",
        *LIBFUZZER_FLAGS,
        str(scratch),
    ]
    print(f"fuzz {name}: {seconds} s, corpus {len(list(scratch.iterdir()))} inputs", flush=True)
    result = subprocess.run(command, cwd=ROOT, check=False)
    findings = sorted(p for p in work.iterdir() if p.name.split("-")[0] in ("crash", "timeout", "oom", "slow"))
    if result.returncode == 0 and not findings:
        return True
    print(f"fuzz {name}: exit {result.returncode}, findings: {[str(p) for p in findings]}")
    for finding in findings:
        print(f"  replay: python tests/fuzz/fuzz_{name}.py --replay {finding}")
    return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument("--scale", type=float, default=float(os.environ.get("FUZZ_SCALE", "1.0")))
    parser.add_argument("--write-seeds", metavar="NAME")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    if args.write_seeds:
        write_seeds(args.write_seeds)
        return 0
    work_root = Path(os.environ.get("CI_WORK", ROOT / ".cache" / "ci")) / "fuzz"
    ok = True
    for name in args.only or TARGETS:
        ok &= fuzz(name, max(1, round(TARGETS[name] * args.scale)), work_root)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
