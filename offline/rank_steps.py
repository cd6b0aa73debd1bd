"""The ranking build step: DIN (TensorFlow SavedModel) plus the light LR and FM rankers.

``RankModel`` trains the three models of ``offline.rank_model`` on the train
split and writes ``models/rank/`` (see ``offline.rank_export`` for the
signatures and ``offline/ARTIFACTS.md`` for the files). It records in the
manifest ``metrics`` NDCG@10 / HR@10 of each model ranking *all* items for at
most ``eval_users`` test users (their training items removed): a quick check
that training worked, not a number anything is tuned on.

Cost: ML-100K (99k examples) about 110-120 s of CPU with the defaults (TensorFlow
uses both cores, so roughly a minute of wall time on an idle 2-core machine); the
2,000 x 5,000 synthetic catalog of CI is of the same size. 32 negatives instead of
64 save a third and cost 0.013 NDCG@10 (``bench/rank/RESULTS.md``). Its own config
slice lives here (defaults only), so adding it does not touch ``BuildConfig``;
builder code is part of the artifact version, so a change here rebuilds.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from dubbo_recsys.offline.config import BuildConfig
from dubbo_recsys.offline.context import BuildContext, LastN
from dubbo_recsys.offline.dataset import Catalog
from dubbo_recsys.offline.errors import BuildConfigError
from dubbo_recsys.offline.model_steps import sample_test
from dubbo_recsys.offline.two_tower import PROFILE_FIELDS  # the rankers see the towers' profile fields

__all__ = ["PROFILE_FIELDS", "RankModel", "RankModelConfig", "rank_inputs"]


@dataclass(frozen=True, slots=True)
class RankModelConfig:
    dim: int = 32
    fm_dim: int = 16
    history_len: int = 20
    negatives: int = 64  # shared per batch, drawn from popularity ** pop_power
    pop_power: float = 0.75
    epochs: int = 3
    batch_size: int = 512
    learning_rate: float = 0.003
    l2: float = 1e-5  # on the LR cross weights only
    eval_users: int = 1_000  # users in the quick metric
    seed: int = 13

    def __post_init__(self) -> None:
        for name, low, high in (
            ("dim", 2, 512),
            ("fm_dim", 2, 512),
            ("history_len", 1, 500),
            ("negatives", 1, 10_000),
            ("epochs", 1, 100),
            ("batch_size", 8, 65_536),
            ("eval_users", 0, 1_000_000),
        ):
            value = getattr(self, name)
            if not (low <= value <= high):
                raise BuildConfigError(f"rank model {name} must be in [{low}, {high}], got {value!r}")
        if not (0.0 <= self.pop_power <= 2.0 and 1e-6 <= self.learning_rate <= 1.0 and 0.0 <= self.l2 <= 1.0):
            raise BuildConfigError("rank model pop_power must be in [0, 2], learning_rate in [1e-6, 1], l2 in [0, 1]")


def rank_inputs(catalog: Catalog, popularity: np.ndarray):
    """Integer model tables for ``offline.rank_model``, in the two-tower's index space (0 pad, 1 unknown, 2 + row)."""
    from dubbo_recsys.offline.rank_model import RankInputs, pop_bucket
    from dubbo_recsys.offline.two_tower import category_index, profile_index

    _, vocab, user_profile = profile_index(catalog)
    return RankInputs(
        profile_vocab=vocab,
        user_profile=user_profile,
        item_categories=category_index(catalog),
        item_pop_bucket=pop_bucket(popularity),
        item_count=popularity,
    )


def full_ranking_quality(
    models: dict,
    inputs,
    test: tuple[np.ndarray, np.ndarray],
    seen: Callable[[np.ndarray], list[np.ndarray]],
    last_n: LastN,
    n_items: int,
    history_len: int,
) -> dict[str, float]:
    """NDCG@10 and HR@10 of each model over all items for these (user, item) test pairs, train items removed."""
    import tensorflow as tf

    from dubbo_recsys.offline.rank_model import OFFSET, PAD

    users, targets = test
    if len(users) == 0:
        return {}
    window = last_n.window(history_len)
    items = tf.constant(np.arange(n_items, dtype=np.int32)[None, :] + OFFSET)
    out: dict[str, float] = {}
    for name, model in models.items():
        ndcg = hits = 0.0
        for start in range(0, len(users), 16):
            batch, target = users[start : start + 16], targets[start : start + 16]
            history = np.where(window[batch] >= 0, window[batch] + OFFSET, PAD).astype(np.int32)
            scores = model.score(
                tf.constant(history), tf.constant(inputs.user_profile[batch]), tf.tile(items, [len(batch), 1])
            ).numpy()
            for i, train_items in enumerate(seen(batch)):
                row = scores[i]
                row[train_items] = -np.inf
                rank = int((row > row[target[i]]).sum())
                if rank < 10:
                    hits += 1
                    ndcg += 1.0 / np.log2(rank + 2)
        out[f"rank_{name}_ndcg@10_all_items"] = round(ndcg / len(users), 4)
        out[f"rank_{name}_hr@10_all_items"] = round(hits / len(users), 4)
    return out


class RankModel:
    """Build step: ``models/rank/din`` (SavedModel), ``models/rank/light/{lr,fm}.npz``, ``models/rank/meta.json``."""

    def __init__(self, config: RankModelConfig | None = None) -> None:
        self.config = config or RankModelConfig()

    def enabled(self, config: BuildConfig) -> bool:
        return config.two_tower.enabled  # --no-two-tower builds skip every trained model

    def run(self, ctx: BuildContext) -> None:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        from dubbo_recsys.offline.rank_export import export_din, save_light
        from dubbo_recsys.offline.rank_model import train_rankers

        config = self.config
        catalog, examples = ctx.require("catalog"), ctx.require("examples")
        inputs = rank_inputs(catalog, ctx.require("popularity"))
        n_categories = len(catalog.category_names)
        with ctx.progress(examples.count * config.epochs, "rank models") as update:
            din, lr, fm, losses = train_rankers(inputs, examples, catalog.n_items, n_categories, config, update)
        root = ctx.path("models/rank/meta.json").parent
        export_din(din, root / "din", ctx.root / "ids/items.txt", inputs.profile_vocab, config.history_len)
        save_light(lr, fm, root / "light")
        quality = full_ranking_quality(
            {"din": din, "lr": lr, "fm": fm},
            inputs,
            sample_test(ctx.require("split"), config.eval_users, config.seed),
            ctx.require("engine").train_items_of,
            ctx.require("last_n"),
            catalog.n_items,
            config.history_len,
        )
        ctx.metrics.update(quality)
        ctx.params["rank_model"] = dataclasses.asdict(config)
        ctx.write_json(
            "models/rank/meta.json",
            {
                "model": "din",
                "history_len": config.history_len,
                "profile_fields": [f for f in PROFILE_FIELDS if f in catalog.user_profile],
                "profile_vocab": inputs.profile_vocab,
                "categories": catalog.category_names.tolist(),
                "signatures": {
                    "rank": ["history", "profile", "items"],
                    "serving_default": ["userExamples", "userContextExamples", "itemExamples"],
                },
                "negatives": (
                    f"{config.negatives} per batch from popularity ** {config.pop_power}, "
                    "logQ-corrected sampled softmax"
                ),
                "epoch_loss": {name: [round(x, 4) for x in values] for name, values in losses.items()},
                "quality": quality,
            },
        )
