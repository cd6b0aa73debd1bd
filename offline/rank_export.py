"""Write the trained rankers: the DIN SavedModel with two signatures, and LR/FM as numpy arrays.

``models/rank/din/`` (SavedModel), signature ``rank`` (in-process serving, one request)::

    inputs   history  tf.int32 [L]  item rows of the user's lastN, most recent first, -1 = padding;
                                    only the first meta "history_len" are used
             profile  tf.int32 [P]  positions in meta "profile_vocab" ("field=value"), -1 = padding
             items    tf.int32 [N]  item rows of the candidates, -1 = an item unknown to the build
    output   scores   tf.float32 [N], same order (a logit: higher is better, comparable within a call)

signature ``serving_default`` (the seed's TF Serving contract)::

    inputs   userExamples         tf.string [1]  serialized tf.Example: "last_n" (bytes list, item ids,
                                                 most recent first), "profile" (bytes list, "field=value")
             userContextExamples  tf.string [1]  serialized tf.Example; accepted for the seed's contract,
                                                 unused by this model (may be empty bytes)
             itemExamples         tf.string [N]  serialized tf.Example each: "item_id" (bytes)
    output   scores               tf.float32 [N], same order; equal to ``rank`` on the same user and items

Ids map to rows through ``ids/items.txt`` (a SavedModel asset); unknown ids and
tokens behave as -1 above. ``models/rank/light/{lr,fm}.npz`` hold the light
rankers' weights (see ``rank.light`` for the scoring formulas) and
``models/rank/meta.json`` what a client needs to build the ``rank`` inputs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dubbo_recsys.offline.rank_model import OFFSET, PAD, UNKNOWN, DinRanker, FMRanker, LinearRanker
from dubbo_recsys.offline.saved_weights import restore_layers

__all__ = ["export_din", "load_ranker_weights", "save_light"]


def export_din(model: DinRanker, out_dir: Path, items_file: Path, profile_vocab: list[str], history_len: int) -> Path:
    import tensorflow as tf

    class Ranker(tf.Module):
        def __init__(self) -> None:
            super().__init__()
            self.din = model
            self.layers = model.layers
            self.item_rows = tf.lookup.StaticHashTable(
                tf.lookup.TextFileInitializer(
                    str(items_file),
                    key_dtype=tf.string,
                    key_index=tf.lookup.TextFileIndex.WHOLE_LINE,
                    value_dtype=tf.int64,
                    value_index=tf.lookup.TextFileIndex.LINE_NUMBER,
                ),
                default_value=-1,
            )
            keys = tf.constant(profile_vocab or ["\x00"])
            self.profile_rows = tf.lookup.StaticHashTable(
                tf.lookup.KeyValueTensorInitializer(keys, tf.range(tf.size(keys, out_type=tf.int64))), default_value=-1
            )

        def _score(self, history, profile, items):
            """Rows (-1 = padding / unknown) -> model indexes -> scores [N]."""
            history = history[:history_len]
            history = tf.where(history < 0, PAD, history + OFFSET)
            profile = tf.where(profile < 0, PAD, profile + OFFSET)
            items = tf.where(items < 0, UNKNOWN, items + OFFSET)
            return self.din.score(history[None, :], profile[None, :], items[None, :])[0]

        @tf.function(
            input_signature=[
                tf.TensorSpec([None], tf.int32, name="history"),
                tf.TensorSpec([None], tf.int32, name="profile"),
                tf.TensorSpec([None], tf.int32, name="items"),
            ]
        )
        def rank(self, history, profile, items):
            return {"scores": self._score(history, profile, items)}

        @tf.function(
            input_signature=[
                tf.TensorSpec([None], tf.string, name="userExamples"),
                tf.TensorSpec([None], tf.string, name="userContextExamples"),
                tf.TensorSpec([None], tf.string, name="itemExamples"),
            ]
        )
        def serve(self, userExamples, userContextExamples, itemExamples):
            del userContextExamples  # part of the contract, not of this model
            user = tf.io.parse_single_example(
                userExamples[0], {"last_n": tf.io.VarLenFeature(tf.string), "profile": tf.io.VarLenFeature(tf.string)}
            )
            items = tf.io.parse_example(itemExamples, {"item_id": tf.io.FixedLenFeature([], tf.string, "")})
            history = self.item_rows.lookup(tf.sparse.to_dense(user["last_n"], ""))
            history = tf.boolean_mask(history, history >= 0)  # unknown history items are dropped, as in ``rank``
            profile = self.profile_rows.lookup(tf.sparse.to_dense(user["profile"], ""))
            rows = self.item_rows.lookup(items["item_id"])
            return {
                "scores": self._score(tf.cast(history, tf.int32), tf.cast(profile, tf.int32), tf.cast(rows, tf.int32))
            }

    module = Ranker()
    tf.saved_model.save(module, str(out_dir), signatures={"serving_default": module.serve, "rank": module.rank})
    return out_dir


def save_light(lr: LinearRanker, fm: FMRanker, out_dir: Path) -> tuple[Path, Path]:
    """Plain arrays (index space of ``offline.rank_model``: row r is at OFFSET + r)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    categories = lr.categories.numpy().astype(np.int32)
    lr_path, fm_path = out_dir / "lr.npz", out_dir / "fm.npz"
    np.savez(
        lr_path,
        item_bias=lr.item_bias.numpy(),
        category=lr.category.numpy(),
        profile_category=lr.profile_category.numpy(),
        history_category=lr.history_category.numpy(),
        item_categories=categories,
    )
    np.savez(
        fm_path,
        v_profile=fm.v_profile.numpy(),
        v_history=fm.v_history.numpy(),
        v_item=fm.v_item.numpy(),
        v_category=fm.v_category.numpy(),
        w_item=fm.w_item.numpy(),
        w_category=fm.w_category.numpy(),
        item_categories=categories,
    )
    return lr_path, fm_path


def load_ranker_weights(din: DinRanker, lr: LinearRanker, fm: FMRanker, rank_dir: Path) -> None:
    """Set the models' weights to those written in ``rank_dir`` (``models/rank``): a warm start.

    DIN's come from its SavedModel's checkpoint (``din/variables``, where ``export_din`` tracks
    ``model.layers`` as ``layers/<i>/``), not by loading its graph; LR's and FM's from ``light/``.
    Every model must have been built (its variables exist). A shape that differs from the model's
    (another item, category or vocabulary count) raises ``ValueError``.
    """
    restore_layers(rank_dir / "din", din.layers, "din")  # att_query is a Dense without a bias
    with np.load(rank_dir / "light" / "lr.npz") as saved_lr, np.load(rank_dir / "light" / "fm.npz") as saved_fm:
        for saved, model in ((saved_lr, lr), (saved_fm, fm)):
            for name in saved.files:  # save_light's keys are the models' attribute names
                if name == "item_categories":
                    continue  # a constant of the model, rebuilt from the catalog
                value, variable = saved[name], getattr(model, name)
                if value.shape != tuple(variable.shape):
                    raise ValueError(f"{variable.name}: saved {value.shape}, model {tuple(variable.shape)}")
                variable.assign(value)
