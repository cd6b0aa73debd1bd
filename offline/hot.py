"""Hot items: the most interacted-with train items, globally, per category and per region.

Counts come from the train split only (the test rows must not leak into any
artifact). An item counts for every category it has, not only its primary
one; a region's counts are the interactions of the users living there
(ML-100K items have no region, users do). Ties go to the lower item row.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from dubbo_recsys.offline.dataset import Catalog, Split
from dubbo_recsys.offline.neighbors import top_k_rows

__all__ = ["hot_lists", "item_popularity", "region_top_items", "user_regions"]


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


def user_regions(catalog: Catalog) -> tuple[list[str], np.ndarray] | None:
    """(region names, int32 code per user row), or None when the users have no region."""
    user_region = catalog.user_profile.get("region")
    if user_region is None:
        return None
    names, code = np.unique(user_region, return_inverse=True)
    return names.tolist(), code.astype(np.int32)


def region_top_items(split: Split, user_region: np.ndarray, n_regions: int, k: int) -> list[list[int]]:
    """The embedded engine's part: per region code, its users' ``k`` most interacted-with train items."""
    train = split.train
    return _grouped(
        user_region[train.user], n_regions, train.item, np.ones(len(train.item), dtype=np.float64), split.n_items, k
    )


def hot_lists(catalog: Catalog, popularity: np.ndarray, region_names: list[str], by_region: list[list[int]], k: int):
    """``hot.json`` content with external ids, per ``offline/ARTIFACTS.md``.

    ``popularity`` and the per-region lists come from an engine (they read the log);
    the per-category lists follow from popularity and the catalog alone.
    """
    ids = catalog.item_ids
    n_items = len(ids)
    by_category: dict[str, list[str]] = {}
    item_of_code = np.repeat(np.arange(n_items), np.diff(catalog.category_ptr))
    per_category = _grouped(
        catalog.category_codes, len(catalog.category_names), item_of_code, popularity[item_of_code], n_items, k
    )
    for code, rows in enumerate(per_category):
        if rows:
            by_category[str(catalog.category_names[code])] = [str(ids[r]) for r in rows]
    regions = {
        name: [str(ids[r]) for r in rows] for name, rows in zip(region_names, by_region, strict=False) if rows and name
    }
    return {"global": [str(ids[r]) for r in _best(popularity, k)], "by_category": by_category, "by_region": regions}
