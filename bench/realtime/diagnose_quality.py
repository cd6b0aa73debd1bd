"""Where does the replayed build lose to the full one? A decomposition of bench_quality's gap.

    python bench/realtime/diagnose_quality.py --artifacts FULL --lacking LACKING [--arms a,b,...] [--users N]

``bench_quality.py`` replays each test user's held-back interactions through Kafka and a consumer into
Redis; this script emulates the state that replay leaves (no broker, no Redis): the lacking build served
with each user's realtime lastN (the held-back items, newest first, in the order the consumer's sorted
set returns them) in front of the build's, and the held-back items in the exposure list (the seen filter
the consumer writes drops them the same way). Then it swaps, one group at a time, the lacking build's
artifacts for the full build's, to measure how much of the gap each batch-only signal explains:

    replay        the emulated replay (should match bench_quality's "lacking + replay")
    order         the realtime lastN in the build's tie order (file order) instead of Redis's
    usercf        the full build's user-CF table and training histories (neighbours' newest items)
    hot           the full build's hot lists and item popularity (features/items.jsonl counts)
    tables        the full build's item-CF, swing and i2i neighbour tables
    towers        the full build's two-tower model, embeddings and Faiss index
    ranker        the full build's DIN, light rankers and fusion weights
    full          every artifact of the full build (the features the replay gives are then redundant)

Arms are cumulative in the order given (each adds its swap to the previous ones) unless ``--single``.
Paired differences against the full build's served NDCG@10 (same users, same test items).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_quality import held_back, paired  # noqa: E402 - imported after the sys.path lines above

SWAPS: dict[str, tuple[str, ...]] = {
    "usercf": ("neighbors/usercf.npz", "interactions/train.npz"),
    "hot": ("hot.json", "features/items.jsonl"),
    "tables": ("neighbors/itemcf.npz", "neighbors/swing.npz", "neighbors/i2i_emb.npz"),
    "towers": ("models/two_tower", "embeddings", "faiss"),
    "ranker": ("models/rank",),
}


class ReplayedReader:
    """What ``RealtimeReader.recent_items`` answers after the replay: the held-back items, newest first."""

    def __init__(self, recent: dict[str, list[str]], last_n: int = 50) -> None:
        self.recent, self.last_n = recent, last_n

    async def recent_items(self, user_ids: Sequence[str]) -> list[list[str]]:
        return [self.recent.get(u, [])[: self.last_n] for u in user_ids]


def realtime_last_n(back: dict[str, list[tuple[str, int, float]]], build_order: bool) -> dict[str, list[str]]:
    """Newest first. Redis's ZREVRANGE breaks equal scores by member, descending; the build by file order."""
    out = {}
    for user, rows in back.items():
        if build_order:
            out[user] = [item for item, _, _ in reversed(rows)]
        else:
            out[user] = [item for item, _ in sorted(((i, ts) for i, ts, _ in rows), key=lambda r: (r[1], r[0]))][::-1]
    return out


def assemble(full: Path, lacking: Path, swaps: set[str], into: Path) -> Path:
    """A directory of symlinks: the lacking build with the ``swaps`` groups taken from the full build."""
    if into.exists():
        shutil.rmtree(into)
    into.mkdir(parents=True)
    taken = {p for s in swaps for p in SWAPS[s]}
    for source in sorted(p for p in lacking.rglob("*") if p.is_file()):
        rel = source.relative_to(lacking)
        origin = full if any(str(rel) == t or str(rel).startswith(t + "/") for t in taken) else lacking
        target = into / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to((origin / rel).resolve())
    return into


async def served(path: Path, recent: dict[str, list[str]] | None, back: dict[str, Any]) -> list[float]:
    from dubbo_recsys.features.embedded import EmbeddedFeatureStore
    from dubbo_recsys.features.realtime import RealtimeFeatureStore
    from dubbo_recsys.interfaces.recommend import RecommendRequest
    from dubbo_recsys.pipeline.model import Query
    from dubbo_recsys.rank.evaluation import K, served_funnel
    from dubbo_recsys.recall.artifacts import ArtifactDir
    from dubbo_recsys.recall.facade import Recall

    store: Any = EmbeddedFeatureStore.from_artifacts(path)
    if recent is not None:
        store = RealtimeFeatureStore(store, ReplayedReader(recent))  # type: ignore[arg-type]  # a duck reader
    recall = Recall.load(path, store)
    funnel, _ = served_funnel(path, store, recall)
    dirs = ArtifactDir(path)
    user_ids, item_ids = dirs.user_ids(), dirs.item_ids()
    train, test = dirs.train(len(user_ids), len(item_ids)), dirs.test()
    ndcg = []
    for user_row, item_row in zip(test["user"].tolist(), test["item"].tolist(), strict=True):
        user = user_ids[user_row]
        exposure = {item_ids[i] for i in np.unique(train.of(user_row)).tolist()}
        exposure |= {item for item, _, _ in back.get(user, [])}  # what the seen filter holds after the replay
        query = Query.start(RecommendRequest(userId=user, count=K, exposureList=sorted(exposure)), 3600.0)
        candidates: list[Any] = []
        for stage in funnel.stages:
            candidates = await stage.run(query, candidates)
        ranked = [c.item_id for c in candidates[:K]]
        target = item_ids[item_row]
        ndcg.append(1.0 / math.log2(ranked.index(target) + 2) if target in ranked else 0.0)
    return ndcg


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--artifacts", type=Path, default=os.environ.get("ARTIFACTS_ML100K"))
    parser.add_argument("--lacking", type=Path, default=REPO_ROOT / ".cache/bench-realtime/ml100k-minus-5")
    parser.add_argument("--recent", type=int, default=5)
    parser.add_argument("--arms", default="replay,order,usercf,hot,tables,towers,ranker")
    parser.add_argument("--single", action="store_true", help="each swap alone on top of replay, not cumulative")
    args = parser.parse_args(argv)
    full, lacking = Path(args.artifacts), Path(args.lacking)
    back = held_back(full, args.recent)
    base = asyncio.run(served(full, None, {}))
    print(f"full {np.mean(base):.4f}", flush=True)
    swaps: set[str] = set()
    build_order = False
    with tempfile.TemporaryDirectory() as tmp:
        for arm in args.arms.split(","):
            if args.single:
                swaps, build_order = set(), False
            if arm == "order":
                build_order = True
            elif arm in SWAPS:
                swaps.add(arm)
            elif arm != "replay":
                parser.error(f"unknown arm {arm!r}")
            path = assemble(full, lacking, swaps, Path(tmp) / arm)
            scores = asyncio.run(served(path, realtime_last_n(back, build_order), back))
            delta, se = paired(scores, base)
            label = "+".join(["replay", *(["order"] if build_order else []), *sorted(swaps)])
            print(f"{label:45s} {np.mean(scores):.4f}  minus full {delta:+.4f} +- {se:.4f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
