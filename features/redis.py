"""The Redis feature store and the Redis seen filter (redis-py asyncio + hiredis), on one Redis or a cluster.

Keys: ``features.keys`` (layout 2: every key of a user shares the hash tag ``{u:<id>}``,
items are spread over 32 tagged buckets), the same on a single Redis and on a cluster.

``RedisConfig.client()`` is the one client factory of the project: ``redis://``,
``rediss://`` and ``unix://`` URLs give a standalone client over a blocking pool,
``redis+cluster://host:port,host:port`` redis-py's cluster client (``features.cluster``).
Both take ``?wait_replicas=N&wait_timeout_ms=T`` (our options, removed before redis-py
sees the URL): see *Acknowledged writes* below.

Feature keys are written by ``dubbo-recsys load`` with a TTL (``SET .. EX``), so a
catalog that stops being loaded ages out instead of lingering forever. A batch of
ids is read with one ``MGET`` on a single Redis: one round trip whatever the batch
size; on a cluster with one ``MGET`` per slot, one pipeline per master, the masters
concurrently (``features.cluster.ClusterBatchReader``). A seen filter costs one round
trip per call: ``might_contain`` GETs the filter and tests bits locally (``BITFIELD_RO``
for filters over 64 KiB); ``add`` is a pipelined ``BITFIELD SET`` + ``EXPIRE``, or for
large adds ``SET scratch delta``, ``BITOP OR``, ``DEL scratch``, ``EXPIRE`` (the scratch key
is unique per call and in the user's slot; ``BITOP OR`` is atomic, so concurrent adds never
lose bits). Its TTL slides with every ``add``. The filter's size is in its key, so changing
``expected_items`` or ``fp_rate`` starts fresh filters instead of misreading old bits.

**Acknowledged writes.** Redis replicates asynchronously: a write the master confirmed
can be lost if the master dies before its replica got it, and the replica is promoted.
By default a write is acknowledged when the master applied it (what Redis guarantees).
With ``wait_replicas=N`` every write pipeline (``execute_writes``: the loader's batches,
seen filter adds, the realtime consumer's updates) ends with ``WAIT N timeout`` on each
master it wrote to, on the same connection, and raises ``RedisStoreError`` unless N
replicas of each hold the writes: then a failover that promotes one of them loses nothing
acknowledged (N should be the replicas per master: Redis promotes any one of them).

Every failure (refused connection, timeout, corrupt value) is raised as a
``FeatureStoreError``; callers never see redis-py's exceptions. Retries are
bounded (``RedisConfig.retries``, no backoff) so an outage fails fast.

What it does not do: write features (``features.load`` does) or local caching.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import NoScriptError, RedisClusterException, RedisError

from dubbo_recsys.features.base import FeatureStoreError, ItemFeatures, UserFeatures
from dubbo_recsys.features.bloom import BloomSpec, all_bits_set, set_bits
from dubbo_recsys.features.cluster import CLUSTER_SCHEME, is_cluster, mget_slots, parse_cluster_url
from dubbo_recsys.features.codec import (
    Encoding,
    FeatureCodecError,
    check_ids,
    item_from_row,
    row_codec,
    user_from_row,
)
from dubbo_recsys.features.keys import DEFAULT_PREFIX, KeyLayout
from dubbo_recsys.features.seen import SeenConfig

T = TypeVar("T")
_SCHEMES = ("redis://", "rediss://", "unix://", CLUSTER_SCHEME)
# Our options in the query of a Redis URL; everything else in it is redis-py's.
_ACK_OPTIONS = ("wait_replicas", "wait_timeout_ms")
_DEFAULT_LAYOUT = KeyLayout()
_DEFAULT_SEEN = SeenConfig()
# Where a write command's first key is, when it is not its first argument (EVAL/EVALSHA/FCALL: after
# the script and the key count). ``execute_writes`` sends WAIT to the master of that key.
_FIRST_KEY = {"BITOP": 2, "EVAL": 3, "EVALSHA": 3, "FCALL": 3, "FCALL_RO": 3}
#: Any client ``RedisConfig.client()`` makes: standalone or cluster.
RedisClient = aioredis.Redis | aioredis.RedisCluster
# Seen filter strategies. A filter up to this size is read whole with GET and tested
# locally (0.1-0.2 ms for 2.4 KB, against 3-4 ms for a 1,400-field BITFIELD_RO: building
# 4,200 arguments and reading 1,400 replies); larger ones are probed with BITFIELD_RO.
WHOLE_FILTER_MAX_BYTES = 64 * 1024
# Keys per MGET; a larger batch becomes several MGETs in one pipeline (one round trip).
MGET_CHUNK = 1000
# An add of up to this many bit positions is one BITFIELD SET; a larger add sends a
# delta bitmap and ORs it in (SET scratch, BITOP OR, DEL, in MULTI): atomic, so
# concurrent adds never lose bits, which would be false negatives.
BITFIELD_MAX_POSITIONS = 256


class RedisStoreError(FeatureStoreError):
    """Redis was unreachable, too slow, or answered with something unexpected."""


@dataclass(frozen=True, slots=True)
class WriteAck:
    """Wait until ``replicas`` replicas of every master written to hold the writes (``WAIT``)."""

    replicas: int
    timeout_ms: int = 100


@dataclass(frozen=True, slots=True)
class RedisConfig:
    """Where Redis is and how patient to be with it; validated when built."""

    url: str = "redis://127.0.0.1:6379/0"
    prefix: str = DEFAULT_PREFIX
    socket_timeout: float = 0.5  # per command; serving budgets are tens of milliseconds
    connect_timeout: float = 1.0
    pool_timeout: float = 1.0  # wait for a free connection when all max_connections are busy
    max_connections: int = 32  # per pool: per master on a cluster
    retries: int = 1
    _ack: WriteAck | None = field(init=False, repr=False, compare=False, default=None)
    _client_url: str = field(init=False, repr=False, compare=False, default="")

    def __post_init__(self) -> None:
        if not isinstance(self.url, str) or not self.url.startswith(_SCHEMES):
            raise FeatureStoreError(f"redis url must start with one of {_SCHEMES}, got {self.url!r}")
        KeyLayout(self.prefix)  # validates the prefix
        for name in ("socket_timeout", "connect_timeout", "pool_timeout"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not value > 0:
                raise FeatureStoreError(f"{name} must be a positive number of seconds, got {value!r}")
        if not isinstance(self.max_connections, int) or self.max_connections < 1:
            raise FeatureStoreError(f"max_connections must be >= 1, got {self.max_connections!r}")
        if not isinstance(self.retries, int) or self.retries < 0:
            raise FeatureStoreError(f"retries must be >= 0, got {self.retries!r}")
        client_url, ack = _split_ack_options(self.url)
        if self.cluster:
            parse_cluster_url(client_url)  # validates the node list
        if ack is not None and ack.timeout_ms / 1000.0 >= self.socket_timeout:
            raise FeatureStoreError(
                f"wait_timeout_ms={ack.timeout_ms} must be shorter than the socket timeout ({self.socket_timeout} s)"
            )
        object.__setattr__(self, "_ack", ack)
        object.__setattr__(self, "_client_url", client_url)

    @property
    def layout(self) -> KeyLayout:
        return KeyLayout(self.prefix)

    @property
    def cluster(self) -> bool:
        return self.url.startswith(CLUSTER_SCHEME)

    @property
    def write_ack(self) -> WriteAck | None:
        """What a write waits for (``?wait_replicas=N``), or None: the master's reply."""
        return self._ack

    def client(self) -> RedisClient:
        """The project's one Redis client factory: a cluster client for ``redis+cluster://``,
        else a client over a blocking pool (callers queue for a connection instead of failing)."""
        if self.cluster:
            from dubbo_recsys.features.cluster import cluster_client

            return cluster_client(
                parse_cluster_url(self._client_url),
                socket_timeout=self.socket_timeout,
                connect_timeout=self.connect_timeout,
                max_connections=self.max_connections,
                retries=self.retries,
            )
        extra: dict[str, Any] = {}
        if self._client_url.startswith("redis://"):
            extra["connection_class"] = hiredis_connection_class()
        try:
            pool = aioredis.BlockingConnectionPool.from_url(
                self._client_url,
                **extra,
                max_connections=self.max_connections,
                timeout=self.pool_timeout,
                socket_timeout=self.socket_timeout,
                socket_connect_timeout=self.connect_timeout,
                retry=Retry(NoBackoff(), self.retries),
            )
        except (ValueError, RedisError) as exc:
            raise FeatureStoreError(f"bad redis url {self.url!r}: {exc}") from exc
        return aioredis.Redis(connection_pool=pool)


