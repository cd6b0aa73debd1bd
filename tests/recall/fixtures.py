"""A tiny artifact directory written to the format of ``offline/ARTIFACTS.md``.

Four categories of six items each; every user likes one category and has
interacted with its first four items, so the right answer for any channel is
"the rest of that category". Tables and embeddings are computed here from the
interactions with plain numpy, small enough to check by hand.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

CATEGORIES = ("Action", "Comedy", "Drama", "Horror")
PER_CATEGORY = 6
USERS_PER_CATEGORY = 5
DIM = 8


def item_id(row: int) -> str:
    return f"i{row}"


def user_id(row: int) -> str:
    return f"u{row}"


def category_of(item_row: int) -> str:
    return CATEGORIES[item_row // PER_CATEGORY]


def _top_k(similarity: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    similarity = similarity.copy()
    np.fill_diagonal(similarity, 0.0)
    order = np.argsort(-similarity, axis=1, kind="stable")[:, :k]
    score = np.take_along_axis(similarity, order, axis=1).astype(np.float32)
    index = np.where(score > 0, order, -1).astype(np.int32)
    return index, np.where(score > 0, score, 0).astype(np.float32)


def write_artifacts(root: Path, *, with_faiss: bool = True) -> Path:
    """Write the fixture under ``root``; returns ``root``."""
    items = len(CATEGORIES) * PER_CATEGORY
    users = len(CATEGORIES) * USERS_PER_CATEGORY
    for folder in ("ids", "interactions", "features", "neighbors", "embeddings", "faiss"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    (root / "ids/items.txt").write_text("".join(item_id(i) + "\n" for i in range(items)))
    (root / "ids/users.txt").write_text("".join(user_id(u) + "\n" for u in range(users)))

    user_rows, item_rows, ts = [], [], []
    for u in range(users):
        liked = (u // USERS_PER_CATEGORY) * PER_CATEGORY
        for step, item in enumerate(range(liked, liked + 4)):
            user_rows.append(u)
            item_rows.append(item)
            ts.append(1000 + 10 * u + step)
    user_a, item_a, ts_a = np.array(user_rows, np.int32), np.array(item_rows, np.int32), np.array(ts, np.int64)
    np.savez(
        root / "interactions/train.npz", user=user_a, item=item_a, ts=ts_a, rating=np.ones(len(user_a), np.float32)
    )
    test_items = np.array([(u // USERS_PER_CATEGORY) * PER_CATEGORY + 4 for u in range(users)], np.int32)
    np.savez(
        root / "interactions/test.npz",
        user=np.arange(users, dtype=np.int32),
        item=test_items,
        ts=np.full(users, 5000, np.int64),
    )

    matrix = np.zeros((users, items), np.float32)
    matrix[user_a, item_a] = 1.0
    # items 4 and 5 of a category have no interactions: give them content co-occurrence with their category
    content = np.zeros((items, len(CATEGORIES)), np.float32)
    content[np.arange(items), np.arange(items) // PER_CATEGORY] = 1.0
    item_sim = content @ content.T + 0.5 * (matrix.T @ matrix)
    for name in ("itemcf", "swing", "i2i_emb"):
        index, score = _top_k(item_sim, 5)
        np.savez(root / f"neighbors/{name}.npz", index=index, score=score)
    user_sim = matrix @ matrix.T
    index, score = _top_k(user_sim, 4)
    np.savez(root / "neighbors/usercf.npz", index=index, score=score)

    rng = np.random.default_rng(3)
    basis = np.linalg.qr(rng.normal(size=(DIM, DIM)))[0][: len(CATEGORIES)]  # orthonormal category directions
    item_vectors = basis[np.arange(items) // PER_CATEGORY] + 0.05 * rng.normal(size=(items, DIM))
    item_vectors /= np.linalg.norm(item_vectors, axis=1, keepdims=True)
    user_vectors = basis[np.arange(users) // USERS_PER_CATEGORY] + 0.05 * rng.normal(size=(users, DIM))
    user_vectors /= np.linalg.norm(user_vectors, axis=1, keepdims=True)
    np.save(root / "embeddings/items.npy", item_vectors.astype(np.float32))
    np.save(root / "embeddings/users.npy", user_vectors.astype(np.float32))
    if with_faiss:
        import faiss

        index_ip = faiss.IndexFlatIP(DIM)
        index_ip.add(item_vectors.astype(np.float32))
        faiss.write_index(index_ip, str(root / "faiss/items.index"))
        (root / "faiss/meta.json").write_text(json.dumps({"type": "Flat", "dim": DIM, "count": items, "params": {}}))

    popularity = matrix.sum(axis=0)
    hot_global = [item_id(int(i)) for i in np.lexsort((np.arange(items), -popularity))]
    hot = {
        "global": hot_global,
        "by_category": {
            c: [item_id(i) for i in range(k * PER_CATEGORY, (k + 1) * PER_CATEGORY)] for k, c in enumerate(CATEGORIES)
        },
        "by_region": {"north": [item_id(5), item_id(11)]},
    }
    (root / "hot.json").write_text(json.dumps(hot))
    with open(root / "features/users.jsonl", "w", encoding="utf-8") as out:
        for u in range(users):
            taste = CATEGORIES[u // USERS_PER_CATEGORY]
            profile = {"taste": taste, "gender": "F" if u % 2 else "M", "region": "north" if u < 3 else "south"}
            last_n = [item_id(i) for i in reversed(item_a[user_a == u].tolist())]
            out.write(json.dumps({"id": user_id(u), "profile": profile, "last_n": last_n}) + "\n")
    with open(root / "features/items.jsonl", "w", encoding="utf-8") as out:
        for i in range(items):
            record = {
                "id": item_id(i),
                "category": category_of(i),
                "categories": [category_of(i)],
                "author": "",
                "region": "",
                "popularity": float(popularity[i]),
                "attrs": {},
            }
            out.write(json.dumps(record) + "\n")
    manifest = {
        "format": 1,
        "name": "recall-fixture",
        "version": "test",
        "built_at": "2026-01-01T00:00:00Z",
        "source": "synthetic",
        "params": {},
        "counts": {"users": users, "items": items, "train": len(user_a), "test": users},
        "files": {},
        "software": {},
    }
    (root / "manifest.json").write_text(json.dumps(manifest))
    return root
