"""Top-K neighbour tables: item-CF, user-CF and swing, with sparse matrix math.

All three start from the binary user x item matrix of the train split, capped
to each user's ``max_user_items`` most recent items (old history adds cost and
little signal). Scores:

- item-CF: ``sim(i, j) = sum_u x_ui x_uj / log(2 + |I_u|) / sqrt(n_i n_j)``:
  cosine with inverse user frequency, so heavy users count less.
- user-CF: ``sim(u, v) = sum_i x_ui x_vi / log(2 + n_i) / sqrt(|I_u| |I_v|)``;
  items with more than ``max_item_users`` users are represented by a seeded
  sample of them, which bounds the cost of blockbusters.
- swing (Yang et al. 2020): ``s(i, j) = sum_{u != v in U_i & U_j} w_u w_v / (alpha + |I_u & I_v|)``
  with ``w_u = (|I_u| + 5) ** -0.35``; a pair of users sharing little besides
  i and j is strong evidence. ``U_i`` is capped to ``max_item_users`` sampled users.

Products are computed in blocks of rows sized so that at most ``block_nnz``
co-occurrence entries exist at once, which keeps million-item catalogs within
memory. Tables never contain the row itself, scores are sorted best first,
and rows with fewer than K neighbours are padded with index -1, score 0.
Arithmetic is float64 and the tables store float32, so another engine summing
in another order writes the same values (``offline/spark/neighbors.py``).

The user sample of a capped item is the ``cap`` users of lowest
``sample_priority(seed, user, item)``, a 64-bit hash (splitmix64's finaliser)
that a SQL engine computes bit for bit, rather than a random stream.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from dubbo_recsys.offline.config import NeighborConfig
from dubbo_recsys.offline.dataset import Split

__all__ = [
    "NeighborTable",
    "cap_item_users",
    "interaction_matrix",
    "item_cf",
    "product_row_cost",
    "sample_priority",
    "swing",
    "swing_row",
    "swing_user_weight",
    "top_k_rows",
    "user_cf",
]

MIX_1, MIX_2, GOLDEN = 0xBF58476D1CE4E5B9, 0x94D049BB133111EB, 0x9E3779B97F4A7C15

Progress = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class NeighborTable:
    index: np.ndarray  # int32 rows x K, -1 = padding
    score: np.ndarray  # float32 rows x K, best first


def interaction_matrix(split: Split, max_user_items: int) -> sp.csr_matrix:
    """Binary float64 users x items matrix of each user's most recent ``max_user_items`` train items."""
    train = split.train  # sorted by user, then time
    user = train.user
    ends = np.searchsorted(user, user, side="right")  # one past each row's user block
    recent = (ends - np.arange(len(user))) <= max_user_items
    matrix = sp.csr_matrix(
        (np.ones(int(recent.sum()), dtype=np.float64), (user[recent], train.item[recent])),
        shape=(split.n_users, split.n_items),
    )
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    return matrix


def top_k_rows(matrix: sp.csr_matrix, k: int, self_offset: int | None = None) -> NeighborTable:
    """Best ``k`` columns of each row (ties: lower column first); ``self_offset`` drops column row+offset."""
    matrix = matrix.tocsr()
    matrix.sum_duplicates()
    n_rows = matrix.shape[0]
    rows = np.repeat(np.arange(n_rows, dtype=np.int64), np.diff(matrix.indptr))
    data, cols = matrix.data, matrix.indices
    keep = data > 0
    if self_offset is not None:
        keep &= cols != rows + self_offset
    rows, data, cols = rows[keep], data[keep], cols[keep]
    order = np.lexsort((cols, -data, rows))
    rows, data, cols = rows[order], data[order], cols[order]
    starts = np.searchsorted(rows, np.arange(n_rows))
    rank = np.arange(len(rows)) - starts[rows]
    top = rank < k
    index = np.full((n_rows, k), -1, dtype=np.int32)
    score = np.zeros((n_rows, k), dtype=np.float32)
    index[rows[top], rank[top]] = cols[top]
    score[rows[top], rank[top]] = data[top]
    return NeighborTable(index, score)