def _split_ack_options(url: str) -> tuple[str, WriteAck | None]:
    """The URL without ``wait_replicas``/``wait_timeout_ms``, and the ``WriteAck`` they ask for."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    ours = {k: v for k, v in query if k in _ACK_OPTIONS}
    if not ours:
        return url, None
    values: dict[str, int] = {}
    for name, text in ours.items():
        if not text.isdigit():
            raise FeatureStoreError(f"{name} in the redis url must be a whole number, got {text!r}")
        values[name] = int(text)
    if "wait_replicas" not in values:
        raise FeatureStoreError("wait_timeout_ms in the redis url needs wait_replicas")
    rest = urlunsplit(parts._replace(query=urlencode([(k, v) for k, v in query if k not in _ACK_OPTIONS])))
    replicas, timeout_ms = values["wait_replicas"], values.get("wait_timeout_ms", 100)
    if not 1 <= timeout_ms <= 60_000:
        raise FeatureStoreError(f"wait_timeout_ms must be in 1..60000, got {timeout_ms}")
    return rest, (WriteAck(replicas, timeout_ms) if replicas else None)


def hiredis_connection_class() -> type[aioredis.Connection]:
    """The TCP connection class of our pools: hiredis packing when hiredis is installed."""
    return HiredisPackingConnection if _hiredis_pack is not None else aioredis.Connection


class HiredisPackingConnection(aioredis.Connection):
    """A plain TCP connection that packs commands with hiredis's C packer.

    redis-py's asyncio connection packs every argument in a Python loop: 0.33 ms
    for a 200-key MGET, a quarter of the whole fetch. ``hiredis.pack_command``
    writes the same bytes in 0.04 ms (a test compares them). Arguments hiredis
    refuses go through redis-py's packer, so errors stay redis-py's.
    """

    def pack_command(self, *args: Any) -> list[bytes]:
        head = args[0]
        if (isinstance(head, str) and " " in head) or (
            isinstance(head, bytes) and b" " in head
        ):  # "CONFIG GET" -> two arguments, as redis-py does
            args = (*head.split(), *args[1:])
        if _hiredis_pack is not None:
            try:
                return [_hiredis_pack(args)]
            except Exception:
                pass
        packed: list[bytes] = super().pack_command(*args)
        return packed


_hiredis_pack: Callable[[tuple[Any, ...]], bytes] | None
try:
    from hiredis import pack_command as _hiredis_pack
except ImportError:  # pragma: no cover - the redis extra installs hiredis
    _hiredis_pack = None


@contextlib.contextmanager
def redis_errors(operation: str) -> Iterator[None]:
    """Translate redis-py and socket failures into ``RedisStoreError``."""
    try:
        yield
    except FeatureStoreError:
        raise
    except (TimeoutError, RedisError, RedisClusterException, OSError) as exc:
        raise RedisStoreError(f"redis {operation} failed: {type(exc).__name__}: {exc}") from exc


async def close_client(client: RedisClient) -> None:
    with contextlib.suppress(RedisError, RedisClusterException, OSError):
        await client.aclose()
        if isinstance(client, aioredis.Redis):
            await client.connection_pool.disconnect()


async def execute_writes(
    client: RedisClient, commands: Sequence[Sequence[Any]], ack: WriteAck | None, operation: str
) -> list[Any]:
    """Send ``commands`` in one pipeline, without MULTI; on a cluster redis-py splits it into one
    pipeline per master. Each command is ``(NAME, key, *args)``, or ``BITOP``/``EVAL``/``FCALL``
    with their keys where those commands have them.

    Scripts: an ``("EVAL", source, numkeys, ...)`` is sent as ``EVALSHA``; the commands a master
    answers ``NOSCRIPT`` (a fresh node, or a replica just promoted: Redis does not replicate its
    script cache) are sent again after ``SCRIPT LOAD`` of their sources (on every master of a
    cluster). A ``NOSCRIPT`` command did not run, so resending it runs it once.

    With ``ack``, each master written to also gets ``WAIT replicas timeout`` on the connection that
    carried its writes, and fewer replicas than asked is a ``RedisStoreError``: the writes were
    applied but are not acknowledged. On a cluster, a write redirected by a live resharding
    (``MOVED``) lands on a connection its WAIT does not cover: acknowledgements are exact while no
    slot is being moved (a failover moves none). Any other error reply is a ``RedisStoreError``.

    Returns the replies, in order.
    """
    sent = [_evalsha(args) for args in commands]
    with redis_errors(operation):
        replies = await _write_pipeline(client, sent, ack, operation)
        unloaded = [i for i, reply in enumerate(replies) if isinstance(reply, NoScriptError)]
        if unloaded:
            for source in dict.fromkeys(str(commands[i][1]) for i in unloaded):
                await client.script_load(source)
            again = await _write_pipeline(client, [sent[i] for i in unloaded], ack, operation)
            for i, reply in zip(unloaded, again, strict=True):
                replies[i] = reply
    failed = next((reply for reply in replies if isinstance(reply, Exception)), None)
    if failed is not None:
        raise RedisStoreError(f"redis {operation} failed: {type(failed).__name__}: {failed}") from failed
    return replies


def _evalsha(args: Sequence[Any]) -> Sequence[Any]:
    if str(args[0]).upper() != "EVAL":
        return args
    return ("EVALSHA", hashlib.sha1(str(args[1]).encode()).hexdigest(), *args[2:])


async def _write_pipeline(
    client: RedisClient, commands: Sequence[Sequence[Any]], ack: WriteAck | None, operation: str
) -> list[Any]:
    """One pipeline of ``commands`` (+ the WAITs of ``ack``); error replies come back as exceptions."""
    async with client.pipeline(transaction=False) as pipe:
        for args in commands:
            pipe.execute_command(*args)
        waits = 0
        if ack is not None:
            if is_cluster(client):
                nodes = {}
                for args in commands:
                    index = _FIRST_KEY.get(str(args[0]).upper(), 1)
                    node = client.get_node_from_key(args[index]) if len(args) > index else None
                    if node is not None:  # a keyless script writes nothing a WAIT could cover
                        nodes[node.name] = node
                for node in nodes.values():
                    pipe.execute_command("WAIT", ack.replicas, ack.timeout_ms, target_nodes=node)
                waits = len(nodes)
            else:
                pipe.execute_command("WAIT", ack.replicas, ack.timeout_ms)
                waits = 1
        replies: list[Any] = await pipe.execute(raise_on_error=False)
    if waits:
        assert ack is not None
        answers = replies[-waits:]
        del replies[-waits:]
        failed = next((a for a in answers if isinstance(a, Exception)), None)
        if failed is not None:
            raise failed
        acknowledged = min(int(a) for a in answers)
        if acknowledged < ack.replicas:
            raise RedisStoreError(
                f"redis {operation}: written, but only {acknowledged} of {ack.replicas} replicas acknowledged "
                f"within {ack.timeout_ms} ms (may be lost if the master fails)"
            )
    return replies


class RedisFeatureStore:
    """``FeatureStore`` reading packed values with one ``MGET`` per batch (per slot on a cluster)."""

    def __init__(self, client: RedisClient, layout: KeyLayout = _DEFAULT_LAYOUT, *, owns_client: bool = False) -> None:
        self._client = client
        self._layout = layout
        self._owns_client = owns_client
        self._codec = row_codec(Encoding.MSGPACK)

    @classmethod
    def from_config(cls, config: RedisConfig) -> RedisFeatureStore:
        return cls(config.client(), config.layout, owns_client=True)

    async def users(self, user_ids: Sequence[str]) -> list[UserFeatures | None]:
        ids = check_ids(user_ids, "user_ids")
        return await self._mget(ids, self._layout.user_keys, user_from_row, lambda u: u.user_id)

    async def items(self, item_ids: Sequence[str]) -> list[ItemFeatures | None]:
        ids = check_ids(item_ids, "item_ids")
        return await self._mget(ids, self._layout.item_keys, item_from_row, lambda i: i.item_id)

    async def _mget(
        self,
        ids: list[str],
        keys_of: Callable[[list[str]], tuple[list[str], list[int]]],
        from_row: Callable[[Any], T],
        id_of: Callable[[T], str],
    ) -> list[T | None]:
        if not ids:
            return []
        keys, slots = keys_of(ids)
        with redis_errors("MGET"):
            if is_cluster(self._client):
                values = await mget_slots(self._client, keys, slots)
            elif len(keys) <= MGET_CHUNK:
                values = await self._client.mget(keys)
            else:  # still one round trip, but no single reply of unbounded size
                async with self._client.pipeline(transaction=False) as pipe:
                    for start in range(0, len(keys), MGET_CHUNK):
                        pipe.mget(keys[start : start + MGET_CHUNK])
                    values = [v for chunk in await pipe.execute() for v in chunk]
        out: list[T | None] = []
        for entity_id, k, value in zip(ids, keys, values, strict=True):
            if value is None:
                out.append(None)
                continue
            if not isinstance(value, bytes):
                raise RedisStoreError("the redis client must return bytes (decode_responses=False)")
            try:
                entity = from_row(self._codec.decode(value))
            except FeatureCodecError as exc:
                raise FeatureCodecError(f"{k}: {exc}") from exc
            if id_of(entity) != entity_id:
                raise FeatureCodecError(f"{k}: holds the value of another id")
            out.append(entity)
        return out

    async def meta(self) -> dict[str, Any] | None:
        """What ``dubbo-recsys load`` last wrote under this prefix, or None."""
        with redis_errors("GET meta"):
            raw = await self._client.get(self._layout.meta())
        if raw is None:
            return None
        try:
            value = json.loads(raw)
        except ValueError as exc:
            raise FeatureCodecError(f"{self._layout.meta()}: corrupt JSON: {exc}") from exc
        return value if isinstance(value, dict) else None

    async def ping(self) -> None:
        with redis_errors("PING"):
            await self._client.ping()

    async def close(self) -> None:
        if self._owns_client:
            await close_client(self._client)


class RedisSeenFilter:
    """``SeenFilter`` as one Redis bit string per user; see the module docstring."""

    def __init__(
        self,
        client: RedisClient,
        layout: KeyLayout = _DEFAULT_LAYOUT,
        config: SeenConfig = _DEFAULT_SEEN,
        *,
        ack: WriteAck | None = None,
        owns_client: bool = False,
    ) -> None:
        self._client = client
        self._layout = layout
        self._config = config
        self._spec: BloomSpec = config.spec
        self._ack = ack
        self._owns_client = owns_client

    @classmethod
    def from_config(cls, redis_config: RedisConfig, config: SeenConfig = _DEFAULT_SEEN) -> RedisSeenFilter:
        return cls(redis_config.client(), redis_config.layout, config, ack=redis_config.write_ack, owns_client=True)

    @property
    def spec(self) -> BloomSpec:
        return self._spec

    def key(self, user_id: str) -> str:
        if not isinstance(user_id, str):
            raise FeatureStoreError(f"user_id must be a string, got {type(user_id).__name__}")
        return self._layout.seen(user_id, self._spec.bits, self._spec.hashes)

    async def add(self, user_id: str, item_ids: Sequence[str]) -> None:
        key = self.key(user_id)
        ids = check_ids(item_ids, "item_ids")
        if not ids:
            return
        positions = list(dict.fromkeys(p for i in ids for p in self._spec.positions(i)))
        ttl = None if self._config.ttl_seconds is None else max(1, round(self._config.ttl_seconds))
        expire = [] if ttl is None else [("EXPIRE", key, ttl)]
        if len(positions) <= BITFIELD_MAX_POSITIONS or self._spec.nbytes > WHOLE_FILTER_MAX_BYTES:
            args: list[Any] = []
            for pos in positions:
                args += ("SET", "u1", pos, 1)
            await execute_writes(self._client, [("BITFIELD", key, *args), *expire], self._ack, "BITFIELD SET")
            return
        delta = bytearray(self._spec.nbytes)
        set_bits(delta, positions)
        # No MULTI: BITOP OR is atomic on its own and the scratch key is this call's alone (and in the
        # user's slot, as BITOP on a cluster needs); a scratch left by a failed call expires in 60 s.
        scratch = f"{key}:delta:{uuid.uuid4().hex}"
        commands = [("SET", scratch, bytes(delta), "EX", 60), ("BITOP", "OR", key, key, scratch), ("DEL", scratch)]
        await execute_writes(self._client, [*commands, *expire], self._ack, "BITOP OR")

    async def might_contain(self, user_id: str, item_ids: Sequence[str]) -> list[bool]:
        key = self.key(user_id)
        ids = check_ids(item_ids, "item_ids")
        if not ids:
            return []
        per_item = [self._spec.positions(i) for i in ids]
        if self._spec.nbytes <= WHOLE_FILTER_MAX_BYTES:
            with redis_errors("GET"):
                bits = await self._client.get(key)
            if bits is None:
                return [False] * len(ids)
            if not isinstance(bits, bytes) or len(bits) > self._spec.nbytes:
                raise RedisStoreError(f"{key} holds {len(bits)} bytes, more than a filter of {self._spec.nbytes}")
            return [all_bits_set(bits, positions) for positions in per_item]
        unique = list(dict.fromkeys(p for positions in per_item for p in positions))
        with redis_errors("BITFIELD_RO"):
            answer = await self._client.bitfield_ro(key, "u1", unique[0], items=[("u1", p) for p in unique[1:]])
        if not isinstance(answer, list) or len(answer) != len(unique):
            raise RedisStoreError(f"BITFIELD_RO on {key} answered {type(answer).__name__}, not {len(unique)} bits")
        is_set = {pos for pos, bit in zip(unique, answer, strict=True) if bit}
        return [all(p in is_set for p in positions) for positions in per_item]

    async def filter_bytes(self, user_id: str) -> bytes | None:
        """The user's whole filter in one GET, for callers that test bits themselves (recall's
        merger tests its candidate rows with numpy); ``None`` when the user has none."""
        key = self.key(user_id)
        with redis_errors("GET"):
            bits = await self._client.get(key)
        if bits is not None and (not isinstance(bits, bytes) or len(bits) > self._spec.nbytes):
            raise RedisStoreError(f"{key} holds {len(bits)} bytes, more than a filter of {self._spec.nbytes}")
        return bits

    async def close(self) -> None:
        if self._owns_client:
            await close_client(self._client)
