"""Faiss index and i2i_emb: the index answers what brute force over the embeddings answers."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dubbo_recsys.offline.ann import build_index, choose_index, i2i_from_index
from tests.offline.artifacts import arrays


def _unit_vectors(n: int, d: int, seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_rule_is_flat_when_small_and_hnsw_when_large():
    assert choose_index(200_000).type == "IndexFlatIP"
    large = choose_index(200_001)
    assert large.type == "IndexHNSWFlat" and large.params["M"] == 32


def test_flat_index_equals_brute_force():
    vectors = _unit_vectors(500, 16, 0)
    index, meta = build_index(vectors)
    assert meta == {"type": "IndexFlatIP", "dim": 16, "count": 500, "params": {"metric": "inner_product"}}
    scores, _found = index.search(vectors[:20], 10)
    exact = vectors[:20] @ vectors.T
    np.testing.assert_allclose(scores, -np.sort(-exact, axis=1)[:, :10], rtol=1e-5, atol=1e-6)


def test_hnsw_index_recall_against_brute_force():
    vectors = _unit_vectors(3_000, 16, 1)
    index, meta = build_index(vectors, flat_max=1_000)
    assert meta["type"] == "IndexHNSWFlat" and index.ntotal == 3_000
    _, found = index.search(vectors[:100], 20)
    exact = np.argsort(-(vectors[:100] @ vectors.T), axis=1)[:, :20]
    recall = np.mean([len(set(a) & set(b)) / 20 for a, b in zip(found.tolist(), exact.tolist(), strict=True)])
    assert recall > 0.95, recall


def test_i2i_drops_self_and_matches_brute_force():
    vectors = _unit_vectors(300, 8, 2)
    index, _ = build_index(vectors)
    table = i2i_from_index(index, vectors, 5, block=64)
    exact = vectors @ vectors.T
    np.fill_diagonal(exact, -np.inf)
    expected = np.argsort(-exact, axis=1, kind="stable")[:, :5]
    assert np.array_equal(table.index, expected)
    np.testing.assert_allclose(table.score, np.take_along_axis(exact, expected, axis=1), rtol=1e-5)


@pytest.mark.parametrize("name", ["small_model", "ml100k", "synth"])
def test_artifact_index_search_equals_brute_force(request, name):
    import faiss

    root = request.getfixturevalue(name + "_build" if name == "small_model" else name + "_artifacts")
    items = np.load(root / "embeddings/items.npy", mmap_mode="r")
    users = np.load(root / "embeddings/users.npy", mmap_mode="r")
    meta = json.loads((root / "faiss/meta.json").read_text(encoding="utf-8"))
    index = faiss.read_index(str(root / "faiss/items.index"))
    assert index.ntotal == meta["count"] == len(items) and index.d == meta["dim"] == items.shape[1]
    assert meta["type"] == "IndexFlatIP"
    queries = np.ascontiguousarray(users[:50])
    scores, found = index.search(queries, 50)
    exact = queries @ np.asarray(items).T
    expected = np.argsort(-exact, axis=1, kind="stable")[:, :50]
    np.testing.assert_allclose(scores, np.take_along_axis(exact, expected, axis=1), rtol=1e-4, atol=1e-5)
    assert np.mean(found == expected) > 0.99  # equal up to exact ties

    table = arrays(root, "neighbors/i2i_emb.npz")
    gram = np.asarray(items[:40]) @ np.asarray(items).T
    gram[np.arange(40), np.arange(40)] = -np.inf
    k = table["index"].shape[1]
    np.testing.assert_allclose(table["score"][:40], -np.sort(-gram, axis=1)[:, :k], rtol=1e-4, atol=1e-5)
    assert not np.any(table["index"] == np.arange(len(items))[:, None])
