"""Merged recall latency for one query against a generated 1M-item catalog (dimension 64).

What it builds (random, seeded; no artifact directory, so the run stays short):
item vectors (items x dim, normalised) in a Faiss IVF index, item-CF / swing /
i2i tables (items x K), a user-CF table and user histories, hot lists, the
stored user vectors. Then it runs ``Merger.run`` for one query at a time with
all history channels, u2i, user-CF and hot enabled and a 20-item exposure
list, and prints p50 / p99 / max after warm-up, with and without the in-memory
Bloom seen filter, with Faiss on the event loop and offloaded to a thread.
Wall time and process CPU time are both shown: on a shared machine the wall
clock measures the neighbours, CPU time measures us.

Bounded: ``--queries`` (default 2000) per mode and ``--max-seconds`` overall;
Faiss uses one thread (``faiss.omp_set_num_threads(1)``), the machine is shared.

    python bench/recall/bench_recall.py --items 1000000 --dim 64
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from dubbo_recsys.features.seen import InMemorySeenFilter
from dubbo_recsys.recall.artifacts import ItemCatalog, NeighborTable, UserItems
from dubbo_recsys.recall.base import RecallQuery
from dubbo_recsys.recall.config import DEFAULT_POLICIES
from dubbo_recsys.recall.hot import HotChannel, HotLists
from dubbo_recsys.recall.merger import Merger, SeenBloomFilter
from dubbo_recsys.recall.neighbors import I2IChannel, ItemCFChannel, SwingChannel, UserCFChannel
from dubbo_recsys.recall.vectors import U2IChannel, UserVectors, VectorSearch


def build(items: int, dim: int, users: int, k: int, nlist: int, nprobe: int, seed: int):  # type: ignore[no-untyped-def]  # returns a tuple of numpy and Faiss objects
    import faiss

    faiss.omp_set_num_threads(1)
    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    vectors = rng.standard_normal((items, dim), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    quantizer = faiss.IndexFlatIP(dim)
    index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
    index.train(vectors[rng.choice(items, size=min(items, 40 * nlist), replace=False)])
    index.add(vectors)
    index.nprobe = nprobe
    print(f"index: IVF{nlist},Flat nprobe={nprobe} over {items} x {dim} built in {time.perf_counter() - started:.1f} s")

    def table(rows: int) -> NeighborTable:
        index_rows = rng.integers(0, items, size=(rows, k), dtype=np.int64)
        scores = np.sort(rng.random((rows, k), dtype=np.float32), axis=1)[:, ::-1].copy()
        return NeighborTable(index_rows, scores)

    catalog = ItemCatalog([f"item-{n}" for n in range(items)])
    per_user = 100
    train_items = rng.integers(0, items, size=users * per_user).astype(np.int32)
    interactions = UserItems(
        np.arange(0, users * per_user + 1, per_user, dtype=np.int64),
        train_items,
        np.zeros(users * per_user, dtype=np.int64),
    )
    user_table = NeighborTable(
        rng.integers(0, users, size=(users, k), dtype=np.int64),
        np.sort(rng.random((users, k), dtype=np.float32), axis=1)[:, ::-1].copy(),
    )
    user_vectors = rng.standard_normal((users, dim), dtype=np.float32)
    user_vectors /= np.linalg.norm(user_vectors, axis=1, keepdims=True)
    hot = HotLists(rng.choice(items, size=1000, replace=False).astype(np.int64), {}, {})
    search = VectorSearch(index, vectors)
    channels = [
        ItemCFChannel(table(items)),
        SwingChannel(table(items)),
        I2IChannel(table(items)),
        UserCFChannel(user_table, interactions),
        U2IChannel(UserVectors(user_vectors, vectors), search),
        HotChannel(hot, [""] * items),
    ]
    return catalog, channels, search, interactions


async def measure(
    merger: Merger, queries: list[tuple[RecallQuery, np.ndarray]], k: int, deadline: float
) -> tuple[list[float], list[float]]:
    """Wall-clock and process CPU milliseconds per query (CPU time is what a shared machine cannot inflate)."""
    wall: list[float] = []
    cpu: list[float] = []
    for query, exclude in queries:
        if time.perf_counter() > deadline:
            break
        started, started_cpu = time.perf_counter(), time.process_time()
        await merger.run(query, k, exclude)
        wall.append((time.perf_counter() - started) * 1000.0)
        cpu.append((time.process_time() - started_cpu) * 1000.0)
    return wall, cpu


def summary(times: list[float]) -> str:
    times = sorted(times)
    p99 = times[min(len(times) - 1, int(0.99 * len(times)))]
    return f"p50 {statistics.median(times):6.2f}  p99 {p99:6.2f}  max {times[-1]:6.2f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--neighbors", type=int, default=50, help="K of the generated neighbour tables")
    parser.add_argument("--nlist", type=int, default=4096)
    parser.add_argument("--nprobe", type=int, default=16)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--k", type=int, default=500, help="items returned by the merged recall")
    parser.add_argument("--max-seconds", type=float, default=120.0, help="bound on the measuring loops")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    catalog, channels, search, interactions = build(
        args.items, args.dim, args.users, args.neighbors, args.nlist, args.nprobe, args.seed
    )
    rng = np.random.default_rng(args.seed + 1)
    seen = InMemorySeenFilter()
    queries: list[tuple[RecallQuery, np.ndarray]] = []
    for _n in range(args.queries + args.warmup):
        user = int(rng.integers(0, args.users))
        history = interactions.of(user)[::-1][:50].astype(np.int64)
        queries.append(
            (
                RecallQuery(user_id=f"user-{user}", user_row=user, history=history),
                rng.integers(0, args.items, size=20).astype(np.int64),
            )
        )

    async def run() -> None:
        for query, _ in queries[: args.queries]:
            await seen.add(query.user_id, catalog.ids_of(rng.integers(0, args.items, size=100)))
        deadline = time.perf_counter() + args.max_seconds
        print(f"merged recall, k={args.k}, exposure 20, {len(channels)} channels; milliseconds per query")
        for with_seen in (True, False):
            for offload in (False, True):
                search.offload = offload
                policies = [(channel, replace(DEFAULT_POLICIES[channel.kind], timeout=1.0)) for channel in channels]
                merger = Merger(policies, [SeenBloomFilter(seen, catalog)] if with_seen else [])
                await measure(merger, queries[: args.warmup], args.k, deadline)
                wall, cpu = await measure(merger, queries[args.warmup :], args.k, deadline)
                label = (
                    f"seen filter {'on ' if with_seen else 'off'}, faiss {'in a thread' if offload else 'on loop  '}"
                )
                print(f"{label}: {len(wall)} queries | wall {summary(wall)} | cpu {summary(cpu)}")
        probe = np.asarray(search.vectors[0], dtype=np.float32)  # type: ignore[index]  # vectors are kept for this benchmark
        started = time.perf_counter()
        for _ in range(500):
            search.search_now(probe, 200)
        print(f"faiss alone (k=200): {(time.perf_counter() - started) * 1000.0 / 500:.3f} ms per search")

    asyncio.run(run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
