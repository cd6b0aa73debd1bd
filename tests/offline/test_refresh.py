"""``dubbo-recsys refresh`` against the real Redis: events applied by the consumer's sink, read back
from the realtime lastN, fine-tune the two-tower (and, when the build has one, the DIN ranker and the
fusion weights) of a small build into a new version that passes the rollout gate's file checks, and
the refreshed towers and ranker score the new interactions higher."""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from dubbo_recsys.features.redis import RedisConfig, close_client
from dubbo_recsys.interfaces.artifacts import list_versions, version_dir
from dubbo_recsys.interfaces.events import Action, UserEvent
from dubbo_recsys.interfaces.recommend import RecommendRequest
from dubbo_recsys.offline.build import run_build
from dubbo_recsys.offline.config import TwoTowerConfig
from dubbo_recsys.offline.errors import ArtifactError
from dubbo_recsys.offline.rank_steps import RankModel, RankModelConfig
from dubbo_recsys.offline.recipe import default_steps
from dubbo_recsys.offline.refresh import RefreshConfig, refresh_version
from dubbo_recsys.provider.cli import main as cli
from dubbo_recsys.provider.rollout.gate import check_files
from dubbo_recsys.provider.rollout.version import ServingVersion
from dubbo_recsys.realtime.effects import Delivery, Position
from dubbo_recsys.realtime.sink import RedisEventSink
from tests.features.conftest import sync_redis_space
from tests.offline.conftest import small_config
from tests.rollout.conftest import one_version, opened, rollout_app

__all__ = ["opened", "sync_redis_space"]

USERS, PER_USER = 60, 4


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An artifact root holding one small synthetic build with a two-tower (no ranker: not refreshed)."""
    out = tmp_path_factory.mktemp("refresh") / "root"
    steps = tuple(s for s in default_steps() if type(s).__name__ not in ("RankModel", "RankFusion"))
    config = small_config(out, two_tower=TwoTowerConfig(dim=16, epochs=2, batch_size=256))
    run_build(config, steps=steps, into_root=True)
    return out


@pytest.fixture(scope="module")
def ranked_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An artifact root holding one small synthetic build with a two-tower and a briefly trained DIN
    (no fusion: its validation build would double the time; the refresh fits one of its own)."""
    out = tmp_path_factory.mktemp("refresh") / "ranked"
    rank = RankModel(RankModelConfig(dim=16, fm_dim=8, negatives=32, epochs=2, batch_size=256, eval_users=20))
    steps = tuple(rank if isinstance(s, RankModel) else s for s in default_steps() if type(s).__name__ != "RankFusion")
    config = small_config(out, two_tower=TwoTowerConfig(dim=16, epochs=2, batch_size=256))
    run_build(config, steps=steps, into_root=True)
    return out


def unseen_pairs(base: Path) -> list[tuple[str, str]]:
    """PER_USER items each of USERS users never interacted with in the build (their new events)."""
    users = (base / "ids/users.txt").read_text().split()
    items = (base / "ids/items.txt").read_text().split()
    train = np.load(base / "interactions/train.npz")
    rng = np.random.default_rng(5)
    pairs = []
    for row in range(USERS):
        had = set(train["item"][train["user"] == row].tolist()) | set(np.load(base / "interactions/test.npz")["item"])
        fresh = [i for i in rng.permutation(len(items)).tolist() if i not in had][:PER_USER]
        pairs += [(users[row], items[i]) for i in fresh]
    return pairs


