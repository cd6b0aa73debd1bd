"""Where a worker reads the pin: the Nacos config every provider of the fleet watches, or ``ROOT/pin.json``.

``current()`` answers without I/O from what was last heard; ``refresh()`` does the I/O a source
needs now and then (reading the local file when it changed; asking Nacos again after it was
unreachable), and ``on_change`` is called when a new pin arrives, so the controller wakes at
once instead of at its next poll. A pin document that does not parse is refused (logged, counted by
the config center) and the last good pin stays. Writing a pin (``write_pin``) is what
``dubbo-recsys publish`` and ``rollback`` do.

The Nacos source is the registry package's config center (``registry.config_center``) with the pin
parser, watching its one fixed dataId even before anyone published it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from dubbo_recsys.provider.rollout.errors import PinError
from dubbo_recsys.provider.rollout.pin import Pin, parse_pin

__all__ = [
    "LocalPins",
    "NacosPins",
    "PinSource",
    "change_pin",
    "nacos_settings",
    "open_pins",
    "read_pin",
    "write_pin",
]

log = logging.getLogger(__name__)

_RETRY_SECONDS = 5.0


class PinSource(Protocol):
    on_change: Callable[[], None] | None

    def current(self) -> Pin | None: ...

    async def refresh(self) -> None: ...

    async def close(self) -> None: ...


class LocalPins:
    """``ROOT/pin.json``, read again when its modification time changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.on_change: Callable[[], None] | None = None
        self._stamp: float | None = None
        self._pin: Pin | None = None

    def current(self) -> Pin | None:
        return self._pin

    async def refresh(self) -> None:
        try:
            stamp = self.path.stat().st_mtime_ns
        except FileNotFoundError:
            stamp = None
        if stamp == self._stamp:
            return
        self._stamp = stamp
        if stamp is None:
            self._pin = None  # the local pin was removed: follow the newest version again
            return
        try:
            self._pin = parse_pin(await asyncio.to_thread(self.path.read_text, encoding="utf-8"))
        except (OSError, PinError) as exc:
            log.warning("pin %s refused, keeping %s: %s", self.path, self._pin.version if self._pin else "none", exc)

    async def close(self) -> None:
        return None


class NacosPins:
    """The pin as a Nacos config (dataId, group), pushed to every watching provider."""

    def __init__(self, center: Any, data_id: str, group: str) -> None:
        self.center = center
        self.data_id, self.group = data_id, group
        self.on_change: Callable[[], None] | None = None
        self._asked_at = -_RETRY_SECONDS
        center.listeners.append(self._changed)

    def _changed(self, _key: Any, _pin: Any) -> None:
        if self.on_change is not None:
            self.on_change()

    def current(self) -> Pin | None:
        found = self.center.current(self.data_id, self.group)
        return found if isinstance(found, Pin) else None

    async def refresh(self) -> None:
        """Ask Nacos while nothing was heard yet (not published, or Nacos was unreachable), every few seconds."""
        if self.current() is not None or time.monotonic() - self._asked_at < _RETRY_SECONDS:
            return
        self._asked_at = time.monotonic()
        try:
            await self.center.get(self.data_id, self.group)
        except Exception as exc:  # not published yet (watched now), or Nacos away: serve the newest meanwhile
            log.debug("no pin %s/%s in Nacos yet: %s", self.group, self.data_id, exc)

    async def close(self) -> None:
        await self.center.close()


def _parse(text: str, _data_id: str, _group: str) -> Pin:
    return parse_pin(text)


def nacos_settings(source: str) -> Any:
    """The ``NacosSettings`` of a ``nacos://`` pin source."""
    from dubbo_recsys.registry.url import parse_registry_url

    settings = parse_registry_url(source)
    if settings is None:
        raise PinError(f"{source!r} names no Nacos server")
    return settings


async def open_pins(source: str, root: Path, data_id: str, group: str) -> PinSource:
    """The pin source a ``RolloutConfig`` names (``none``: ``ROOT/pin.json``), read once."""
    pins: PinSource
    if source.strip().lower() in ("", "none"):
        from dubbo_recsys.interfaces.artifacts import LOCAL_PIN

        pins = LocalPins(Path(root) / LOCAL_PIN)
    else:
        from dubbo_recsys.registry.config_center import NacosConfigCenter

        center: Any = await NacosConfigCenter.connect(
            nacos_settings(source), parse=_parse, watch_missing=True, max_scenes=4
        )
        pins = NacosPins(center, data_id, group)
    await pins.refresh()
    return pins


async def read_pin(source: str, root: Path | None, data_id: str, group: str) -> Pin | None:
    """The pin as it stands (for ``publish`` and ``rollback``), read directly, not watched."""
    if source.strip().lower() in ("", "none"):
        from dubbo_recsys.interfaces.artifacts import LOCAL_PIN

        if root is None:
            raise PinError("the local pin needs --artifact-root")
        path = Path(root) / LOCAL_PIN
        return parse_pin(path.read_text(encoding="utf-8")) if path.is_file() else None
    from dubbo_recsys.registry.config_center import NacosConfigCenter
    from dubbo_recsys.registry.errors import SceneConfigError

    center: Any = await NacosConfigCenter.connect(nacos_settings(source), parse=_parse, max_scenes=1)
    try:
        pin: Pin = await center.get(data_id, group)
        return pin
    except SceneConfigError as exc:
        if "no scene config" in exc.reason:
            return None  # never published
        raise PinError(f"the pin in Nacos does not parse: {exc.reason}") from None
    finally:
        await center.close()


async def write_pin(source: str, root: Path | None, data_id: str, group: str, pin: Pin) -> None:
    """Publish ``pin`` where providers read it (Nacos config, or ``ROOT/pin.json`` atomically)."""
    if source.strip().lower() in ("", "none"):
        from dubbo_recsys.interfaces.artifacts import LOCAL_PIN

        if root is None:
            raise PinError("the local pin needs --artifact-root")
        path = Path(root) / LOCAL_PIN
        temporary = path.with_name(f".{LOCAL_PIN}.{os.getpid()}")
        temporary.write_text(pin.to_json() + "\n", encoding="utf-8")
        os.replace(temporary, path)
        return
    from dubbo_recsys.registry.config_center import publish_config

    await publish_config(nacos_settings(source), data_id, group, pin.to_json())


async def change_pin(
    source: str, root: Path | None, data_id: str, group: str, change: Callable[[Pin | None], Pin]
) -> tuple[Pin | None, Pin]:
    """Read the pin, write ``change(pin)`` (what ``publish`` and ``rollback`` do), in one event loop: the
    Nacos SDK's gRPC channel is bound to the loop it was opened on. Returns (before, after)."""
    current = await read_pin(source, root, data_id, group)
    pin = change(current)
    await write_pin(source, root, data_id, group, pin)
    return current, pin
