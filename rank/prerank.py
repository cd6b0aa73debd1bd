"""Pre-rank: order recall's candidates by the two-tower dot product and keep the best ~200.

The seed's ``pre_ranking(dssmRank)``. The user vector is the request's
(``rank.base.request_user_vector``, shared with the rank fusion): the build's
``embeddings/users.npy`` row for a known user, recall's user-tower vector when
realtime events changed the user's history since the build, the normalised mean of
the lastN items' vectors for a user the build never saw; with none, recall's order
is kept. Candidates unknown to the build score below every known one but keep their
recall order.
No TensorFlow: two numpy gathers and a matrix-vector product.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from dubbo_recsys.pipeline.model import Candidate, Query, StageKind
from dubbo_recsys.pipeline.stages import Stage
from dubbo_recsys.rank.base import RankArtifactError, RankArtifacts, param, request_user_vector, rescored

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

    async def run(self, query: Query, candidates: list[Candidate]) -> list[Candidate]:
        if not candidates:
            return []
        vector = await request_user_vector(query, self.resources, self.artifacts)
        if vector is None:
            return candidates[: self.keep]
        rows = self.artifacts.rows([c.item_id for c in candidates])
        known = rows >= 0
        scores = np.full(len(candidates), -2.0 - np.arange(len(candidates)) / max(1, len(candidates)))
        scores[known] = self.artifacts.item_vectors[rows[known]] @ vector  # type: ignore[index]  # from_config refuses artifacts without item vectors
        return rescored(candidates, scores, self.name, self.keep)
