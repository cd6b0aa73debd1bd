"""Redis Cluster: the ``redis+cluster://`` URL, redis-py's asyncio cluster client, and batched reads.

    redis+cluster://[[user]:password@]host:port[,host:port...][?wait_replicas=N&wait_timeout_ms=T]

Any node(s) of the cluster will do as seeds; the client learns the rest (``CLUSTER SLOTS``)
and follows the cluster through failovers and resharding (``MOVED``/``ASK`` redirects, a
topology refresh after a connection error). ``RedisConfig.client()`` (``features.redis``)
calls ``cluster_client`` for such a URL, so every Redis user of the project (feature store,
seen filter, loader, realtime consumer) gets a standalone or a cluster client from one URL.

**Batched reads** (``ClusterBatchReader``). Keys are laid out so a batch touches few slots
(``features.keys``: an item bucket or a user is one slot). A batch becomes one ``MGET`` per
slot, the ``MGET``s of one master go in one write, and every master gets its write before
any reply is read, so they work at once: a 200-item fetch is at most 32 ``MGET``s in 3
writes on a 3-master cluster, one round trip's latency. The writes go over a small pool per
master, chosen from the client's slot table, with commands packed by hiredis and replies read
straight from the connection: redis-py's generic ``ClusterPipeline`` takes twice the time for
the same ``MGET``s (it re-hashes every key of every command in Python to check that the command
is single-slot, packs in Python and runs a task per node; bench/features/RESULTS.md).
Anything the fast path cannot do (a ``MOVED``/``ASK``/``TRYAGAIN``/``CLUSTERDOWN`` reply, a
dead node, a slot missing from the table) is read again key by key through the cluster
client's pipeline, which follows redirects (``ASK`` while a slot migrates: its ``MGET``s get
``TRYAGAIN`` until all its keys have moved), updates its slot table and refreshes the
topology; the next batch then uses the new owner. Reads go to masters only: a replica may lag.

What it does not do: TLS to a cluster (``rediss+cluster``), reading from replicas, or writes
(they go through the cluster client: ``features.redis.execute_writes``).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeGuard
from urllib.parse import unquote, urlsplit

import redis.asyncio as aioredis
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.exceptions import RedisClusterException, RedisError, ResponseError

from dubbo_recsys.features.base import FeatureStoreError

CLUSTER_SCHEME = "redis+cluster://"


@dataclass(frozen=True, slots=True)
class ClusterUrl:
    """The parsed ``redis+cluster://`` URL (without our query options, which ``RedisConfig`` reads)."""

    nodes: tuple[tuple[str, int], ...]
    username: str | None = None
    password: str | None = None


def parse_cluster_url(url: str) -> ClusterUrl:
    """Validate ``redis+cluster://[user:pass@]host:port,...[/0]``; a clear ``FeatureStoreError`` otherwise."""
    if not url.startswith(CLUSTER_SCHEME):
        raise FeatureStoreError(f"a cluster url starts with {CLUSTER_SCHEME}, got {url!r}")
    parts = urlsplit(url)
    userinfo, _, hosts = parts.netloc.rpartition("@")
    if parts.path not in ("", "/", "/0"):
        raise FeatureStoreError(f"a Redis Cluster has only database 0, got {parts.path!r} in {url!r}")
    nodes = []
    for address in hosts.split(","):
        host, sep, port = address.strip().rpartition(":")
        host = host.strip("[]")  # [::1]:7000
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise FeatureStoreError(f"cluster node {address!r} in {url!r} is not host:port")
        nodes.append((host, int(port)))
    username: str | None = None
    password: str | None = None
    if userinfo:
        user, has_password, secret = userinfo.partition(":")
        username = unquote(user) or None
        password = unquote(secret) if has_password else None
    return ClusterUrl(tuple(dict.fromkeys(nodes)), username, password)


