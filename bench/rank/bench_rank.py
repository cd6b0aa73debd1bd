"""Latency of the ranker alone: DIN on 200 candidates, in process and through TF Serving's Predict.

    python bench/rank/bench_rank.py ARTIFACT_DIR [--calls 300]

In process: the ``din`` stage with ``offload`` off (inline) and on (2-thread pool), and inline
with ``fusion`` off (DIN's score alone) to show what the learned fusion (``rank.fusion``) costs.
Remote: the ``tfserving`` stage against ``tests/rank/prediction_server.py`` started as
a separate process on 127.0.0.1 (TensorFlow behind the real PredictionService protos;
TF Serving itself cannot be installed here). Each call ranks one user's 200
candidates (the pre-rank's output for a real user), calls run one after another,
users cycle; the first 20 calls of each mode are warm-up and not counted.
Bounded: ``--calls`` (at most 5,000) per mode, and a 120 s wall-clock cap per mode.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

import dubbo_recsys.rank.stages  # noqa: F401 - fills the pipeline catalog
from dubbo_recsys.features.embedded import EmbeddedFeatureStore
from dubbo_recsys.interfaces.recommend import RecommendRequest
from dubbo_recsys.pipeline import Candidate, Query, StageKind, build_stage
from dubbo_recsys.rank.base import RankArtifacts

WARMUP = 20
CAP_SECONDS = 120.0


async def measure(stage, inputs, calls: int) -> list[float]:
    times: list[float] = []
    started = time.monotonic()
    for n in range(calls + WARMUP):
        user_id, ids = inputs[n % len(inputs)]
        query = Query.start(RecommendRequest(userId=user_id, count=10), 5.0)
        candidates = [Candidate(i, scores={"multi_channel": 1.0 / (60 + r)}) for r, i in enumerate(ids)]
        t = time.perf_counter()
        await stage.run(query, candidates)
        if n >= WARMUP:
            times.append((time.perf_counter() - t) * 1000.0)
        if time.monotonic() - started > CAP_SECONDS:
            break
    return times


def line(name: str, times: list[float]) -> str:
    p50, p99 = np.percentile(times, [50, 99])
    return f"{name:<28} calls {len(times):>5}  p50 {p50:7.2f} ms  p99 {p99:7.2f} ms  mean {np.mean(times):7.2f} ms"


def start_prediction_server(model: Path) -> tuple[subprocess.Popen[str], int]:
    """The test suite's PredictionService over ``model``, and the port it printed once listening."""
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.rank.prediction_server", str(model)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert server.stdout is not None  # stdout=PIPE
    return server, int(server.stdout.readline())


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("artifacts")
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    calls = max(1, min(args.calls, 5_000))
    root = Path(args.artifacts)
    store = EmbeddedFeatureStore.from_artifacts(root)
    resources = SimpleNamespace(artifacts=root, features=store)
    artifacts = RankArtifacts.of(resources)
    prerank = build_stage(StageKind.PRE_RANK, "dssmRank", resources, {"size": 200})
    users = list(artifacts.user_rows)[:50]
    inputs = []
    for user_id in users:
        query = Query.start(RecommendRequest(userId=user_id, count=10), 5.0)
        ranked = await prerank.run(query, [Candidate(i) for i in artifacts.item_ids])
        inputs.append((user_id, [c.item_id for c in ranked]))
    print(f"{len(users)} users x 200 candidates; {calls} calls per mode after {WARMUP} warm-up calls")
    modes = (
        ("in-process, inline", {"offload": False}),
        ("in-process, inline, no fusion", {"fusion": False}),
        ("in-process, 2-thread pool", {"offload": True}),
    )
    for name, params in modes:
        print(line(name, await measure(build_stage(StageKind.RANK, "din", resources, params), inputs, calls)))
    server, port = await asyncio.to_thread(start_prediction_server, root / "models/rank/din")
    try:
        remote = build_stage(
            StageKind.RANK, "tfserving", resources, {"target": f"127.0.0.1:{port}", "timeout_seconds": 5.0}
        )
        print(line("remote (Predict, in-test server)", await measure(remote, inputs, calls)))
        await remote.close()
    finally:
        server.terminate()
        await asyncio.to_thread(server.wait, 30)


if __name__ == "__main__":
    asyncio.run(main())
