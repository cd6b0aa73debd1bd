"""Config centers: local files (the embedded default) and Nacos (publish, change, invalid change, fallback)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from dubbo_recsys.registry import (
    LocalConfigCenter,
    NacosConfigCenter,
    NacosSettings,
    RegistryUnavailableError,
    SceneConfigError,
    open_config_center,
)
from tests.registry.openapi import OpenApi, wait_for
from tests.registry.scenes import seed_style, text
from tests.registry.server import OwnNacos, free_nacos_port
from tests.support import require_env


def write_scene(directory: Path, data_id: str, group: str = "infer", **changes: Any) -> Path:
    path = directory / group / f"{data_id}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text(seed_style(dataId=data_id, group=group, **changes)))
    return path


async def eventually(check: Callable[[], bool], seconds: float) -> float:
    """Seconds until ``check()`` held; fails the test if it did not within ``seconds``."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > seconds:
            pytest.fail(f"condition not met within {seconds} s")
        await asyncio.sleep(0.05)
    return time.monotonic() - started


# -- local files ------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_local_scene_is_loaded_once_and_shared(tmp_path: Path) -> None:
    write_scene(tmp_path, "home")
    center = await open_config_center(None, local_dir=tmp_path)
    first, second = await asyncio.gather(center.get("home", "infer"), center.get("home", "infer"))
    assert first is second and first.data_id == "home" and first.version == "v1"
    assert center.current("home", "infer") is first and center.stats.loaded == 1
    assert center.current("other", "infer") is None


@pytest.mark.asyncio
async def test_local_file_at_the_top_and_without_extension(tmp_path: Path) -> None:
    (tmp_path / "flat.json").write_text(json.dumps({"dataId": "flat"}))
    (tmp_path / "bare").write_text(json.dumps({"dataId": "bare"}))
    center = LocalConfigCenter(tmp_path)
    assert (await center.get("flat")).group == "DEFAULT_GROUP"
    assert (await center.get("bare")).data_id == "bare"


@pytest.mark.asyncio
async def test_local_misses_bad_names_invalid_files_and_the_cap(tmp_path: Path) -> None:
    center = LocalConfigCenter(tmp_path, max_scenes=2, miss_ttl=60)
    with pytest.raises(SceneConfigError, match="no scene config 'nope'"):
        await center.get("nope", "infer")
    write_scene(tmp_path, "nope")
    with pytest.raises(SceneConfigError, match="no scene config"):  # remembered miss, no disk read
        await center.get("nope", "infer")
    assert center.stats.misses == 1
    for bad in ("../etc/passwd", ".hidden", "", "a b", "x" * 300):
        with pytest.raises(SceneConfigError, match="dataId"):
            await center.get(bad, "infer")
    with pytest.raises(SceneConfigError, match="group"):
        await center.get("ok", "../up")
    write_scene(tmp_path, "broken", model_conf={"m": {"modelType": "rank"}})
    with pytest.raises(SceneConfigError, match="missing 'modelName'"):
        await center.get("broken", "infer")
    assert center.stats.rejected == 1
    (tmp_path / "infer" / "mismatch.json").write_text(json.dumps({"dataId": "elsewhere"}))
    with pytest.raises(SceneConfigError, match="is for dataId 'elsewhere'"):
        await center.get("mismatch", "infer")
    for i in range(2):
        write_scene(tmp_path, f"s{i}")
        await center.get(f"s{i}", "infer")
    write_scene(tmp_path, "s2")
    with pytest.raises(SceneConfigError, match="too many scenes"):
        await center.get("s2", "infer")


@pytest.mark.asyncio
async def test_no_nacos_and_no_directory_is_an_error() -> None:
    with pytest.raises(SceneConfigError, match="give one of them"):
        await open_config_center("none")


# -- Nacos ------------------------------------------------------------------------------------------


@pytest_asyncio.fixture
async def nacos_center(tmp_path: Path) -> AsyncIterator[NacosConfigCenter]:
    settings = NacosSettings(addresses=(require_env("NACOS_ADDR"),), work_dir=tmp_path / "sdk", request_timeout=10)
    center = await NacosConfigCenter.connect(settings, LocalConfigCenter(tmp_path / "fallback"))
    try:
        yield center
    finally:
        await center.close()


@pytest.mark.nacos
@pytest.mark.asyncio
async def test_published_scene_is_read_and_changes_apply_within_2_s(nacos_center: NacosConfigCenter) -> None:
    api = OpenApi(require_env("NACOS_ADDR"))
    data_id = f"scene-{uuid.uuid4().hex[:10]}"
    assert api.publish_config(data_id, "infer", text(seed_style(dataId=data_id, version="v1")))
    await asyncio.to_thread(wait_for, lambda: api.get_config(data_id, "infer"), bool, 5)
    old = await nacos_center.get(data_id, "infer")
    assert old.version == "v1" and old.pipeline is not None

    assert api.publish_config(data_id, "infer", text(seed_style(dataId=data_id, version="v2")))
    took = await eventually(lambda: getattr(nacos_center.current(data_id, "infer"), "version", None) == "v2", 2.0)
    new = await nacos_center.get(data_id, "infer")
    assert new is not old and old.version == "v1"  # whoever held the old object still has it, unchanged
    assert nacos_center.stats.applied == 1
    print(f"change applied after {took:.2f} s")


