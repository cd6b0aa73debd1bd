"""Neighbour tables: the sparse, blocked math equals the formulas computed the slow way."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from dubbo_recsys.offline.config import NeighborConfig
from dubbo_recsys.offline.neighbors import _blocked_top_k, item_cf, product_row_cost, swing, top_k_rows, user_cf
from tests.offline.artifacts import arrays, ids


def _random_matrix(seed: int, users: int = 40, items: int = 30, density: float = 0.2) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    dense = (rng.random((users, items)) < density).astype(np.float32)
    dense[0, :] = 0.0  # an empty user
    dense[:, 1] = 0.0  # an item nobody has
    return sp.csr_matrix(dense)


def _as_dense(table, columns: int) -> np.ndarray:
    dense = np.zeros((table.index.shape[0], columns), dtype=np.float64)
    for row in range(table.index.shape[0]):
        for col, score in zip(table.index[row], table.score[row], strict=True):
            if col >= 0:
                dense[row, col] = score
    return dense


def _expected_top(full: np.ndarray, k: int) -> np.ndarray:
    """Keep each row's k best positive entries (ties: lower column), zero the rest."""
    kept = np.zeros_like(full)
    for row in range(full.shape[0]):
        candidates = [c for c in range(full.shape[1]) if full[row, c] > 1e-9 and c != row]
        candidates.sort(key=lambda c: (-full[row, c], c))
        for c in candidates[:k]:
            kept[row, c] = full[row, c]
    return kept


def test_top_k_rows_orders_pads_and_drops_self():
    m = sp.csr_matrix(np.array([[5.0, 1.0, 3.0, 3.0], [0.0, 9.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]]))
    table = top_k_rows(m, 3, self_offset=0)
    assert table.index.tolist() == [[2, 3, 1], [-1, -1, -1], [-1, -1, -1]]
    assert table.score[0].tolist() == [3.0, 3.0, 1.0]
    assert table.score[1:].max() == 0.0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_item_cf_matches_formula(seed):
    x = _random_matrix(seed)
    dense = x.toarray().astype(np.float64)
    user_len, item_len = dense.sum(1), dense.sum(0)
    full = (dense / np.log(2 + user_len)[:, None]).T @ dense
    full /= np.sqrt(np.outer(np.maximum(item_len, 1), np.maximum(item_len, 1)))
    config = NeighborConfig(k=5)
    got = _as_dense(item_cf(x, config), x.shape[1])
    np.testing.assert_allclose(got, _expected_top(full, 5), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("seed", [0, 1])
def test_user_cf_matches_formula(seed):
    x = _random_matrix(seed)
    dense = x.toarray().astype(np.float64)
    user_len, item_len = dense.sum(1), dense.sum(0)
    full = (dense / np.log(2 + item_len)[None, :]) @ dense.T
    full /= np.sqrt(np.outer(np.maximum(user_len, 1), np.maximum(user_len, 1)))
    got = _as_dense(user_cf(x, NeighborConfig(k=6)), x.shape[0])
    np.testing.assert_allclose(got, _expected_top(full, 6), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dense_flops", [10**12, 0])  # the dense and the sparse path
def test_swing_matches_pairwise_definition(monkeypatch, dense_flops):
    monkeypatch.setattr("dubbo_recsys.offline.neighbors.DENSE_SWING_FLOPS", dense_flops)
    x = _random_matrix(5, users=25, items=15, density=0.35)
    dense = x.toarray()
    alpha = 1.0
    weight = (dense.sum(1) + 5.0) ** -0.35
    full = np.zeros((15, 15))
    for i in range(15):
        for j in range(15):
            both = np.flatnonzero(dense[:, i] * dense[:, j])
            for u in both:
                for v in both:
                    if u != v:
                        full[i, j] += weight[u] * weight[v] / (alpha + dense[u] @ dense[v])
    got = _as_dense(swing(x, NeighborConfig(k=4, swing_alpha=alpha)), 15)
    np.testing.assert_allclose(got, _expected_top(full, 4), rtol=1e-4, atol=1e-6)


def test_small_blocks_give_the_same_tables():
    """The row-block budget bounds memory only; a tiny budget must not change any table."""
    x = _random_matrix(9, users=60, items=50, density=0.3)
    whole = _blocked_top_k(x.T.tocsr(), x, 8, 10**9, None)
    pieces = _blocked_top_k(x.T.tocsr(), x, 8, 40, None)
    assert np.array_equal(whole.index, pieces.index)
    np.testing.assert_allclose(whole.score, pieces.score)


def test_block_cost_bounds_the_product_whatever_the_weights():
    x = _random_matrix(4, users=50, items=40, density=0.3)
    left, right = x.T.tocsr(), x
    exact = np.diff((left @ right).tocsr().indptr)
    cost = product_row_cost(left, right)
    assert np.all(cost >= exact)
    flops = [sum(right[j].nnz for j in left[r].indices) for r in range(left.shape[0])]
    assert cost.tolist() == flops
    assert np.array_equal(product_row_cost((left * 1e-4).tocsr(), right), cost)


@pytest.mark.parametrize("name,kind", [("itemcf", "items"), ("swing", "items"), ("usercf", "users")])
def test_artifact_tables_are_sane(any_artifacts, name, kind):
    table = arrays(any_artifacts, f"neighbors/{name}.npz")
    index, score = table["index"], table["score"]
    rows = len(ids(any_artifacts, kind))
    assert index.dtype == np.int32 and score.dtype == np.float32
    assert index.shape[0] == rows and index.shape == score.shape and index.shape[1] >= 1
    assert index.min() >= -1 and index.max() < rows
    assert not np.any(index == np.arange(rows)[:, None]), "a row lists itself"
    assert np.all(np.diff(score, axis=1) <= 0), "scores not sorted best first"
    valid = index >= 0
    assert np.all(valid[:, :-1] | ~valid[:, 1:]), "padding before a real neighbour"
    assert np.all(score[valid] > 0) and np.all(score[~valid] == 0)
    for row in index[valid.any(axis=1)][:200]:
        real = row[row >= 0]
        assert len(np.unique(real)) == len(real)
    assert valid.any(axis=1).mean() > 0.5
