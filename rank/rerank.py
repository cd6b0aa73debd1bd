"""Re-rank for diversity: MMR and DPP over the two-tower item vectors, and the final top-N cut.

Both diversifiers re-order only the head of the list (``size``, default the
number of items the caller wants) and leave the tail in rank order; relevance
is the incoming score min-max scaled to [0, 1] within the request, similarity
the cosine of ``embeddings/items.npy`` (an item the build never saw is
dissimilar to everything). The trade-off is one number each:

- MMR (``lambda`` in [0, 1], default 0.8): pick ``argmax lambda * rel - (1 - lambda) * max sim to picked``;
  1 = pure relevance, 0 = pure novelty.
- DPP (``theta`` in [0, 1), default 0.7): greedy MAP of the kernel ``L = diag(q) S diag(q)``
  with ``q = exp(alpha * rel)``, ``alpha = theta / (2 (1 - theta))`` (Chen et al., NeurIPS 2018,
  fast greedy MAP with incremental Cholesky); larger theta = more relevance.

Scores are left as the ranker gave them (so a diversified list is not sorted
by score); each candidate records its position-derived re-rank score under the
stage name in ``Candidate.scores``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from dubbo_recsys.pipeline.model import Candidate, Query, StageKind
from dubbo_recsys.pipeline.stages import Stage
from dubbo_recsys.rank.base import RankArtifactError, RankArtifacts, param

__all__ = ["DPPReRanker", "MMRReRanker", "TopN", "dpp_order", "mmr_order"]


def _relevance(candidates: list[Candidate]) -> np.ndarray:
    scores = np.array([c.score for c in candidates], dtype=np.float64)
    low, high = scores.min(), scores.max()
    return (scores - low) / (high - low) if high > low else np.ones_like(scores)


def mmr_order(relevance: np.ndarray, vectors: np.ndarray, size: int, trade_off: float) -> list[int]:
    """Positions picked by maximal marginal relevance, ``size`` of them."""
    n = len(relevance)
    picked: list[int] = []
    max_sim = np.full(n, -np.inf)
    free = np.ones(n, dtype=bool)
    for _ in range(min(size, n)):
        penalty = np.where(np.isfinite(max_sim), max_sim, 0.0)
        value = np.where(free, trade_off * relevance - (1.0 - trade_off) * penalty, -np.inf)
        best = int(np.argmax(value))
        picked.append(best)
        free[best] = False
        max_sim = np.maximum(max_sim, vectors @ vectors[best])
    return picked


def dpp_order(relevance: np.ndarray, vectors: np.ndarray, size: int, theta: float, eps: float = 1e-10) -> list[int]:
    """Greedy MAP of a DPP with quality ``exp(alpha * rel)`` and cosine similarity."""
    n = len(relevance)
    alpha = theta / (2.0 * (1.0 - theta))
    quality = np.exp(alpha * (relevance - relevance.max()))
    similarity = vectors @ vectors.T
    np.fill_diagonal(similarity, 1.0)  # unknown items (zero vectors) are their own cluster
    kernel = quality[:, None] * similarity * quality[None, :]
    size = min(size, n)
    cholesky = np.zeros((size, n))
    gains = np.diag(kernel).copy()
    picked: list[int] = []
    best = int(np.argmax(gains))
    while len(picked) < size:
        picked.append(best)
        t = len(picked) - 1
        e = (kernel[best] - cholesky[:t, best] @ cholesky[:t]) / np.sqrt(max(gains[best], eps))
        cholesky[t] = e
        gains = gains - e * e
        gains[picked] = -np.inf
        best = int(np.argmax(gains))
        if gains[best] < eps:  # the rest adds no volume: fill in relevance order
            rest = [i for i in np.argsort(-relevance, kind="stable").tolist() if i not in set(picked)]
            picked.extend(rest[: size - len(picked)])
            break
    return picked


class _Diversifier(Stage):
    def __init__(self, artifacts: RankArtifacts, size: int | None) -> None:
        if artifacts.item_vectors is None:
            raise RankArtifactError(f"{artifacts.root}: diversity re-rank needs embeddings/items.npy")
        self.artifacts = artifacts
        self.size = size

    def order(self, relevance: np.ndarray, vectors: np.ndarray, size: int) -> list[int]:
        raise NotImplementedError

    async def run(self, query: Query, candidates: list[Candidate]) -> list[Candidate]:
        if len(candidates) < 2:
            return candidates
        size = self.size or query.wanted
        rows = self.artifacts.rows([c.item_id for c in candidates])
        vectors = np.zeros((len(rows), self.artifacts.item_vectors.shape[1]), dtype=np.float32)  # type: ignore[union-attr]  # from_config refuses artifacts without item vectors
        vectors[rows >= 0] = self.artifacts.item_vectors[rows[rows >= 0]]  # type: ignore[index]  # from_config refuses artifacts without item vectors
        picked = self.order(_relevance(candidates), vectors, size)
        chosen = set(picked)
        order = picked + [i for i in range(len(candidates)) if i not in chosen]
        out = [candidates[i] for i in order]
        for position, candidate in enumerate(out):
            candidate.scores[self.name] = float(len(out) - position)
        return out


class MMRReRanker(_Diversifier, kind=StageKind.RE_RANK, names=("mmr",)):
    """params: ``lambda`` (default 0.8), ``size`` (default: the count asked for)."""

    def __init__(self, artifacts: RankArtifacts, trade_off: float = 0.8, size: int | None = None) -> None:
        super().__init__(artifacts, size)
        self.trade_off = trade_off

    @classmethod
    def from_config(cls, resources: Any, params: Mapping[str, Any]) -> MMRReRanker:
        size = None if params.get("size") is None else param(params, "size", 0, int, 1, 10_000)
        return cls(RankArtifacts.of(resources), param(params, "lambda", 0.8, float, 0.0, 1.0), size)

    def order(self, relevance: np.ndarray, vectors: np.ndarray, size: int) -> list[int]:
        return mmr_order(relevance, vectors, size, self.trade_off)


class DPPReRanker(_Diversifier, kind=StageKind.RE_RANK, names=("dpp",)):
    """params: ``theta`` (default 0.7, in [0, 0.99]), ``size`` (default: the count asked for)."""

    def __init__(self, artifacts: RankArtifacts, theta: float = 0.7, size: int | None = None) -> None:
        super().__init__(artifacts, size)
        self.theta = theta

    @classmethod
    def from_config(cls, resources: Any, params: Mapping[str, Any]) -> DPPReRanker:
        size = None if params.get("size") is None else param(params, "size", 0, int, 1, 10_000)
        return cls(RankArtifacts.of(resources), param(params, "theta", 0.7, float, 0.0, 0.99), size)

    def order(self, relevance: np.ndarray, vectors: np.ndarray, size: int) -> list[int]:
        return dpp_order(relevance, vectors, size, self.theta)


class TopN(Stage, kind=StageKind.RE_RANK, names=("top_n", "final")):
    """The final cut: the first ``n`` (default: the count asked for), scores and channels untouched."""

    def __init__(self, n: int | None = None) -> None:
        self.n = n

    @classmethod
    def from_config(cls, resources: Any, params: Mapping[str, Any]) -> TopN:
        return cls(None if params.get("n") is None else param(params, "n", 0, int, 1, 10_000))

    async def run(self, query: Query, candidates: list[Candidate]) -> list[Candidate]:
        return candidates[: self.n or query.wanted]
