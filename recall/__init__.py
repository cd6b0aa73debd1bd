"""Multi-channel recall: channels, the merger, the ``Recall`` facade and its quality evaluation.

The public API is ``Recall`` (load from an artifact directory, ``retrieve``),
its results (``RecallResult``, ``RecalledItem``), ``RecallConfig`` /
``ChannelPolicy`` to shape it, ``ChannelKind`` for provenance, and the error
tree rooted at ``RecallError``. Names resolve lazily, so ``import recall`` (and
the CLI's ``eval`` entry) stays cheap on a machine without numpy.
"""
from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Recall": "recall.facade",
    "RecallResult": "recall.facade",
    "RecalledItem": "recall.facade",
    "RecallConfig": "recall.config",
    "ChannelPolicy": "recall.merger",
    "Merger": "recall.merger",
    "ChannelKind": "recall.base",
    "Channel": "recall.base",
    "Candidates": "recall.base",
    "RecallQuery": "recall.base",
    "RecallError": "recall.base",
    "ArtifactError": "recall.base",
    "RecallConfigError": "recall.base",
    "RecallInputError": "recall.base",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'recall' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
