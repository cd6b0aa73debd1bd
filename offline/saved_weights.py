"""Warm starts: set Keras layers' weights from the checkpoint of a SavedModel we exported.

``export_towers`` and ``export_din`` track a model's layers as ``layers/<i>/`` of the SavedModel,
so its ``variables`` checkpoint holds each layer's arrays under a name this module can rebuild,
without loading the exported graph. ``offline.refresh`` fine-tunes a serving version's towers and
rankers from there.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["restore_layers"]


def restore_layers(saved_model: Path, layers: Sequence[Any], what: str) -> None:
    """Set each of ``layers`` (built, in the order the export tracked them) to the arrays saved in
    ``saved_model``'s checkpoint: an ``Embedding``'s table, a ``Dense``'s kernel and bias (if it has
    one). A shape that differs from the layer's (another id or vocabulary count) raises ``ValueError``
    naming ``what`` and the layer."""
    import keras
    import tensorflow as tf

    reader = tf.train.load_checkpoint(str(saved_model / "variables" / "variables"))
    for i, layer in enumerate(layers):
        weights = layer.get_weights()
        names = ("_embeddings",) if isinstance(layer, keras.layers.Embedding) else ("_kernel", "bias")[: len(weights)]
        values = [reader.get_tensor(f"layers/{i}/{name}/.ATTRIBUTES/VARIABLE_VALUE") for name in names]
        shapes = [w.shape for w in weights]
        if [v.shape for v in values] != shapes:
            raise ValueError(f"{what} layer {layer.name}: saved {[v.shape for v in values]}, model {shapes}")
        layer.set_weights(values)