def with_popular_newest(base: Path, pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """``pairs`` with each user's newest event replaced by the most popular item they never had: an
    item recall finds, so the refresh's validation (each user's newest new item held out) has groups."""
    items = (base / "ids/items.txt").read_text().split()
    train = np.load(base / "interactions/train.npz")
    by_count = np.argsort(-np.bincount(train["item"], minlength=len(items)), kind="stable").tolist()
    test_items = set(np.load(base / "interactions/test.npz")["item"].tolist())
    users = {u: r for r, u in enumerate((base / "ids/users.txt").read_text().split())}
    out: list[tuple[str, str]] = []
    for start in range(0, len(pairs), PER_USER):
        user = pairs[start][0]
        had = set(train["item"][train["user"] == users[user]].tolist()) | test_items
        taken = {item for _, item in pairs[start : start + PER_USER - 1]}
        popular = next(items[i] for i in by_count if i not in had and items[i] not in taken)
        out += [*pairs[start : start + PER_USER - 1], (user, popular)]
    return out


def apply_events(url: str, prefix: str, pairs: list[tuple[str, str]]) -> None:
    """The consumer's own write path (``RedisEventSink``) puts the events into the realtime lastN."""

    async def run() -> None:
        config = RedisConfig(url=url, prefix=prefix)
        client = config.client()
        try:
            sink = RedisEventSink(client, config.layout)
            deliveries = [
                Delivery(Position("p0", n, 0), UserEvent(f"e{n}", user, item, Action.PLAY, 1_700_000_000_000 + n, 1.0))
                for n, (user, item) in enumerate(pairs)
            ]
            report = await sink.apply(deliveries)
            assert report.new == len(pairs)
        finally:
            await close_client(client)

    asyncio.run(run())


def ranks(version: Path, pairs: list[tuple[str, str]], base: Path) -> np.ndarray:
    """Percentile of each pair's item among all items for its user, by ``version``'s exported towers
    fed the same inputs (the base's profile and lastN), so only the weights differ."""
    import tensorflow as tf

    users = {u["id"]: u for u in map(json.loads, (base / "features/users.jsonl").read_text().splitlines())}
    items = [json.loads(line) for line in (base / "features/items.jsonl").read_text().splitlines()]
    meta = json.loads((version / "models/two_tower/meta.json").read_text())
    user_tower = tf.saved_model.load(str(version / "models/two_tower/user_tower")).signatures["serving_default"]
    item_tower = tf.saved_model.load(str(version / "models/two_tower/item_tower")).signatures["serving_default"]
    width = max(len(i["categories"]) for i in items)
    item_vectors = item_tower(
        item_id=tf.constant([i["id"] for i in items]),
        categories=tf.constant([i["categories"] + [""] * (width - len(i["categories"])) for i in items]),
    )["item_embedding"].numpy()
    row = {i["id"]: r for r, i in enumerate(items)}
    out = []
    for user_id, item_id in pairs:
        user = users[user_id]
        history = (user["last_n"] or [""])[: meta["history_len"]]
        vector = user_tower(
            user_id=tf.constant([user_id]),
            profile=tf.constant([[str(user["profile"].get(f, "")) for f in meta["profile_fields"]]]),
            history=tf.constant([history]),
        )["user_embedding"].numpy()[0]
        scores = item_vectors @ vector
        out.append(float((scores < scores[row[item_id]]).mean()))
    return np.array(out)


def din_ranks(version: Path, pairs: list[tuple[str, str]], base: Path) -> np.ndarray:
    """Percentile of each pair's item among all items for its user by ``version``'s DIN (its ``rank``
    signature), fed the same inputs (the base's profile and lastN), so only the weights differ."""
    import tensorflow as tf

    users = {u["id"]: u for u in map(json.loads, (base / "features/users.jsonl").read_text().splitlines())}
    item_row = {i: r for r, i in enumerate((base / "ids/items.txt").read_text().split())}
    meta = json.loads((version / "models/rank/meta.json").read_text())
    token = {t: r for r, t in enumerate(meta["profile_vocab"])}
    rank = tf.saved_model.load(str(version / "models/rank/din")).signatures["rank"]
    every = tf.constant(np.arange(len(item_row), dtype=np.int32))
    out = []
    for user_id, item_id in pairs:
        user = users[user_id]
        history = [item_row[i] for i in user["last_n"]] or [-1]
        profile = [token.get(f"{f}={user['profile'].get(f, '')}", -1) for f in meta["profile_fields"]]
        scores = rank(history=tf.constant(history, tf.int32), profile=tf.constant(profile, tf.int32), items=every)
        scores = scores["scores"].numpy()
        out.append(float((scores < scores[item_row[item_id]]).mean()))
    return np.array(out)


def test_refresh_writes_a_gated_version_that_learned_the_events(root: Path, sync_redis_space: Any) -> None:
    base = version_dir(root, list_versions(root)[-1])
    pairs = unseen_pairs(base)
    apply_events(sync_redis_space.url, sync_redis_space.prefix, pairs)

    argv = ["refresh", "--artifact-root", str(root), "--redis", sync_redis_space.url]
    argv += ["--prefix", sync_redis_space.prefix, "--epochs", "4", "--learning-rate", "0.01"]
    assert cli(argv) == 0
    versions = list_versions(root)
    assert len(versions) == 2 and versions[0] == base.name
    new = version_dir(root, versions[1])
    manifest = check_files(new, new.name, serving_root=base)  # manifest, checksum, finite, index, signature
    assert manifest["params"]["refresh"]["new"] == len(pairs)
    base_built = json.loads((base / "manifest.json").read_text())["built_at"]
    assert manifest["catalog_as_of"] == base_built and manifest["built_at"] >= base_built
    # what the realtime follower re-adds live items after: the base's catalog, not the refresh's time
    as_of = ServingVersion.built_at_ms.fget(SimpleNamespace(manifest=manifest))  # type: ignore[attr-defined]  # the getter run on a stand-in that has only a manifest
    assert as_of == int(datetime.fromisoformat(base_built.replace("Z", "+00:00")).timestamp() * 1000)
    events = np.load(new / "interactions/events.npz")
    assert len(events["user"]) == len(pairs)

    item_rows = {i: r for r, i in enumerate((base / "ids/items.txt").read_text().split())}
    touched = sorted({item_rows[item] for _, item in pairs})
    before, after = np.load(base / "embeddings/items.npy"), np.load(new / "embeddings/items.npy")
    assert np.abs(after[touched] - before[touched]).max(axis=1).min() > 1e-4  # every item with events moved

    old_rank, new_rank = ranks(base, pairs, base), ranks(new, pairs, base)
    print(f"new interactions' mean percentile: base {old_rank.mean():.3f}, refreshed {new_rank.mean():.3f}")
    assert new_rank.mean() > old_rank.mean() + 0.05, (old_rank.mean(), new_rank.mean())

    assert cli(argv) == 0  # the same events again: already trained on, so no third version
    assert list_versions(root) == versions


def test_refresh_fine_tunes_the_ranker_and_refits_the_fusion(ranked_root: Path, sync_redis_space: Any) -> None:
    base = version_dir(ranked_root, list_versions(ranked_root)[-1])
    assert (base / "models/rank/meta.json").is_file() and not (base / "models/rank/fusion.json").exists()
    pairs = with_popular_newest(base, unseen_pairs(base))
    apply_events(sync_redis_space.url, sync_redis_space.prefix, pairs)

    argv = ["refresh", "--artifact-root", str(ranked_root), "--redis", sync_redis_space.url]
    argv += ["--prefix", sync_redis_space.prefix, "--epochs", "2", "--rank-epochs", "4", "--learning-rate", "0.01"]
    assert cli(argv) == 0
    versions = list_versions(ranked_root)
    assert len(versions) == 2
    new = version_dir(ranked_root, versions[1])
    manifest = check_files(new, new.name, serving_root=base)  # the DIN SavedModel's signature check included
    assert manifest["params"]["refresh"]["rank_models"].startswith("fine-tuned")
    meta = json.loads((new / "models/rank/meta.json").read_text())
    assert meta["refreshed_from"] == base.name and len(meta["epoch_loss"]["din"]) == 4

    unseen = [pair for n, pair in enumerate(pairs) if n % PER_USER != PER_USER - 1]  # the random ones
    old_rank, new_rank = din_ranks(base, unseen, base), din_ranks(new, unseen, base)
    print(f"new interactions' mean DIN percentile: base {old_rank.mean():.3f}, refreshed {new_rank.mean():.3f}")
    assert new_rank.mean() > old_rank.mean() + 0.05, (old_rank.mean(), new_rank.mean())

    fusion = json.loads((new / "models/rank/fusion.json").read_text())  # the base has none: the refresh's own
    assert fusion["chosen_on"].startswith("refresh validation (60 users' newest new interaction held out")
    assert np.isfinite(fusion["weights"]).all() and fusion["features"][0] == "din"
    assert manifest["metrics"]["rank_fusion_validation_fused_ndcg@10"] == fusion["validation"]["fused_ndcg@10"]

    assert cli(argv) == 0  # the same events again: already trained on, so no third version
    assert list_versions(ranked_root) == versions


def test_refresh_refuses_an_empty_root(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="no version"):
        refresh_version(tmp_path, {"u": ["i"]}, RefreshConfig())
    assert cli(["refresh", "--artifact-root", str(tmp_path), "--redis", "redis://127.0.0.1:1/0"]) == 2


@pytest.mark.asyncio
async def test_a_provider_serving_the_root_swaps_to_the_refreshed_version(
    root: Path, tmp_path: Path, opened: list
) -> None:
    """The whole rollout gate (memory, files, metric, load, warm-up, smoke) takes the refreshed version."""
    first = version_dir(root, list_versions(root)[0])
    own = tmp_path / "root"
    shutil.copytree(first, version_dir(own, first.name))  # a root of its own, serving the base
    app = rollout_app(own)
    opened.append(app)
    await app.open()
    assert app.serving is not None and app.serving.id == first.name
    recent: dict[str, list[str]] = {}
    for user, item in unseen_pairs(first):
        recent.setdefault(user, []).insert(0, item)  # newest first, as lastN holds them
    result = await asyncio.to_thread(refresh_version, own, recent, RefreshConfig(epochs=1))
    assert result.root is not None and result.new == USERS * PER_USER
    began = time.monotonic()
    while app.serving.id != result.root.name:
        assert time.monotonic() - began < 60, f"not swapped: {app.serving.id}"
        await asyncio.sleep(0.1)
    answer = await app.recommend(RecommendRequest(userId=next(iter(recent)), count=10, debug=True))
    assert answer.code == 200 and len(answer.items) == 10, answer.message
    assert one_version(answer.debugInfo) == result.root.name
