"""Calls per second and latency of the gRPC shim, against dubbo:// as the reference.

Both servers run as subprocesses on 127.0.0.1 answering with the provider's
``PopularRecommender``: the shim (``GrpcShim``, seed and v1 services) and
``dubbo-recsys serve`` (the same recommender behind the dubbo:// provider). The
client runs here, one scenario at a time, with ``--concurrency`` calls in flight
on one connection (grpc.aio channel / ``DubboClient``) and then one call at a
time for latency. ``ratio`` = gRPC / dubbo:// in the same run. Both clients are
Python, so the numbers include client cost; they compare the two paths, they are
not a ceiling.

Bounded: each scenario runs at most ``--seconds`` (default 4) and ``--max-calls``.

    python bench/grpc_shim/shim_bench.py [--seconds 4] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

SHIM_SERVER = """
import asyncio, sys
from dubbo_recsys.provider.grpc_shim import GrpcShimConfig, start_grpc_shim
from dubbo_recsys.provider.popular import PopularRecommender
async def main():
    shim = await start_grpc_shim(PopularRecommender(), GrpcShimConfig(port=0, reflection=False))
    print(f"listening grpc 127.0.0.1:{shim.port}", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await shim.stop(0)
asyncio.run(main())
"""

Call = Callable[[], Awaitable[None]]


def start(argv: list[str], prefix: str) -> tuple[subprocess.Popen[str], int]:
    process = subprocess.Popen(argv, cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith(prefix):
            return process, int(line.strip().rsplit(":", 1)[1])
    raise RuntimeError(f"{argv} exited before listening")


async def measure(call: Call, concurrency: int, seconds: float, max_calls: int) -> dict[str, float]:
    for _ in range(200):  # warm-up
        await call()
    done = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done
        while done < max_calls and time.perf_counter() < deadline:
            done += 1
            await call()

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    throughput = done / (time.perf_counter() - began)
    latencies = []
    deadline = time.perf_counter() + seconds / 2
    while len(latencies) < min(max_calls, 5000) and time.perf_counter() < deadline:
        t = time.perf_counter()
        await call()
        latencies.append((time.perf_counter() - t) * 1e6)
    latencies.sort()
    return {
        "calls_per_s": throughput,
        "p50_us": statistics.median(latencies),
        "p99_us": latencies[int(len(latencies) * 0.99) - 1],
        "calls": done,
    }


async def run(args: argparse.Namespace) -> None:
    import grpc

    from dubbo_recsys.interfaces.proto import recommend_v1_pb2 as v1_pb2
    from dubbo_recsys.interfaces.proto import recommend_v1_pb2_grpc as v1_grpc
    from dubbo_recsys.interfaces.proto import recommender_infer_pb2 as seed_pb2
    from dubbo_recsys.interfaces.proto import recommender_infer_pb2_grpc as seed_grpc
    from dubbo_recsys.interfaces.recommend import INTERFACE, VERSION, RecommendRequest
    from dubbo_recsys.provider.client import DubboClient

    shim, grpc_port = start([sys.executable, "-c", SHIM_SERVER], "listening grpc")
    dubbo, dubbo_port = start(
        [
            sys.executable,
            "-m",
            "dubbo_recsys.provider.cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--loop",
            "asyncio",
        ],
        "listening dubbo://",
    )
    results: dict[str, dict[str, float]] = {}
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
            v1 = v1_grpc.RecommendServiceStub(channel).Recommend
            seed = seed_grpc.RecommenderInferServiceStub(channel).RecommenderInfer
            v1_request = v1_pb2.RecommendRequest(user_id="u1", scene="home", count=args.count)
            seed_request = seed_pb2.RecommendRequest(UserId="u1", DataId="home", RecallNum=args.count)

            async def call_v1() -> None:
                assert (await v1(v1_request, timeout=5)).code == 200

            async def call_seed() -> None:
                assert (await seed(seed_request, timeout=5)).Code == 200

            results["grpc v1 Recommend"] = await measure(call_v1, args.concurrency, args.seconds, args.max_calls)
            results["grpc seed RecommenderInfer"] = await measure(
                call_seed, args.concurrency, args.seconds, args.max_calls
            )
        async with await DubboClient.connect("127.0.0.1", dubbo_port) as client:
            request = RecommendRequest(userId="u1", scene="home", count=args.count)

            async def call_dubbo() -> None:
                response = await client.call(
                    INTERFACE,
                    "recommend",
                    [request],
                    parameter_types=["org.dubborecsys.api.RecommendRequest"],
                    version=VERSION,
                )
                assert response.code == 200

            results["dubbo:// recommend (reference)"] = await measure(
                call_dubbo, args.concurrency, args.seconds, args.max_calls
            )
    finally:
        for process in (shim, dubbo):
            assert process.stdin is not None
            process.stdin.close()
            process.terminate()
            process.wait(timeout=30)
    reference = results["dubbo:// recommend (reference)"]
    print(f"{'scenario':34} {'calls/s':>9} {'p50 us':>8} {'p99 us':>8} {'ratio':>6}")
    for name, r in results.items():
        ratio = r["calls_per_s"] / reference["calls_per_s"]
        print(f"{name:34} {r['calls_per_s']:9.0f} {r['p50_us']:8.0f} {r['p99_us']:8.0f} {ratio:6.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=4.0, help="per scenario (default 4)")
    parser.add_argument("--max-calls", type=int, default=50_000, help="per scenario (default 50000)")
    parser.add_argument("--concurrency", type=int, default=16, help="calls in flight (default 16)")
    parser.add_argument("--count", type=int, default=10, help="items per answer (default 10)")
    args = parser.parse_args()
    if not (0 < args.seconds <= 60 and 0 < args.max_calls <= 1_000_000 and 0 < args.concurrency <= 256):
        parser.error("--seconds 0..60, --max-calls 1..1e6, --concurrency 1..256")
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
