"""A small strict reader for JSON-shaped config: aliases, types, bounds, and errors that say where.

``SceneConfig`` parsing is written against this instead of a schema library so every error carries
the path of the bad value (``$.config.model_conf["model-001"].tfservingGrpcAddr.pool_size``) and the
seed system's spellings can be accepted as aliases of ours. Keys starting with ``_`` are comments;
any other key nobody asked for is an error (a misspelt key must not silently become a default).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from dubbo_recsys.registry.errors import SceneConfigError

T = TypeVar("T")
_MISSING: Any = object()
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_ADDRESS = re.compile(r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.\-]*[A-Za-z0-9])?):[0-9]{1,5}\Z")


def child_path(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if _IDENT.match(key) else f'{path}["{key}"]'


class Reader:
    """Reads one JSON object; call ``finish()`` after the last ``take`` to reject unknown keys."""

    def __init__(self, data: object, path: str, ignored: Iterable[str] = ()) -> None:
        if not isinstance(data, Mapping):
            raise SceneConfigError(f"expected an object, got {_kind(data)}", path)
        self.data = data
        self.path = path
        self._used: set[str] = set(ignored)

    def has(self, *names: str) -> bool:
        return any(name in self.data for name in names)

    def take(self, names: tuple[str, ...] | str, kind: Callable[[object, str], T], default: Any = _MISSING) -> T:
        """The value under the first of ``names`` present (others are aliases), checked by ``kind``."""
        names = (names,) if isinstance(names, str) else names
        present = [name for name in names if name in self.data]
        self._used.update(names)
        if len(present) > 1:
            raise SceneConfigError(f"{' and '.join(map(repr, present))} are aliases; give one", self.path)
        if not present:
            if default is _MISSING:
                raise SceneConfigError(f"missing {names[0]!r}", self.path)
            return default  # type: ignore[no-any-return]  # the caller's default, of the type it asked for
        return kind(self.data[present[0]], child_path(self.path, present[0]))

    def finish(self) -> None:
        unknown = [k for k in self.data if k not in self._used and not str(k).startswith("_")]
        if unknown:
            raise SceneConfigError(f"unknown key {unknown[0]!r}", self.path)


def _kind(value: object) -> str:
    return {
        dict: "an object",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        type(None): "null",
        int: "an integer",
        float: "a number",
    }.get(type(value), type(value).__name__)


def string(value: object, path: str) -> str:
    if not isinstance(value, str):
        raise SceneConfigError(f"expected a string, got {_kind(value)}", path)
    return value


def name(value: object, path: str) -> str:
    text = string(value, path)
    if not text.strip() or len(text) > 256:
        raise SceneConfigError("expected a non-empty name (at most 256 characters)", path)
    return text


def integer(low: int, high: int) -> Callable[[object, str], int]:
    def check(value: object, path: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise SceneConfigError(f"expected an integer, got {_kind(value)}", path)
        if not low <= value <= high:
            raise SceneConfigError(f"{value} is out of range [{low}, {high}]", path)
        return value

    return check


def list_of(item: Callable[[object, str], T]) -> Callable[[object, str], tuple[T, ...]]:
    def check(value: object, path: str) -> tuple[T, ...]:
        if not isinstance(value, list):
            raise SceneConfigError(f"expected a list, got {_kind(value)}", path)
        return tuple(item(element, child_path(path, i)) for i, element in enumerate(value))

    return check


def address(value: object, path: str) -> str:
    text = string(value, path).strip()
    if not _ADDRESS.match(text) or not 0 < int(text.rsplit(":", 1)[1]) < 65536:
        raise SceneConfigError(f"{text!r} is not a host:port address", path)
    return text


def identity(value: object, path: str) -> object:
    return value
