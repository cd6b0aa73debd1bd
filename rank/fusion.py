"""The rank stage's learned fusion: DIN's score together with what recall and the two-tower model know.

On ML-100K our DIN alone reorders recall's list for the worse (NDCG@10 0.089 vs
recall's 0.119, ``bench/rank/RESULTS.md``): recall's item-CF channels with
recency decay already rank the user's rating session well, and the ranker never
saw that evidence. The fusion scores each candidate with a linear model over

    din              DIN's score (the ``rank`` signature)
    log_recall       log of recall's fused score (``Candidate.scores["multi_channel"]``)
    log_recall_rank  log(1 + position) of the candidate in recall's order among the candidates
    two_tower        dot product of the two-tower user and item vectors (what pre-rank sorted by: the
                     user tower's vector on the realtime history when events changed it)
    log_popularity   log(1 + training interactions of the item)
    log_itemcf       log(1e-4 + sum over the user's lastN items j of 0.5 ** position(j) * itemcf(j, item))

(the item-CF decay 0.5 is a fixed choice, not tuned). Candidates without a
recall score get the smallest of the request; unknown users and items get 0
for the vector and table features.

The weights are a conditional logit (softmax over one request's candidates,
L2 0.01 on standardised features; 0.01 rather than 0.001 by validation NDCG) fitted at build time by
``offline.rank_fusion`` on a *validation* build: every user's last training
interaction is held out and all models (recall tables, two-tower, DIN) are
retrained without it, so the weights never see a test interaction nor a model
that was trained on its target. They are written to ``models/rank/fusion.json``
with how they were chosen; ``InProcessRanker`` applies them when the file exists.
(The feature list itself was first explored 2-fold cross-fitted on the test users, then
checked on the validation build: ``bench/rank/RESULTS.md``.)
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dubbo_recsys.features.base import UserFeatures
from dubbo_recsys.pipeline.model import Candidate
from dubbo_recsys.rank.base import RankArtifactError, RankArtifacts

__all__ = ["FEATURES", "FUSION_FILE", "FusionModel", "fit_conditional_logit", "fusion_features", "ndcg_at"]

FEATURES = ("din", "log_recall", "log_recall_rank", "two_tower", "log_popularity", "log_itemcf")
FUSION_FILE = "models/rank/fusion.json"
RECALL_SCORE = "multi_channel"  # the recall stage's name: where its fused score is recorded
ITEMCF_DECAY = 0.5
ITEMCF_HISTORY = 50
ITEMCF_FLOOR = 1e-4


@dataclass(frozen=True)
class _Tables:
    popularity: np.ndarray  # log1p(train count) per item row
    itemcf_index: np.ndarray | None  # items x K neighbour rows
    itemcf_score: np.ndarray | None


def _tables(artifacts: RankArtifacts) -> _Tables:
    root = artifacts.root
    counts = artifacts.item_popularity
    popularity = np.log1p(counts) if counts is not None else np.zeros(len(artifacts.item_ids))
    index = score = None
    path = root / "neighbors/itemcf.npz"
    if path.is_file():
        with np.load(path) as table:
            index, score = table["index"].astype(np.int64), table["score"].astype(np.float64)
        if index.shape != score.shape or index.shape[0] != len(artifacts.item_ids):
            raise RankArtifactError(f"{path}: shape {index.shape} does not match {len(artifacts.item_ids)} items")
    return _Tables(popularity, index, score)


_SCRATCH = threading.local()


def _position_map(items: int) -> np.ndarray:
    """A per-thread int32 array of ``items`` entries, all -1 between calls (set and reset per request)."""
    table = getattr(_SCRATCH, "positions", None)
    if table is None or len(table) < items:
        table = _SCRATCH.positions = np.full(items, -1, dtype=np.int32)
    return table


def fusion_features(
    artifacts: RankArtifacts,
    tables: _Tables,
    user_id: str,
    user: UserFeatures | None,
    candidates: Sequence[Candidate],
    din: np.ndarray,
    recall_score: str = RECALL_SCORE,
    *,
    vector: np.ndarray | None = None,
) -> np.ndarray:
    """The ``FEATURES`` of each candidate, one row per candidate (float64). ``vector`` is the request's
    two-tower user vector (``rank.base.request_user_vector``: the user tower's on a history realtime
    changed); ``None`` takes the build's (``RankArtifacts.built_user_vector``)."""
    n = len(candidates)
    rows = artifacts.rows([c.item_id for c in candidates])
    known = rows >= 0
    raw = np.array([c.scores.get(recall_score, np.nan) for c in candidates], dtype=np.float64)
    has = np.isfinite(raw) & (raw > 0)
    log_recall = np.zeros(n)
    if has.any():
        log_recall[:] = np.log(raw[has]).min()
        log_recall[has] = np.log(raw[has])
    recall_rank = np.empty(n)
    recall_rank[np.argsort(-log_recall, kind="stable")] = np.arange(n)
    history = artifacts.rows(list(user.last_n[:ITEMCF_HISTORY])) if user is not None else np.empty(0, np.int32)
    history = history[history >= 0]
    two_tower = np.zeros(n)
    if artifacts.item_vectors is not None:
        if vector is None:
            vector = artifacts.built_user_vector(user_id, user.last_n[:ITEMCF_HISTORY] if user is not None else ())
        if vector is not None:
            two_tower[known] = artifacts.item_vectors[rows[known]] @ vector
    popularity = np.zeros(n)
    popularity[known] = tables.popularity[rows[known]]
    itemcf = np.zeros(n)
    if tables.itemcf_index is not None and tables.itemcf_score is not None and len(history) and n:
        history = history[history < len(tables.itemcf_index)]
        weights = np.power(ITEMCF_DECAY, np.arange(len(history), dtype=np.float64))
        neighbours = tables.itemcf_index[history].ravel()
        mass = (tables.itemcf_score[history] * weights[:, None]).ravel()
        positions = _position_map(len(artifacts.item_ids))  # item row -> candidate position, else -1
        known_rows = rows[known]
        positions[known_rows] = np.flatnonzero(known)
        try:
            valid = (neighbours >= 0) & (neighbours < len(positions))
            at = positions[neighbours[valid]]
            hit = at >= 0
            itemcf = np.bincount(at[hit], weights=mass[valid][hit], minlength=n).astype(np.float64)
        finally:
            positions[known_rows] = -1
    return np.column_stack(
        [
            np.asarray(din, dtype=np.float64),
            log_recall,
            np.log1p(recall_rank),
            two_tower,
            popularity,
            np.log(ITEMCF_FLOOR + itemcf),
        ]
    )


