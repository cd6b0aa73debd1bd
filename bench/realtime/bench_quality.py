"""Quality replay on ML-100K: is the realtime path as good as the batch one?

    python bench/realtime/bench_quality.py [--artifacts DIR] [--recent 5] [--work DIR] [--seeds 17,18,19]

1. **full**: the ML-100K build (``--artifacts``, ``ARTIFACTS_ML100K``) served as built.
2. **lacking**: a build of the same source without each test user's last ``--recent`` training
   interactions (built here with the default build steps, into ``--work``; reused when present). Its
   leave-last-out split holds out the same test interaction per user (the removed ones are earlier).
   Served as built: its lastN, its seen items and every model lack those interactions.
3. **lacking + replay**: the same build, after the removed interactions were sent as ``rate`` events
   (their original time and rating) to a Kafka topic and applied by one ``dubbo-recsys consume``
   process to a private Redis; served through ``features.realtime.RealtimeFeatureStore`` (lastN) and
   the Redis seen filter the consumer wrote (the served scene filters what the user has seen).
4. **lacking + replay + refresh**: then ``dubbo-recsys refresh`` (``offline/refresh.py``, run as the
   operator runs it) reads that Redis's lastN, fine-tunes the lacking build's two-tower on the
   interactions it had not trained on and writes a new version into an artifact root made of the
   lacking build (``--work``); that version is served with the same realtime state. The refresh
   fine-tunes the two-tower and the DIN ranker and refits the fusion weights (``--refresh-args
   --no-rank``: the two-tower only); with ``--seeds`` it is run once per training seed, each from the
   lacking build and the same replayed Redis, so the result is not one lucky seed.

Each is scored with the protocol of ``rank.evaluation`` (``dubbo-recsys eval-rank``): the served default
scene (recall -> pre-rank -> DIN with fusion -> MMR) for every test user, their training items (the
build's) as the request's exposure list, NDCG@10 and HR@10 of the held-out item. Differences are paired
per user: mean, standard error and a 95 % paired bootstrap interval over the test users (10,000
resamples). Bounded by the build (~5 min of CPU), each refresh (~2-4 min at load 4) and 3 + seeds evaluations.

Target: lacking + replay (+ refresh) recovers full's served NDCG@10 within noise (the bootstrap
interval of the paired difference holds 0).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import math
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from peers import kafka_broker, load_average  # noqa: E402 - imported after the sys.path lines above

from tests.funnel.peers import RedisServer  # noqa: E402 - imported after the sys.path lines above
from tests.realtime.peers import (  # noqa: E402 - imported after the sys.path lines above
    applied_events,
    consume_command,
    consumer_process,
    produce,
    topics_on,
    wait_for,
)

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
DROPPED = [0]  # requests of the current arm that lost a recall channel (late: the machine's load, not the build)
MARKER = "realtime_replay"


class SourceWithoutRecent:
    """The build's first step: ML-100K without the ``recent`` last training interactions of each test user."""

    def __init__(self, removed: set[tuple[int, int]], recent: int) -> None:
        self.removed, self.recent = removed, recent

    def enabled(self, config: Any) -> bool:
        return True

    def run(self, ctx: Any) -> None:
        from dubbo_recsys.offline.steps import LoadSource

        LoadSource().run(ctx)
        inter = ctx.source.interactions
        keep = np.array(
            [(u, i) not in self.removed for u, i in zip(inter.user.tolist(), inter.item.tolist(), strict=True)]
        )
        ctx.source = dataclasses.replace(ctx.source, interactions=inter.take(np.flatnonzero(keep)))
        ctx.params["source_notes"] = {
            **ctx.params["source_notes"],
            MARKER: f"the last {self.recent} training interactions of each test user removed ({int((~keep).sum())})",
        }


def held_back(full: Path, recent: int) -> dict[str, list[tuple[str, int, float]]]:
    """Per test user, the last ``recent`` training interactions of the full build: (item, ts seconds, rating)."""
    data = np.load(full / "interactions/train.npz")
    users, items = (full / "ids/users.txt").read_text().split(), (full / "ids/items.txt").read_text().split()
    order = np.lexsort((np.arange(len(data["user"])), data["ts"], data["user"]))  # by user, time, file order
    rows: dict[int, list[int]] = {}
    for r in order.tolist():
        rows.setdefault(int(data["user"][r]), []).append(r)
    test_users = set(np.load(full / "interactions/test.npz")["user"].tolist())
    return {
        users[u]: [(items[int(data["item"][r])], int(data["ts"][r]), float(data["rating"][r])) for r in rs[-recent:]]
        for u, rs in rows.items()
        if u in test_users and len(rs) > recent + 1
    }


