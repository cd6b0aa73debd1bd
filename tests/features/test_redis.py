"""The Redis store and seen filter against a real Redis (REDIS_URL), beside the embedded store."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import re
import time
from pathlib import Path
from typing import Any

import pytest

from dubbo_recsys.features.artifacts import ArtifactFeatures
from dubbo_recsys.features.base import FeatureStoreError
from dubbo_recsys.features.codec import FeatureCodecError
from dubbo_recsys.features.embedded import EmbeddedFeatureStore
from dubbo_recsys.features.load import load_artifacts
from dubbo_recsys.features.seen import InMemorySeenFilter, SeenConfig
from tests.features.conftest import RedisSpace
from tests.features.fixtures import expected_by_id

pytestmark = pytest.mark.redis


async def loaded_store(space: RedisSpace, artifact_dir: Path, ttl: int | None = 600) -> Any:
    from dubbo_recsys.features.redis import RedisFeatureStore

    await load_artifacts(ArtifactFeatures.open(artifact_dir), space.client, space.layout, ttl=ttl, batch_size=64)
    return RedisFeatureStore(space.client, space.layout)


async def command_calls(client: Any, command: str) -> int:
    stats = await client.info("commandstats")
    return int(stats.get(f"cmdstat_{command}", {}).get("calls", 0))


@pytest.mark.asyncio
async def test_redis_and_embedded_give_identical_answers(
    redis_space: RedisSpace, artifact_dir: Path, records: Any
) -> None:
    users, items = records
    redis_store = await loaded_store(redis_space, artifact_dir)
    embedded = EmbeddedFeatureStore.from_artifacts(artifact_dir)
    user_ids = [*expected_by_id(users), "missing-user", ""]
    item_ids = [*expected_by_id(items), "missing-item", "i1 ", "I1"]
    got_users = await redis_store.users(user_ids)
    got_items = await redis_store.items(item_ids)
    assert got_users == await embedded.users(user_ids)
    assert got_items == await embedded.items(item_ids)
    assert got_users[-2:] == [None, None] and got_items[-3:] == [None, None, None]
    assert sum(u is not None for u in got_users) == len(expected_by_id(users))
    [dup] = await redis_store.items(["i5"])
    assert dup.author == "second-line-wins"


@pytest.mark.asyncio
async def test_two_hundred_items_are_one_mget(standalone_space: RedisSpace, artifact_dir: Path) -> None:
    redis_space = standalone_space
    store = await loaded_store(redis_space, artifact_dir)
    ids = [f"i{n}" for n in range(200)]
    sent: list[tuple[Any, ...]] = []
    real = redis_space.client.execute_command

    async def counting(*args: Any, **options: Any) -> Any:
        sent.append(args)
        return await real(*args, **options)

    redis_space.client.execute_command = counting  # what our client sends, whoever else uses the server
    before = await command_calls(redis_space.client, "mget")
    sent.clear()
    got = await store.items(ids)
    assert [(a[0], len(a) - 1) for a in sent] == [("MGET", 200)]
    assert await command_calls(redis_space.client, "mget") >= before + 1  # the server saw it as one MGET
    assert [i.item_id for i in got if i is not None] == ids


@pytest.mark.asyncio
async def test_batches_larger_than_one_mget_keep_order(redis_space: RedisSpace, artifact_dir: Path) -> None:
    from dubbo_recsys.features.redis import MGET_CHUNK

    store = await loaded_store(redis_space, artifact_dir)
    ids = [f"i{n % 450}" for n in range(MGET_CHUNK * 2 + 7)]  # i397..i449 do not exist
    got = await store.items(ids)
    assert [g.item_id if g else None for g in got] == [i if int(i[1:]) < 397 else None for i in ids]


@pytest.mark.asyncio
async def test_loaded_keys_carry_ttl_prefix_and_meta(redis_space: RedisSpace, artifact_dir: Path) -> None:
    store = await loaded_store(redis_space, artifact_dir, ttl=900)
    client = redis_space.client
    for key in (redis_space.layout.item("i1"), redis_space.layout.user("u1"), redis_space.layout.meta()):
        assert 0 < await client.ttl(key) <= 900
    meta = await store.meta()
    assert meta is not None and meta["format"] == 2 and meta["artifact"] == "features-fixture"
    assert (meta["users"], meta["items"]) == (60, 401)
    keys = [k async for k in client.scan_iter(match=f"{redis_space.prefix}:v2:*", count=1000)]
    assert len(keys) == 60 + 400 + 1  # duplicate item id: one key


@pytest.mark.asyncio
async def test_load_without_ttl_keeps_keys(redis_space: RedisSpace, artifact_dir: Path) -> None:
    await loaded_store(redis_space, artifact_dir, ttl=None)
    assert await redis_space.client.ttl(redis_space.layout.item("i1")) == -1


def test_load_command_streams_with_progress(
    sync_redis_space: RedisSpace,
    artifact_dir: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    from dubbo_recsys.features import load
    from dubbo_recsys.features.codec import Encoding, item_from_row, row_codec

    space = sync_redis_space
    parser = argparse.ArgumentParser()
    load.add_arguments(parser)
    args = parser.parse_args(
        [
            "--artifacts",
            str(artifact_dir),
            "--redis",
            space.url,
            "--prefix",
            space.prefix,
            "--ttl",
            "120",
            "--batch-size",
            "50",
        ]
    )
    with caplog.at_level(logging.INFO, logger="dubbo_recsys.features.load"):
        assert load.run(args) == 0
    out, _err = capsys.readouterr()
    assert "loaded 60 users and 401 items" in out
    logged = [r.getMessage() for r in caplog.records]
    assert any("load users: 60 loaded" in line and "done in" in line for line in logged), logged
    assert any("load items: 401 loaded" in line and "done in" in line for line in logged), logged
    assert 0 < space.client.ttl(space.layout.item("movie:1:2")) <= 120
    # through the CLI: one time-stamped line per table, never a carriage return
    from dubbo_recsys.provider.cli import main

    assert main(["load", "--artifacts", str(artifact_dir), "--redis", space.url, "--prefix", space.prefix]) == 0
    err = capsys.readouterr().err
    assert "\r" not in err
    assert re.search(r"^\d\d:\d\d:\d\d load items: 401 loaded \([\d,]+/s\) done in \d+\.\d s$", err, re.MULTILINE), err
    raw = space.client.get(space.layout.item("фильм-é"))
    assert item_from_row(row_codec(Encoding.MSGPACK).decode(raw)).item_id == "фильм-é"


def test_load_command_reports_a_bad_artifact(
    sync_redis_space: RedisSpace, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from dubbo_recsys.features import load

    (tmp_path / "features").mkdir()
    (tmp_path / "features" / "users.jsonl").write_text('{"id": "u1"}\n{"id": 2}\n')
    (tmp_path / "features" / "items.jsonl").write_text("")
    args = argparse.Namespace(
        artifacts=str(tmp_path),
        redis=sync_redis_space.url,
        prefix=sync_redis_space.prefix,
        ttl=60,
        batch_size=10,
        quiet=True,
    )
    assert load.run(args) == 1
    assert "users.jsonl:2" in capsys.readouterr().err


@pytest.mark.asyncio
async def test_corrupt_value_is_a_codec_error(redis_space: RedisSpace) -> None:
    from dubbo_recsys.features.redis import RedisFeatureStore

    store = RedisFeatureStore(redis_space.client, redis_space.layout)
    await redis_space.client.set(redis_space.layout.item("bad"), b"\xc1garbage", ex=60)
    with pytest.raises(FeatureCodecError, match=r"item:\{i\d+:\d+\}:bad: corrupt"):
        await store.items(["bad"])
    await redis_space.client.set(redis_space.layout.item("other"), json.dumps([1]).encode(), ex=60)
    with pytest.raises(FeatureStoreError):
        await store.items(["other"])


@pytest.mark.asyncio
async def test_seen_filter_no_false_negatives_and_fp_near_configured(redis_space: RedisSpace) -> None:
    from dubbo_recsys.features.redis import RedisSeenFilter

    config = SeenConfig(expected_items=1000, fp_rate=0.02, ttl_seconds=300)
    seen = RedisSeenFilter(redis_space.client, redis_space.layout, config)
    shown = [f"item-{n}" for n in range(1000)]
    for start in range(0, len(shown), 200):
        await seen.add("u1", shown[start : start + 200])
    assert all(await seen.might_contain("u1", shown))
    others = [f"other-{n}" for n in range(10_000)]
    answers: list[bool] = []
    for start in range(0, len(others), 500):
        answers += await seen.might_contain("u1", others[start : start + 500])
    rate = sum(answers) / len(answers)
    assert 0.01 <= rate <= 0.04, rate
    assert 0 < await redis_space.client.ttl(seen.key("u1")) <= 300


@pytest.mark.asyncio
async def test_seen_filter_isolates_users_and_matches_memory_bits(redis_space: RedisSpace) -> None:
    from dubbo_recsys.features.redis import RedisSeenFilter

    config = SeenConfig(expected_items=200, fp_rate=0.01)
    seen = RedisSeenFilter(redis_space.client, redis_space.layout, config)
    memory = InMemorySeenFilter(config)
    await seen.add("alice", ["a1", "a2", "a3"])
    await memory.add("alice", ["a1", "a2", "a3"])
    assert await seen.might_contain("alice", ["a1", "a2", "a3"]) == [True, True, True]
    assert await seen.might_contain("bob", ["a1", "a2", "a3"]) == [False, False, False]
    assert await seen.might_contain("alice", []) == []
    await seen.add("alice", [])
    redis_bits = await redis_space.client.get(seen.key("alice"))
    memory_bits = memory.raw_bits("alice")
    assert memory_bits is not None and memory_bits.startswith(redis_bits)
    assert not memory_bits[len(redis_bits) :].strip(b"\0")  # Redis stops at the last byte set


@pytest.mark.asyncio
async def test_redis_down_is_a_feature_store_error() -> None:
    from dubbo_recsys.features.redis import RedisConfig, RedisFeatureStore, RedisSeenFilter
    from tests.support import free_port

    config = RedisConfig(url=f"redis://127.0.0.1:{free_port()}/0", connect_timeout=0.5, retries=0)
    store = RedisFeatureStore.from_config(config)
    seen = RedisSeenFilter.from_config(config)
    started = time.monotonic()
    try:
        with pytest.raises(FeatureStoreError, match="MGET"):
            await store.items(["i1"])
        with pytest.raises(FeatureStoreError):
            await store.users(["u1"])
        with pytest.raises(FeatureStoreError):
            await seen.add("u1", ["i1"])
        with pytest.raises(FeatureStoreError):
            await seen.might_contain("u1", ["i1"])
    finally:
        await store.close()
        await seen.close()
    assert time.monotonic() - started < 10


def test_load_command_with_redis_down(artifact_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from dubbo_recsys.features import load
    from tests.support import free_port

    args = argparse.Namespace(
        artifacts=str(artifact_dir),
        redis=f"redis://127.0.0.1:{free_port()}/0",
        prefix="down",
        ttl=60,
        batch_size=10,
        quiet=True,
    )
    assert load.run(args) == 1
    assert "redis SET (users) failed" in capsys.readouterr().err


@pytest.mark.parametrize(
    "kwargs", [{"url": "http://x"}, {"prefix": "a b"}, {"socket_timeout": 0}, {"max_connections": 0}, {"retries": -1}]
)
def test_bad_config_is_rejected(kwargs: dict[str, Any]) -> None:
    from dubbo_recsys.features.redis import RedisConfig

    with pytest.raises(FeatureStoreError):
        RedisConfig(**kwargs)


@pytest.mark.asyncio
async def test_seen_filter_both_add_strategies_agree_with_memory(redis_space: RedisSpace) -> None:
    from dubbo_recsys.features.redis import BITFIELD_MAX_POSITIONS, RedisSeenFilter

    config = SeenConfig(expected_items=500, fp_rate=0.01)
    seen = RedisSeenFilter(redis_space.client, redis_space.layout, config)
    memory = InMemorySeenFilter(config)
    small = [f"s{n}" for n in range(5)]  # 5 x 7 positions: BITFIELD SET
    large = [f"l{n}" for n in range(100)]  # 700 positions: delta + BITOP OR
    assert len(small) * config.spec.hashes <= BITFIELD_MAX_POSITIONS < len(large) * config.spec.hashes
    for batch in (small, large, small[:2]):
        await seen.add("carol", batch)
        await memory.add("carol", batch)
    assert all(await seen.might_contain("carol", small + large))
    redis_bits = await redis_space.client.get(seen.key("carol"))
    assert redis_bits == memory.raw_bits("carol")  # BITOP wrote the full-length filter
    leftovers = [k async for k in redis_space.client.scan_iter(match=f"{redis_space.prefix}:*delta*", count=1000)]
    assert leftovers == []


@pytest.mark.asyncio
async def test_concurrent_large_adds_lose_no_bits(redis_space: RedisSpace) -> None:
    from dubbo_recsys.features.redis import RedisSeenFilter

    seen = RedisSeenFilter(redis_space.client, redis_space.layout, SeenConfig(expected_items=2000, fp_rate=0.01))
    batches = [[f"b{b}-{n}" for n in range(60)] for b in range(12)]
    await asyncio.gather(*(seen.add("dave", batch) for batch in batches))
    assert all(await seen.might_contain("dave", [i for batch in batches for i in batch]))


@pytest.mark.asyncio
async def test_large_filters_are_probed_with_bitfield(redis_space: RedisSpace) -> None:
    from dubbo_recsys.features.redis import WHOLE_FILTER_MAX_BYTES, RedisSeenFilter

    config = SeenConfig(expected_items=100_000, fp_rate=0.01)
    assert config.spec.nbytes > WHOLE_FILTER_MAX_BYTES
    seen = RedisSeenFilter(redis_space.client, redis_space.layout, config)
    items = [f"x{n}" for n in range(300)]
    await seen.add("erin", items)
    assert all(await seen.might_contain("erin", items))
    assert await seen.might_contain("frank", items[:3]) == [False, False, False]
    unseen = await seen.might_contain("erin", [f"y{n}" for n in range(2000)])
    assert sum(unseen) <= 5  # 300 of 100,000 expected items: practically no false positives


@pytest.mark.asyncio
async def test_a_server_that_never_answers_times_out_as_feature_store_error() -> None:
    """A socket that accepts and stays silent (a hung Redis): the socket timeout bounds the wait."""
    from dubbo_recsys.features.redis import RedisConfig, RedisFeatureStore, RedisStoreError

    done = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1 << 16)
        await done.wait()
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    store = RedisFeatureStore.from_config(RedisConfig(url=f"redis://127.0.0.1:{port}/0", socket_timeout=0.2, retries=0))
    started = time.monotonic()
    try:
        with pytest.raises(RedisStoreError, match="Timeout"):
            await store.items(["i1"])
    finally:
        await store.close()
        done.set()
        server.close()
        await server.wait_closed()
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(
    "args",
    [
        ("MGET", "recsys:v2:item:{i3:7}:a", "фильм"),
        ("SET", "k", b"\x00\xff", "EX", 60),
        ("CONFIG GET", "maxmemory"),
        (b"CLIENT SETINFO", "LIB-NAME", "x"),
        ("BITFIELD", "k", "SET", "u1", 19170, 1),
        ("SET", "k", 1.5),
        ("SET", "k", 1e20),
        ("SET", "k", 1 / 3),
        ("SET", "k", 2**70),
        ("SET", "k", memoryview(b"abc")),
    ],
)
def test_hiredis_packer_writes_what_redis_py_writes(args: tuple[Any, ...]) -> None:
    from redis.asyncio.connection import Connection

    from dubbo_recsys.features.redis import HiredisPackingConnection

    assert b"".join(HiredisPackingConnection().pack_command(*args)) == b"".join(
        bytes(chunk) for chunk in Connection().pack_command(*args)
    )


def test_hiredis_packer_keeps_redis_py_errors_for_bad_arguments() -> None:
    from redis.exceptions import DataError

    from dubbo_recsys.features.redis import HiredisPackingConnection

    with pytest.raises(DataError):
        HiredisPackingConnection().pack_command("SET", "k", None)


@pytest.mark.asyncio
async def test_load_memory_does_not_grow_with_the_catalog(standalone_space: RedisSpace, tmp_path: Path) -> None:
    """Streaming: the peak while loading 4x more items stays about the same (one batch in memory).
    The loader's streaming does not depend on the server, so one Redis shows it."""
    redis_space = standalone_space
    import tracemalloc

    from tests.features.fixtures import make_records, write_artifact

    peaks = []
    for n_items in (1500, 6000):
        root = write_artifact(tmp_path / str(n_items), *make_records(n_users=10, n_items=n_items, seed=3))
        tracemalloc.start()
        try:
            await load_artifacts(
                ArtifactFeatures.open(root), redis_space.client, redis_space.layout, ttl=120, batch_size=200
            )
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
    small, large = peaks
    assert large < small * 1.5 + 256 * 1024, peaks


@pytest.mark.asyncio
async def test_scripts_load_themselves_on_first_use_and_after_the_cache_is_lost(redis_space: RedisSpace) -> None:
    """``execute_writes`` sends EVAL as EVALSHA; a master without the script (fresh, or a replica just
    promoted: Redis does not replicate its script cache) gets SCRIPT LOAD and the command once more."""
    import uuid

    from dubbo_recsys.features.redis import execute_writes

    layout, client = redis_space.layout, redis_space.client
    script = f"-- {uuid.uuid4().hex}\nreturn redis.call('INCRBY', KEYS[1], ARGV[1])"
    users = [f"s{n}" for n in range(12)]  # on every master of the cluster
    commands = [("EVAL", script, 1, layout.user_key("n", u), 2) for u in users]
    assert await execute_writes(client, commands, None, "EVAL") == [2] * len(users)
    await client.script_flush()
    assert await execute_writes(client, commands, None, "EVAL") == [4] * len(users)  # each ran exactly once more
    with pytest.raises(FeatureStoreError, match="ResponseError"):
        await execute_writes(client, [("EVAL", "return redis.call('NOPE')", 0)], None, "EVAL")
