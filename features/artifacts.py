"""Streams the feature files of an artifact directory (``offline/ARTIFACTS.md``, format 1).

``features/users.jsonl`` and ``features/items.jsonl`` hold one JSON object per
line. They are read line by line, never whole, so a catalog of millions of
items costs one line of memory here; what the caller keeps is its own choice.

A bad line is a ``FeatureStoreError`` naming the file and line number: a broken
build must be loud at load time, not a silent hole in recommendations later.
This module does not pack values or talk to any backend.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from dubbo_recsys.features.base import FeatureStoreError, ItemFeatures, UserFeatures
from dubbo_recsys.features.codec import FeatureCodecError, item_from_record, user_from_record

SUPPORTED_FORMAT = 1
USERS_FILE = "features/users.jsonl"
ITEMS_FILE = "features/items.jsonl"
MANIFEST_FILE = "manifest.json"

T = TypeVar("T")


class ArtifactError(FeatureStoreError):
    """The artifact directory is missing a file, has another format, or holds a bad record."""


@dataclass(frozen=True, slots=True)
class ArtifactFeatures:
    """The feature files of one artifact directory, checked to exist when opened."""

    root: Path
    manifest: dict[str, Any]

    @classmethod
    def open(cls, root: str | Path) -> ArtifactFeatures:
        path = Path(root)
        if not path.is_dir():
            raise ArtifactError(f"artifact directory {path} does not exist")
        manifest: dict[str, Any] = {}
        manifest_path = path / MANIFEST_FILE
        if manifest_path.exists():
            try:
                loaded = json.loads(manifest_path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise ArtifactError(f"{manifest_path}: unreadable manifest: {exc}") from exc
            if not isinstance(loaded, dict):
                raise ArtifactError(f"{manifest_path}: the manifest must be a JSON object")
            if loaded.get("format") != SUPPORTED_FORMAT:
                raise ArtifactError(
                    f"{manifest_path}: artifact format {loaded.get('format')!r} is not supported "
                    f"(this reader knows format {SUPPORTED_FORMAT})"
                )
            manifest = loaded
        for name in (USERS_FILE, ITEMS_FILE):
            if not (path / name).is_file():
                raise ArtifactError(f"artifact directory {path} has no {name}")
        return cls(path, manifest)

    def users(self) -> Iterator[UserFeatures]:
        return _stream(self.root / USERS_FILE, user_from_record)

    def items(self) -> Iterator[ItemFeatures]:
        return _stream(self.root / ITEMS_FILE, item_from_record)


def _stream(path: Path, parse: Callable[[Any], T]) -> Iterator[T]:
    try:
        with path.open("r", encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                try:
                    yield parse(json.loads(line))
                except (json.JSONDecodeError, FeatureCodecError) as exc:
                    raise ArtifactError(f"{path}:{number}: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise ArtifactError(f"{path}: not UTF-8: {exc}") from exc
    except OSError as exc:
        raise ArtifactError(f"{path}: {exc}") from exc
