"""What every fuzz target shares: run a ``one_input(data)`` check under atheris, or replay files.

A target is a module ``tests/fuzz/fuzz_<name>.py`` with ``one_input(data: bytes) -> None``
(raises on a bug: a crash, an exception that is not the component's own error, an input
that costs more than its size allows, two implementations that disagree) and
``seeds() -> dict[str, bytes]`` (the committed corpus, ``tests/fuzz/corpus/<name>/``),
ending in ``if __name__ == "__main__": main(one_input)``. See README.md beside this file.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# a decode of n bytes may take at most this long in CPU time (10 x issue 11's 1 s per MB)
FIXED_SECONDS = 0.05
SECONDS_PER_BYTE = 10e-6


class SlowInput(AssertionError):
    """An input that took more CPU time than its size allows."""


def within_time(run: Callable[[], object], size: int, what: str) -> object:
    start = time.process_time()
    result = run()
    spent = time.process_time() - start
    if spent > FIXED_SECONDS + SECONDS_PER_BYTE * size:
        raise SlowInput(f"{what}: {spent:.3f} s of CPU for {size} bytes")
    return result


def replay(one_input: Callable[[bytes], None], paths: list[str]) -> int:
    """Run ``one_input`` on files (a crash artifact, a corpus directory) without atheris."""
    files = [f for p in map(Path, paths) for f in (sorted(p.iterdir()) if p.is_dir() else [p])]
    for file in files:
        one_input(file.read_bytes())
    print(f"{len(files)} input(s) replayed without a finding")
    return 0


def main(one_input: Callable[[bytes], None]) -> None:
    """``python tests/fuzz/fuzz_X.py [libFuzzer flags] [corpus dirs]`` fuzzes with atheris;
    ``--replay FILE|DIR ...`` replays inputs without it."""
    if sys.argv[1:2] == ["--replay"]:
        sys.exit(replay(one_input, sys.argv[2:]))
    import atheris

    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
