"""The two-tower (DSSM) recall model: training on the train split, and its towers.

User tower: user id embedding + mean of profile-token embeddings + mean of the
history's item embeddings (the item-id table is shared with the item tower),
then a two-layer MLP to ``dim`` and L2 normalisation. Item tower: item id
embedding + mean of category embeddings, MLP, L2 normalisation. Training uses
in-batch softmax over cosine / ``temperature`` with logQ correction
(``logits -= logq_correction * log q(item)``, q = train frequency), other rows
holding the same item masked out. A share ``user_id_dropout`` of the examples sees the
unknown-user id, so a new user still gets a useful vector from profile and
history; unknown items likewise fall back on their categories.

Each train interaction is one example; its history is the user's previous
``history_len`` train items, most recent first (what ``last_n`` will hold when
serving). The examples are read from Parquet files streamed from disk
(``offline.examples``), written by whichever engine ran the build. Index spaces
inside the towers: 0 = padding, 1 = unknown, 2 + row for ids and vocabulary entries.

The SavedModels and their ``serving_default`` signatures are made by
``offline.two_tower_export``; this module has no string handling.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from dubbo_recsys.offline.config import TwoTowerConfig
from dubbo_recsys.offline.dataset import Catalog
from dubbo_recsys.offline.examples import ExampleFiles, dataset

__all__ = [
    "OFFSET",
    "PAD",
    "PROFILE_FIELDS",
    "UNKNOWN",
    "TowerInputs",
    "TwoTower",
    "category_index",
    "hit_rate",
    "profile_index",
    "tower_inputs",
    "train_two_tower",
]

# Profile fields fed to the user tower, when the source has them (raw age and zip are left to the buckets).
PROFILE_FIELDS = ("age_group", "gender", "occupation", "region")
PAD, UNKNOWN, OFFSET = 0, 1, 2


@dataclass(frozen=True, slots=True)
class TowerInputs:
    """Integer model tables derived from the catalog (the examples come from files)."""

    profile_fields: tuple[str, ...]
    profile_vocab: list[str]  # "field=value" tokens; index = OFFSET + position
    user_profile: np.ndarray  # int32 users x F
    item_categories: np.ndarray  # int32 items x C (OFFSET + category code, PAD-filled)


def profile_tokens(source: Catalog, fields: tuple[str, ...]) -> list[list[str]]:
    columns = [source.user_profile[f].tolist() for f in fields]
    return [[f"{f}={col[row]}" for f, col in zip(fields, columns, strict=True)] for row in range(source.n_users)]


def profile_index(source: Catalog) -> tuple[tuple[str, ...], list[str], np.ndarray]:
    """(fields, "field=value" vocabulary, users x fields int32 of OFFSET + vocabulary position)."""
    fields = tuple(f for f in PROFILE_FIELDS if f in source.user_profile)
    tokens = profile_tokens(source, fields)
    vocab = sorted({t for row in tokens for t in row})
    position = {t: OFFSET + i for i, t in enumerate(vocab)}
    user_profile = np.array([[position[t] for t in row] for row in tokens], dtype=np.int32).reshape(
        source.n_users, len(fields)
    )
    return fields, vocab, user_profile


class CategoryTable(Protocol):
    """What ``category_index`` reads: a ``Catalog``, or the refresh's table read back from a version."""

    @property
    def n_items(self) -> int: ...
    @property
    def category_ptr(self) -> np.ndarray: ...
    @property
    def category_codes(self) -> np.ndarray: ...


def category_index(source: CategoryTable) -> np.ndarray:
    """items x C int32: OFFSET + category code per item, PAD-filled."""
    counts = np.diff(source.category_ptr)
    width = max(1, int(counts.max(initial=1)))
    item_categories = np.zeros((source.n_items, width), dtype=np.int32)
    rows = np.repeat(np.arange(source.n_items), counts)
    slot = np.arange(len(rows)) - source.category_ptr[rows]
    item_categories[rows, slot] = source.category_codes + OFFSET
    return item_categories


def tower_inputs(catalog: Catalog) -> TowerInputs:
    fields, vocab, user_profile = profile_index(catalog)
    return TowerInputs(fields, vocab, user_profile, category_index(catalog))


def _masked_mean(embedded, ids):
    import tensorflow as tf

    mask = tf.cast(tf.not_equal(ids, PAD), embedded.dtype)[..., None]
    return tf.reduce_sum(embedded * mask, axis=1) / tf.maximum(tf.reduce_sum(mask, axis=1), 1.0)


