"""The hot channel: popular items by region and category, then globally. Never empty.

It is the floor under every other channel: a new user with nothing but a
request context, a user whose other channels all timed out, a catalog whose
neighbour tables are missing, all still get items. Lists come from
``hot.json`` (item ids, best first); ``HotLists.from_json`` keeps the ids the
catalog knows and refuses an empty global list, so "never empty" is checked
when recall is built, not discovered while serving.

Which lists a query reads, in order of weight:

1. ``by_region[region]`` where region is the request context's ``region`` or
   the user's profile ``region``;
2. ``by_category[c]`` for the request context's ``category`` and the primary
   categories of the user's lastN items (most frequent first);
3. ``global``.

Scores are rank-based: list ``j`` (0-based, in the order above) gives its item
at position ``p`` the score ``boost ** -j / (1 + p)``; an item on several lists
keeps its best score.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from dubbo_recsys.recall.artifacts import ItemCatalog
from dubbo_recsys.recall.base import ArtifactError, Candidates, Channel, ChannelKind, RecallQuery


@dataclass(frozen=True, slots=True)
class HotLists:
    global_rows: np.ndarray
    by_category: Mapping[str, np.ndarray]
    by_region: Mapping[str, np.ndarray]

    @classmethod
    def from_json(cls, hot: Mapping[str, Any], catalog: ItemCatalog) -> HotLists:
        def rows(ids: Any, where: str) -> np.ndarray:
            if not isinstance(ids, list):
                raise ArtifactError(f"hot.json: {where} is not a list of item ids")
            return catalog.rows_of([str(i) for i in ids])

        def table(name: str) -> dict[str, np.ndarray]:
            lists = hot.get(name) or {}
            if not isinstance(lists, dict):
                raise ArtifactError(f"hot.json: {name} is not an object")
            return {str(key): rows(ids, f"{name}.{key}") for key, ids in lists.items()}

        global_rows = rows(hot.get("global"), "global")
        if len(global_rows) == 0:
            raise ArtifactError("hot.json: the global list has no item of ids/items.txt")
        return cls(global_rows, table("by_category"), table("by_region"))


class HotChannel(Channel, kind=ChannelKind.HOT):
    """Popular items for the query's region and categories, falling back to global."""

    def __init__(self, lists: HotLists, item_category: Sequence[str], *, history: int = 20, boost: float = 2.0) -> None:
        self.lists = lists
        self.item_category = item_category  # primary category per built item row ("" = none)
        self.history = history
        self.boost = boost

    def _categories(self, query: RecallQuery) -> list[str]:
        wanted = [query.context["category"]] if query.context.get("category") else []
        seen = query.history[: self.history]
        counts = Counter(self.item_category[r] for r in seen.tolist() if r < len(self.item_category))
        wanted += [c for c, _ in counts.most_common() if c and c not in wanted]
        return wanted

    def _region(self, query: RecallQuery) -> str:
        region = query.context.get("region", "")
        if not region and query.user is not None:
            region = query.user.profile.get("region", "")
        return region

    def lists_for(self, query: RecallQuery) -> list[np.ndarray]:
        chosen: list[np.ndarray] = []
        region = self._region(query)
        if region in self.lists.by_region:
            chosen.append(self.lists.by_region[region])
        chosen += [self.lists.by_category[c] for c in self._categories(query) if c in self.lists.by_category]
        chosen.append(self.lists.global_rows)
        return chosen

    async def retrieve(self, query: RecallQuery, k: int) -> Candidates:
        rows: list[np.ndarray] = []
        scores: list[np.ndarray] = []
        for rank, hot_rows in enumerate(self.lists_for(query)):
            head = hot_rows[:k]
            rows.append(head)
            scores.append((self.boost**-rank) / (1.0 + np.arange(len(head), dtype=np.float64)))
        all_rows, all_scores = np.concatenate(rows), np.concatenate(scores)
        order = np.argsort(-all_scores, kind="stable")
        all_rows, all_scores = all_rows[order], all_scores[order]
        _, first = np.unique(all_rows, return_index=True)  # best score of each item
        first.sort()
        first = first[:k]
        return Candidates(all_rows[first].astype(np.int64), all_scores[first].astype(np.float32))
