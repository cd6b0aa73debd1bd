"""Hot items: the most interacted-with train items, globally, per category and per region.

Counts come from the train split only (the test rows must not leak into any
artifact). An item counts for every category it has, not only its primary
one; a region's counts are the interactions of the users living there
(ML-100K items have no region, users do). Ties go to the lower item row.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from dubbo_recsys.offline.dataset import SourceData, Split
from dubbo_recsys.offline.neighbors import top_k_rows

__all__ = ["hot_lists", "item_popularity"]


def item_popularity(split: Split) -> np.ndarray:
    """Train interaction count per item row (float64)."""
    return np.bincount(split.train.item, minlength=split.n_items).astype(np.float64)


def _best(counts: np.ndarray, k: int) -> list[int]:
    positive = np.flatnonzero(counts > 0)
    order = np.lexsort((positive, -counts[positive]))
    return positive[order[:k]].tolist()


def _grouped(groups: np.ndarray, n_groups: int, items: np.ndarray, weights: np.ndarray, n_items: int, k: int):
    counts = sp.csr_matrix((weights, (groups, items)), shape=(n_groups, n_items))
    table = top_k_rows(counts, k)
    return [[int(i) for i in row if i >= 0] for row in table.index]


def hot_lists(source: SourceData, split: Split, k: int) -> dict:
    """``hot.json`` content with external ids, per ``offline/ARTIFACTS.md``."""
    ids = source.item_ids
    popularity = item_popularity(split)
    by_category: dict[str, list[str]] = {}
    item_of_code = np.repeat(np.arange(split.n_items), np.diff(source.category_ptr))
    per_category = _grouped(
        source.category_codes,
        len(source.category_names),
        item_of_code,
        popularity[item_of_code],
        split.n_items,
        k,
    )
    for code, rows in enumerate(per_category):
        if rows:
            by_category[str(source.category_names[code])] = [str(ids[r]) for r in rows]

    by_region: dict[str, list[str]] = {}
    user_region = source.user_profile.get("region")
    if user_region is not None:
        names, region_code = np.unique(user_region, return_inverse=True)
        train = split.train
        per_region = _grouped(
            region_code[train.user],
            len(names),
            train.item,
            np.ones(len(train.item), dtype=np.float64),
            split.n_items,
            k,
        )
        for name, rows in zip(names.tolist(), per_region, strict=True):
            if rows and name:
                by_region[name] = [str(ids[r]) for r in rows]
    return {
        "global": [str(ids[r]) for r in _best(popularity, k)],
        "by_category": by_category,
        "by_region": by_region,
    }
