"""The per-scene config center: ``SceneConfig`` by (dataId, group), from Nacos or from local files.

Contract for readers (the pipeline, per request)::

    scene = await center.get(request.dataId, request.groupId or "DEFAULT_GROUP")
    ... use scene for the whole request ...

``get`` returns an immutable ``SceneConfig``. A change in Nacos is validated and, if valid, *replaces*
the object the center hands out (one reference swap); requests already holding the old object finish
with it. An invalid update is rejected, logged and counted (``center.stats.rejected``), and the last
good config stays in force. Scenes are loaded on first use and then watched; their number is capped
(``max_scenes``) and misses are remembered for ``miss_ttl`` seconds, because the dataId comes from the
request and must not let a caller make us open unbounded Nacos watches.

Two centers:

- ``LocalConfigCenter(directory)``: the embedded default; ``<dir>/<group>/<dataId>.json`` or
  ``<dir>/<dataId>.json`` (no extension also accepted); read once per scene.
- ``NacosConfigCenter``: reads dataId/group in one namespace through nacos-sdk-python and listens for
  changes. When Nacos is unreachable it serves the local file of that scene instead (counted in
  ``stats.fallbacks``); the listener stays registered and the SDK keeps reconnecting, so once Nacos
  answers its content replaces the fallback. An auth refusal (wrong or missing credentials, no read
  permission) is treated the same way and logged as an ERROR saying which (once until it changes).

It does not interpret scenes (that is the pipeline's job). The same machinery serves other small
documents every provider watches (the artifact pin of ``provider.rollout``): give the center a
``parse`` function (text, dataId, group -> document; a ``ValueError`` means invalid, and the last good
one stays), ``watch_missing=True`` to hear about a dataId that does not exist yet (only for fixed
dataIds: a scene name comes from the request and must not open a watch per caller), and
``listeners`` to be told of each change. ``publish_config`` writes one such document.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from dubbo_recsys.registry._sdk import (
    LoggerHandlers,
    auth_problem,
    nacos_sdk,
    settings_client_config,
    start_with_backoff,
    wake_config_client,
)
from dubbo_recsys.registry.errors import RegistryUnavailableError, SceneConfigError
from dubbo_recsys.registry.scene_config import SceneConfig, parse_scene_config
from dubbo_recsys.registry.url import NacosSettings

__all__ = [
    "ConfigCenter",
    "ConfigCenterStats",
    "LocalConfigCenter",
    "NacosConfigCenter",
    "open_config_center",
    "publish_config",
]

log = logging.getLogger(__name__)

_KEY_PART = re.compile(r"[A-Za-z0-9_\-:][A-Za-z0-9_.\-:]{0,255}\Z")
SceneKey = tuple[str, str]
if TYPE_CHECKING:  # a default (PEP 696) so that a plain center is a center of scenes; 3.11's TypeVar has none
    from typing_extensions import TypeVar as DefaultingTypeVar

    DocumentT = DefaultingTypeVar("DocumentT", default=SceneConfig)
else:
    DocumentT = TypeVar("DocumentT")
Parse = Callable[[str, str, str], DocumentT]  # (text, dataId, group) -> document; ValueError = invalid


@dataclass
class ConfigCenterStats:
    """Counters an operator can export: how scene configs came and went."""

    loaded: int = 0  # scenes loaded for the first time
    applied: int = 0  # valid updates swapped in
    rejected: int = 0  # invalid documents refused (initial or update); the last good one stays
    fallbacks: int = 0  # scenes served from a local file because Nacos could not answer
    misses: int = 0  # lookups of scenes that exist nowhere


def _check_key(data_id: object, group: object) -> SceneKey:
    for label, value in (("dataId", data_id), ("group", group)):
        if not isinstance(value, str) or not _KEY_PART.match(value):
            raise SceneConfigError(
                f"{label} {value!r} must be 1-256 letters, digits, '_', '-', '.', ':' (not starting with '.')"
            )
    return data_id, group  # type: ignore[return-value]  # both checked to be str just above


def _parse_scene(text: str, data_id: str, group: str) -> SceneConfig:
    scene = parse_scene_config(text, data_id=data_id, group=group)
    if (scene.data_id, scene.group) != (data_id, group):
        raise SceneConfigError(f"document is for dataId {scene.data_id!r} group {scene.group!r}")
    return scene


class ConfigCenter(Generic[DocumentT]):
    """What both centers share: the scene cache, the caps, single-flight loading and the counters."""

    def __init__(
        self,
        *,
        max_scenes: int = 64,
        miss_ttl: float = 5.0,
        parse: Parse[DocumentT] | None = None,
        watch_missing: bool = False,
    ) -> None:
        self.stats = ConfigCenterStats()
        self.max_scenes = max_scenes
        self.miss_ttl = miss_ttl
        self.watch_missing = watch_missing
        self.listeners: list[Callable[[SceneKey, DocumentT], None]] = []  # told of each applied document
        self._parse: Parse[DocumentT] = parse if parse is not None else cast(Parse[DocumentT], _parse_scene)
        self._scenes: dict[SceneKey, DocumentT] = {}
        self._raw: dict[SceneKey, str] = {}
        self._misses: dict[SceneKey, float] = {}
        self._loading: dict[SceneKey, asyncio.Future[DocumentT]] = {}

    def current(self, data_id: str, group: str = "DEFAULT_GROUP") -> DocumentT | None:
        """The scene already loaded, without I/O (None if it was never asked for)."""
        return self._scenes.get((data_id, group))

    async def get(self, data_id: str, group: str = "DEFAULT_GROUP") -> DocumentT:
        """The scene's config; loads and starts watching it on first use."""
        key = _check_key(data_id, group or "DEFAULT_GROUP")
        scene = self._scenes.get(key)
        if scene is not None:
            return scene
        missed_at = self._misses.get(key)
        if missed_at is not None and time.monotonic() - missed_at < self.miss_ttl:
            raise SceneConfigError(f"no scene config {key[0]!r} in group {key[1]!r}")
        pending = self._loading.get(key)
        if pending is None:
            if len(self._scenes) + len(self._loading) >= self.max_scenes:
                raise SceneConfigError(f"too many scenes (max_scenes={self.max_scenes}); {key[0]!r} not loaded")
            pending = asyncio.get_running_loop().create_task(self._load_once(key))
            self._loading[key] = pending
        return await asyncio.shield(pending)

    async def _load_once(self, key: SceneKey) -> DocumentT:
        try:
            scene = await self._load(key)
        except SceneConfigError:
            self._misses[key] = time.monotonic()
            raise
        finally:
            self._loading.pop(key, None)
        self._misses.pop(key, None)
        self.stats.loaded += 1
        return scene

    async def _load(self, key: SceneKey) -> DocumentT:
        raise NotImplementedError

    def _apply(self, key: SceneKey, text: str, source: str) -> DocumentT:
        """Validate ``text`` and swap it in; if invalid, count, log and raise, keeping the last good one."""
        if self._raw.get(key) == text and key in self._scenes:
            return self._scenes[key]
        try:
            scene = self._parse(text, key[0], key[1])
        except ValueError as exc:  # SceneConfigError, or a custom parser's own ValueError
            self.stats.rejected += 1
            kept = "keeping the last good one" if key in self._scenes else "no good one yet"
            log.warning("scene %s/%s from %s rejected (%s): %s", key[1], key[0], source, kept, exc)
            reason, path = (exc.reason, exc.path) if isinstance(exc, SceneConfigError) else (str(exc), "$")
            raise SceneConfigError(f"scene {key[1]}/{key[0]} from {source}: {reason}", path) from None
        replacing = key in self._scenes
        self._scenes[key] = scene
        self._raw[key] = text
        if replacing:
            self.stats.applied += 1
            log.info("scene %s/%s updated from %s", key[1], key[0], source)
        for listener in list(self.listeners):
            try:
                listener(key, scene)
            except Exception:
                log.exception("listener of %s/%s failed", key[1], key[0])
        return scene

    async def close(self) -> None:
        for pending in list(self._loading.values()):
            pending.cancel()

    async def __aenter__(self) -> ConfigCenter[DocumentT]:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