def build_lacking(full: Path, out: Path, back: dict[str, list[tuple[str, int, float]]], recent: int) -> Path:
    from dubbo_recsys.offline.build import run_build
    from dubbo_recsys.offline.config import BuildConfig
    from dubbo_recsys.offline.recipe import default_steps

    manifest = out / "manifest.json"
    if manifest.is_file() and MARKER in json.loads(manifest.read_text())["params"]["source_notes"]:
        return out
    users, items = (full / "ids/users.txt").read_text().split(), (full / "ids/items.txt").read_text().split()
    user_row, item_row = {u: r for r, u in enumerate(users)}, {i: r for r, i in enumerate(items)}
    removed = {(user_row[u], item_row[i]) for u, rows in back.items() for i, _, _ in rows}
    steps = (SourceWithoutRecent(removed, recent), *default_steps()[1:])
    run_build(BuildConfig(source="ml-100k", out=out, name=f"ml100k-minus-{recent}"), steps=steps)
    return out


def as_root(build: Path, root: Path) -> Path:
    """An artifact root whose one version is ``build`` (hard links, a fresh manifest): what refresh reads."""
    from dubbo_recsys.offline.manifest import read_manifest, write_manifest
    from dubbo_recsys.offline.versions import publish_version, staging_dir

    shutil.rmtree(root, ignore_errors=True)
    staging = staging_dir(root)
    for source in build.rglob("*"):
        if source.is_file() and source.name != "manifest.json":
            target = staging / source.relative_to(build)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.link(source, target)
    manifest = {k: v for k, v in read_manifest(build).items() if k not in ("format", "built_at", "files", "software")}
    publish_version(staging, root, write_manifest(staging, manifest))
    return root


def run_refresh(root: Path, redis_url: str, prefix: str, extra: Sequence[str]) -> tuple[Path, float, dict[str, Any]]:
    """``dubbo-recsys refresh`` as an operator runs it; (the new version, seconds, its answer)."""
    command = [str(Path(sys.executable).parent / "dubbo-recsys"), "refresh", "--artifact-root", str(root), *extra]
    began = time.monotonic()
    done = subprocess.run(
        [*command, "--redis", redis_url, "--prefix", prefix], capture_output=True, text=True, timeout=1800, check=False
    )
    seconds = time.monotonic() - began
    if done.returncode != 0:
        raise RuntimeError(f"refresh failed ({done.returncode}): {done.stderr[-2000:]}")
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    return root / "versions" / answer["version"], seconds, answer


async def served(path: Path, store: Any, seen: Any) -> tuple[list[float], list[float]]:
    """Per test user, NDCG@10 and HR@10 of the served default scene (rank.evaluation's protocol)."""
    from dubbo_recsys.interfaces.recommend import RecommendRequest
    from dubbo_recsys.pipeline.model import Query
    from dubbo_recsys.rank.evaluation import K, served_funnel
    from dubbo_recsys.recall.artifacts import ArtifactDir
    from dubbo_recsys.recall.facade import Recall

    recall = Recall.load(path, store, seen=seen)
    funnel, _ = served_funnel(path, store, recall)
    dirs = ArtifactDir(path)
    user_ids, item_ids = dirs.user_ids(), dirs.item_ids()
    train, test = dirs.train(len(user_ids), len(item_ids)), dirs.test()
    ndcg, hr = [], []
    for user_row, item_row in zip(test["user"].tolist(), test["item"].tolist(), strict=True):
        exposure = [item_ids[i] for i in np.unique(train.of(user_row)).tolist()]
        query = Query.start(RecommendRequest(userId=user_ids[user_row], count=K, exposureList=exposure), 3600.0)
        candidates: list[Any] = []
        for stage in funnel.stages:
            candidates = await stage.run(query, candidates)
        ranked = [c.item_id for c in candidates[:K]]
        DROPPED[0] += any("dropped" in note for note in query.notes)
        target = item_ids[item_row]
        hit = target in ranked
        ndcg.append(1.0 / math.log2(ranked.index(target) + 2) if hit else 0.0)
        hr.append(1.0 if hit else 0.0)
    return ndcg, hr


