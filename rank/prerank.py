"""Pre-rank: order recall's candidates by the two-tower dot product and keep the best ~200.

The seed's ``pre_ranking(dssmRank)``. The user vector is the build's
``embeddings/users.npy`` row for a known user (recall's user-tower vector when realtime
events changed the user's history since the build, ``Recall.refreshed_user_vector``); for a user the build never saw,
the normalised mean of their lastN items' vectors (what the two-tower user
tower leans on for new users); with neither, recall's order is kept. Candidates
unknown to the build score below every known one but keep their recall order.
No TensorFlow: two numpy gathers and a matrix-vector product.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from dubbo_recsys.pipeline.model import Candidate, Query, StageKind
from dubbo_recsys.pipeline.stages import Stage
from dubbo_recsys.rank.base import RankArtifactError, RankArtifacts, hydrate_user, param, rescored

__all__ = ["TwoTowerPreRanker"]


class TwoTowerPreRanker(Stage, kind=StageKind.PRE_RANK, names=("dssmRank", "two_tower")):
    """params: ``size`` (or ``keep``; default 200) candidates passed on."""

    def __init__(self, artifacts: RankArtifacts, resources: Any = None, keep: int = 200) -> None:
        if artifacts.item_vectors is None:
            raise RankArtifactError(f"{artifacts.root}: pre-rank needs embeddings/items.npy")
        self.artifacts = artifacts
        self.resources = resources
        self.keep = keep

    @classmethod
    def from_config(cls, resources: Any, params: Mapping[str, Any]) -> TwoTowerPreRanker:
        name = "size" if "size" in params else "keep"
        return cls(RankArtifacts.of(resources), resources, param(params, name, 200, int, 1, 100_000))

    def user_vector(self, user_id: str, last_n: tuple[str, ...]) -> np.ndarray | None:
        art = self.artifacts
        row = art.user_rows.get(user_id)
        if row is not None and art.user_vectors is not None:
            return art.user_vectors[row]
        history = art.rows(list(last_n))
        history = history[history >= 0]
        if len(history) == 0:
            return None
        mean = art.item_vectors[history].mean(axis=0)  # type: ignore[index]  # from_config refuses artifacts without item vectors
        norm = float(np.linalg.norm(mean))
        return mean / norm if norm > 0 else None

    async def run(self, query: Query, candidates: list[Candidate]) -> list[Candidate]:
        if not candidates:
            return []
        user = await hydrate_user(query, self.resources)
        # a known user whose history changed since the build (realtime events): recall's user-tower vector
        refreshed = getattr(getattr(self.resources, "recall", None), "refreshed_user_vector", None)
        vector = await refreshed(query.request.userId, user) if refreshed is not None else None
        if vector is None:
            vector = self.user_vector(query.request.userId, user.last_n if user is not None else ())
        if vector is None:
            return candidates[: self.keep]
        rows = self.artifacts.rows([c.item_id for c in candidates])
        known = rows >= 0
        scores = np.full(len(candidates), -2.0 - np.arange(len(candidates)) / max(1, len(candidates)))
        scores[known] = self.artifacts.item_vectors[rows[known]] @ vector  # type: ignore[index]  # from_config refuses artifacts without item vectors
        return rescored(candidates, scores, self.name, self.keep)