class LocalConfigCenter(ConfigCenter[DocumentT]):
    """Scenes from JSON files in one directory; the embedded default, and Nacos's fallback."""

    def __init__(self, directory: Path | str, **caps: Any) -> None:
        super().__init__(**caps)
        self.directory = Path(directory)

    def read(self, key: SceneKey) -> tuple[str, Path] | None:
        data_id, group = key
        for candidate in (
            self.directory / group / f"{data_id}.json",
            self.directory / group / data_id,
            self.directory / f"{data_id}.json",
            self.directory / data_id,
        ):
            if candidate.is_file():
                try:
                    return candidate.read_text(encoding="utf-8"), candidate
                except (OSError, UnicodeDecodeError) as exc:
                    raise SceneConfigError(f"cannot read {candidate}: {exc}") from None
        return None

    async def _load(self, key: SceneKey) -> DocumentT:
        found = await asyncio.to_thread(self.read, key)
        if found is None:
            self.stats.misses += 1
            raise SceneConfigError(f"no scene config {key[0]!r} in group {key[1]!r} under {self.directory}")
        text, path = found
        return self._apply(key, text, str(path))


class NacosConfigCenter(ConfigCenter[DocumentT]):
    """Scenes from Nacos (one namespace), watched for changes, with local files as the fallback.

    Build it with ``await NacosConfigCenter.connect(settings, fallback=LocalConfigCenter(dir))``; it
    returns even when Nacos is down (the SDK keeps reconnecting; scenes come from the fallback meanwhile).
    """

    def __init__(
        self, settings: NacosSettings, fallback: LocalConfigCenter[DocumentT] | None = None, **caps: Any
    ) -> None:
        super().__init__(**caps)
        self.settings = settings
        self.fallback = fallback
        self._client: Any = None
        self._handlers: LoggerHandlers | None = None
        self._client_ready = asyncio.Event()
        self._watched: set[SceneKey] = set()
        self._refused: str | None = None  # the last auth refusal logged (as an ERROR, once)
        self._starter = asyncio.create_task(self._start_client(), name="nacos-config-client")

    @classmethod
    async def connect(
        cls, settings: NacosSettings, fallback: LocalConfigCenter[DocumentT] | None = None, **caps: Any
    ) -> NacosConfigCenter[DocumentT]:
        nacos_sdk()
        center = cls(settings, fallback, **caps)
        try:
            await asyncio.wait_for(center._client_ready.wait(), timeout=settings.request_timeout)
        except TimeoutError:
            log.warning(
                "nacos config at %s not connected after %.1f s; scenes come from local files meanwhile",
                settings.server_addresses,
                settings.request_timeout,
            )
        return center

    async def _start_client(self) -> None:
        sdk = nacos_sdk()
        self._client, self._handlers = await start_with_backoff(
            "config client", "config", self.settings, sdk.NacosConfigService.create_config_service
        )
        self._client_ready.set()
        for key in list(self._scenes):  # scenes served from fallback files before the client existed
            await self._watch(key)

    async def _load(self, key: SceneKey) -> DocumentT:
        text: str | None = None
        problem = "the config client is not connected"
        try:
            await asyncio.wait_for(self._client_ready.wait(), timeout=self.settings.request_timeout)
            sdk = nacos_sdk()
            text = await asyncio.wait_for(
                self._client.get_config(sdk.ConfigParam(data_id=key[0], group=key[1])),
                timeout=self.settings.request_timeout,
            )
            problem = ""
            self._refused = None
        except TimeoutError:
            problem = "Nacos did not answer in time"
        except Exception as exc:  # the SDK raises its NacosException for an unreachable server
            refused = auth_problem(exc, self.settings.username, self.settings.namespace)
            problem = refused or f"{type(exc).__name__}: {exc}"
            if refused is not None and refused != self._refused:
                log.error(
                    "nacos config at %s refused reading scene %s/%s: %s",
                    self.settings.server_addresses,
                    key[1],
                    key[0],
                    refused,
                )
            self._refused = refused
        if problem:
            scene = await self._from_fallback(key, problem)
            if self._client_ready.is_set():
                await self._watch(key)
            return scene
        if not text:
            if self.fallback is not None and await asyncio.to_thread(self.fallback.read, key) is not None:
                return await self._from_fallback(key, "it does not exist in Nacos")
            self.stats.misses += 1
            if self.watch_missing:  # a fixed dataId: hear about it when someone publishes it
                await self._watch(key)
            raise SceneConfigError(
                f"no scene config {key[0]!r} in group {key[1]!r} (namespace {self.settings.namespace_or_public})"
            )
        try:
            scene = self._apply(key, text, "nacos")
        except SceneConfigError:
            if self.fallback is None or await asyncio.to_thread(self.fallback.read, key) is None:
                raise
            scene = await self._from_fallback(key, "its Nacos content is invalid")
        await self._watch(key)
        return scene

    async def _from_fallback(self, key: SceneKey, problem: str) -> DocumentT:
        found = await asyncio.to_thread(self.fallback.read, key) if self.fallback is not None else None
        if found is None:
            raise RegistryUnavailableError(f"scene {key[1]}/{key[0]}: {problem}, and no local fallback file")
        text, path = found
        scene = self._apply(key, text, f"fallback file {path}")
        self.stats.fallbacks += 1
        log.warning("scene %s/%s served from %s: %s", key[1], key[0], path, problem)
        return scene

    async def _watch(self, key: SceneKey) -> None:
        if key in self._watched:
            return
        self._watched.add(key)

        async def changed(tenant: str, group: str, data_id: str, content: str) -> None:
            self._changed(key, content)

        try:
            await self._client.add_listener(key[0], key[1], changed)
        except Exception:
            self._watched.discard(key)
            log.warning("could not watch scene %s/%s; will try again on next load", key[1], key[0], exc_info=True)
            return
        self._nudge()

    def _nudge(self) -> None:
        wake_config_client(self._client)

    def _changed(self, key: SceneKey, content: str) -> None:
        if not content:
            log.warning("scene %s/%s was deleted in Nacos; keeping the last good config", key[1], key[0])
            return
        try:
            self._apply(key, content, "nacos")
        except SceneConfigError:
            return  # counted and logged by _apply; the last good config stays
        self._misses.pop(key, None)

    async def close(self) -> None:
        await super().close()
        self._starter.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._starter
        if self._client is not None:
            self._nudge()
            try:
                await asyncio.wait_for(self._client.shutdown(), timeout=self.settings.request_timeout)
            except Exception:
                log.warning("nacos config client did not shut down cleanly", exc_info=True)
        if self._handlers is not None:
            self._handlers.release()


