"""Incremental refresh: fine-tune a version's two-tower on the interactions that arrived as events.

A full build retrains every model on the whole log; between builds the realtime path
(``dubbo-recsys consume``) keeps lastN, seen and counters fresh, but the towers' user-id and
item-id embeddings stay what the build learned. The refresh closes that gap the way
continuous training does, reusing the build's own code:

1. **New interactions**: per user of the base version, the items of its realtime lastN (what
   the consumer wrote, newest first) that the version has not trained on (its
   ``interactions/train.npz`` and, for a refreshed version, ``interactions/events.npz``).
   Items or users the version does not know are left out (counted): a new item gets its
   vector from the item tower when its event arrives (``realtime``), a new user from the
   unknown-user id and their history.
2. **Examples**: the new interactions appended after each user's trained ones, every
   example's history taken over all of them (``offline.examples``), mixed with a seeded
   replay sample of ``replay`` old examples per new one, so the fine-tune does not forget.
3. **Fine-tune**: ``offline.two_tower.train_two_tower`` (the build's loop), warm-started from
   the base version's exported towers; the restored towers must reproduce the base's
   ``embeddings/items.npy`` (a vocabulary read back in another order is refused).
4. **A new version**: the towers exported, ``embeddings/``, the Faiss index and
   ``neighbors/i2i_emb.npz`` recomputed; every other file hard-linked from the base
   (versions are immutable); ``interactions/events.npz`` = the base's plus the new ones; a
   manifest with the base's metrics and the refreshed ``two_tower_u2i_hr@50``, published into
   the root (``offline.versions``) for the providers' rollout gate and swap.

``retrain`` (``refresh --retrain``) trains the two-tower afresh instead, on every trained
interaction plus the new ones with the build's epochs and learning rate: the batch model on the
merged log, at several times the fine-tune's cost.

``catalog_as_of`` in the manifest keeps the base's catalog time: the live items that arrived
after it are re-added by the realtime follower when a provider swaps to the refreshed version.

When the base has a ranker (``models/rank``), its DIN, LR and FM are fine-tuned the same way on the
same examples and its fusion weights refitted on a validation refresh (``offline.refresh_rank``);
``rank=False`` (``refresh --no-rank``) copies them from the base instead.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from dubbo_recsys.interfaces.artifacts import list_versions, version_dir
from dubbo_recsys.offline.errors import ArtifactError
from dubbo_recsys.offline.manifest import read_manifest, write_manifest
from dubbo_recsys.offline.refresh_rank import RANK_META, fine_tune_rankers, held_out_newest, refit_fusion
from dubbo_recsys.offline.versions import publish_version, staging_dir
from dubbo_recsys.rank.fusion import FUSION_FILE
from dubbo_recsys.recall.artifacts import ArtifactDir

__all__ = ["RefreshConfig", "RefreshResult", "new_interactions", "refresh_version"]

log = logging.getLogger("dubbo_recsys.offline")

EVENTS = "interactions/events.npz"
RANK_DIR = "models/rank/"
REPLACED = ("embeddings/", "faiss/", "models/two_tower/", "neighbors/i2i_emb.npz", EVENTS, "manifest.json")


@dataclass(frozen=True, slots=True)
class RefreshConfig:
    epochs: int = 6
    replay: float = 10.0  # old examples replayed per new one (4 left the served score swinging with the seed)
    learning_rate: float = 0.003  # the build's; cosine-decayed over the fine-tune
    seed: int = 17
    min_new: int = 1  # fewer new interactions than this: no new version
    retrain: bool = False  # train the two-tower afresh on everything (the build's epochs and rate), no warm start
    rank: bool = True  # also fine-tune the rankers and refit the fusion weights (when the base has them)
    rank_epochs: int = 3  # the rankers' fine-tuning epochs (the build's count; same rate as the towers')

    def __post_init__(self) -> None:
        if not 1 <= self.epochs <= 100 or not 0 <= self.replay <= 1000 or not 0 < self.learning_rate <= 1:
            raise ValueError("refresh: epochs 1..100, replay 0..1000, learning_rate in (0, 1]")
        if not 1 <= self.rank_epochs <= 100:
            raise ValueError("refresh: rank_epochs 1..100")


@dataclass(frozen=True, slots=True)
class RefreshResult:
    base: Path
    root: Path | None  # the new version, None when nothing was new
    manifest: dict[str, Any] | None
    new: int  # interactions trained on for the first time
    unknown: int  # realtime items or users the base does not know (left out)


def trained_pairs(base: Path) -> tuple[np.ndarray, np.ndarray]:
    """(user rows, item rows) the base version's towers were trained on, users ascending, each user's
    rows in training order (train.npz by time, then earlier refreshes' events in arrival order)."""
    train = np.load(base / "interactions/train.npz")
    user, item = train["user"].astype(np.int32), train["item"].astype(np.int32)
    if (base / EVENTS).is_file():
        events = np.load(base / EVENTS)
        user, item = np.concatenate([user, events["user"]]), np.concatenate([item, events["item"]])
    order = np.argsort(user, kind="stable")
    return user[order], item[order]


def new_interactions(base: Path, recent: Mapping[str, Sequence[str]]) -> tuple[np.ndarray, np.ndarray, int]:
    """(user rows, item rows, unknown count): each user's realtime items (``recent``, newest first) the
    base has not trained on, oldest first; unknown users and items are counted and left out."""
    dirs = ArtifactDir(base)
    user_row = {u: r for r, u in enumerate(dirs.user_ids())}
    item_row = {i: r for r, i in enumerate(dirs.item_ids())}
    user, item = trained_pairs(base)
    bounds = np.searchsorted(user, np.arange(len(user_row) + 1))
    users: list[int] = []
    items: list[int] = []
    unknown = 0
    for user_id, found in recent.items():
        row = user_row.get(user_id)
        if row is None:
            unknown += len(found)
            continue
        known = set(item[bounds[row] : bounds[row + 1]].tolist())
        for item_id in reversed(found):
            r = item_row.get(item_id)
            if r is None:
                unknown += 1
            elif r not in known:
                known.add(r)
                users.append(row)
                items.append(r)
    return np.array(users, np.int32), np.array(items, np.int32), unknown


def _tower_inputs(base: Path, fields: Sequence[str], profile_vocab: list[str], categories: list[str]) -> Any:
    """The base's users and items as the towers' integer inputs (``offline.two_tower.TowerInputs``), indexed
    with the vocabularies its exported towers use: profiles from users.jsonl, categories from items.jsonl."""
    from dubbo_recsys.offline.two_tower import OFFSET, UNKNOWN, TowerInputs, category_index

    token = {t: OFFSET + i for i, t in enumerate(profile_vocab)}
    code = {c: i for i, c in enumerate(categories)}
    with open(base / "features/users.jsonl", encoding="utf-8") as lines:
        profiles = [json.loads(line)["profile"] for line in lines]
    user_profile = np.array(
        [[token.get(f"{f}={p.get(f, '')}", UNKNOWN) for f in fields] for p in profiles], dtype=np.int32
    ).reshape(len(profiles), len(fields))
    codes: list[int] = []
    ptr = [0]
    with open(base / "features/items.jsonl", encoding="utf-8") as lines:
        for line in lines:
            codes.extend(code[c] for c in json.loads(line).get("categories") or [] if c in code)
            ptr.append(len(codes))
    catalog = _Categories(len(ptr) - 1, np.array(ptr, np.int64), np.array(codes, np.int32))
    return TowerInputs(tuple(fields), profile_vocab, user_profile, category_index(catalog))


class _Categories(NamedTuple):
    """The items' categories read back from a version's features (``two_tower.CategoryTable``)."""

    n_items: int
    category_ptr: np.ndarray
    category_codes: np.ndarray


def _link_base(base: Path, staging: Path, replaced: Sequence[str] = REPLACED) -> None:
    for source in base.rglob("*"):
        rel = source.relative_to(base).as_posix()
        if not source.is_file() or any(rel == r or rel.startswith(r) for r in replaced):
            continue
        target = staging / rel
        if target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(source, target)
        except OSError:
            shutil.copy2(source, target)


def refresh_version(
    root: Path, recent: Mapping[str, Sequence[str]], config: RefreshConfig, base_version: str | None = None
) -> RefreshResult:
    """Fine-tune ``base_version`` (default: the newest) of ``root`` on ``recent``'s new interactions and
    publish the result as a new version; nothing is written when fewer than ``min_new`` are new."""
    versions = list_versions(root)
    if not versions:
        raise ArtifactError(f"{root} holds no version to refresh")
    base = version_dir(root, base_version or versions[-1])
    manifest = read_manifest(base)
    new_user, new_item, unknown = new_interactions(base, recent)
    if len(new_user) < max(config.min_new, 1):
        return RefreshResult(base, None, None, len(new_user), unknown)
    began, started_at = time.perf_counter(), time.time()
    staging = staging_dir(root)
    work = staging.parent / f".work-refresh-{os.getpid()}"
    rank = config.rank and (base / RANK_META).is_file()
    try:
        fusion = _validate(base, manifest, recent, new_user, new_item, config, work) if rank else None
        trained = _train(base, manifest, new_user, new_item, config, staging, work / "examples", rank)
        if fusion is not None:
            (staging / FUSION_FILE).write_text(json.dumps(fusion.to_json()) + "\n", encoding="utf-8")
            trained |= {
                f"rank_fusion_validation_{k}": v for k, v in fusion.provenance["validation"].items() if k != "users"
            }
        _link_base(base, staging, (*REPLACED, RANK_DIR) if rank else REPLACED)
        if rank and fusion is None and (base / FUSION_FILE).is_file():
            os.link(base / FUSION_FILE, staging / FUSION_FILE)  # too few validation groups: the base's weights
        prior = np.load(base / EVENTS) if (base / EVENTS).is_file() else None
        events = {
            "user": np.concatenate([prior["user"], new_user]) if prior is not None else new_user,
            "item": np.concatenate([prior["item"], new_item]) if prior is not None else new_item,
        }
        np.savez(staging / EVENTS, user=events["user"], item=events["item"])
        seconds = round(time.perf_counter() - began, 3)
        digest = hashlib.sha256(manifest["version"].encode())
        digest.update(events["user"].tobytes() + events["item"].tobytes())
        refresh = {
            "base": base.name,
            "new": len(new_user),
            "unknown": unknown,
            **dataclasses.asdict(config),
            "rank_models": "fine-tuned, fusion "
            + ("refitted" if fusion is not None else "the base's (too few validation groups)")
            if rank
            else "the base's",
        }
        fields: dict[str, Any] = {
            key: manifest[key] for key in ("name", "source", "source_fingerprint", "counts") if key in manifest
        }
        fields |= {
            "version": digest.hexdigest()[:16],
            "params": {**manifest.get("params", {}), "refresh": refresh},
            "metrics": {**manifest.get("metrics", {}), **trained},
            "steps": {"Refresh": seconds},
            "build": {"engine": "refresh", "started_at": round(started_at, 3), "seconds": seconds},
            "catalog_as_of": manifest.get("catalog_as_of") or manifest["built_at"],
        }
        written = write_manifest(staging, fields)
        out = publish_version(staging, root, written)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    log.info(
        "refresh: %s -> %s, %d new interactions (%d unknown left out)", base.name, out.name, len(new_user), unknown
    )
    return RefreshResult(base, out, written, len(new_user), unknown)


def _validate(
    base: Path,
    manifest: dict[str, Any],
    recent: Mapping[str, Sequence[str]],
    new_user: np.ndarray,
    new_item: np.ndarray,
    config: RefreshConfig,
    work: Path,
) -> Any:
    """The validation refresh: every model fine-tuned without each user's newest new interaction, in a
    complete version under ``work``; returns the fusion weights fitted on it (``offline.refresh_rank``)."""
    held = held_out_newest(new_user, new_item)
    validation = work / "validation"
    _train(base, manifest, new_user[~held], new_item[~held], config, validation, work / "validation-examples", True)
    _link_base(base, validation, (*REPLACED, RANK_DIR))
    shutil.copy2(base / "manifest.json", validation / "manifest.json")
    kept: dict[int, list[int]] = {}
    for user_row, item_row in zip(new_user[~held].tolist(), new_item[~held].tolist(), strict=True):
        kept.setdefault(user_row, []).append(item_row)
    return refit_fusion(validation, recent, new_user[held], new_item[held], kept)


def _train(
    base: Path,
    manifest: dict[str, Any],
    new_user: np.ndarray,
    new_item: np.ndarray,
    config: RefreshConfig,
    staging: Path,
    work: Path,
    rank: bool = False,
) -> dict[str, float]:
    """Fine-tune the base's towers (and with ``rank`` its rankers, on the same examples), write the
    two-tower files, embeddings and index (and ``models/rank``) into ``staging``, the examples into
    ``work``; returns the refreshed metrics."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    from dubbo_recsys.offline.ann import FLAT_MAX, write_item_index
    from dubbo_recsys.offline.config import TwoTowerConfig
    from dubbo_recsys.offline.examples import write_example_files
    from dubbo_recsys.offline.features import last_n_of
    from dubbo_recsys.offline.model_steps import EVAL_USERS, tower_vectors
    from dubbo_recsys.offline.two_tower import hit_rate, train_two_tower
    from dubbo_recsys.offline.two_tower_export import export_towers, exported_vocabularies, load_tower_weights

    if not (base / "models/two_tower/meta.json").is_file():
        raise ArtifactError(f"refresh: {base.name} has no two-tower model to refresh (built without it)")
    meta = json.loads((base / "models/two_tower/meta.json").read_text(encoding="utf-8"))
    params = manifest.get("params", {})
    tower = dataclasses.replace(TwoTowerConfig(**params.get("two_tower", {})), seed=config.seed)
    if not config.retrain:
        tower = dataclasses.replace(tower, epochs=config.epochs, learning_rate=config.learning_rate)
    profile_vocab, categories = exported_vocabularies(base / "models/two_tower")
    inputs = _tower_inputs(base, meta["profile_fields"], profile_vocab, categories)
    n_users, n_items = len(inputs.user_profile), len(inputs.item_categories)
    old_user, old_item = trained_pairs(base)
    user = np.concatenate([old_user, new_user])
    item = np.concatenate([old_item, new_item])
    is_new = np.concatenate([np.zeros(len(old_user), bool), np.ones(len(new_user), bool)])
    order = np.argsort(user, kind="stable")  # each user's new rows after their trained ones
    user, item, is_new = user[order], item[order], is_new[order]
    keep = is_new.copy()
    replayed = len(old_user) if config.retrain else min(round(config.replay * len(new_user)), len(old_user))
    keep[np.random.default_rng(config.seed).choice(np.flatnonzero(~is_new), replayed, replace=False)] = True
    rank_params = params.get("rank_model", {})
    width = max(tower.history_len, rank_params.get("history_len", 0)) if rank else tower.history_len
    examples = write_example_files(work, user, item, width, keep=keep)
    popularity = np.bincount(item[keep], minlength=n_items).astype(np.float64)

    history = last_n_of(user, item, n_users, n_items, tower.history_len).window(tower.history_len)
    served_items = np.load(base / "embeddings/items.npy")

    def warm_start(model: Any) -> None:
        try:
            load_tower_weights(model, base / "models/two_tower")
        except (ValueError, OSError, tf.errors.OpError) as exc:
            raise ArtifactError(f"refresh: {base.name}'s towers do not load into this model: {exc}") from exc
        drift = float(np.abs(tower_vectors(model, inputs, history)[1] - served_items).max())
        if drift > 1e-3:  # the rebuilt vocabularies index the tables otherwise than the base's build did
            raise ArtifactError(f"refresh: the restored item tower differs from {base.name}'s vectors by {drift:.3g}")

    model, losses = train_two_tower(
        inputs, examples, popularity, n_users, len(categories), tower, warm_start=None if config.retrain else warm_start
    )
    users, items = tower_vectors(model, inputs, history)
    (staging / "embeddings").mkdir(parents=True)
    np.save(staging / "embeddings/users.npy", users)
    np.save(staging / "embeddings/items.npy", items)
    (staging / "ids").mkdir(parents=True)
    for name in ("users.txt", "items.txt"):
        os.link(base / "ids" / name, staging / "ids" / name)
    export_towers(
        model,
        staging / "models/two_tower",
        staging / "ids/users.txt",
        staging / "ids/items.txt",
        inputs.profile_vocab,
        categories,
        tower.history_len,
    )
    write_item_index(staging, items, params.get("faiss_flat_max", FLAT_MAX), params.get("neighbors", {}).get("k", 100))

    test = np.load(base / "interactions/test.npz")
    test_user, test_item = test["user"][:EVAL_USERS], test["item"][:EVAL_USERS]
    bounds = np.searchsorted(user, np.arange(n_users + 1))
    hr50 = round(
        hit_rate(users, items, test_user, test_item, lambda us: [item[bounds[u] : bounds[u + 1]] for u in us]), 4
    )
    meta |= {"epoch_loss": [round(x, 4) for x in losses], "u2i_hr@50_test": hr50, "refreshed_from": base.name}
    (staging / "models/two_tower/meta.json").write_text(json.dumps(meta) + "\n", encoding="utf-8")
    if rank:
        rank_meta = json.loads((base / RANK_META).read_text(encoding="utf-8"))
        tables = _tower_inputs(base, rank_meta["profile_fields"], rank_meta["profile_vocab"], rank_meta["categories"])
        counts = np.bincount(item, minlength=n_items).astype(np.float64)  # every trained interaction, as a build
        fine_tune_rankers(base, staging, tables, examples, counts, params, config)
    return {"two_tower_u2i_hr@50": hr50}
