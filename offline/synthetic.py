"""A seeded synthetic catalog for scale: power-law popularity and latent-factor tastes.

Model (all draws from ``numpy.random.Generator`` seeded by ``SyntheticConfig.seed``):

- ``C = clip(sqrt(items) / 4, 8, 200)`` categories, each a random centroid in
  ``latent_dim`` dimensions; ``items // 25`` authors, each with a home
  category and region; an item belongs to a random author, takes the author's
  category as primary (80 %, otherwise a random one) plus 0-2 extra ones, and
  its vector is centroid + author offset + noise, L2-normalised.
- Popularity: item ranks are a random permutation; weight ``rank ** -zipf_exponent``.
- Users: a taste vector mixing 1-3 category centroids; a region (10, unevenly
  likely), gender and age group; an interaction count ``2 + LogNormal`` with
  mean ``mean_interactions``, capped at ``items / 2``.
- Interactions: for each user, ``8 n`` candidates drawn by popularity, scored
  ``4 <taste, item> + 0.5 [same region] + Gumbel``; the best ``n`` distinct
  ones are taken, in random time order (exponential gaps after a random start).
  Ratings 1-5 follow the affinity.

Users are generated in fixed chunks of ``CHUNK`` with one seed per chunk, so
memory stays bounded and the output does not depend on anything but the
config. ``write_files(workers=N)`` computes chunks in N forked processes (the
catalog arrays are shared copy-on-write) and writes them in chunk order: the
same files, N times sooner. Bump ``GENERATOR_REVISION`` whenever the output for
a seed changes.
"""

from __future__ import annotations

import argparse
import multiprocessing
from collections.abc import Callable, Iterator
from dataclasses import fields
from pathlib import Path

import numpy as np

from dubbo_recsys.offline.config import SyntheticConfig
from dubbo_recsys.offline.dataset import Catalog, Interactions, SourceData

__all__ = ["CHUNK", "GENERATOR_REVISION", "SIZES", "generate", "write_files"]

# Scale presets of ``bench/offline`` (interactions ~ users x mean): users and items grow with the log,
# so per-event work (co-occurrences per user, users per item under the caps) stays the same.
SIZES = {
    "1M": SyntheticConfig(users=100_000, items=50_000, mean_interactions=10.0),
    "10M": SyntheticConfig(users=1_000_000, items=500_000, mean_interactions=10.0),
    "50M": SyntheticConfig(users=5_000_000, items=2_500_000, mean_interactions=10.0),
}

GENERATOR_REVISION = 1
CHUNK = 4_096
N_REGIONS = 10
START_TS = 1_600_000_000
_AGE_GROUPS = np.array(["under-18", "18-24", "25-34", "35-44", "45-49", "50-55", "56+"])
_AGE_P = np.array([0.05, 0.2, 0.3, 0.2, 0.1, 0.08, 0.07])


def _rng(seed: int, *stream: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, *stream]))


def _normalise(v: np.ndarray) -> np.ndarray:
    return (v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)).astype(np.float32)


def generate(config: SyntheticConfig, progress: Callable[[int], None] | None = None) -> SourceData:
    """The catalog and the whole log in memory (the embedded engine's synthetic source)."""
    catalog, chunks = _world(config)
    users, items, stamps, ratings = [], [], [], []
    for part in chunks:
        users.append(part[0])
        items.append(part[1])
        stamps.append(part[2])
        ratings.append(part[3])
        if progress:
            progress(len(np.unique(part[0])))
    inter = Interactions(np.concatenate(users), np.concatenate(items), np.concatenate(stamps), np.concatenate(ratings))
    return SourceData(**{f.name: getattr(catalog, f.name) for f in fields(Catalog)}, interactions=inter)


