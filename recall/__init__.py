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
    "Recall": "dubbo_recsys.recall.facade",
    "RecallResult": "dubbo_recsys.recall.facade",
    "RecalledItem": "dubbo_recsys.recall.facade",
    "RecallConfig": "dubbo_recsys.recall.config",
    "ChannelPolicy": "dubbo_recsys.recall.merger",
    "Merger": "dubbo_recsys.recall.merger",
    "ChannelKind": "dubbo_recsys.recall.base",
    "Channel": "dubbo_recsys.recall.base",
    "Candidates": "dubbo_recsys.recall.base",
    "RecallQuery": "dubbo_recsys.recall.base",
    "RecallError": "dubbo_recsys.recall.base",
    "ArtifactError": "dubbo_recsys.recall.base",
    "RecallConfigError": "dubbo_recsys.recall.base",
    "RecallInputError": "dubbo_recsys.recall.base",
}

__all__ = sorted(_EXPORTS)  # noqa: PLE0605 - the lazy facade exports its table's keys; a literal would say them twice


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
