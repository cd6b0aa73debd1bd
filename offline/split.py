"""Leave-last-out split by timestamp.

Each user's interactions are ordered by timestamp; equal timestamps keep the
order of the source file (a stable sort over the source position), so the
split is deterministic. The last interaction of every user with at least two
becomes that user's one test row; everything else is train. A user with a
single interaction keeps it in train and has no test row. If an item occurs
several times for a user, the earlier occurrences stay in train: leave-last-out
holds out an event, not an item.
"""

from __future__ import annotations

import numpy as np

from dubbo_recsys.offline.dataset import SourceData, Split

__all__ = ["SPLIT_RULE", "leave_last_out"]

SPLIT_RULE = (
    "leave-last-out by timestamp; ties broken by source file order; users with >= 2 interactions get 1 test row"
)


def leave_last_out(source: SourceData) -> Split:
    inter = source.interactions
    # lexsort sorts by the last key first and is stable, so file order breaks ties.
    order = np.lexsort((inter.ts, inter.user))
    ordered = inter.take(order)
    user = ordered.user
    is_last = np.ones(len(user), dtype=bool)
    is_last[:-1] = user[1:] != user[:-1]
    is_first = np.ones(len(user), dtype=bool)
    is_first[1:] = user[1:] != user[:-1]
    test_mask = is_last & ~is_first  # last of a user that has at least two
    return Split(
        train=ordered.take(~test_mask),
        test=ordered.take(test_mask),
        n_users=source.n_users,
        n_items=source.n_items,
    )