async def replay_and_score(
    lacking: Path,
    back: dict[str, list[tuple[str, int, float]]],
    bootstrap: str,
    redis_url: str,
    root: Path,
    refresh_args: Sequence[str] = (),
    seeds: Sequence[int] = (17,),
) -> dict[str, Any]:
    """Replay into Redis and score the lacking build (``replay``), refresh it and score the new version."""
    from dubbo_recsys.features.embedded import EmbeddedFeatureStore
    from dubbo_recsys.features.realtime import RealtimeFeatureStore, RealtimeReader
    from dubbo_recsys.features.redis import RedisConfig, RedisSeenFilter, close_client
    from dubbo_recsys.interfaces.events import Action, UserEvent, encode_event
    from dubbo_recsys.realtime.effects import RealtimeConfig

    prefix = f"replay-{uuid.uuid4().hex[:6]}"
    topics = topics_on("kafka", bootstrap, prefix, partitions=4)
    events = [
        (user.encode(), encode_event(UserEvent(f"replay-{user}-{item}", user, item, Action.RATE, ts * 1000, rating)))
        for user, rows in back.items()
        for item, ts, rating in rows
    ]
    produce(bootstrap, topics.events.users_topic, events)
    config = RedisConfig(url=redis_url, prefix=prefix)
    client = config.client()
    reader = RealtimeReader(client, config.layout)
    began = time.monotonic()
    try:
        with consumer_process(consume_command(topics.url, redis_url, prefix)):
            users = sorted(back)

            async def all_applied() -> bool:
                return await applied_events(client, config.layout, users) >= len(events)

            await wait_for(all_applied, 300, "the replay applied")
        applied_in = time.monotonic() - began
        seen = RedisSeenFilter(client, config.layout, RealtimeConfig().seen)
        out: dict[str, Any] = {"applied_in": applied_in}
        DROPPED[0] = 0
        out["replay"] = await served(
            lacking, RealtimeFeatureStore(EmbeddedFeatureStore.from_artifacts(lacking), reader), seen
        )
        out["replay_dropped"] = DROPPED[0]
        print("lacking + replay", np.mean(out["replay"][0]), flush=True)
        out["refreshed"], out["refreshed_dropped"], out["refresh_seconds"] = {}, {}, {}
        for seed in seeds:
            refreshed, out["refresh_seconds"][seed], out["refresh"] = run_refresh(
                as_root(lacking, root), redis_url, prefix, [*refresh_args, "--seed", str(seed)]
            )
            DROPPED[0] = 0
            store = RealtimeFeatureStore(EmbeddedFeatureStore.from_artifacts(refreshed), reader)
            out["refreshed"][seed] = await served(refreshed, store, seen)
            out["refreshed_dropped"][seed] = DROPPED[0]
            print(f"lacking + replay + refresh (seed {seed})", np.mean(out["refreshed"][seed][0]), flush=True)
    finally:
        await close_client(client)
    return out


def paired(a: Sequence[float], b: Sequence[float]) -> tuple[float, float]:
    d = np.asarray(a) - np.asarray(b)
    return float(d.mean()), float(d.std(ddof=1) / math.sqrt(len(d)))