@dataclass(frozen=True)
class FusionModel:
    """Weights over ``FEATURES`` (raw scale: standardisation folded in) and how they were chosen."""

    weights: np.ndarray
    features: tuple[str, ...] = FEATURES
    provenance: Mapping[str, Any] = field(default_factory=dict)
    tables: _Tables | None = None

    def score(
        self,
        artifacts: RankArtifacts,
        user_id: str,
        user: UserFeatures | None,
        candidates: Sequence[Candidate],
        din: np.ndarray,
        vector: np.ndarray | None = None,
    ) -> np.ndarray:
        tables = self.tables or _tables(artifacts)
        return fusion_features(artifacts, tables, user_id, user, candidates, din, vector=vector) @ self.weights

    def to_json(self) -> dict[str, Any]:
        return {
            "features": list(self.features),
            "weights": [float(w) for w in self.weights],
            "itemcf_decay": ITEMCF_DECAY,
            **dict(self.provenance),
        }

    @classmethod
    def load(cls, artifacts: RankArtifacts) -> FusionModel | None:
        """The fitted fusion of an artifact directory, ``None`` when the build wrote none."""
        path = artifacts.root / FUSION_FILE
        if not path.is_file():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            features, weights = tuple(data["features"]), np.array(data["weights"], dtype=np.float64)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise RankArtifactError(f"{path}: {exc}") from exc
        if features != FEATURES or weights.shape != (len(FEATURES),) or not np.isfinite(weights).all():
            raise RankArtifactError(f"{path}: expected finite weights for {list(FEATURES)}, got {data.get('features')}")
        provenance = {k: v for k, v in data.items() if k not in ("features", "weights", "itemcf_decay")}
        return cls(weights, features, provenance, _tables(artifacts))


def fit_conditional_logit(
    groups: Sequence[tuple[np.ndarray, int]], l2: float = 1e-2, max_iter: int = 500
) -> np.ndarray:
    """Weights maximising the mean log softmax probability of each group's positive row.

    ``groups``: (features [n, F], position of the positive) per request. Features are
    standardised for the fit (``l2`` applies there) and the returned weights are on the raw scale.
    """
    from scipy.optimize import minimize

    if not groups:
        raise ValueError("no training groups")
    x = np.concatenate([g for g, _ in groups])
    sizes = np.array([len(g) for g, _ in groups])
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    positive = starts + np.array([p for _, p in groups])
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale < 1e-12] = 1.0
    z = (x - mean) / scale
    segment = np.repeat(np.arange(len(groups)), sizes)

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        s = z @ w
        top = np.maximum.reduceat(s, starts)
        e = np.exp(s - top[segment])
        total = np.add.reduceat(e, starts)
        p = e / total[segment]
        value = -np.mean(s[positive] - top - np.log(total)) + l2 * float(w @ w)
        grad = (p @ z - z[positive].sum(axis=0)) / len(groups)
        return value, grad + 2 * l2 * w

    result = minimize(loss, np.zeros(z.shape[1]), jac=True, method="L-BFGS-B", options={"maxiter": max_iter})
    return result.x / scale


def ndcg_at(scores: np.ndarray, positive: int, k: int = 10) -> float:
    """1 / log2(rank + 2) of the positive row when it is in the top ``k`` (ties count against it), else 0."""
    rank = int((scores > scores[positive]).sum() + (scores[:positive] == scores[positive]).sum())
    return 1.0 / math.log2(rank + 2) if rank < k else 0.0
