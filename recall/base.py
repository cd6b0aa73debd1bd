"""What every recall channel is: a typed name, ``enable(query)`` and ``retrieve``.

The contract, product-mixer style:

- a channel is an object whose class declares its ``kind`` (a ``ChannelKind``)
  by class keyword, so provenance, config and reports are keyed by type, never
  by free strings;
- ``enable(query)`` says, cheaply and without I/O, whether the channel has
  anything to say for this query (item-CF needs a history, look-alike needs a
  new user, ...);
- ``await retrieve(query, k)`` returns at most ``k`` ``Candidates``, best first,
  as item *row numbers* of the artifact directory (``offline/ARTIFACTS.md``):
  channels never see item id strings, the facade translates at the edge.

Channels do not filter what the user has seen and do not deduplicate against
each other: the ``Merger`` does both once for all of them. Scores are only
comparable within one channel; the merger fuses by rank.

Errors: ``RecallError`` is the base of the package::

    RecallError
     +-- ArtifactError      the artifact directory is missing a file or is inconsistent
     +-- RecallConfigError  a recall config value is out of range
     +-- RecallInputError   a request the recall cannot serve (bad k, bad ids type)
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from dubbo_recsys.features.base import UserFeatures


class RecallError(Exception):
    """Base error of the ``recall`` package."""


class ArtifactError(RecallError):
    """The artifact directory is missing something recall needs, or is inconsistent."""


class RecallConfigError(RecallError):
    """A recall configuration value is invalid."""


class RecallInputError(RecallError):
    """The request cannot be served as given (for example a negative ``k``)."""


class ChannelKind(enum.Enum):
    """Every recall channel there is; the value is the name shown in provenance."""

    U2I = "u2i"  # two-tower user vector -> Faiss
    I2I = "i2i"  # two-tower item neighbours of the lastN items
    ITEM_CF = "itemcf"
    USER_CF = "usercf"
    SWING = "swing"
    HOT = "hot"
    LOOKALIKE = "lookalike"  # new user: average embedding of similar-profile users -> Faiss
    NEW_ITEMS = "new_items"  # items added after the build, by their item-tower (or content-average) vectors
    TRENDING = "trending"  # the most interacted-with items of the last hour, from realtime events


@dataclass(frozen=True, slots=True)
class RecallQuery:
    """One request as the channels see it, already hydrated by the facade.

    ``history`` holds the item rows of the user's lastN, most recent first
    (unknown ids dropped); ``user_row`` is ``None`` for a user the build has not
    seen. ``context`` carries request key/values such as ``region`` and
    ``category`` (the cold-start channels use them).
    """

    user_id: str
    user: UserFeatures | None = None
    user_row: int | None = None
    history: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    context: Mapping[str, str] = field(default_factory=dict)

    @property
    def is_new_user(self) -> bool:
        return self.user_row is None and len(self.history) == 0


@dataclass(frozen=True, slots=True)
class Candidates:
    """A channel's answer: item rows and scores, best first, same length."""

    rows: np.ndarray  # int64
    scores: np.ndarray  # float32

    def __post_init__(self) -> None:
        if self.rows.shape != self.scores.shape or self.rows.ndim != 1:
            raise RecallError(
                f"candidates need two 1-d arrays of one length, got {self.rows.shape} {self.scores.shape}"
            )

    def __len__(self) -> int:
        return int(self.rows.shape[0])

    @classmethod
    def empty(cls) -> Candidates:
        return cls(np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32))

    @classmethod
    def top_k(cls, scores: np.ndarray, k: int, rows: np.ndarray | None = None) -> Candidates:
        """The ``k`` best of ``scores`` (aligned with ``rows``, or rows = positions).

        Uses ``argpartition`` so a dense 1M-item score vector costs O(n), not a sort.
        Entries scoring ``-inf`` or NaN are never returned.
        """
        n = int(scores.shape[0])
        if n == 0 or k <= 0:
            return cls.empty()
        picked = np.argpartition(-scores, k - 1)[:k] if k < n else np.arange(n)
        picked = picked[np.argsort(-scores[picked], kind="stable")]
        picked = picked[np.isfinite(scores[picked])]
        out_rows = picked if rows is None else rows[picked]
        return cls(out_rows.astype(np.int64, copy=False), scores[picked].astype(np.float32, copy=False))


class Channel:
    """Base of every recall channel; subclasses declare ``kind=ChannelKind.X``."""

    kind: ClassVar[ChannelKind]

    def __init_subclass__(cls, *, kind: ChannelKind | None = None, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        if kind is not None:
            cls.kind = kind

    @property
    def name(self) -> str:
        return self.kind.value

    def enable(self, query: RecallQuery) -> bool:
        return True

    async def retrieve(self, query: RecallQuery, k: int) -> Candidates:
        raise NotImplementedError