async def publish_config(settings: NacosSettings, data_id: str, group: str, content: str) -> None:
    """Write one config document to Nacos (what an operator's command does; providers watch it).

    Raises ``RegistryUnavailableError`` when Nacos does not take it (down, refused, timed out)."""
    _check_key(data_id, group)
    sdk = nacos_sdk()
    handlers = LoggerHandlers("config")
    client: Any = None
    try:
        config = settings_client_config(settings)
        client = await asyncio.wait_for(sdk.NacosConfigService.create_config_service(config), settings.request_timeout)
        done = await asyncio.wait_for(
            client.publish_config(sdk.ConfigParam(data_id=data_id, group=group, content=content)),
            settings.request_timeout,
        )
    except Exception as exc:
        problem = auth_problem(exc, settings.username, settings.namespace) or f"{type(exc).__name__}: {exc}"
        raise RegistryUnavailableError(f"nacos at {settings.server_addresses}: {problem}") from None
    finally:
        if client is not None:
            wake_config_client(client)
            try:
                await asyncio.wait_for(client.shutdown(), settings.request_timeout)
            except Exception:
                log.warning("nacos config client did not shut down cleanly", exc_info=True)
        handlers.release()
    if not done:
        raise RegistryUnavailableError(f"nacos at {settings.server_addresses} did not accept {group}/{data_id}")


async def open_config_center(
    target: str | NacosSettings | None, local_dir: Path | str | None = None, **caps: Any
) -> ConfigCenter[Any]:
    """Local files for ``none`` (``local_dir`` required), else Nacos with ``local_dir`` as the fallback."""
    from dubbo_recsys.registry.url import parse_registry_url

    settings = target if isinstance(target, NacosSettings) else parse_registry_url(target)
    fallback: LocalConfigCenter[Any] | None = LocalConfigCenter(local_dir, **caps) if local_dir is not None else None
    if settings is None:
        if fallback is None:
            raise SceneConfigError("no Nacos and no local scene directory: give one of them")
        return fallback
    return await NacosConfigCenter.connect(settings, fallback, **caps)
