"""What one artifact version takes in memory, measured alone: RSS before any version, with one, with two.

    python bench/rollout/version_memory.py ROOT V1 V2

Prints one JSON line ``{"runtime": bytes, "one": bytes, "two": bytes, "released": bytes}``: this process's
RSS once the serving code and its libraries are imported and warmed on a first, throw-away load (so what
follows is the versions' own memory, not TensorFlow's first-use costs), with V1 loaded, with V2 loaded beside
it (what a swap holds), and after V1 is released. Used by run_bench.py to say how many versions a provider
held at its peak RSS during the swaps under load.
"""

from __future__ import annotations

import asyncio
import gc
import json
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))


def rss() -> int:
    import os

    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


async def main(root: Path, first: str, second: str) -> dict[str, int]:
    from dubbo_recsys.features.seen import InMemorySeenFilter, SeenConfig
    from dubbo_recsys.pipeline.assemble import load_stage_modules
    from dubbo_recsys.pipeline.resilience import InFlight
    from dubbo_recsys.provider.rollout.version import SharedParts, load_version

    load_stage_modules()
    shared = SharedParts(seen=InMemorySeenFilter(SeenConfig()), full_inflight=InFlight(), light_inflight=InFlight())
    warm = load_version(root / "versions" / first, first, shared)  # first use of every library: not a version's
    await warm.scenes.warm_up(["1", "unknown"])
    warm.retire()
    del warm
    gc.collect()
    found = {"runtime": rss()}
    one = load_version(root / "versions" / first, first, shared)
    await one.scenes.warm_up(["1", "unknown"])
    gc.collect()
    found["one"] = rss()
    two = load_version(root / "versions" / second, second, shared)
    await two.scenes.warm_up(["1", "unknown"])
    gc.collect()
    found["two"] = rss()
    one.retire()
    del one
    gc.collect()
    found["released"] = rss()
    two.retire()
    return found


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(Path(sys.argv[1]), sys.argv[2], sys.argv[3]))))