class TwoTower:
    """The Keras layers of both towers; ``user_vectors`` / ``item_vectors`` take index tensors."""

    def __init__(self, n_users: int, n_items: int, n_profile: int, n_categories: int, dim: int) -> None:
        import keras

        def embedding(rows: int, name: str):
            return keras.layers.Embedding(
                rows + OFFSET, dim, embeddings_initializer=keras.initializers.RandomNormal(stddev=0.05), name=name
            )

        self.user_embedding = embedding(n_users, "user_id")
        self.item_embedding = embedding(n_items, "item_id")
        self.profile_embedding = embedding(n_profile, "profile")
        self.category_embedding = embedding(n_categories, "category")
        self.user_mlp = [
            keras.layers.Dense(2 * dim, activation="relu", name="user_hidden"),
            keras.layers.Dense(dim, name="user_out"),
        ]
        self.item_mlp = [
            keras.layers.Dense(2 * dim, activation="relu", name="item_hidden"),
            keras.layers.Dense(dim, name="item_out"),
        ]

    def user_vectors(self, user, profile, history):
        import tensorflow as tf

        x = tf.concat(
            [
                self.user_embedding(user),
                _masked_mean(self.profile_embedding(profile), profile),
                _masked_mean(self.item_embedding(history), history),
            ],
            axis=1,
        )
        for layer in self.user_mlp:
            x = layer(x)
        return tf.math.l2_normalize(x, axis=1)

    def item_vectors(self, item, categories):
        import tensorflow as tf

        x = tf.concat(
            [self.item_embedding(item), _masked_mean(self.category_embedding(categories), categories)], axis=1
        )
        for layer in self.item_mlp:
            x = layer(x)
        return tf.math.l2_normalize(x, axis=1)

    @property
    def trainable_variables(self) -> list:
        layers = [
            self.user_embedding,
            self.item_embedding,
            self.profile_embedding,
            self.category_embedding,
            *self.user_mlp,
            *self.item_mlp,
        ]
        return [v for layer in layers for v in layer.trainable_variables]


def train_two_tower(
    inputs: TowerInputs,
    examples: ExampleFiles,
    popularity: np.ndarray,
    n_users: int,
    n_categories: int,
    config: TwoTowerConfig,
    progress: Callable[[int], None] | None = None,
    warm_start: Callable[[TwoTower], None] | None = None,
) -> tuple[TwoTower, list[float]]:
    """Train on ``examples`` streamed from disk; return the towers and the mean loss of each epoch.

    ``popularity`` is the train interaction count per item row (the logQ correction's q). ``warm_start``
    sets the freshly made towers' weights before the first step (``offline.refresh`` fine-tunes a
    serving version's towers this way, with this same loop).
    """
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(config.seed)
    n_items = len(popularity)
    model = TwoTower(n_users, n_items, len(inputs.profile_vocab), n_categories, config.dim)
    if warm_start is not None:
        warm_start(model)
    user_profile = tf.constant(
        np.vstack([np.zeros((OFFSET, inputs.user_profile.shape[1]), np.int32), inputs.user_profile])
    )
    item_categories = tf.constant(
        np.vstack([np.zeros((OFFSET, inputs.item_categories.shape[1]), np.int32), inputs.item_categories])
    )
    n = examples.count
    # cosine decay keeps the last epochs from undoing the first ones
    decay = keras.optimizers.schedules.CosineDecay(
        config.learning_rate, math.ceil(n / config.batch_size) * config.epochs
    )
    optimizer = keras.optimizers.Adam(learning_rate=decay)
    # logQ correction: in-batch negatives are drawn by popularity; subtracting log q(item) makes the
    # sampled softmax estimate the full one (p(item | user)) instead of a popularity-free PMI.
    frequency = np.concatenate([np.zeros(OFFSET), popularity])
    log_q = tf.constant(np.log(np.maximum(frequency, 1.0) / max(n, 1)).astype(np.float32) * config.logq_correction)

    @tf.function(reduce_retracing=True)
    def train_step(user_row, item_row, history_rows, drop):
        user, item = user_row + OFFSET, item_row + OFFSET
        history = tf.where(history_rows >= 0, history_rows + OFFSET, PAD)
        profile = tf.gather(user_profile, user)
        user = tf.where(drop, tf.ones_like(user) * UNKNOWN, user)
        with tf.GradientTape() as tape:
            u = model.user_vectors(user, profile, history)
            v = model.item_vectors(item, tf.gather(item_categories, item))
            logits = tf.matmul(u, v, transpose_b=True) / config.temperature - tf.gather(log_q, item)[None, :]
            same = tf.equal(item[:, None], item[None, :])
            eye = tf.eye(tf.shape(item)[0], dtype=tf.bool)
            logits = tf.where(same & ~eye, tf.constant(-1e9, logits.dtype), logits)
            labels = tf.range(tf.shape(item)[0])
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))
        variables = model.trainable_variables
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
        return loss

    shuffle = np.random.default_rng(config.seed)  # consumed by the example stream
    dropout = np.random.default_rng([config.seed, 1])  # consumed by this loop
    losses: list[float] = []
    for _ in range(config.epochs):
        total = 0.0
        for user, item, history in dataset(examples, config.batch_size, shuffle, config.history_len):
            rows = int(user.shape[0])
            if rows < 2:
                continue
            loss = train_step(user, item, history, dropout.random(rows) < config.user_id_dropout)
            total += float(loss) * rows
            if progress:
                progress(rows)
        losses.append(total / max(n, 1))
    return model, losses


def hit_rate(
    user_vectors: np.ndarray,
    item_vectors: np.ndarray,
    test_user: np.ndarray,
    test_item: np.ndarray,
    seen: Callable[[np.ndarray], list[np.ndarray]],
    k: int = 50,
) -> float:
    """HR@k of u2i retrieval for these test pairs, each user's train items (``seen``) excluded (a quick check)."""
    if len(test_user) == 0:
        return 0.0
    hits = 0
    for start in range(0, len(test_user), 1024):
        users = test_user[start : start + 1024]
        scores = user_vectors[users] @ item_vectors.T
        for local, items in enumerate(seen(users)):
            scores[local, items] = -np.inf
        top = np.argpartition(-scores, min(k, scores.shape[1] - 1), axis=1)[:, :k]
        hits += int((top == test_item[start : start + 1024, None]).any(axis=1).sum())
    return hits / len(test_user)
