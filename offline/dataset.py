"""In-memory shapes shared by the steps: the source data and its split.

Columnar numpy arrays, never per-entity Python objects, so a million-item
synthetic catalog fits comfortably in memory. Row indexes are positions in
``user_ids`` / ``item_ids``; those orders become ``ids/users.txt`` and
``ids/items.txt`` and are the contract for every array in the artifact.

This module only holds data and checks its invariants; readers live in
``offline.movielens`` and ``offline.synthetic``, the split in ``offline.split``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np

from dubbo_recsys.offline.errors import SourceDataError

__all__ = ["Catalog", "Interactions", "SourceData", "Split"]


@dataclass(frozen=True, slots=True)
class Interactions:
    """Parallel arrays of events; ``order`` is the position in the source (tie-breaker)."""

    user: np.ndarray  # int32 user rows
    item: np.ndarray  # int32 item rows
    ts: np.ndarray  # int64 seconds
    rating: np.ndarray  # float32

    def __post_init__(self) -> None:
        n = len(self.user)
        if not (len(self.item) == len(self.ts) == len(self.rating) == n):
            raise SourceDataError("interaction columns differ in length")

    def __len__(self) -> int:
        return len(self.user)

    def take(self, rows: np.ndarray) -> Interactions:
        return Interactions(self.user[rows], self.item[rows], self.ts[rows], self.rating[rows])


@dataclass(frozen=True, slots=True)
class Catalog:
    """The users and items of a source (everything but the log); item categories are CSR.

    Small next to the log (one row per entity), so every engine holds it in the driver.
    """

    name: str
    fingerprint: str  # md5 of the source files, or of the generator parameters
    user_ids: np.ndarray  # str
    item_ids: np.ndarray  # str
    user_profile: dict[str, np.ndarray]  # field -> str per user row; "region" is used by hot lists
    category_names: np.ndarray  # str
    category_ptr: np.ndarray  # int64, len items + 1
    category_codes: np.ndarray  # int32 into category_names; an item's first code is its primary category
    item_author: np.ndarray  # str ("" when unknown)
    item_region: np.ndarray  # str ("" when unknown)
    item_attrs: dict[str, np.ndarray]  # extra str columns (e.g. title, release_year)
    notes: dict[str, str] = field(default_factory=dict)  # documented choices, copied into the manifest

    def __post_init__(self) -> None:
        n_users, n_items = len(self.user_ids), len(self.item_ids)
        if n_users == 0 or n_items == 0:
            raise SourceDataError(f"{self.name}: empty source ({n_users} users, {n_items} items)")
        if len(set(self.user_ids.tolist())) != n_users or len(set(self.item_ids.tolist())) != n_items:
            raise SourceDataError(f"{self.name}: duplicate user or item ids")
        if len(self.category_ptr) != n_items + 1:
            raise SourceDataError(f"{self.name}: category_ptr must have items + 1 entries")
        for name, column in [*self.user_profile.items()]:
            if len(column) != n_users:
                raise SourceDataError(f"{self.name}: profile field {name!r} has {len(column)} rows, not {n_users}")
        for name, column in [("author", self.item_author), ("region", self.item_region), *self.item_attrs.items()]:
            if len(column) != n_items:
                raise SourceDataError(f"{self.name}: item column {name!r} has {len(column)} rows, not {n_items}")

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    def item_categories(self, row: int) -> list[str]:
        codes = self.category_codes[self.category_ptr[row] : self.category_ptr[row + 1]]
        return [str(self.category_names[c]) for c in codes]

    def primary_category(self) -> np.ndarray:
        """int32 code of each item's first category, -1 for an item without one."""
        primary = np.full(self.n_items, -1, dtype=np.int32)
        has = self.category_ptr[1:] > self.category_ptr[:-1]
        primary[has] = self.category_codes[self.category_ptr[:-1][has]]
        return primary

    def catalog(self) -> Catalog:
        """This catalog without anything a subclass adds (the log of ``SourceData``)."""
        return Catalog(**{f.name: getattr(self, f.name) for f in fields(Catalog)})


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceData(Catalog):
    """A catalog and its whole interaction log in memory (the embedded engine's input)."""

    interactions: Interactions

    def __post_init__(self) -> None:
        Catalog.__post_init__(self)
        inter = self.interactions
        if len(inter) == 0:
            raise SourceDataError(f"{self.name}: empty source (no interactions)")
        if inter.user.min() < 0 or inter.user.max() >= self.n_users:
            raise SourceDataError(f"{self.name}: interaction user rows out of range")
        if inter.item.min() < 0 or inter.item.max() >= self.n_items:
            raise SourceDataError(f"{self.name}: interaction item rows out of range")


@dataclass(frozen=True, slots=True)
class Split:
    """Leave-last-out: ``train`` sorted by user then time; ``test`` one row per user, sorted by user."""

    train: Interactions
    test: Interactions
    n_users: int
    n_items: int