def bootstrap_interval(
    a: Sequence[float], b: Sequence[float], resamples: int = 10_000, seed: int = 1
) -> tuple[float, float]:
    """95 % interval of mean(a - b) by a paired bootstrap over users (percentile method)."""
    d = np.asarray(a) - np.asarray(b)
    rng = np.random.default_rng(seed)
    means = np.array([d[rng.integers(0, len(d), len(d))].mean() for _ in range(resamples)])
    low, high = np.percentile(means, [2.5, 97.5])
    return float(low), float(high)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--artifacts", type=Path, default=os.environ.get("ARTIFACTS_ML100K"))
    parser.add_argument("--recent", type=int, default=5, help="training interactions held back per test user")
    parser.add_argument("--work", type=Path, default=REPO_ROOT / ".cache" / "bench-realtime")
    parser.add_argument("--refresh-args", default="", help="more flags for dubbo-recsys refresh, e.g. '--no-rank'")
    parser.add_argument("--seeds", default="17", help="refresh training seeds, one refresh each (default 17)")
    args = parser.parse_args(argv)
    if args.artifacts is None or not 1 <= args.recent <= 15:
        parser.error("--artifacts DIR (or ARTIFACTS_ML100K) and --recent 1..15")
    from dubbo_recsys.features.embedded import EmbeddedFeatureStore
    from dubbo_recsys.features.seen import InMemorySeenFilter

    full = Path(args.artifacts)
    back = held_back(full, args.recent)
    loads = [load_average()]
    started = time.monotonic()
    lacking = build_lacking(full, args.work / f"ml100k-minus-{args.recent}", back, args.recent)
    build_seconds = time.monotonic() - started
    scores: dict[str, tuple[list[float], list[float]]] = {}
    dropped: dict[str, int] = {}
    for name, path in (("full", full), ("lacking", lacking)):
        DROPPED[0] = 0
        scores[name] = asyncio.run(served(path, EmbeddedFeatureStore.from_artifacts(path), InMemorySeenFilter()))
        dropped[name] = DROPPED[0]
        print(name, np.mean(scores[name][0]), flush=True)
    with kafka_broker() as (bootstrap, _):
        redis = RedisServer()
        redis.start()
        try:
            seeds = [int(seed) for seed in args.seeds.split(",")]
            out = asyncio.run(
                replay_and_score(
                    lacking, back, bootstrap, redis.url, args.work / "root", args.refresh_args.split(), seeds
                )
            )
        finally:
            redis.close()
    scores["lacking + replay"], dropped["lacking + replay"] = out["replay"], out["replay_dropped"]
    for seed, refreshed in out["refreshed"].items():
        scores[f"lacking + replay + refresh (seed {seed})"] = refreshed
        dropped[f"lacking + replay + refresh (seed {seed})"] = out["refreshed_dropped"][seed]
    if len(out["refreshed"]) > 1:  # each user's score averaged over the seeds: the expected refresh
        every = list(out["refreshed"].values())
        scores["lacking + replay + refresh (seed mean)"] = (
            list(np.mean([ndcg for ndcg, _ in every], axis=0)),
            list(np.mean([hr for _, hr in every], axis=0)),
        )
    loads.append(load_average())
    argv = argv if argv is not None else sys.argv[1:]
    per_user = {name: ndcg for name, (ndcg, _) in scores.items()}  # for paired comparisons across runs
    (args.work / "ndcg-per-user.json").write_text(json.dumps({"argv": list(argv), "ndcg": per_user}) + "\n")
    write_results(scores, back, args, build_seconds, out, loads, argv, dropped)
    return 0


def write_results(
    scores: dict[str, tuple[list[float], list[float]]],
    back: dict[str, list[Any]],
    args: argparse.Namespace,
    build_seconds: float,
    out: dict[str, Any],
    loads: list[str],
    argv: Sequence[str],
    dropped: dict[str, int],
) -> None:
    full_ndcg = scores["full"][0]
    rows = [
        "| served build | NDCG@10 | HR@10 | NDCG@10 minus full's (paired, +- 1 s.e.) | its 95 % bootstrap interval "
        "| late-channel requests |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, (ndcg, hr) in scores.items():
        delta = "-" if name == "full" else "{:+.4f} +- {:.4f}".format(*paired(ndcg, full_ndcg))
        interval = "-" if name == "full" else "[{:+.4f}, {:+.4f}]".format(*bootstrap_interval(ndcg, full_ndcg))
        rows.append(
            f"| {name} | {np.mean(ndcg):.4f} | {np.mean(hr):.4f} | {delta} | {interval} | {dropped.get(name, 0)} |"
        )
    recovered, se = paired(scores["lacking + replay"][0], scores["lacking"][0])
    last = [name for name in scores if name.startswith("lacking + replay + refresh")][-1]
    refreshed, refreshed_se = paired(scores[last][0], scores["lacking + replay"][0])
    low, high = bootstrap_interval(scores[last][0], scores["lacking + replay"][0])
    events = sum(len(rows) for rows in back.values())
    section = "\n".join(
        [
            "## Quality: replaying held-back interactions as events (ML-100K)",
            "",
            f"`python bench/realtime/bench_quality.py {' '.join(argv)}`".rstrip()
            + f"; {len(back)} test users, the last {args.recent} training interactions of each held back "
            f"({events} events); the lacking build took {build_seconds:.0f} s (0 when reused), the replay was "
            f"applied in {out['applied_in']:.1f} s, `dubbo-recsys refresh` took "
            + ", ".join(f"{s:.0f}" for s in out["refresh_seconds"].values())
            + f" s ({out['refresh']['new']} new interactions); load average before and after: {' -> '.join(loads)}.",
            "",
            *rows,
            "",
            f"Replay minus lacking, paired: {recovered:+.4f} +- {se:.4f} NDCG@10; {last[19:]} minus replay: "
            f"{refreshed:+.4f} +- {refreshed_se:.4f} (95 % bootstrap [{low:+.4f}, {high:+.4f}]). Target: the realtime "
            "path within noise of full: the bootstrap interval of its paired difference holds 0.",
            "",
            "",
        ]
    )
    from bench_throughput import _replace_section

    _replace_section(section, "## Quality")


if __name__ == "__main__":
    sys.exit(main())
