"""The exported two-tower towers: the user tower for users without a stored vector, the item tower
for items that arrive after the build.

``embeddings/users.npy`` covers every user the build saw, and costs one row
read. The SavedModel in ``models/two_tower/user_tower`` (signature documented
in ``offline/two_tower_export.py``) covers the rest: a user created after the
build who already has a profile or a few clicks. Its ``serving_default`` takes

    user_id  string [B]     unknown ids fall back on the unknown-user vector
    profile  string [B, P]  "field=value" tokens for meta.json "profile_fields", "" = padding
    history  string [B, L]  item ids, most recent first, "" = padding

and returns ``user_embedding`` float32 [B, dim], L2-normalised.

``models/two_tower/item_tower`` (``ItemTower``) is its twin for items: ``item_id``
string [B] (an id the build never saw falls back on its categories) and
``categories`` string [B, C] ("" = padding), returning ``item_embedding`` float32
[B, dim], L2-normalised: the two-tower vector of a new item, in the space of the
Faiss index (``recall.live`` adds it there).

A TensorFlow call costs milliseconds and releases the GIL, so unlike a Faiss
search it always runs in a worker thread. TensorFlow is imported only when a
tower is loaded; a directory without one never pays for it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from dubbo_recsys.recall.base import ArtifactError

TOWER_DIR = "models/two_tower/user_tower"
ITEM_TOWER_DIR = "models/two_tower/item_tower"
META_FILE = "models/two_tower/meta.json"


class UserTower:
    """Calls the user tower's ``serving_default`` for one user at a time."""

    def __init__(self, serve: Any, profile_fields: Sequence[str], history_len: int) -> None:
        self._serve = serve
        self.profile_fields = tuple(profile_fields)
        self.history_len = history_len

    @classmethod
    def load(cls, artifact_root: str | Path) -> UserTower | None:
        """The tower of an artifact directory, or ``None`` when the build exported none."""
        root = Path(artifact_root)
        if not (root / TOWER_DIR).is_dir():
            return None
        try:
            meta = json.loads((root / META_FILE).read_text(encoding="utf-8"))
            fields, history_len = list(meta["profile_fields"]), int(meta["history_len"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ArtifactError(f"{META_FILE}: needs profile_fields and history_len: {exc}") from exc
        import tensorflow as tf  # heavy: only when a tower exists

        try:
            serve = tf.saved_model.load(str(root / TOWER_DIR)).signatures["serving_default"]
        except (OSError, KeyError, ValueError) as exc:
            raise ArtifactError(f"{TOWER_DIR}: cannot load serving_default: {exc}") from exc
        tower = cls(serve, fields, history_len)
        tower.encode("", {}, [])  # the first call builds the graph; pay it at load, not in a request
        return tower

    def tokens(self, profile: Mapping[str, str]) -> list[str]:
        return [f"{field}={profile[field]}" for field in self.profile_fields if profile.get(field)]

    def encode(self, user_id: str, profile: Mapping[str, str], history: Sequence[str]) -> np.ndarray:
        import tensorflow as tf

        tokens = self.tokens(profile) or [""]
        recent = list(history[: self.history_len]) or [""]
        out = self._serve(
            user_id=tf.constant([user_id]),
            profile=tf.constant([tokens]),
            history=tf.constant([recent]),
        )
        return np.asarray(out["user_embedding"].numpy()[0], dtype=np.float32)

    async def vector(self, user_id: str, profile: Mapping[str, str], history: Sequence[str]) -> np.ndarray:
        return await asyncio.to_thread(self.encode, user_id, profile, history)


class ItemTower:
    """Calls the item tower's ``serving_default`` for a batch of items (new ones: by their categories)."""

    def __init__(self, serve: Any) -> None:
        self._serve = serve

    @classmethod
    def load(cls, artifact_root: str | Path) -> ItemTower | None:
        """The item tower of an artifact directory, or ``None`` when the build exported none."""
        path = Path(artifact_root) / ITEM_TOWER_DIR
        if not path.is_dir():
            return None
        import tensorflow as tf  # heavy: only when a tower exists

        try:
            serve = tf.saved_model.load(str(path)).signatures["serving_default"]
        except (OSError, KeyError, ValueError) as exc:
            raise ArtifactError(f"{ITEM_TOWER_DIR}: cannot load serving_default: {exc}") from exc
        tower = cls(serve)
        tower.encode([("", ())])  # the first call builds the graph; pay it at load, not when an item arrives
        return tower

    def encode(self, items: Sequence[tuple[str, Sequence[str]]]) -> np.ndarray:
        """(item id, categories) pairs -> [len(items), dim] float32 rows."""
        import tensorflow as tf

        width = max(1, max((len(categories) for _, categories in items), default=1))
        padded = [list(categories) + [""] * (width - len(categories)) for _, categories in items]
        out = self._serve(
            item_id=tf.constant([item_id for item_id, _ in items]), categories=tf.constant(padded, dtype=tf.string)
        )
        return np.asarray(out["item_embedding"].numpy(), dtype=np.float32)