def _row_blocks(row_cost: np.ndarray, budget: int) -> Iterator[tuple[int, int]]:
    """Consecutive row ranges whose summed cost stays within ``budget`` (at least one row each)."""
    start, total = 0, 0
    for row, cost in enumerate(row_cost.tolist()):
        if row > start and total + cost > budget:
            yield start, row
            start, total = row, 0
        total += cost
    if start < len(row_cost):
        yield start, len(row_cost)


def product_row_cost(left: sp.csr_matrix, right: sp.csr_matrix) -> np.ndarray:
    """Upper bound of the nnz of each row of ``left @ right``, from the sparsity patterns only.

    Patterns, not values: the operands carry weights (often far below 1), which
    would make a value-based estimate useless for sizing blocks.
    """
    pattern = sp.csr_matrix((np.ones(left.nnz), left.indices, left.indptr), shape=left.shape)
    return np.asarray(pattern @ np.diff(right.indptr).astype(np.float64), dtype=np.int64)


def _blocked_top_k(
    left: sp.csr_matrix, right: sp.csr_matrix, k: int, budget: int, progress: Progress | None
) -> NeighborTable:
    """Top-K of ``left @ right`` without the diagonal, computed in row blocks."""
    index = np.full((left.shape[0], k), -1, dtype=np.int32)
    score = np.zeros((left.shape[0], k), dtype=np.float32)
    for start, stop in _row_blocks(product_row_cost(left, right) + 1, budget):
        block = top_k_rows(left[start:stop] @ right, k, self_offset=start)
        index[start:stop], score[start:stop] = block.index, block.score
        if progress:
            progress(stop - start)
    return NeighborTable(index, score)


def item_cf(x: sp.csr_matrix, config: NeighborConfig, progress: Progress | None = None) -> NeighborTable:
    user_len = np.asarray(x.sum(axis=1)).ravel()
    item_scale = sp.diags(1.0 / np.sqrt(np.maximum(np.asarray(x.sum(axis=0)).ravel(), 1.0)))
    user_weight = sp.diags(1.0 / np.log(2.0 + user_len))
    left = (item_scale @ x.T).tocsr()
    right = (user_weight @ x @ item_scale).tocsr()
    return _blocked_top_k(left, right, config.k, config.block_nnz, progress)


def user_cf(x: sp.csr_matrix, config: NeighborConfig, seed: int = 0, progress: Progress | None = None) -> NeighborTable:
    user_scale = sp.diags(1.0 / np.sqrt(np.maximum(np.asarray(x.sum(axis=1)).ravel(), 1.0)))
    item_weight = sp.diags(1.0 / np.log(2.0 + np.asarray(x.sum(axis=0)).ravel()))
    sampled = cap_item_users(x, config.max_item_users, seed)
    left = (user_scale @ sampled @ item_weight).tocsr()
    right = (sampled.T @ user_scale).tocsr()
    return _blocked_top_k(left, right, config.k, config.block_nnz, progress)


def _mix(z: np.ndarray) -> np.ndarray:
    z = (z ^ (z >> np.uint64(30))) * np.uint64(MIX_1)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(MIX_2)
    return z ^ (z >> np.uint64(31))


def sample_priority(seed: int, user: np.ndarray, item: np.ndarray) -> np.ndarray:
    """int64 hash of (seed, user, item) with 64-bit wrapping arithmetic; lower is sampled first."""
    with np.errstate(over="ignore"):
        first = _mix(user.astype(np.uint64) * np.uint64(GOLDEN) + np.uint64(seed))
        return _mix(first + item.astype(np.uint64)).view(np.int64)


def cap_item_users(x: sp.csr_matrix, cap: int, seed: int) -> sp.csr_matrix:
    """``x`` keeping, for each item with more than ``cap`` users, the ``cap`` of lowest ``sample_priority``."""
    csc = x.tocsc()
    counts = np.diff(csc.indptr)
    if counts.max(initial=0) <= cap:
        return x
    cols = np.repeat(np.arange(csc.shape[1]), counts)
    priority = sample_priority(seed, csc.indices, cols)
    order = np.lexsort((csc.indices, priority, cols))
    rank = np.arange(csc.nnz) - csc.indptr[cols[order]]
    keep = np.zeros(csc.nnz, dtype=bool)
    keep[order[rank < cap]] = True
    rows = csc.indices[keep]
    return sp.csr_matrix((csc.data[keep], (rows, cols[keep])), shape=x.shape, dtype=x.dtype)


