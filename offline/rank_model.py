"""The ranking models and their training: DIN (heavy), LR and FM (light).

Why DIN and not DeepFM: ranking here orders ~200 candidates that recall already
found plausible, so what separates the next item is how it relates to what the
user watched *last*. DIN's target attention weighs each lastN item by its
affinity to the candidate, which is exactly that signal; DeepFM would see the
history as one bag and spend its interactions on profile fields, which on
ML-100K carry little. (The seed's ``deepfm`` name stays an alias of this ranker.)

Inputs are index tensors in the space of ``offline.rank_steps``: 0 = padding,
1 = unknown, 2 + row for items and vocabulary entries. Item categories and the
popularity bucket live *inside* the model as constant tables, so a caller only
passes item rows; that keeps the serving signatures small.

Training: every train interaction is a positive with the user's previous
``history_len`` items as its history, read from the example files
(``offline.examples``). Each batch shares ``negatives`` items drawn from
popularity ** ``pop_power`` (so the model meets the popular items it must tell
apart), and the loss is a sampled softmax with the logQ correction
(logit - log q): this estimates the full softmax over all items, so scores rank
by P(next item | user), the quantity HR/NDCG measure, rather than by lift over
the sampler. Accidental hits (a negative equal to the positive) are masked.
The three models see the same batches with disjoint variables, so one Adam over
the summed loss trains each of them exactly as alone.

This module holds no string handling and writes nothing (see ``offline.rank_export``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from dubbo_recsys.offline.examples import ExampleFiles, dataset
from dubbo_recsys.offline.two_tower import OFFSET, PAD, UNKNOWN  # one index space for both models

__all__ = ["OFFSET", "PAD", "UNKNOWN", "DinRanker", "FMRanker", "LinearRanker", "RankInputs", "train_rankers"]

POP_BUCKETS = 16  # log2 buckets of the train interaction count


@dataclass(frozen=True, slots=True)
class RankInputs:
    """Integer model tables (see ``offline.rank_steps.rank_inputs``)."""

    profile_vocab: list[str]  # "field=value" tokens; index = OFFSET + position
    user_profile: np.ndarray  # int32 users x P (OFFSET-based)
    item_categories: np.ndarray  # int32 items x C (OFFSET + category code, PAD-filled)
    item_pop_bucket: np.ndarray  # int32 per item, 0..POP_BUCKETS-1
    item_count: np.ndarray  # float64 train interaction count per item (the examples come from files)


def pop_bucket(counts: np.ndarray) -> np.ndarray:
    return np.minimum(np.floor(np.log2(1.0 + counts)), POP_BUCKETS - 1).astype(np.int32)


def _padded(table: np.ndarray) -> np.ndarray:
    """Prepend rows for PAD and UNKNOWN so row ``OFFSET + r`` is item ``r``."""
    return np.concatenate([np.zeros((OFFSET, *table.shape[1:]), table.dtype), table], axis=0)


def _masked_mean(embedded, ids):
    import tensorflow as tf

    mask = tf.cast(tf.not_equal(ids, PAD), embedded.dtype)[..., None]
    return tf.reduce_sum(embedded * mask, axis=-2) / tf.maximum(tf.reduce_sum(mask, axis=-2), 1.0)


class DinRanker:
    """Target attention over the history, then an MLP; ``score`` maps [B,H],[B,P],[B,K] -> [B,K]."""

    def __init__(self, inputs: RankInputs, n_items: int, n_categories: int, dim: int, history_len: int) -> None:
        import keras
        import tensorflow as tf

        init = keras.initializers.RandomNormal(stddev=0.05)
        self.item_embedding = keras.layers.Embedding(n_items + OFFSET, dim, embeddings_initializer=init, name="item")
        self.item_bias = keras.layers.Embedding(n_items + OFFSET, 1, embeddings_initializer="zeros", name="item_bias")
        self.category_embedding = keras.layers.Embedding(
            n_categories + OFFSET, dim, embeddings_initializer=init, name="category"
        )
        self.profile_embedding = keras.layers.Embedding(
            len(inputs.profile_vocab) + OFFSET, dim, embeddings_initializer=init, name="profile"
        )
        self.pop_embedding = keras.layers.Embedding(POP_BUCKETS, 8, embeddings_initializer=init, name="pop")
        self.att_query = keras.layers.Dense(dim, use_bias=False, name="att_query")  # bilinear h W t
        self.att_prior = keras.layers.Dense(1, name="att_prior")  # target-free weight of a history item
        self.att_recency = keras.layers.Embedding(history_len, 1, embeddings_initializer="zeros", name="att_recency")
        self.mlp = [
            keras.layers.Dense(64, activation="relu", name="mlp_1"),
            keras.layers.Dense(32, activation="relu", name="mlp_2"),
            keras.layers.Dense(1, name="mlp_out"),
        ]
        self.categories = tf.constant(_padded(inputs.item_categories))
        self.pop = tf.constant(_padded(inputs.item_pop_bucket))

    @property
    def layers(self) -> list:
        return [
            self.item_embedding,
            self.item_bias,
            self.category_embedding,
            self.profile_embedding,
            self.pop_embedding,
            self.att_query,
            self.att_prior,
            self.att_recency,
            *self.mlp,
        ]

    @property
    def trainable_variables(self) -> list:
        return [v for layer in self.layers for v in layer.trainable_variables]

    def score(self, history, profile, items):
        import tensorflow as tf

        history = tf.pad(history, [[0, 0], [0, tf.maximum(0, 1 - tf.shape(history)[1])]])  # at least one column
        h = self.item_embedding(history)  # [B,H,d]
        t = self.item_embedding(items)  # [B,K,d]
        t_cat = _masked_mean(
            self.category_embedding(tf.gather(self.categories, items)), tf.gather(self.categories, items)
        )
        # attention logit of history item j for target k: (W h_j) . t_k + prior(h_j) + recency(j)
        positions = tf.range(tf.shape(history)[1])
        prior = tf.squeeze(self.att_prior(h), -1) + tf.squeeze(self.att_recency(positions), -1)[None, :]  # [B,H]
        logits = tf.einsum("bhd,bkd->bkh", self.att_query(h), t) + prior[:, None, :]  # [B,K,H]
        valid = tf.not_equal(history, PAD)[:, None, :]
        logits = tf.where(valid, logits, tf.constant(-1e9, logits.dtype))
        weights = tf.nn.softmax(logits, axis=-1) * tf.cast(valid, logits.dtype)
        pooled = tf.einsum("bkh,bhd->bkd", weights, h)
        user = _masked_mean(self.profile_embedding(profile), profile) + _masked_mean(h, history)  # [B,d]
        user = tf.broadcast_to(user[:, None, :], tf.shape(t))
        last = tf.broadcast_to(h[:, :1, :], tf.shape(t))  # the most recent item, on its own
        x = tf.concat(
            [pooled, t, pooled * t, user, user * t, last * t, t_cat, self.pop_embedding(tf.gather(self.pop, items))],
            axis=-1,
        )
        for layer in self.mlp:
            x = layer(x)
        return tf.squeeze(x, -1) + tf.squeeze(self.item_bias(items), -1)


class LinearRanker:
    """LR with two crosses: profile token x item category, history category x item category.

    score = b[item] + w_cat . m + (sum_p W_pc[p] + mean_h W_cc[cat(h)]) . m, m = the item's category
    multi-hot divided by its count. Serving recomputes this in numpy from the same arrays.
    """

    def __init__(self, inputs: RankInputs, n_items: int, n_categories: int) -> None:
        import tensorflow as tf

        c = n_categories + OFFSET
        self.item_bias = tf.Variable(tf.zeros([n_items + OFFSET]), name="lr_item_bias")
        self.category = tf.Variable(tf.zeros([c]), name="lr_category")
        self.profile_category = tf.Variable(
            tf.zeros([len(inputs.profile_vocab) + OFFSET, c]), name="lr_profile_x_category"
        )
        self.history_category = tf.Variable(tf.zeros([c, c]), name="lr_history_x_category")
        self.categories = tf.constant(_padded(inputs.item_categories))

    @property
    def trainable_variables(self) -> list:
        return [self.item_bias, self.category, self.profile_category, self.history_category]

    def category_share(self, items):
        import tensorflow as tf

        cats = tf.gather(self.categories, items)  # [..., C]
        depth = int(self.category.shape[0])
        hot = tf.reduce_sum(tf.one_hot(cats, depth) * tf.cast(tf.not_equal(cats, PAD), tf.float32)[..., None], axis=-2)
        return hot / tf.maximum(tf.reduce_sum(hot, axis=-1, keepdims=True), 1.0)

    def score(self, history, profile, items):
        import tensorflow as tf

        m = self.category_share(items)  # [B,K,c]
        mh = self.category_share(history)  # [B,H,c]
        valid = tf.cast(tf.not_equal(history, PAD), tf.float32)[..., None]
        hist_mix = tf.reduce_sum(mh * valid, axis=1) / tf.maximum(tf.reduce_sum(valid, axis=1), 1.0)  # [B,c]
        prof_valid = tf.cast(tf.not_equal(profile, PAD), tf.float32)[..., None]
        affinity = (
            tf.reduce_sum(tf.gather(self.profile_category, profile) * prof_valid, axis=1)
            + hist_mix @ self.history_category
            + self.category[None, :]
        )  # [B,c]
        return tf.gather(self.item_bias, items) + tf.einsum("bkc,bc->bk", m, affinity)


class FMRanker:
    """Factorization machine over profile tokens, history items (weight 1/|H|), the item and its categories.

    Exact FM: sum of linear weights plus 0.5 * (|sum v x|^2 - sum |v x|^2), split into a user part
    and an item part so serving computes the user part once per request.
    """

    def __init__(self, inputs: RankInputs, n_items: int, n_categories: int, dim: int) -> None:
        import tensorflow as tf

        rng = np.random.default_rng(5)

        def table(rows: int, name: str):
            return tf.Variable(rng.normal(0, 0.02, (rows, dim)).astype(np.float32), name=name)

        self.v_profile = table(len(inputs.profile_vocab) + OFFSET, "fm_v_profile")
        self.v_history = table(n_items + OFFSET, "fm_v_history")
        self.v_item = table(n_items + OFFSET, "fm_v_item")
        self.v_category = table(n_categories + OFFSET, "fm_v_category")
        self.w_item = tf.Variable(tf.zeros([n_items + OFFSET]), name="fm_w_item")
        self.w_category = tf.Variable(tf.zeros([n_categories + OFFSET]), name="fm_w_category")
        self.categories = tf.constant(_padded(inputs.item_categories))

    @property
    def trainable_variables(self) -> list:
        return [self.v_profile, self.v_history, self.v_item, self.v_category, self.w_item, self.w_category]

    def score(self, history, profile, items):
        import tensorflow as tf

        def weighted(ids):
            valid = tf.cast(tf.not_equal(ids, PAD), tf.float32)
            return valid / tf.maximum(tf.reduce_sum(valid, axis=-1, keepdims=True), 1.0)

        xp = tf.cast(tf.not_equal(profile, PAD), tf.float32)  # profile tokens weigh 1
        xh = weighted(history)
        vp, vh = tf.gather(self.v_profile, profile) * xp[..., None], tf.gather(self.v_history, history) * xh[..., None]
        user_sum = tf.reduce_sum(vp, 1) + tf.reduce_sum(vh, 1)  # [B,d]
        user_sq = tf.reduce_sum(vp * vp, [1, 2]) + tf.reduce_sum(vh * vh, [1, 2])  # [B]
        cats = tf.gather(self.categories, items)  # [B,K,C]
        xc = weighted(cats)
        vc = tf.gather(self.v_category, cats) * xc[..., None]
        vi = tf.gather(self.v_item, items)
        item_sum = vi + tf.reduce_sum(vc, 2)  # [B,K,d]
        item_sq = tf.reduce_sum(vi * vi, -1) + tf.reduce_sum(vc * vc, [2, 3])
        linear = tf.gather(self.w_item, items) + tf.reduce_sum(tf.gather(self.w_category, cats) * xc, -1)
        total = user_sum[:, None, :] + item_sum
        pairs = 0.5 * (tf.reduce_sum(total * total, -1) - user_sq[:, None] - item_sq)
        return linear + pairs


def train_rankers(
    inputs: RankInputs,
    examples: ExampleFiles,
    n_items: int,
    n_categories: int,
    config,
    progress: Callable[[int], None] | None = None,
    warm_start: Callable[[DinRanker, LinearRanker, FMRanker], None] | None = None,
) -> tuple[DinRanker, LinearRanker, FMRanker, dict[str, list[float]]]:
    """Train DIN, LR and FM together (disjoint variables); returns the models and mean loss per epoch.

    ``warm_start`` sets the freshly made models' weights before the first step (``offline.refresh``
    fine-tunes a serving version's rankers this way, with this same loop)."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(config.seed)
    din = DinRanker(inputs, n_items, n_categories, config.dim, config.history_len)
    lr = LinearRanker(inputs, n_items, n_categories)
    fm = FMRanker(inputs, n_items, n_categories, config.fm_dim)
    models: dict[str, Any] = {"din": din, "lr": lr, "fm": fm}  # Keras models: untyped
    profile_table = tf.constant(inputs.user_profile)
    q = np.power(inputs.item_count + 1.0, config.pop_power)
    q = q / q.sum()
    log_q = tf.constant(np.log(_padded(q) + 1e-12).astype(np.float32))
    n = examples.count
    steps = math.ceil(n / config.batch_size) * config.epochs
    optimizer = keras.optimizers.Adam(learning_rate=keras.optimizers.schedules.CosineDecay(config.learning_rate, steps))
    for model in models.values():  # build the Keras layers, so their variables exist before the step
        model.score(tf.zeros([1, 1], tf.int32), tf.zeros([1, 1], tf.int32), tf.zeros([1, 1], tf.int32))
    if warm_start is not None:
        warm_start(din, lr, fm)
    variables = [v for m in models.values() for v in m.trainable_variables]

    @tf.function(reduce_retracing=True)
    def train_step(user, item_row, history_rows, negatives):
        item = item_row + OFFSET
        history = tf.where(history_rows >= 0, history_rows + OFFSET, PAD)
        profile = tf.gather(profile_table, user)
        batch = tf.shape(item)[0]
        items = tf.concat([item[:, None], tf.broadcast_to(negatives[None, :], [batch, tf.shape(negatives)[0]])], 1)
        hit = tf.concat([tf.zeros([batch, 1], tf.bool), tf.equal(items[:, 1:], item[:, None])], 1)
        correction = tf.gather(log_q, items)
        losses = []
        with tf.GradientTape() as tape:
            for model in models.values():
                logits = model.score(history, profile, items) - correction
                logits = tf.where(hit, tf.constant(-1e9, logits.dtype), logits)
                losses.append(
                    tf.reduce_mean(
                        tf.nn.sparse_softmax_cross_entropy_with_logits(
                            labels=tf.zeros([batch], tf.int32), logits=logits
                        )
                    )
                )
            total = tf.add_n(losses) + config.l2 * (
                tf.nn.l2_loss(lr.profile_category) + tf.nn.l2_loss(lr.history_category)
            )
        optimizer.apply_gradients(zip(tape.gradient(total, variables), variables, strict=True))
        return tf.stack(losses)

    shuffle = np.random.default_rng(config.seed)  # consumed by the example stream
    rng = np.random.default_rng([config.seed, 1])  # negatives, consumed by this loop
    history: dict[str, list[float]] = {name: [] for name in models}
    for _ in range(config.epochs):
        totals = np.zeros(len(models))
        for user, item, past in dataset(examples, config.batch_size, shuffle, config.history_len):
            negatives = rng.choice(len(q), size=config.negatives, p=q).astype(np.int32) + OFFSET
            losses = train_step(user, item, past, negatives)
            rows = int(user.shape[0])
            totals += losses.numpy() * rows
            if progress:
                progress(rows)
        for name, total in zip(models, totals, strict=True):
            history[name].append(float(total / max(n, 1)))
    return din, lr, fm, history
