"""What the consumer loop needs from a broker: batches of records, commits, a dead-letter place, lag.

Two implementations with the same semantics: ``realtime.kafka.KafkaSource``
(Kafka consumer group: partitions split between the group's members) and
``realtime.streams.RedisStreamSource`` (Redis Streams: a topic is ``P`` streams,
split between the group's members by leases). Both deliver each partition in
order, redeliver everything after the last commit when a member dies, and let
a record go only when ``commit`` names it.

``EventsConfig.parse`` reads the one URL that says which broker and topics::

    kafka://HOST:PORT[,HOST:PORT]?users=recsys-user-events&items=recsys-item-events&dlq=recsys-events-dlq
        &group=dubbo-recsys-realtime&session_timeout_ms=10000
    redis://HOST:PORT/DB?partitions=4&users=...&items=...&dlq=...&group=...   (Redis Streams)
    redis+cluster://HOST:PORT,HOST:PORT?partitions=4&...                       (Redis Streams on a cluster)

``session_timeout_ms``: how long a silent member keeps its partitions (Kafka's session timeout,
the Redis Streams lease).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol
from urllib.parse import parse_qs, urlsplit, urlunsplit

from dubbo_recsys.interfaces.events import EventErrorReason
from dubbo_recsys.realtime.effects import Position, RealtimeConfigError

__all__ = ["DeadLetter", "EventKind", "EventSource", "EventsConfig", "Record"]

DEFAULT_USERS = "recsys-user-events"
DEFAULT_ITEMS = "recsys-item-events"
DEFAULT_DLQ = "recsys-events-dlq"
DEFAULT_GROUP = "dubbo-recsys-realtime"
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")


class EventKind(enum.Enum):
    USER = "user"
    ITEM = "item"


class Record(NamedTuple):
    """One record as the broker gave it: which kind its topic carries, where it was, its bytes."""

    kind: EventKind
    topic: str
    position: Position
    key: bytes | None
    value: bytes


@dataclass(frozen=True, slots=True)
class DeadLetter:
    record: Record
    reason: EventErrorReason
    message: str


class EventSource(Protocol):
    async def start(self) -> None: ...

    async def poll(self, max_records: int, wait: float) -> list[Record]:
        """Up to ``max_records`` records, waiting at most ``wait`` seconds for the first."""
        ...

    async def dead_letter(self, letters: Sequence[DeadLetter]) -> None:
        """Write refused records to the dead-letter topic or stream, durably, before their commit."""
        ...

    async def commit(self, records: Sequence[Record]) -> None:
        """The records (and everything before them in their partitions) are done."""
        ...

    def lag(self) -> Mapping[str, int]:
        """Records not yet consumed per partition this member holds (as last measured)."""
        ...

    async def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class EventsConfig:
    """Where events come from; validated when built."""

    broker: str  # "kafka" or "redis"
    address: str  # Kafka bootstrap servers, or the redis:// URL of the streams
    users_topic: str = DEFAULT_USERS
    items_topic: str = DEFAULT_ITEMS
    dlq_topic: str = DEFAULT_DLQ
    group: str = DEFAULT_GROUP
    partitions: int = 1  # Redis Streams only: streams per topic (Kafka topics have their own)
    session_timeout_ms: int = 10_000  # a member silent this long loses its partitions

    def __post_init__(self) -> None:
        if self.broker not in ("kafka", "redis"):
            raise RealtimeConfigError(f"events broker must be kafka or redis, got {self.broker!r}")
        if not self.address:
            raise RealtimeConfigError("events URL has no address")
        for name in ("users_topic", "items_topic", "dlq_topic", "group"):
            value = getattr(self, name)
            if not value or len(value) > 200 or not set(value) <= _NAME_CHARS:
                raise RealtimeConfigError(f"{name} must be 1-200 characters of letters, digits and ._-, got {value!r}")
        if len({self.users_topic, self.items_topic, self.dlq_topic}) != 3:
            raise RealtimeConfigError("the users, items and dead-letter topics must differ")
        if isinstance(self.session_timeout_ms, bool) or not 1000 <= self.session_timeout_ms <= 600_000:
            raise RealtimeConfigError(f"session_timeout_ms must be in 1000..600000, got {self.session_timeout_ms!r}")
        if (
            isinstance(self.partitions, bool)
            or not isinstance(self.partitions, int)
            or not 1 <= self.partitions <= 1024
        ):
            raise RealtimeConfigError(f"partitions must be in 1..1024, got {self.partitions!r}")

    @property
    def topics(self) -> dict[str, EventKind]:
        return {self.users_topic: EventKind.USER, self.items_topic: EventKind.ITEM}

    @classmethod
    def parse(cls, url: str) -> EventsConfig:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        known = {"users", "items", "dlq", "group", "partitions", "session_timeout_ms"}
        unknown = set(query) - known
        if unknown:
            raise RealtimeConfigError(f"events URL: unknown parameters {sorted(unknown)}; known: {sorted(known)}")
        numbers = {}
        for name, default in (("partitions", 1), ("session_timeout_ms", 10_000)):
            try:
                numbers[name] = int(query.get(name, default))
            except ValueError:
                raise RealtimeConfigError(f"events URL: {name} must be an integer, got {query[name]!r}") from None
        if scheme == "kafka":
            broker, address = "kafka", parts.netloc
        elif scheme in ("redis", "rediss", "redis+cluster"):  # Streams on one Redis or a Redis Cluster
            broker, address = "redis", urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
        else:
            raise RealtimeConfigError(f"events URL must start with kafka://, redis:// or redis+cluster://, got {url!r}")
        if broker == "kafka" and "partitions" in query:
            raise RealtimeConfigError("events URL: partitions is for Redis Streams; a Kafka topic has its own")
        return cls(
            broker=broker,
            address=address,
            users_topic=query.get("users", DEFAULT_USERS),
            items_topic=query.get("items", DEFAULT_ITEMS),
            dlq_topic=query.get("dlq", DEFAULT_DLQ),
            group=query.get("group", DEFAULT_GROUP),
            partitions=numbers["partitions"],
            session_timeout_ms=numbers["session_timeout_ms"],
        )
