"""``features/users.jsonl`` and ``features/items.jsonl``, streamed one line per entity.

The user line carries the profile fields of the source and ``last_n``: the
user's most recent distinct train items, most recent first (a re-watched item
appears once, at its latest position). Test rows are never included, so a
feature store loaded from the artifact cannot leak the held-out item. The item
line's ``popularity`` is its train interaction count.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TextIO

import numpy as np

from dubbo_recsys.offline.context import LastN
from dubbo_recsys.offline.dataset import Catalog, Split

__all__ = ["last_n_items", "last_n_of", "write_item_features", "write_user_features"]

Progress = Callable[[int], None]


def last_n_items(split: Split, n: int) -> LastN:
    """Per user row, up to ``n`` distinct train item rows, most recent first (the embedded engine's)."""
    return last_n_of(split.train.user, split.train.item, split.n_users, split.n_items, n)


def last_n_of(user: np.ndarray, item: np.ndarray, n_users: int, n_items: int, n: int) -> LastN:
    """``last_n_items`` of interactions given as parallel arrays sorted by user then time."""
    newest_first = np.arange(len(user))[::-1]
    key = user[newest_first].astype(np.int64) * n_items + item[newest_first]
    _, first_seen = np.unique(key, return_index=True)  # newest occurrence of each (user, item)
    keep = np.zeros(len(key), dtype=bool)
    keep[first_seen] = True
    rows = newest_first[keep]  # descending positions: users descending, newest first within a user
    users = user[rows]
    rank = np.arange(len(rows)) - np.searchsorted(-users, -users)  # position within the user's run
    rows, users = rows[rank < n], users[rank < n]
    rows, users = rows[::-1], users[::-1]  # users ascending; within a user now oldest first
    bounds = np.searchsorted(users, np.arange(n_users + 1))
    position = np.arange(len(rows))
    newest_first = bounds[users] + bounds[users + 1] - 1 - position  # reverse each user's run
    return LastN(bounds.astype(np.int64), item[rows][newest_first].astype(np.int32))


def write_user_features(out: TextIO, source: Catalog, last_n: LastN, progress: Progress | None = None) -> None:
    fields = list(source.user_profile)
    columns = [source.user_profile[f].tolist() for f in fields]
    item_ids = source.item_ids.tolist()
    for row, uid in enumerate(source.user_ids.tolist()):
        line = {
            "id": uid,
            "profile": {f: str(col[row]) for f, col in zip(fields, columns, strict=True) if col[row] != ""},
            "last_n": [item_ids[i] for i in last_n[row].tolist()],
        }
        out.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")))
        out.write("\n")
        if progress and row % 10_000 == 9_999:
            progress(10_000)


def write_item_features(out: TextIO, source: Catalog, popularity: np.ndarray, progress: Progress | None = None) -> None:
    names = source.category_names.tolist()
    codes, ptr = source.category_codes.tolist(), source.category_ptr.tolist()
    author, region = source.item_author.tolist(), source.item_region.tolist()
    attr_names = list(source.item_attrs)
    attr_columns = [source.item_attrs[a].tolist() for a in attr_names]
    for row, iid in enumerate(source.item_ids.tolist()):
        categories = [names[c] for c in codes[ptr[row] : ptr[row + 1]]]
        line = {
            "id": iid,
            "category": categories[0] if categories else "",
            "categories": categories,
            "author": author[row],
            "region": region[row],
            "popularity": float(popularity[row]),
            "attrs": {a: str(col[row]) for a, col in zip(attr_names, attr_columns, strict=True)},
        }
        out.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")))
        out.write("\n")
        if progress and row % 10_000 == 9_999:
            progress(10_000)
