"""Build step: fit the rank stage's fusion weights without the test users (``models/rank/fusion.json``).

How the weights are chosen (``RankFusion.run``):

1. a *validation build*: the same build steps on the training interactions only, so its
   leave-last-out split holds out each user's last *training* interaction (users with at least
   two) and every model -- item-CF/swing/user-CF tables, hot lists, two-tower, DIN -- is
   retrained without it. No test interaction and no model trained on a validation target is
   involved;
2. on that build, the served default scene (``rank.evaluation.served_funnel``) runs recall and
   pre-rank for every validation user, DIN scores the candidates and ``rank.fusion`` computes
   the fusion features;
3. a conditional logit (softmax over each user's candidates) is fitted over the users whose
   held-out item is among the candidates (``rank.fusion.fit_conditional_logit``);
4. the weights, how they were chosen and the validation NDCG@10 of the fused order next to
   recall's and DIN's (in-sample on the validation users) go to ``models/rank/fusion.json``.

The weights are then applied unchanged to the real build's models. The validation build is a
temporary sibling directory, removed afterwards; it reruns this build's own steps (``ctx.steps``,
so the same engine and the same ``RankModel`` settings) after the engine's held-out source step,
through ``ctx.sub_build``, so this module never imports the runner. The step must come after
``RankModel`` (it skips itself otherwise). Cost: a second build of everything but this
step (ML-100K: about the first build's time again, ~100 s of CPU) plus a few seconds of funnel.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from dubbo_recsys.offline.config import BuildConfig
from dubbo_recsys.offline.context import BuildContext
from dubbo_recsys.offline.errors import OfflineError

__all__ = ["RankFusion", "collect_groups", "fit_fusion"]


async def collect_groups(
    path: str | Path,
    max_users: int | None = None,
    *,
    store: Any = None,
    pairs: Sequence[tuple[int, int]] | None = None,
    also_seen: Mapping[int, Sequence[int]] | None = None,
) -> tuple[list, dict[str, float]]:
    """Fusion training groups from the served default scene over ``path``'s test users.

    Returns ``([(features, positive position), ...], stats)``; stats holds the NDCG@10 of recall's
    first 10, of DIN's order of the candidates and the share of users whose target was recalled.
    ``offline.refresh`` serves a realtime state instead: ``store`` (a ``FeatureStore`` over ``path``,
    closed here; default its embedded one), ``pairs`` of (user row, held-out item row) instead of the
    test split, and ``also_seen`` item rows per user row in the request's exposure list besides the
    user's training items (what the seen filter holds).
    """
    from dubbo_recsys.features.embedded import EmbeddedFeatureStore
    from dubbo_recsys.interfaces.recommend import RecommendRequest
    from dubbo_recsys.pipeline.model import Query, StageKind
    from dubbo_recsys.rank.base import RankArtifacts
    from dubbo_recsys.rank.evaluation import served_funnel
    from dubbo_recsys.rank.fusion import _tables, fusion_features, ndcg_at
    from dubbo_recsys.recall.artifacts import ArtifactDir
    from dubbo_recsys.recall.facade import Recall

    store = store if store is not None else EmbeddedFeatureStore.from_artifacts(path)
    groups: list[tuple[np.ndarray, int]] = []
    recall_gain, din_gain, users = 0.0, 0.0, 0
    try:
        recall = Recall.load(path, store)
        funnel, _ = served_funnel(path, store, recall)
        kinds = [stage.kind for stage in funnel.stages]
        at = kinds.index(StageKind.RANK)
        before, ranker = funnel.stages[:at], funnel.stages[at]
        artifacts = RankArtifacts.load(path)
        tables = _tables(artifacts)
        dirs = ArtifactDir(path)
        user_ids, item_ids = dirs.user_ids(), dirs.item_ids()
        train = dirs.train(len(user_ids), len(item_ids))
        if pairs is None:
            test = dirs.test()
            pairs = list(zip(test["user"].tolist(), test["item"].tolist(), strict=False))
        extra = also_seen or {}
        for user_row, item_row in pairs[:max_users]:
            user_id, target = user_ids[user_row], item_ids[item_row]
            seen_rows = np.union1d(train.of(user_row), np.asarray(extra.get(user_row, ()), np.int64))
            seen_ids = [item_ids[i] for i in seen_rows.astype(np.int64).tolist()]
            q = Query.start(RecommendRequest(userId=user_id, count=10, exposureList=seen_ids), 3600.0)
            candidates: list = []
            for stage in before:
                candidates = await stage.run(q, candidates)
                if stage.kind is StageKind.RECALL:
                    order = [c.item_id for c in candidates[:10]]
                    recall_gain += 1.0 / math.log2(order.index(target) + 2) if target in order else 0.0
            users += 1
            ids = [c.item_id for c in candidates]
            if target not in ids:
                continue
            history, profile = artifacts.encode_user(q.user)
            din = ranker.model.scores(history, profile, artifacts.rows(ids))
            positive = ids.index(target)
            din_gain += ndcg_at(din, positive)
            groups.append((fusion_features(artifacts, tables, user_id, q.user, candidates, din), positive))
    finally:
        await store.close()
    n = max(1, users)
    return groups, {
        "users": users,
        "recalled": len(groups) / n,
        "recall_ndcg@10": recall_gain / n,
        "din_ndcg@10": din_gain / n,
    }


class RankFusion:
    """Build step after ``RankModel``: ``models/rank/fusion.json`` from a validation build."""

    def enabled(self, config: BuildConfig) -> bool:
        return config.two_tower.enabled  # needs the two-tower vectors and DIN

    def run(self, ctx: BuildContext) -> None:
        if "rank_model" not in ctx.params:  # the ranker of this build is not trained yet (a custom step order)
            ctx.params["rank_fusion"] = "skipped: RankModel did not run before RankFusion"
            return
        if ctx.sub_build is None:
            raise OfflineError("RankFusion needs ctx.sub_build (run it through offline.build.run_build)")
        out = ctx.config.out
        validation = out.parent / f".{out.name}.validation-{os.getpid()}"
        shutil.rmtree(validation, ignore_errors=True)
        try:
            # the same recipe (same engine, same ranker settings) on this build's train rows only
            steps = [ctx.require("engine").held_out(), *(s for s in ctx.steps[1:] if not isinstance(s, RankFusion))]
            built = ctx.sub_build(
                dataclasses.replace(ctx.config, out=validation, name="validation", work_dir=None), steps
            )
            groups, stats = asyncio.run(collect_groups(validation))
        finally:
            shutil.rmtree(validation, ignore_errors=True)
        model = fit_fusion(groups, stats, built.manifest["counts"]["test"])
        if model is None:
            ctx.params["rank_fusion"] = f"skipped: {len(groups)} validation users with their item among the candidates"
            return
        ctx.write_json("models/rank/fusion.json", model.to_json())
        ctx.params["rank_fusion"] = "conditional logit on a validation build (dubbo_recsys.offline.rank_fusion)"
        ctx.metrics.update(
            {f"rank_fusion_validation_{k}": v for k, v in model.provenance["validation"].items() if k != "users"}
        )


def fit_fusion(groups: list, stats: dict[str, float], held_out: int, min_groups: int = 20):
    """The ``FusionModel`` fitted on ``collect_groups``' output, ``None`` with fewer than ``min_groups``."""
    from dubbo_recsys.rank.fusion import FEATURES, FusionModel, fit_conditional_logit, ndcg_at

    if len(groups) < min_groups:
        return None
    weights = fit_conditional_logit(groups)
    users = max(1, int(stats["users"]))
    fused = sum(ndcg_at(x @ weights, p) for x, p in groups) / users
    validation = {
        "users": users,
        "target_in_candidates": round(stats["recalled"], 4),
        "recall_ndcg@10": round(stats["recall_ndcg@10"], 4),
        "din_ndcg@10": round(stats["din_ndcg@10"], 4),
        "fused_ndcg@10": round(fused, 4),
    }
    return FusionModel(
        weights,
        FEATURES,
        {
            "chosen_on": (
                f"validation build ({held_out} users' last training interaction held out, every model "
                "retrained without it); conditional logit over the served funnel's candidates of the "
                f"{len(groups)} users whose item was among them; no test user involved"
            ),
            "validation": validation,
        },
    )