def swing_user_weight(user_len: np.ndarray) -> np.ndarray:
    """Swing's ``w_u = (|I_u| + 5) ** -0.35``."""
    return (np.asarray(user_len, dtype=np.float64) + 5.0) ** -0.35


# users^2 x co-items (the dense product's multiply-adds) below which an item's swing row uses dense numpy
DENSE_SWING_FLOPS = 500_000


def swing(x: sp.csr_matrix, config: NeighborConfig, seed: int = 0, progress: Progress | None = None) -> NeighborTable:
    k = config.k
    user_weight = swing_user_weight(np.diff(x.indptr))
    csc = cap_item_users(x, config.max_item_users, seed).tocsc()
    n_items = x.shape[1]
    index = np.full((n_items, k), -1, dtype=np.int32)
    score = np.zeros((n_items, k), dtype=np.float32)
    step = max(1, n_items // 100)
    for item in range(n_items):
        users = csc.indices[csc.indptr[item] : csc.indptr[item + 1]]
        if len(users) >= 2:
            rows = [x.indices[x.indptr[u] : x.indptr[u + 1]] for u in users.tolist()]
            best, values = swing_row(item, rows, user_weight[users], config.swing_alpha, k)
            index[item, : len(best)] = best
            score[item, : len(best)] = values
        if progress and (item % step == step - 1 or item == n_items - 1):
            progress(step if item % step == step - 1 else item % step + 1)
    return NeighborTable(index, score)


def swing_row(
    item: int, rows: list[np.ndarray], weight: np.ndarray, alpha: float, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` (co-items, float32 scores) of one item's swing row; ``rows`` are its (sampled) users' items.

    The one kernel both engines run (the Spark engine ships each item's users to it), so
    the swing tables of the two engines are equal to the last bit.
    """
    cols, totals = _swing_totals(rows, weight, alpha)
    totals[cols == item] = 0.0
    positive = np.flatnonzero(totals > 0)
    best = positive[np.lexsort((cols[positive], -totals[positive]))[:k]]
    return cols[best].astype(np.int32), totals[best].astype(np.float32)


def _swing_totals(rows: list[np.ndarray], weight: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """(co-items, swing score against each) for one item whose (sampled) users hold ``rows``.

    ``totals_j = sum_{u != v} W_uv x_uj x_vj`` with ``W_uv = w_u w_v / (alpha + |I_u & I_v|)``,
    i.e. the column sums of ``(W @ S) * S`` for the users' sub-matrix ``S``. Small
    cases (most of a long tail) use dense numpy on the co-items only; large ones
    stay sparse so a blockbuster never allocates users x catalog.
    """
    lengths = np.array([len(r) for r in rows], dtype=np.int64)
    flat = np.concatenate(rows)
    cols, inverse = np.unique(flat, return_inverse=True)
    n = len(rows)
    if n * n * len(cols) <= DENSE_SWING_FLOPS:
        sub = np.zeros((n, len(cols)), dtype=np.float64)
        sub[np.repeat(np.arange(n), lengths), inverse] = 1.0
        pair = np.outer(weight, weight) / (alpha + sub @ sub.T)
        np.fill_diagonal(pair, 0.0)
        return cols, ((pair @ sub) * sub).sum(axis=0)
    sub = sp.csr_matrix(
        (np.ones(len(flat), dtype=np.float64), inverse, np.concatenate([[0], np.cumsum(lengths)])),
        shape=(n, len(cols)),
    )
    pair = np.outer(weight, weight) / (alpha + (sub @ sub.T).toarray())
    np.fill_diagonal(pair, 0.0)
    spread = sub.T @ pair  # co-items x users: sum_v W_uv x_vj for each u
    return cols, np.asarray(sub.T.multiply(spread).sum(axis=1)).ravel()