@pytest.mark.nacos
@pytest.mark.asyncio
async def test_invalid_publish_is_rejected_and_counted(nacos_center: NacosConfigCenter) -> None:
    api = OpenApi(require_env("NACOS_ADDR"))
    data_id = f"scene-{uuid.uuid4().hex[:10]}"
    assert api.publish_config(data_id, "infer", text(seed_style(dataId=data_id)))
    await asyncio.to_thread(wait_for, lambda: api.get_config(data_id, "infer"), bool, 5)
    good = await nacos_center.get(data_id, "infer")

    assert api.publish_config(data_id, "infer", text(seed_style(dataId=data_id, pipiline_conf={"recallNum": -1})))
    await eventually(lambda: nacos_center.stats.rejected == 1, 5.0)
    assert nacos_center.current(data_id, "infer") is good
    assert api.publish_config(data_id, "infer", "{ not json")
    await eventually(lambda: nacos_center.stats.rejected == 2, 5.0)
    assert await nacos_center.get(data_id, "infer") is good

    assert api.publish_config(data_id, "infer", text(seed_style(dataId=data_id, version="fixed")))
    await eventually(lambda: getattr(nacos_center.current(data_id, "infer"), "version", None) == "fixed", 5.0)


@pytest.mark.nacos
@pytest.mark.asyncio
async def test_unknown_scene_in_nacos(nacos_center: NacosConfigCenter) -> None:
    with pytest.raises(SceneConfigError, match="no scene config"):
        await nacos_center.get(f"absent-{uuid.uuid4().hex[:8]}", "infer")
    assert nacos_center.stats.misses == 1


@pytest.mark.nacos
@pytest.mark.asyncio
async def test_fallback_file_while_nacos_is_down_then_nacos_takes_over(tmp_path: Path) -> None:
    server = OwnNacos(require_env("NACOS_LAUNCHER"), tmp_path / "nacos")
    fallback_dir = tmp_path / "fallback"
    write_scene(fallback_dir, "home", version="from-file")
    settings = NacosSettings(addresses=(server.addr,), work_dir=tmp_path / "sdk", request_timeout=1.0)
    center = await open_config_center(settings, local_dir=fallback_dir)
    try:
        scene = await center.get("home", "infer")
        assert scene.version == "from-file" and center.stats.fallbacks == 1
        with pytest.raises(RegistryUnavailableError, match="no local fallback file"):
            await center.get("elsewhere", "infer")

        await asyncio.to_thread(server.start)
        api = OpenApi(server.addr)
        assert api.publish_config("home", "infer", text(seed_style(dataId="home", group="infer", version="from-nacos")))
        await eventually(lambda: getattr(center.current("home", "infer"), "version", None) == "from-nacos", 60.0)
    finally:
        await center.close()
        await asyncio.to_thread(server.stop)


@pytest.mark.asyncio
async def test_nacos_unreachable_without_fallback_file(tmp_path: Path) -> None:
    settings = NacosSettings(
        addresses=(f"127.0.0.1:{free_nacos_port()}",), work_dir=tmp_path / "sdk", request_timeout=0.5
    )
    center = await NacosConfigCenter.connect(settings)
    try:
        with pytest.raises(RegistryUnavailableError, match="no local fallback file"):
            await center.get("home", "infer")
    finally:
        await center.close()


# -- other documents: a parser of one's own, a dataId watched before it exists, publish_config -------


@pytest.mark.nacos
@pytest.mark.asyncio
async def test_a_document_of_our_own_is_watched_before_it_exists_and_written_with_publish_config(
    tmp_path: Path,
) -> None:
    from dubbo_recsys.registry import publish_config

    def parse(text: str, _data_id: str, _group: str) -> dict[str, Any]:
        document = json.loads(text)  # a ValueError means invalid
        if not isinstance(document, dict) or "version" not in document:
            raise ValueError("a document needs a version")
        return document

    settings = NacosSettings(addresses=(require_env("NACOS_ADDR"),), work_dir=tmp_path / "sdk", request_timeout=10)
    center: NacosConfigCenter[dict[str, Any]] = await NacosConfigCenter.connect(
        settings, parse=parse, watch_missing=True, max_scenes=2
    )
    heard: list[dict[str, Any]] = []
    center.listeners.append(lambda _key, document: heard.append(document))
    data_id = f"pin-{uuid.uuid4().hex[:10]}"
    try:
        with pytest.raises(SceneConfigError, match="no scene config"):
            await center.get(data_id, "ROLLOUT")  # not published yet, but watched from now on
        await publish_config(settings, data_id, "ROLLOUT", json.dumps({"version": "v1"}))
        took = await eventually(lambda: center.current(data_id, "ROLLOUT") is not None, 5.0)
        assert center.current(data_id, "ROLLOUT") == {"version": "v1"} and heard == [{"version": "v1"}]
        await publish_config(settings, data_id, "ROLLOUT", json.dumps({"other": 1}))  # invalid: refused
        await eventually(lambda: center.stats.rejected == 1, 5.0)
        assert center.current(data_id, "ROLLOUT") == {"version": "v1"} and len(heard) == 1
        await publish_config(settings, data_id, "ROLLOUT", json.dumps({"version": "v2"}))
        await eventually(lambda: center.current(data_id, "ROLLOUT") == {"version": "v2"}, 5.0)
        assert heard[-1] == {"version": "v2"}
        print(f"a dataId published after the watch began was heard after {took:.2f} s")
    finally:
        await center.close()
    unreachable = NacosSettings(
        addresses=(f"127.0.0.1:{free_nacos_port()}",), work_dir=tmp_path / "x", request_timeout=0.5
    )
    with pytest.raises(RegistryUnavailableError):
        await publish_config(unreachable, data_id, "ROLLOUT", "{}")
