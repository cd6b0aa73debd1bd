"""What an event does to the feature store, decided without I/O (the consumer's pure core).

A batch of decoded events (``Delivery``: an event and where the broker had it)
becomes three kinds of writes, each one atomic script on one Redis slot
(``realtime.scripts`` runs them):

- **per user** (slot ``{u:<id>}``), every event of the user in the batch, in order:
  remember the event id with its position (idempotence), count the action,
  put the item into lastN, set the item's bits in the seen Bloom filter;
- **per trend bucket** (slot ``{trend}``): add each new positive event's weight to
  its item in the bucket of its ``ts``;
- **live items** (slot ``{live}``): store new and changed items, and removals.

What each action does (``ACTION_EFFECTS``)::

    action     lastN            seen filter   trending weight
    click      add              set           1
    play       add              set           1
    rate       add              set           1
    purchase   add              set           2
    exposure   -                set           0
    dislike    remove           set           0

Idempotence, exactly once in effect over at-least-once delivery: the user script
answers per event ``NEW`` (applied now), ``REDELIVERED`` (its id was applied
before *from the same position*: the broker handed it out again after a crash
before the commit) or ``DUPLICATE`` (the same id from another position: the
producer sent it twice). Counters, lastN and seen change only for ``NEW``. The
trend script takes ``NEW`` and ``REDELIVERED`` events and counts an event only
if its position is past the last position that bucket counted from its
partition; a partition's events reach it in order, so after a crash the ones
already counted are skipped and the rest are counted once.

Events out of order by ``ts`` (deliberate): lastN is ordered by ``ts``, not by
arrival, so a late event takes its place by time (and falls off at once when
older than the N newest); an item seen twice keeps its newest time. Trend
buckets go by ``ts``: a late event counts into its own bucket while that bucket
is inside the window, and not at all after (``late`` in the stats). Counters
and the seen filter do not depend on time. An item event older than the stored
version of the item is ignored (last writer by ``ts`` wins). An event dated
more than ``future_skew_seconds`` ahead of the consumer's clock is refused to
the dead-letter stream: a producer with a broken clock would otherwise pin its
items at the top of lastN.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import NamedTuple

from dubbo_recsys.features.base import ItemFeatures
from dubbo_recsys.features.bloom import BloomSpec
from dubbo_recsys.features.seen import SeenConfig
from dubbo_recsys.interfaces.events import Action, ItemEvent, UserEvent

__all__ = [
    "ACTION_EFFECTS",
    "ActionEffect",
    "Delivery",
    "Position",
    "RealtimeConfig",
    "RealtimeConfigError",
    "Status",
    "TrendEntry",
    "item_of",
    "trend_entries",
    "user_batches",
]


class RealtimeConfigError(ValueError):
    """A realtime setting is out of range."""


class Status(enum.IntEnum):
    """The user script's answer per event (its integer values are the script's)."""

    NEW = 0
    REDELIVERED = 1
    DUPLICATE = 2


class Flag(enum.IntFlag):
    LAST_N_ADD = 1
    SEEN = 2
    LAST_N_REMOVE = 4


@dataclass(frozen=True, slots=True)
class ActionEffect:
    flags: Flag
    trend_weight: float


ACTION_EFFECTS: Mapping[Action, ActionEffect] = MappingProxyType(
    {
        Action.CLICK: ActionEffect(Flag.LAST_N_ADD | Flag.SEEN, 1.0),
        Action.PLAY: ActionEffect(Flag.LAST_N_ADD | Flag.SEEN, 1.0),
        Action.RATE: ActionEffect(Flag.LAST_N_ADD | Flag.SEEN, 1.0),
        Action.PURCHASE: ActionEffect(Flag.LAST_N_ADD | Flag.SEEN, 2.0),
        Action.EXPOSURE: ActionEffect(Flag.SEEN, 0.0),
        Action.DISLIKE: ActionEffect(Flag.SEEN | Flag.LAST_N_REMOVE, 0.0),
    }
)


@dataclass(frozen=True, slots=True)
class RealtimeConfig:
    """How the realtime state is kept; the consumer and the readers must agree on it."""

    last_n: int = 50  # the build's lastN length (offline NeighborsConfig.last_n)
    dedup_ids: int = 1000  # event ids remembered per user (a redelivery or a duplicate older than that counts again)
    user_ttl_seconds: int = 30 * 24 * 3600  # per-user realtime keys live this long after the user's last event
    bucket_seconds: int = 60  # trend bucket width
    trend_window_seconds: int = 3600  # trending reads (and late events may still enter) this far back
    future_skew_seconds: int = 300  # events dated further ahead of the consumer's clock are refused
    seen: SeenConfig = field(default_factory=SeenConfig)

    def __post_init__(self) -> None:
        for name in ("last_n", "dedup_ids", "user_ttl_seconds", "bucket_seconds", "trend_window_seconds"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise RealtimeConfigError(f"{name} must be a positive int, got {value!r}")
        if self.trend_window_seconds < self.bucket_seconds:
            raise RealtimeConfigError("trend_window_seconds must be at least one bucket")
        if isinstance(self.future_skew_seconds, bool) or not isinstance(self.future_skew_seconds, int):
            raise RealtimeConfigError(f"future_skew_seconds must be an int, got {self.future_skew_seconds!r}")

    @property
    def bloom(self) -> BloomSpec:
        return self.seen.spec

    def bucket_of(self, ts_ms: int) -> int:
        return ts_ms // (self.bucket_seconds * 1000)

    def buckets(self, now_ms: int) -> range:
        """The buckets trending reads at ``now_ms``: the current one and the window before it."""
        last = self.bucket_of(now_ms)
        return range(last - self.trend_window_seconds // self.bucket_seconds, last + 1)

    @property
    def bucket_ttl_seconds(self) -> int:
        return self.trend_window_seconds + 2 * self.bucket_seconds


class Position(NamedTuple):
    """Where the broker holds an event: Kafka ``(topic:partition, offset, 0)``, Redis Streams
    ``(stream key, ms, seq)`` of the entry id. Positions of one partition only grow. (Named tuples,
    like ``Delivery`` and ``TrendEntry``: one is made per event, and a tuple costs a fifth of a frozen
    dataclass to build.)"""

    partition: str
    offset: int
    sub: int = 0

    @property
    def token(self) -> str:
        return f"{self.partition}@{self.offset}-{self.sub}"


class Delivery(NamedTuple):
    position: Position
    event: UserEvent | ItemEvent


class TrendEntry(NamedTuple):
    bucket: int
    position: Position
    item_id: str
    weight: float


def user_batches(deliveries: Sequence[Delivery]) -> dict[str, list[int]]:
    """Positions in ``deliveries`` of the user events, grouped by user, each user's in delivery order
    (one script call per user)."""
    groups: dict[str, list[int]] = {}
    for index, delivery in enumerate(deliveries):
        event = delivery.event
        if type(event) is UserEvent:
            group = groups.get(event.user_id)
            if group is None:
                groups[event.user_id] = [index]
            else:
                group.append(index)
    return groups


# per action: its name, flags and whether it sets seen bits (the script's arguments, computed once)
_ACTION_ARGS = {
    action: (action.value, int(effect.flags), bool(effect.flags & Flag.SEEN))
    for action, effect in ACTION_EFFECTS.items()
}


def user_script_args(deliveries: Sequence[Delivery], spec: BloomSpec) -> list[str | int]:
    """The user script's per-event arguments: id, position token, action, item, ts, flags, bit count, bits."""
    args: list[str | int] = []
    positions = spec.positions
    for delivery in deliveries:
        event = delivery.event
        assert type(event) is UserEvent
        name, flags, sets_seen = _ACTION_ARGS[event.action]
        p = delivery.position
        token = f"{p.partition}@{p.offset}-{p.sub}"
        if sets_seen:
            bits = positions(event.item_id)
            args += (event.event_id, token, name, event.item_id, event.ts, flags, len(bits), *bits)
        else:
            args += (event.event_id, token, name, event.item_id, event.ts, flags, 0)
    return args