def cluster_client(
    url: ClusterUrl,
    *,
    socket_timeout: float,
    connect_timeout: float,
    max_connections: int,
    retries: int,
) -> ClusterClient:
    """A cluster client over the seed nodes; connects on first use.

    ``retries`` bounds how often a command is retried after a connection error, a timeout
    or ``CLUSTERDOWN`` (each retry after a topology refresh, no backoff), so a dead master
    fails a request fast and the pipeline degrades instead of waiting for the failover.
    ``require_full_coverage=False``: the client starts, and serves the slots that have a
    master, while some have none; the servers decide whether to answer for the rest.
    """
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff

    return ClusterClient(
        startup_nodes=[ClusterNode(host, port) for host, port in url.nodes],
        username=url.username,
        password=url.password,
        socket_timeout=socket_timeout,
        socket_connect_timeout=connect_timeout,
        max_connections=max_connections,
        retry=Retry(NoBackoff(), retries),
        require_full_coverage=False,
    )


def is_cluster(client: object) -> TypeGuard[RedisCluster]:
    return isinstance(client, RedisCluster)


class ClusterClient(RedisCluster):
    """redis-py's cluster client plus ``mget_slots``, the batched read of ``ClusterBatchReader``,
    whose per-master pools live and close with the client (``aclose``)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._batch_reader = ClusterBatchReader(self)

    async def mget_slots(self, keys: Sequence[str], slots: Sequence[int]) -> list[Any]:
        """The values of ``keys`` (None where missing), in order; ``slots[i]`` is the slot of ``keys[i]``."""
        return await self._batch_reader.mget(keys, slots)

    async def aclose(self) -> None:
        await self._batch_reader.close()
        await super().aclose()


async def mget_slots(client: RedisCluster, keys: Sequence[str], slots: Sequence[int]) -> list[Any]:
    """Batched MGET on any cluster client: ours pipelines per master, another one gets one
    ``MGET`` per slot through redis-py (slower, same answers)."""
    if isinstance(client, ClusterClient):
        return await client.mget_slots(keys, slots)
    by_slot: dict[int, list[int]] = {}
    for position, slot in enumerate(slots):
        by_slot.setdefault(slot, []).append(position)
    groups = list(by_slot.values())
    replies = await asyncio.gather(*(client.execute_command("MGET", *[keys[p] for p in g]) for g in groups))
    values: list[Any] = [None] * len(keys)
    for group, reply in zip(groups, replies, strict=True):
        for position, value in zip(group, reply, strict=True):
            values[position] = value
    return values


@dataclass
class _NodeBatch:
    """The MGETs of one batch that go to one master, and the connection carrying them."""

    node: ClusterNode
    groups: list[list[int]]  # positions in the batch, one group per slot
    pool: aioredis.ConnectionPool | None = None
    connection: Any = None
    read: int = 0  # replies read so far
    broken: bool = False


class ClusterBatchReader:
    """``mget(keys, slots)`` over a cluster: one MGET per slot, one write per master, masters
    concurrently; see the module docstring. Owns a small connection pool per master (created
    on first use, dropped when its master fails)."""

    def __init__(self, cluster: RedisCluster) -> None:
        try:
            from hiredis import pack_command
        except ImportError as exc:  # pragma: no cover - the redis extra installs hiredis
            raise FeatureStoreError('reading from a Redis Cluster needs hiredis: pip install -e ".[redis]"') from exc
        self._pack: Callable[[tuple[Any, ...]], bytes] = pack_command
        self._cluster = cluster
        self._pools: dict[str, aioredis.Redis] = {}
        kwargs = cluster.connection_kwargs
        self._timeout: float | None = kwargs.get("socket_timeout")
        self._pool_kwargs = {
            name: kwargs[name]
            for name in ("username", "password", "socket_timeout", "socket_connect_timeout", "max_connections")
            if kwargs.get(name) is not None
        }

    async def mget(self, keys: Sequence[str], slots: Sequence[int]) -> list[Any]:
        """Every master gets all its MGETs before any reply is read, so the masters work at once
        without a task per master; the whole batch has one deadline, the socket timeout. What the
        fast path could not read is read again through the cluster client."""
        batches, retry = self._route(slots)
        values: list[Any] = [None] * len(keys)
        try:
            async with asyncio.timeout(self._timeout):
                for batch in batches:
                    await self._send(batch, keys)
                for batch in batches:
                    await self._receive(batch, values, retry)
        finally:
            for batch in batches:
                await self._release(batch)
        for batch in batches:
            if batch.connection is None:  # never sent
                retry.extend(batch.groups)
        if retry:  # one GET per key: a slot being migrated answers a multi-key MGET with TRYAGAIN until
            # all its keys have moved, but a single key with its value or ASK (redis-py follows both)
            positions = [p for group in retry for p in group]
            async with self._cluster.pipeline(transaction=False) as pipe:
                for position in positions:
                    pipe.get(keys[position])
                for position, value in zip(positions, await pipe.execute(), strict=True):
                    values[position] = value
        return values

    def _route(self, slots: Sequence[int]) -> tuple[list[_NodeBatch], list[list[int]]]:
        """Positions grouped by slot, the slots by master (from the client's slot table); slots the
        table has no master for (not loaded yet, or uncovered) go straight to the cluster client."""
        by_slot: dict[int, list[int]] = {}
        for position, slot in enumerate(slots):
            group = by_slot.get(slot)
            if group is None:
                by_slot[slot] = [position]
            else:
                group.append(position)
        by_node: dict[str, _NodeBatch] = {}
        unrouted: list[list[int]] = []
        for slot, positions in by_slot.items():
            try:
                node = self._cluster.nodes_manager.get_node_from_slot(slot)
            except (RedisClusterException, KeyError, IndexError):
                unrouted.append(positions)
                continue
            batch = by_node.get(node.name)
            if batch is None:
                by_node[node.name] = _NodeBatch(node, [positions])
            else:
                batch.groups.append(positions)
        return list(by_node.values()), unrouted

    async def _send(self, batch: _NodeBatch, keys: Sequence[str]) -> None:
        pool = self._pool(batch.node).connection_pool
        try:
            connection = await pool.get_connection()
        except (RedisError, OSError):
            await self._drop(batch.node.name)
            return
        batch.pool, batch.connection = pool, connection
        try:
            await connection.send_packed_command([self._pack(("MGET", *[keys[p] for p in g])) for g in batch.groups])
        except (RedisError, OSError):
            batch.broken = True

    async def _receive(self, batch: _NodeBatch, values: list[Any], retry: list[list[int]]) -> None:
        if batch.connection is None:
            return
        if not batch.broken:
            try:
                for positions in batch.groups:
                    try:  # no timeout per reply: the batch has one (``mget``)
                        reply = await batch.connection.read_response(timeout=math.inf)
                    except ResponseError:  # MOVED, ASK, TRYAGAIN, CLUSTERDOWN: later replies stay in order
                        retry.append(positions)
                    else:
                        for position, value in zip(positions, reply, strict=True):
                            values[position] = value
                    batch.read += 1
            except (RedisError, OSError):
                batch.broken = True
        retry.extend(batch.groups[batch.read :])

    async def _release(self, batch: _NodeBatch) -> None:
        """Return the connection; one with replies left unread (an error, the deadline, a cancelled
        request) is closed first, never reused, and a failed master's pool is dropped."""
        if batch.connection is None or batch.pool is None:
            return
        if batch.broken or batch.read < len(batch.groups):
            await batch.connection.disconnect()
        await batch.pool.release(batch.connection)
        if batch.broken:
            await self._drop(batch.node.name)

    def _pool(self, node: ClusterNode) -> aioredis.Redis:
        client = self._pools.get(node.name)
        if client is None:  # commands go out packed already (``_send``): the plain connection class will do
            pool = aioredis.BlockingConnectionPool(host=node.host, port=node.port, **self._pool_kwargs)
            client = self._pools[node.name] = aioredis.Redis(connection_pool=pool)
        return client

    async def _drop(self, name: str) -> None:
        """Forget a node that failed: a dead master's pool is not kept, a live one is rebuilt on use."""
        client = self._pools.pop(name, None)
        if client is not None:
            with contextlib.suppress(RedisError, OSError):
                await client.aclose()
                await client.connection_pool.disconnect()

    async def close(self) -> None:
        for name in list(self._pools):
            await self._drop(name)
