"""Build steps that train models or index their vectors (TensorFlow and Faiss imported inside).

``TwoTowerModel`` trains the DSSM of ``offline.two_tower``, exports both towers
(``models/two_tower/``), stores the L2-normalised ``embeddings/`` and records
HR@50 of u2i retrieval on the test split in the manifest ``metrics`` (a quick
check only: nothing is tuned on it during the build). ``FaissIndex`` indexes
the item vectors and derives ``neighbors/i2i_emb.npz`` from the index.

Both read only engine-neutral state (the catalog, the example files, popularity,
``last_n``): training is the same code whichever engine built the examples.
A later model is one more class like these, added to ``offline.recipe.default_steps()``.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from dubbo_recsys.offline.config import BuildConfig
from dubbo_recsys.offline.context import BuildContext, SplitSummary

__all__ = ["EVAL_USERS", "FaissIndex", "TwoTowerModel", "sample_test", "tower_vectors"]

EVAL_USERS = 20_000  # test users in the quick HR@50 check (all of them below that)


def sample_test(split: SplitSummary, limit: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """At most ``limit`` (user, item) test pairs, a seeded sample sorted by user when there are more."""
    if split.n_test <= limit:
        return split.test_user, split.test_item
    keep = np.sort(np.random.default_rng(seed).choice(split.n_test, limit, replace=False))
    return split.test_user[keep], split.test_item[keep]


def tower_vectors(model: Any, inputs: Any, window: np.ndarray, batch: int = 8192) -> tuple[np.ndarray, np.ndarray]:
    """(users x dim, items x dim) float32: every user's vector on ``window`` (users x L item rows, most recent
    first, -1 = padding) and every item's vector, from the ``offline.two_tower.TwoTower`` ``model``."""
    import tensorflow as tf

    from dubbo_recsys.offline.two_tower import OFFSET, PAD

    history = np.where(window >= 0, window + OFFSET, PAD).astype(np.int32)
    n_users, n_items = len(inputs.user_profile), len(inputs.item_categories)
    users = [
        model.user_vectors(
            tf.constant(np.arange(start, min(start + batch, n_users), dtype=np.int32) + OFFSET),
            tf.constant(inputs.user_profile[start : start + batch]),
            tf.constant(history[start : start + batch]),
        ).numpy()
        for start in range(0, n_users, batch)
    ]
    items = [
        model.item_vectors(
            tf.constant(np.arange(start, min(start + batch, n_items), dtype=np.int32) + OFFSET),
            tf.constant(inputs.item_categories[start : start + batch]),
        ).numpy()
        for start in range(0, n_items, batch)
    ]
    return np.concatenate(users).astype(np.float32), np.concatenate(items).astype(np.float32)


def _quiet_tensorflow() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


class TwoTowerModel:
    def enabled(self, config: BuildConfig) -> bool:
        return config.two_tower.enabled

    def run(self, ctx: BuildContext) -> None:
        _quiet_tensorflow()

        from dubbo_recsys.offline.two_tower import hit_rate, tower_inputs, train_two_tower
        from dubbo_recsys.offline.two_tower_export import export_towers

        config = ctx.config.two_tower
        catalog, examples, popularity = ctx.require("catalog"), ctx.require("examples"), ctx.require("popularity")
        inputs = tower_inputs(catalog)
        with ctx.progress(examples.count * config.epochs, "two-tower training") as update:
            model, losses = train_two_tower(
                inputs, examples, popularity, catalog.n_users, len(catalog.category_names), config, update
            )

        window = ctx.require("last_n").window(config.history_len)
        users, items = tower_vectors(model, inputs, window)
        ctx.user_embeddings, ctx.item_embeddings = users.astype(np.float32), items.astype(np.float32)
        np.save(ctx.path("embeddings/users.npy"), ctx.user_embeddings)
        np.save(ctx.path("embeddings/items.npy"), ctx.item_embeddings)

        model_dir = ctx.path("models/two_tower/meta.json").parent
        export_towers(
            model,
            model_dir,
            ctx.root / "ids/users.txt",
            ctx.root / "ids/items.txt",
            inputs.profile_vocab,
            catalog.category_names.tolist(),
            config.history_len,
        )
        test_user, test_item = sample_test(ctx.require("split"), EVAL_USERS, config.seed)
        seen = ctx.require("engine").train_items_of
        hr50 = hit_rate(ctx.user_embeddings, ctx.item_embeddings, test_user, test_item, seen, 50)
        ctx.metrics["two_tower_u2i_hr@50"] = round(hr50, 4)
        ctx.write_json(
            "models/two_tower/meta.json",
            {
                "dim": config.dim,
                "history_len": config.history_len,
                "profile_fields": list(inputs.profile_fields),
                "temperature": config.temperature,
                "epochs": config.epochs,
                "epoch_loss": [round(x, 4) for x in losses],
                "u2i_hr@50_test": round(hr50, 4),
            },
        )


class FaissIndex:
    def enabled(self, config: BuildConfig) -> bool:
        return config.two_tower.enabled

    def run(self, ctx: BuildContext) -> None:
        from dubbo_recsys.offline.ann import write_item_index

        vectors = ctx.require("item_embeddings")
        with ctx.progress(len(vectors), "i2i_emb") as update:
            write_item_index(ctx.root, vectors, ctx.config.faiss_flat_max, ctx.config.neighbors.k, progress=update)
