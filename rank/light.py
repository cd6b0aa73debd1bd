"""Light ranking: LR and FM scored with numpy, for the degraded pipeline (no TensorFlow at serving).

The seed's ``light_ranking(lrRank)`` / ``(fmRank)``. Weights come from
``models/rank/light/{lr,fm}.npz``, trained beside DIN by ``offline.rank_model``
on the same batches; index space: row ``r`` of an item or profile token sits at
``OFFSET + r`` (0 = padding, 1 = unknown). The formulas mirror the training code:

- LR: ``b[item] + (w_cat + sum_p W_pc[p] + mean_h W_cc . m(h)) . m(item)``, with ``m``
  the item's category multi-hot divided by its count;
- FM: linear terms plus ``0.5 * (|u + i|^2 - |u|_sq - |i|_sq)``, where ``u`` sums the
  profile vectors and the history vectors weighted ``1/|H|``, and ``i`` the item's
  vector plus its category vectors weighted ``1/|C|``.

Per request the user side is computed once; each candidate costs a gather and a dot.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from dubbo_recsys.pipeline.model import Candidate, Query, StageKind
from dubbo_recsys.pipeline.stages import Stage
from dubbo_recsys.rank.base import RankArtifactError, RankArtifacts, hydrate_user, param, rescored

__all__ = ["OFFSET", "FMRanker", "LRRanker", "LightModel"]

OFFSET = 2  # index space of offline.rank_model


def _load(path: Path, names: tuple[str, ...]) -> dict[str, np.ndarray]:
    try:
        with np.load(path) as data:
            arrays = {name: np.asarray(data[name]) for name in names}
    except (OSError, KeyError, ValueError) as exc:
        raise RankArtifactError(f"{path}: {exc}") from exc
    return arrays


class LightModel:
    """Numpy scoring of LR or FM: ``scores(history_rows, profile_positions, item_rows)``."""

    LR_ARRAYS = ("item_bias", "category", "profile_category", "history_category", "item_categories")
    FM_ARRAYS = ("v_profile", "v_history", "v_item", "v_category", "w_item", "w_category", "item_categories")

    def __init__(self, kind: str, arrays: Mapping[str, np.ndarray]) -> None:
        self.kind = kind
        self.a = dict(arrays)
        cats = self.a["item_categories"]
        depth = int(cats.max(initial=1)) + 1
        share = np.zeros((len(cats), depth), dtype=np.float32)
        for column in range(cats.shape[1]):
            share[np.arange(len(cats)), cats[:, column]] += 1.0
        share[:, 0] = 0.0  # padding
        self.share = share / np.maximum(share.sum(axis=1, keepdims=True), 1.0)  # [items+OFFSET, c]

    @classmethod
    def load(cls, root: Path, kind: str) -> LightModel:
        names = cls.LR_ARRAYS if kind == "lr" else cls.FM_ARRAYS
        return cls(kind, _load(root / f"models/rank/light/{kind}.npz", names))

    @staticmethod
    def _index(rows: np.ndarray, unknown: int) -> np.ndarray:
        rows = np.asarray(rows, dtype=np.int64)
        return np.where(rows < 0, unknown, rows + OFFSET)

    def scores(self, history: np.ndarray, profile: np.ndarray, items: np.ndarray) -> np.ndarray:
        h = self._index(history, 0)
        h = h[h > 0]
        p = self._index(profile, 0)
        p = p[p > 0]
        i = self._index(items, 1)
        a = self.a
        if self.kind == "lr":
            c = a["category"].shape[0]
            share = (
                self.share[:, :c]
                if self.share.shape[1] >= c
                else np.pad(self.share, ((0, 0), (0, c - self.share.shape[1])))
            )
            affinity = a["category"] + a["profile_category"][p].sum(axis=0)
            if len(h):
                affinity = affinity + share[h].mean(axis=0) @ a["history_category"]
            return a["item_bias"][i] + share[i] @ affinity
        vp = a["v_profile"][p]
        vh = a["v_history"][h] / max(1, len(h))
        user_sum = vp.sum(axis=0) + vh.sum(axis=0)
        user_sq = float((vp * vp).sum() + (vh * vh).sum())
        cats = a["item_categories"][i]  # [N, C]
        valid = (cats != 0).astype(np.float32)
        weight = valid / np.maximum(valid.sum(axis=1, keepdims=True), 1.0)
        vc = a["v_category"][cats] * weight[..., None]
        vi = a["v_item"][i]
        item_sum = vi + vc.sum(axis=1)
        item_sq = (vi * vi).sum(axis=1) + (vc * vc).sum(axis=(1, 2))
        linear = a["w_item"][i] + (a["w_category"][cats] * weight).sum(axis=1)
        total = user_sum[None, :] + item_sum
        return linear + 0.5 * ((total * total).sum(axis=1) - user_sq - item_sq)


class _LightRanker(Stage):
    model_kind = ""

    def __init__(
        self, artifacts: RankArtifacts, model: LightModel, resources: Any = None, keep: int | None = None
    ) -> None:
        self.artifacts = artifacts
        self.model = model
        self.resources = resources
        self.keep = keep

    @classmethod
    def from_config(cls, resources: Any, params: Mapping[str, Any]) -> _LightRanker:
        artifacts = RankArtifacts.of(resources)
        keep = params.get("keep")
        return cls(
            artifacts,
            LightModel.load(artifacts.root, cls.model_kind),
            resources,
            None if keep is None else param(params, "keep", 0, int, 1, 100_000),
        )

    async def run(self, query: Query, candidates: list[Candidate]) -> list[Candidate]:
        if not candidates:
            return []
        history, profile = self.artifacts.encode_user(await hydrate_user(query, self.resources, local=True))
        items = self.artifacts.rows([c.item_id for c in candidates])
        return rescored(candidates, self.model.scores(history, profile, items), self.name, self.keep)


class LRRanker(_LightRanker, kind=StageKind.RANK, names=("lrRank", "lr")):
    """params: ``keep`` (default: all)."""

    model_kind = "lr"


class FMRanker(_LightRanker, kind=StageKind.RANK, names=("fmRank", "fm")):
    """params: ``keep`` (default: all)."""

    model_kind = "fm"