_TREND_WEIGHT = {action: effect.trend_weight for action, effect in ACTION_EFFECTS.items()}


def trend_entries(
    applied: Iterable[tuple[Delivery, Status]], config: RealtimeConfig, now_ms: int
) -> tuple[dict[int, list[TrendEntry]], int]:
    """Trend entries per bucket for the events the user script applied now or before
    (``NEW``/``REDELIVERED``), and how many positive events fell outside the window (late).

    ``applied`` must be in delivery order: a source delivers each partition in position order,
    which is the order the trend script needs (it keeps, per partition, the last position counted)."""
    first = config.buckets(now_ms).start
    width = config.bucket_seconds * 1000
    out: dict[int, list[TrendEntry]] = {}
    late = 0
    for delivery, status in applied:
        event = delivery.event
        if status is Status.DUPLICATE or type(event) is not UserEvent:
            continue
        weight = _TREND_WEIGHT[event.action]
        if weight <= 0:
            continue
        bucket = event.ts // width
        if bucket < first:
            late += 1
            continue
        entries = out.get(bucket)
        if entries is None:
            entries = out[bucket] = []
        entries.append(TrendEntry(bucket, delivery.position, event.item_id, weight))
    return out, late


def item_of(event: ItemEvent) -> ItemFeatures:
    """The ``ItemFeatures`` an upsert describes (a removal has only its id)."""
    features = event.features
    return ItemFeatures(
        item_id=event.item_id,
        category=str(features.get("category", "")),
        categories=tuple(features.get("categories", ())),
        author=str(features.get("author", "")),
        region=str(features.get("region", "")),
        popularity=float(features.get("popularity", 0.0)),
        attrs=dict(features.get("attrs", {})),
    )
