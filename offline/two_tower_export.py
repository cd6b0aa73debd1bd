"""Export the towers as TensorFlow SavedModels that take external string ids.

``models/two_tower/user_tower`` — ``serving_default``:

    inputs   user_id  tf.string [B]      external user id; unknown ids use the unknown-user vector
             profile  tf.string [B, P]   "field=value" tokens, "" = padding, for the fields listed in
                                         models/two_tower/meta.json "profile_fields" (ML-100K:
                                         age_group, gender, occupation, region); unknown tokens allowed
             history  tf.string [B, L]   item ids, most recent first, "" = padding; the first
                                         meta "history_len" are used (users.jsonl "last_n" fits as is)
    output   user_embedding  tf.float32 [B, dim], L2-normalised

``models/two_tower/item_tower`` — ``serving_default``:

    inputs   item_id     tf.string [B]      external item id; unknown ids fall back on categories
             categories  tf.string [B, C]   category names, "" = padding (items.jsonl "categories")
    output   item_embedding  tf.float32 [B, dim], L2-normalised

Both accept any P, L, C >= 1. The id vocabularies are SavedModel assets (copies
of ``ids/users.txt`` / ``ids/items.txt``); the small vocabularies are constants.
``embeddings/users.npy`` and ``embeddings/items.npy`` are exactly these
signatures applied to the artifact's own ids and features.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dubbo_recsys.offline.saved_weights import restore_layers
from dubbo_recsys.offline.two_tower import OFFSET, PAD, UNKNOWN, TwoTower

__all__ = ["export_towers", "exported_vocabularies", "load_tower_weights"]


def _user_layers(model: TwoTower) -> list:
    """The user tower's layers in the order its SavedModel tracks them (``layers/<i>/`` in its checkpoint)."""
    return [model.user_embedding, model.item_embedding, model.profile_embedding, *model.user_mlp]


def _item_layers(model: TwoTower) -> list:
    return [model.item_embedding, model.category_embedding, *model.item_mlp]


def exported_vocabularies(model_dir: Path) -> tuple[list[str], list[str]]:
    """(profile "field=value" tokens, category names) in the index order the exported towers use, read
    back from their lookup tables: the vocabularies a warm start must index the same way."""
    import tensorflow as tf

    found = []
    for tower, table in (("user_tower", "profile"), ("item_tower", "categories")):
        handle = getattr(tf.saved_model.load(str(model_dir / tower)), table).resource_handle
        keys, values = tf.raw_ops.LookupTableExportV2(table_handle=handle, Tkeys=tf.string, Tvalues=tf.int64)
        tokens = [k.decode() for _, k in sorted(zip(values.numpy().tolist(), keys.numpy().tolist(), strict=True))]
        found.append([] if tokens == ["\x00"] else tokens)  # _token_table's stand-in for an empty vocabulary
    return found[0], found[1]


def load_tower_weights(model: TwoTower, model_dir: Path) -> None:
    """Set ``model``'s weights to those of the towers exported in ``model_dir`` (a warm start).

    Read from the SavedModels' checkpoints (``<tower>/variables``), not by loading their graphs; the
    shared item-id table is taken from the user tower. A shape that differs from ``model``'s (another
    id or vocabulary count) raises ``ValueError``.
    """
    import tensorflow as tf

    model.user_vectors(tf.zeros([1], tf.int32), tf.zeros([1, 1], tf.int32), tf.zeros([1, 1], tf.int32))
    model.item_vectors(tf.zeros([1], tf.int32), tf.zeros([1, 1], tf.int32))  # both towers built: weights exist
    for tower, layers in (("user_tower", _user_layers(model)), ("item_tower", _item_layers(model))):
        restore_layers(model_dir / tower, layers, tower)


def _id_table(vocabulary_file: Path):
    import tensorflow as tf

    initializer = tf.lookup.TextFileInitializer(
        str(vocabulary_file),
        key_dtype=tf.string,
        key_index=tf.lookup.TextFileIndex.WHOLE_LINE,
        value_dtype=tf.int64,
        value_index=tf.lookup.TextFileIndex.LINE_NUMBER,
    )
    return tf.lookup.StaticHashTable(initializer, default_value=-1)


def _token_table(tokens: list[str]):
    import tensorflow as tf

    keys = tf.constant(tokens if tokens else ["\x00"], dtype=tf.string)
    values = tf.constant(np.arange(len(keys), dtype=np.int64))
    return tf.lookup.StaticHashTable(tf.lookup.KeyValueTensorInitializer(keys, values), default_value=-1)


def _indexes(table, strings):
    """External strings -> tower indexes: "" -> PAD, unknown -> UNKNOWN, known -> OFFSET + row."""
    import tensorflow as tf

    found = table.lookup(strings)
    index = tf.where(found < 0, tf.constant(UNKNOWN, tf.int64), found + OFFSET)
    return tf.cast(tf.where(tf.equal(strings, ""), tf.constant(PAD, tf.int64), index), tf.int32)


def export_towers(
    model: TwoTower,
    out_dir: Path,
    users_file: Path,
    items_file: Path,
    profile_vocab: list[str],
    category_names: list[str],
    history_len: int,
) -> tuple[Path, Path]:
    import tensorflow as tf

    class UserTower(tf.Module):
        def __init__(self) -> None:
            super().__init__()
            self.towers = model
            self.layers = _user_layers(model)
            self.users = _id_table(users_file)
            self.items = _id_table(items_file)
            self.profile = _token_table(profile_vocab)

        @tf.function(
            input_signature=[
                tf.TensorSpec([None], tf.string, name="user_id"),
                tf.TensorSpec([None, None], tf.string, name="profile"),
                tf.TensorSpec([None, None], tf.string, name="history"),
            ]
        )
        def serve(self, user_id, profile, history):
            history = history[:, :history_len]
            vectors = self.towers.user_vectors(
                _indexes(self.users, user_id), _indexes(self.profile, profile), _indexes(self.items, history)
            )
            return {"user_embedding": vectors}

    class ItemTower(tf.Module):
        def __init__(self) -> None:
            super().__init__()
            self.towers = model
            self.layers = _item_layers(model)
            self.items = _id_table(items_file)
            self.categories = _token_table(category_names)

        @tf.function(
            input_signature=[
                tf.TensorSpec([None], tf.string, name="item_id"),
                tf.TensorSpec([None, None], tf.string, name="categories"),
            ]
        )
        def serve(self, item_id, categories):
            vectors = self.towers.item_vectors(_indexes(self.items, item_id), _indexes(self.categories, categories))
            return {"item_embedding": vectors}

    user_dir, item_dir = out_dir / "user_tower", out_dir / "item_tower"
    user_module, item_module = UserTower(), ItemTower()
    tf.saved_model.save(user_module, str(user_dir), signatures={"serving_default": user_module.serve})
    tf.saved_model.save(item_module, str(item_dir), signatures={"serving_default": item_module.serve})
    return user_dir, item_dir
