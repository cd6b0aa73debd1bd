"""Offline quality of the ranking funnel: NDCG@10 and HR@10 beside recall only and popularity.

Protocol (the one of ``recall.evaluation``, so the numbers compare): the
artifact's leave-last-out split by timestamp (one held-out interaction per
user, ties in time broken by source file order); every list is ranked against
all items with the user's training items removed (they go in as exposure, so
recall widens by exactly that many); HR@10 = share of test users whose
held-out item is in the top 10; NDCG@10 = mean of 1 / log2(rank + 2) over hits.

``funnel`` is the served default scene itself: its full pipeline is built by
``pipeline.assemble.default_pipeline_conf`` / ``build_pipeline``, the functions
``dubbo-recsys serve`` uses, and its stages run in order (without the request
deadline). With the current build that is recall(multi_channel, 1000) ->
pre-rank(dssmRank, 200) -> rank(deepfm = DIN with the learned fusion of
``rank.fusion``) -> re-rank(mmr, lambda 0.8) -> first 10. The fusion weights
were fitted at build time on a validation build (each user's last *training*
interaction held out, every model retrained without it; ``offline.rank_fusion``),
so no weight of the funnel was chosen on these test users; which features the
fusion offers was first explored 2-fold cross-fitted on them (bench/rank/RESULTS.md
says how). Recall's own channel weights and decay were tuned by ``dubbo-recsys
eval --tune`` on half of these users; that is recall's (``recall.config``) and
helps ``recall`` and every funnel alike. The served scene's exposure comes from
the seen filter rather than the request, so online the candidates can differ.

Lists compared, from one run of the recall and pre-rank stages per user:

- ``popularity``: the most interacted-with training items;
- ``recall``: the recall stage's merged list, first 10;
- ``funnel``: the served default scene (above); ``funnel_no_mmr``: its rank stage's order (MMR lambda 1);
- ``funnel_din``: the same stages with DIN's score alone (no fusion), then MMR;
- ``funnel_prior``: DIN + ``prior_weight`` x log(recall's fused score), then MMR (the previous
  default; its weight 8 was picked on the even-positioned test users: optimistic, for reference only);
- ``funnel_lr`` / ``funnel_fm``: pre-rank's list ranked by the light rankers, no MMR;
- ``din_all_items``: DIN ranking every item (no recall): what the ranker knows alone.

With 943 test users one standard error of HR@10 is about 0.014, of NDCG@10 about
0.009: differences under 0.02 HR are noise. Because every list is scored on the
same users, ``paired`` also reports funnel minus recall per user with the
standard error of that mean difference (smaller than the unpaired one).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from dubbo_recsys.features.embedded import EmbeddedFeatureStore
from dubbo_recsys.interfaces.recommend import RecommendRequest
from dubbo_recsys.pipeline.model import Candidate, PipelineName, Query, StageKind
from dubbo_recsys.rank.base import RankArtifacts, RankConfigError, rescored, with_prior
from dubbo_recsys.rank.light import FMRanker, LightModel, LRRanker
from dubbo_recsys.rank.rerank import MMRReRanker

log = logging.getLogger(__name__)

__all__ = ["REFERENCES", "RankEvalReport", "evaluate_rank", "served_funnel"]

K = 10
REFERENCES = (
    "ML-100K references under this protocol, NDCG@10 (HR@10): popularity ~0.045 (0.086), "
    "GRU4Rec 0.051 (0.110), EASE ~0.073 (0.143)"
)


@dataclass(frozen=True)
class RankEvalReport:
    users: int
    items: int
    split_rule: str
    ndcg: Mapping[str, float]  # list name -> NDCG@10
    hr: Mapping[str, float]  # list name -> HR@10
    params: Mapping[str, Any]
    seconds: float
    notes: tuple[str, ...] = field(default_factory=tuple)
    paired: Mapping[str, float] = field(default_factory=dict)  # funnel - recall: mean and standard error


def _gain(ranked: list[str], target: str) -> float:
    for position, item in enumerate(ranked[:K]):
        if item == target:
            return 1.0 / math.log2(position + 2)
    return 0.0


def _copies(candidates: list[Candidate]) -> list[Candidate]:
    return [Candidate(c.item_id, c.score, c.channels, c.item, dict(c.scores)) for c in candidates]


def served_funnel(
    path: str | Path,
    store: Any,
    recall: Any,
    *,
    recall_k: int | None = None,
    keep: int | None = None,
    mmr_lambda: float | None = None,
):
    """The default scene's full pipeline over ``path``, as ``dubbo-recsys serve`` builds it.

    ``recall_k``, ``keep`` and ``mmr_lambda`` override the scene's recall size, pre-rank size and
    MMR trade-off (``None``: the served values). Returns ``(pipeline, conf)``.
    """
    from dubbo_recsys.pipeline.assemble import Resources, build_pipeline, default_pipeline_conf, load_stage_modules

    load_stage_modules()
    resources = Resources(popular=lambda _request: [], features=store, recall=recall, artifacts=Path(path))
    conf = default_pipeline_conf(resources)
    if recall_k is not None:
        conf = replace(conf, recall_num=recall_k)
    if keep is not None:
        conf = replace(conf, pre_ranking_num=keep)
    pipeline = build_pipeline(PipelineName.FULL, conf.steps, conf, resources)
    if mmr_lambda is not None:
        stages = tuple(
            MMRReRanker(RankArtifacts.of(resources), mmr_lambda) if isinstance(s, MMRReRanker) else s
            for s in pipeline.stages
        )
        pipeline = replace(pipeline, stages=stages)
    return pipeline, conf


async def evaluate_rank(
    path: str | Path,
    *,
    recall_k: int | None = None,
    keep: int | None = None,
    mmr_lambda: float | None = None,
    prior_weight: float = 8.0,
    max_users: int | None = None,
) -> RankEvalReport:
    from dubbo_recsys.rank.tf_ranker import InProcessRanker
    from dubbo_recsys.recall.artifacts import ArtifactDir
    from dubbo_recsys.recall.facade import Recall

    started = time.perf_counter()
    log.info("eval-rank: loading %s (features, recall, the served funnel, DIN, LR, FM)", path)
    store = EmbeddedFeatureStore.from_artifacts(path)
    try:
        recall = Recall.load(path, store)
        artifacts = RankArtifacts.of(SimpleResources(path))
        funnel, conf = served_funnel(path, store, recall, recall_k=recall_k, keep=keep, mmr_lambda=mmr_lambda)
        kinds = [stage.kind for stage in funnel.stages]
        if StageKind.RANK not in kinds or not isinstance(funnel.stages[kinds.index(StageKind.RANK)], InProcessRanker):
            raise RankConfigError(
                f"{path}: the default scene has no in-process DIN rank stage "
                f"(steps: {[s.implementation for s in conf.steps]})"
            )
        at = kinds.index(StageKind.RANK)
        before, ranker, after = funnel.stages[:at], funnel.stages[at], funnel.stages[at + 1 :]
        resources = SimpleResources(path, store, artifacts)
        lr = LRRanker(artifacts, LightModel.load(artifacts.root, "lr"), resources)
        fm = FMRanker(artifacts, LightModel.load(artifacts.root, "fm"), resources)
        dirs = ArtifactDir(path)
        user_ids, item_ids = dirs.user_ids(), dirs.item_ids()
        train = dirs.train(len(user_ids), len(item_ids))
        test = dirs.test()
        users, held_out = test["user"].astype(np.int64), test["item"].astype(np.int64)
        if max_users is not None:
            users, held_out = users[:max_users], held_out[:max_users]
        counts = np.bincount(train.items, minlength=len(item_ids))
        popular = np.lexsort((np.arange(len(item_ids)), -counts))
        all_items = np.arange(len(item_ids), dtype=np.int32)
        names = (
            "popularity",
            "recall",
            "funnel",
            "funnel_no_mmr",
            "funnel_din",
            "funnel_prior",
            "funnel_lr",
            "funnel_fm",
            "din_all_items",
        )
        gains: dict[str, list[float]] = {name: [] for name in names}

        async def finish(q: Query, ranked: list[Candidate]) -> list[str]:
            for stage in after:
                ranked = await stage.run(q, ranked)
            return [c.item_id for c in ranked]

        log.info("eval-rank: models loaded at %.1f s; %d test users", time.perf_counter() - started, len(users))
        report_every = max(1, len(users) // 10)
        for done, (user_row, item_row) in enumerate(zip(users.tolist(), held_out.tolist(), strict=True)):
            if done and done % report_every == 0:
                log.info("eval-rank: %d of %d users at %.1f s", done, len(users), time.perf_counter() - started)
            user_id, target = user_ids[user_row], item_ids[item_row]
            seen = np.unique(train.of(user_row))
            seen_ids = [item_ids[i] for i in seen.tolist()]
            top_pop = popular[: K + len(seen)]
            gains["popularity"].append(_gain([item_ids[i] for i in top_pop[~np.isin(top_pop, seen)]], target))
            q = Query.start(RecommendRequest(userId=user_id, count=K, exposureList=seen_ids), 3600.0)
            candidates: list[Candidate] = []
            for stage in before:
                candidates = await stage.run(q, candidates)
                if stage.kind is StageKind.RECALL:
                    gains["recall"].append(_gain([c.item_id for c in candidates], target))
            ranked = await ranker.run(q, _copies(candidates))  # the served rank stage, fusion and all
            gains["funnel_no_mmr"].append(_gain([c.item_id for c in ranked], target))
            gains["funnel"].append(_gain(await finish(q, ranked), target))
            history, profile = artifacts.encode_user(q.user)
            din = ranker.model.scores(history, profile, artifacts.rows([c.item_id for c in candidates]))
            plain = _copies(candidates)
            gains["funnel_din"].append(_gain(await finish(q, rescored(plain, din, ranker.name)), target))
            prior = _copies(candidates)
            blended = with_prior(prior, din, "multi_channel", prior_weight)
            gains["funnel_prior"].append(_gain(await finish(q, rescored(prior, blended, ranker.name)), target))
            for name, light in (("funnel_lr", lr), ("funnel_fm", fm)):
                light_ranked = await light.run(q, _copies(candidates))
                gains[name].append(_gain([c.item_id for c in light_ranked], target))
            scores = ranker.model.scores(history, profile, all_items)
            scores[seen] = -np.inf
            rank = int((scores > scores[item_row]).sum())
            gains["din_all_items"].append(1.0 / math.log2(rank + 2) if rank < K else 0.0)
    finally:
        await store.close()
    log.info("eval-rank: %d users done in %.1f s", len(users), time.perf_counter() - started)
    n = len(users)
    ndcg = {name: float(np.mean(values)) if values else 0.0 for name, values in gains.items()}
    hr = {name: float(np.mean(np.array(values) > 0)) if values else 0.0 for name, values in gains.items()}
    paired: dict[str, float] = {}
    if n > 1:
        diff = np.array(gains["funnel"]) - np.array(gains["recall"])
        hits = (np.array(gains["funnel"]) > 0).astype(float) - (np.array(gains["recall"]) > 0)
        paired = {
            "ndcg_diff": float(diff.mean()),
            "ndcg_diff_se": float(diff.std(ddof=1) / math.sqrt(n)),
            "hr_diff": float(hits.mean()),
            "hr_diff_se": float(hits.std(ddof=1) / math.sqrt(n)),
        }
    funnel_hr = hr["funnel"]
    stderr = math.sqrt(max(funnel_hr * (1 - funnel_hr), 1e-9) / max(1, n))
    rule = str(dirs.manifest.get("params", {}).get("split") or "leave-last-out by timestamp")
    fusion = getattr(ranker, "fusion", None)
    chosen = (
        f"rank fusion weights from models/rank/fusion.json: {fusion.provenance.get('chosen_on', '?')}"
        if fusion is not None
        else "no models/rank/fusion.json: the rank stage scores with DIN alone"
    )
    notes = [
        f"one standard error of HR@10 here is about {stderr:.3f}: differences under 0.02 HR are noise with {n} users",
        chosen,
        f"funnel_prior's weight {prior_weight:g} was picked on the even-positioned test users (optimistic)",
        "recall's channel weights and decay were tuned by `dubbo-recsys eval --tune` on half of these test users "
        "(recall's parameters, shared by every list but popularity)",
        REFERENCES,
    ]
    if paired:
        notes.insert(
            1,
            f"paired over the same users, funnel - recall: NDCG@10 {paired['ndcg_diff']:+.4f} "
            f"(standard error {paired['ndcg_diff_se']:.4f}), HR@10 {paired['hr_diff']:+.4f} "
            f"(standard error {paired['hr_diff_se']:.4f})",
        )
    after_names = [
        type(s).__name__ + (f"(lambda {s.trade_off:g})" if isinstance(s, MMRReRanker) else "") for s in after
    ]
    params = {
        "scene": [f"{s.stage}({s.implementation})" for s in conf.steps],
        "recall_k": conf.recall_num,
        "keep": conf.pre_ranking_num,
        "after_rank": after_names,
        "prior_weight": prior_weight,
        "served_default": recall_k is None and keep is None and mmr_lambda is None,
    }
    if fusion is not None:
        params["fusion"] = dict(zip(fusion.features, [round(float(w), 4) for w in fusion.weights], strict=True))
    return RankEvalReport(n, len(item_ids), rule, ndcg, hr, params, time.perf_counter() - started, tuple(notes), paired)


class SimpleResources:
    """What the evaluation's own stages draw on: the artifact path, the feature store, the rank artifacts."""

    def __init__(self, path: str | Path, features: Any = None, rank_artifacts: RankArtifacts | None = None) -> None:
        self.artifacts = Path(path)
        self.features = features
        self.rank_artifacts = rank_artifacts