def write_files(config: SyntheticConfig, out: Path, rows_per_file: int = 2_000_000, workers: int = 1) -> dict[str, int]:
    """The same catalog and log as ``generate``, streamed to a ``--source files`` directory.

    ``out/interactions/part-NNNNN.parquet`` (user_id, item_id strings, ts, rating, in user order),
    ``out/users.parquet`` and ``out/items.parquet`` (``offline.logfiles`` schema). Memory stays at one
    file of rows plus the catalog (per worker), so 50M interactions fit where ``generate`` would not.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    catalog, chunks = _world(config, workers)
    (out / "interactions").mkdir(parents=True, exist_ok=True)
    user_ids, item_ids = catalog.user_ids.astype(object), catalog.item_ids.astype(object)
    users = {"user_id": user_ids, **{k: v.astype(object) for k, v in catalog.user_profile.items()}}
    pq.write_table(pa.table(users), out / "users.parquet")
    names = catalog.category_names.tolist()
    codes, ptr = catalog.category_codes.tolist(), catalog.category_ptr.tolist()
    categories = ["|".join(names[c] for c in codes[ptr[r] : ptr[r + 1]]) for r in range(catalog.n_items)]
    items = {
        "item_id": item_ids,
        "categories": np.array(categories, dtype=object),
        "author": catalog.item_author.astype(object),
        "region": catalog.item_region.astype(object),
    }
    pq.write_table(pa.table(items), out / "items.parquet")
    part, total = 0, 0
    buffered: list[tuple[np.ndarray, ...]] = []

    def flush() -> None:
        nonlocal part, buffered
        user, item, ts, rating = (np.concatenate(column) for column in zip(*buffered, strict=True))
        table = pa.table({"user_id": user_ids[user], "item_id": item_ids[item], "ts": ts, "rating": rating})
        pq.write_table(table, out / "interactions" / f"part-{part:05d}.parquet", row_group_size=262_144)
        part, buffered = part + 1, []

    for chunk in chunks:
        buffered.append(chunk)
        total += len(chunk[0])
        if sum(len(c[0]) for c in buffered) >= rows_per_file:
            flush()
    if buffered:
        flush()
    return {"users": catalog.n_users, "items": catalog.n_items, "interactions": total, "files": part}


_SHARED: dict[str, tuple] = {}  # a worker's catalog arrays: inherited by fork, not pickled


def _share(arrays: tuple) -> None:
    _SHARED["arrays"] = arrays


def _shared_chunk(chunk: int) -> tuple[np.ndarray, ...]:
    seed, n_users, *arrays = _SHARED["arrays"]
    start = chunk * CHUNK
    return _chunk(seed, chunk, start, min(start + CHUNK, n_users), *arrays)


def _world(config: SyntheticConfig, workers: int = 1) -> tuple[Catalog, Iterator[tuple[np.ndarray, ...]]]:
    """The catalog, and the log as an iterator of per-chunk (user, item, ts, rating) arrays."""
    n_users, n_items, d = config.users, config.items, config.latent_dim
    rng = _rng(config.seed, 0)
    n_cat = int(np.clip(np.sqrt(n_items) / 4, 8, 200))
    n_auth = max(1, n_items // 25)
    centroids = _normalise(rng.standard_normal((n_cat, d)))
    region_p = rng.dirichlet(np.full(N_REGIONS, 2.0))

    author_cat = rng.integers(0, n_cat, n_auth)
    author_region = rng.choice(N_REGIONS, n_auth, p=region_p)
    author_offset = rng.standard_normal((n_auth, d)).astype(np.float32) * 0.4
    item_author = rng.integers(0, n_auth, n_items)
    primary = np.where(rng.random(n_items) < 0.8, author_cat[item_author], rng.integers(0, n_cat, n_items))
    n_extra = rng.integers(0, 3, n_items)
    extra = rng.integers(0, n_cat, (n_items, 2))
    item_vec = _normalise(
        centroids[primary] + author_offset[item_author] + rng.standard_normal((n_items, d)).astype(np.float32) * 0.35
    )
    item_region = author_region[item_author]
    ranks = rng.permutation(n_items)
    weight = (ranks + 1.0) ** -config.zipf_exponent
    cdf = np.cumsum(weight / weight.sum())

    # Categories as CSR: primary first, extras after, duplicates dropped.
    ptr = [0]
    codes: list[int] = []
    for row, (p, k) in enumerate(zip(primary.tolist(), n_extra.tolist(), strict=True)):
        mine = [p]
        for c in extra[row, :k].tolist():
            if c not in mine:
                mine.append(c)
        codes.extend(mine)
        ptr.append(len(codes))

    user_region = rng.choice(N_REGIONS, n_users, p=region_p)
    profile = {
        "age_group": _AGE_GROUPS[rng.choice(len(_AGE_GROUPS), n_users, p=_AGE_P)],
        "gender": np.where(rng.random(n_users) < 0.5, "F", "M"),
        "region": np.array([f"region-{r:02d}" for r in range(N_REGIONS)])[user_region],
    }
    mu = np.log(max(config.mean_interactions - 2.0, 0.5)) - 0.5
    cap = max(2, min(n_items // 2, 5_000))

    def chunks() -> Iterator[tuple[np.ndarray, ...]]:
        shared = (config.seed, n_users, centroids, item_vec, item_region, user_region, cdf, mu, cap)
        n_chunks = -(-n_users // CHUNK)
        if workers <= 1:
            _share(shared)
            try:
                yield from map(_shared_chunk, range(n_chunks))
            finally:
                _SHARED.clear()
            return
        with multiprocessing.get_context("fork").Pool(workers, initializer=_share, initargs=(shared,)) as pool:
            yield from pool.imap(_shared_chunk, range(n_chunks), chunksize=4)

    catalog = Catalog(
        name="synthetic",
        fingerprint="",
        user_ids=np.array([f"u{i}" for i in range(n_users)]),
        item_ids=np.array([f"i{i}" for i in range(n_items)]),
        user_profile=profile,
        category_names=np.array([f"cat-{c:03d}" for c in range(n_cat)]),
        category_ptr=np.array(ptr, dtype=np.int64),
        category_codes=np.array(codes, dtype=np.int32),
        item_author=np.array([f"author-{a}" for a in range(n_auth)])[item_author],
        item_region=np.array([f"region-{r:02d}" for r in range(N_REGIONS)])[item_region],
        item_attrs={},
        notes={
            "generator": f"dubbo_recsys.offline.synthetic revision {GENERATOR_REVISION}",
            "author": "synthetic authors",
        },
    )
    return catalog, chunks()


def _chunk(seed, chunk, start, stop, centroids, item_vec, item_region, user_region, cdf, mu, cap):
    rng = _rng(seed, 1, chunk)
    n = stop - start
    n_cat, d = centroids.shape
    mix = rng.integers(0, n_cat, (n, 3))
    share = rng.dirichlet(np.ones(3), n).astype(np.float32) * (rng.random((n, 3)) < [1.0, 0.6, 0.3])
    taste = _normalise(np.einsum("uk,ukd->ud", share, centroids[mix]) + rng.standard_normal((n, d)) * 0.2)
    counts = np.minimum(2 + np.floor(rng.lognormal(mu, 1.0, n)).astype(np.int64), cap)

    per_user = 8 * counts
    owner = np.repeat(np.arange(n), per_user)
    candidate = np.minimum(np.searchsorted(cdf, rng.random(len(owner))), len(cdf) - 1)
    affinity = np.einsum("cd,cd->c", taste[owner], item_vec[candidate])
    score = 4.0 * affinity + 0.5 * (item_region[candidate] == user_region[start + owner]) + rng.gumbel(size=len(owner))
    order = np.lexsort((-score, candidate, owner))  # per (user, item) best score first
    owner, candidate, score, affinity = owner[order], candidate[order], score[order], affinity[order]
    first = np.ones(len(owner), dtype=bool)
    first[1:] = (owner[1:] != owner[:-1]) | (candidate[1:] != candidate[:-1])
    owner, candidate, score, affinity = owner[first], candidate[first], score[first], affinity[first]
    order = np.lexsort((-score, owner))
    owner, candidate, affinity = owner[order], candidate[order], affinity[order]
    rank = np.arange(len(owner)) - np.searchsorted(owner, owner)
    take = rank < counts[owner]
    owner, candidate, affinity = owner[take], candidate[take], affinity[take]

    shuffle = np.lexsort((rng.random(len(owner)), owner))  # random time order within a user
    owner, candidate, affinity = owner[shuffle], candidate[shuffle], affinity[shuffle]
    gaps = rng.exponential(3_600.0, len(owner)).astype(np.int64) + 1
    begin = START_TS + rng.integers(0, 180 * 86_400, n)
    run_start = np.searchsorted(owner, owner)
    cum = np.cumsum(gaps)
    ts = begin[owner] + cum - cum[run_start] + gaps[run_start]
    z = (affinity - affinity.mean()) / max(float(affinity.std()), 1e-6)
    rating = np.clip(np.round(3.5 + 1.2 * z), 1, 5).astype(np.float32)
    return (start + owner).astype(np.int32), candidate.astype(np.int32), ts.astype(np.int64), rating


def main(argv: list[str] | None = None) -> int:
    """``python -m dubbo_recsys.offline.synthetic --size 10M --out DIR``: a log for ``build --source files``."""
    parser = argparse.ArgumentParser(prog="python -m dubbo_recsys.offline.synthetic", description=main.__doc__)
    parser.add_argument("--size", choices=sorted(SIZES), help="a preset of bench/offline")
    parser.add_argument("--users", type=int)
    parser.add_argument("--items", type=int)
    parser.add_argument("--mean-interactions", type=float)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", required=True)
    parser.add_argument("--workers", type=int, default=1, help="processes computing chunks (same output)")
    args = parser.parse_args(argv)
    base = SIZES[args.size] if args.size else SyntheticConfig()
    config = SyntheticConfig(
        users=args.users or base.users,
        items=args.items or base.items,
        mean_interactions=args.mean_interactions or base.mean_interactions,
        seed=args.seed,
    )
    written = write_files(config, Path(args.out), workers=args.workers)
    print(f"wrote {args.out}: {written}")  # noqa: T201 - a command-line program
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
