"""Benchmark: item-CF on ML-100K, our blocked sparse math against a plain-Python reference.

Times are CPU seconds of this process (``time.process_time``): the machine is
shared, and wall time there measures the neighbours more than the code.

The reference is the textbook implementation (per-user pair loops into dicts,
then a sort per item) of the same formula as ``offline.neighbors.item_cf``; both
run in this process on the same matrix, and the script checks they agree before
printing the ratio. Bounded: one reference run (tens of seconds), ``--repeat``
runs of ours.

    python bench/offline/bench_neighbors.py [--repeat 5] [--k 100]
"""

from __future__ import annotations

import argparse
import math
import time
from collections import defaultdict

import numpy as np

from dubbo_recsys.offline.config import NeighborConfig
from dubbo_recsys.offline.movielens import load_ml100k
from dubbo_recsys.offline.neighbors import interaction_matrix, item_cf, swing, user_cf
from dubbo_recsys.offline.split import leave_last_out


def reference_item_cf(x, k: int) -> dict[int, list[tuple[int, float]]]:
    histories = [x.indices[x.indptr[u] : x.indptr[u + 1]].tolist() for u in range(x.shape[0])]
    count = defaultdict(int)
    co = defaultdict(lambda: defaultdict(float))
    for items in histories:
        weight = 1.0 / math.log(2.0 + len(items))
        for i in items:
            count[i] += 1
            row = co[i]
            for j in items:
                if i != j:
                    row[j] += weight
    table = {}
    for i, row in co.items():
        scored = [(j, w / math.sqrt(count[i] * count[j])) for j, w in row.items()]
        scored.sort(key=lambda p: (-p[1], p[0]))
        table[i] = scored[:k]
    return table


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--k", type=int, default=100)
    args = parser.parse_args()
    config = NeighborConfig(k=args.k)
    split = leave_last_out(load_ml100k())
    x = interaction_matrix(split, config.max_user_items)

    ours = []
    for _ in range(args.repeat):
        start = time.process_time()
        table = item_cf(x, config)
        ours.append(time.process_time() - start)
    start = time.process_time()
    reference = reference_item_cf(x, args.k)
    reference_s = time.process_time() - start

    mismatched = 0
    for i, row in reference.items():
        ids = [j for j, _ in row]
        got = table.index[i][: len(ids)].tolist()
        if got != ids and not np.allclose([s for _, s in row], table.score[i][: len(ids)], rtol=1e-4):
            mismatched += 1
    best = min(ours)
    print(
        f"item-CF ML-100K k={args.k}: ours best {best:.3f} CPU s (median {np.median(ours):.3f} s over {args.repeat}), "
        f"reference {reference_s:.2f} s, ratio {reference_s / best:.0f}x; rows differing: {mismatched}"
    )
    for name, fn in (("user-CF", user_cf), ("swing", swing)):
        start = time.process_time()
        fn(x, config)
        print(f"{name} ML-100K k={args.k}: {time.process_time() - start:.3f} CPU s")


if __name__ == "__main__":
    main()
