"""The feature store contract: what recall and rank read, whatever the backend.

Two backends implement it (``features.embedded`` in-process, ``features.redis``
on a real Redis); both are loaded from one artifact directory (see
``offline/ARTIFACTS.md``). A missing entity is ``None``, never an exception: new
users and new items are the normal cold-start case, not an error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol


class FeatureStoreError(Exception):
    """Base error of the ``features`` package (backend unreachable, corrupt value)."""


@dataclass(frozen=True, slots=True)
class UserFeatures:
    user_id: str
    profile: Mapping[str, str] = field(default_factory=dict)  # e.g. age, gender, occupation, region
    last_n: tuple[str, ...] = ()  # most recent first


@dataclass(frozen=True, slots=True)
class ItemFeatures:
    item_id: str
    category: str = ""  # primary category
    categories: tuple[str, ...] = ()
    author: str = ""
    region: str = ""
    popularity: float = 0.0  # interaction count in the training split
    attrs: Mapping[str, str] = field(default_factory=dict)


class FeatureStore(Protocol):
    async def users(self, user_ids: Sequence[str]) -> list[UserFeatures | None]: ...

    async def items(self, item_ids: Sequence[str]) -> list[ItemFeatures | None]: ...

    async def close(self) -> None: ...


class SeenFilter(Protocol):
    """Per-user Bloom filter of items already shown (false positives, never false negatives)."""

    async def add(self, user_id: str, item_ids: Sequence[str]) -> None: ...

    async def might_contain(self, user_id: str, item_ids: Sequence[str]) -> list[bool]: ...
