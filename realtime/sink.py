"""Apply a batch of events to Redis: three Lua scripts, one slot each, two round trips per batch.

``RedisEventSink.apply(deliveries)`` runs (see ``realtime.effects`` for what and why):

1. one pipeline of user scripts, one call per user (keys ``{u:<id>}``), answering a
   ``Status`` per event;
2. one pipeline of trend scripts (one call per bucket, keys ``{trend}``) for the
   events of step 1 that were not duplicates, and the live-items script (keys
   ``{live}``) for the batch's item events.

Pipelines are non-transactional and no command names keys of two slots, so the
same calls work on a Redis Cluster. Every script is idempotent on its own
(event ids, position marks, item timestamps), so a batch that fails half way is
simply applied again: the consumer retries it until Redis takes it, and only then
commits the broker offsets.

Keys written (``features.codec.KeyLayout``; TTLs in ``RealtimeConfig``)::

    rt:{u:<id>}:last    ZSET item -> ts         lastN, the N newest by ts
    rt:{u:<id>}:cnt     HASH action -> count    plus _events (applied) and last_ts
    rt:{u:<id>}:ev      ZSET event id -> n      the last dedup_ids event ids, in apply order
    rt:{u:<id>}:evpos   HASH event id -> position token
    seen:{m}x{k}:{u:<id>}                        the seen Bloom filter (features.redis reads it)
    rt:{trend}:b:<bucket>   ZSET item -> weight
    rt:{trend}:w:<bucket>   HASH partition -> last counted position
    rt:{live}:items / ts / log / seq             the live item catalog (features.realtime)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from dubbo_recsys.features.codec import KeyLayout
from dubbo_recsys.features.realtime import encode_live_item
from dubbo_recsys.features.redis import redis_errors
from dubbo_recsys.interfaces.events import ItemEvent, ItemOp
from dubbo_recsys.realtime.effects import (
    Delivery,
    RealtimeConfig,
    Status,
    item_of,
    trend_entries,
    user_batches,
    user_script_args,
)

__all__ = ["ApplyReport", "RedisEventSink"]

DEFAULT_CONFIG = RealtimeConfig()

# KEYS: last, cnt, ev, evpos, seen. ARGV: last_n, dedup_ids, user_ttl, seen_ttl (0 = none), then per event:
# id, position, action, item, ts, flags, nbits, bit positions... Returns one status per event.
USER_SCRIPT = """
local last_n, keep = tonumber(ARGV[1]), tonumber(ARGV[2])
local user_ttl, seen_ttl = tonumber(ARGV[3]), tonumber(ARGV[4])
local out, changed, seen_changed = {}, false, false
local i = 5
while i <= #ARGV do
  local id, pos, action, item = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  local ts, flags, nbits = tonumber(ARGV[i + 4]), tonumber(ARGV[i + 5]), tonumber(ARGV[i + 6])
  local known = redis.call('HGET', KEYS[4], id)
  if known then
    if known == pos then out[#out + 1] = 1 else out[#out + 1] = 2 end
  else
    redis.call('HSET', KEYS[4], id, pos)
    local n = redis.call('HINCRBY', KEYS[2], '_events', 1)
    redis.call('ZADD', KEYS[3], n, id)
    redis.call('HINCRBY', KEYS[2], action, 1)
    local last_ts = tonumber(redis.call('HGET', KEYS[2], 'last_ts') or '0')
    if ts > last_ts then redis.call('HSET', KEYS[2], 'last_ts', ARGV[i + 4]) end
    if flags % 2 == 1 then
      redis.call('ZADD', KEYS[1], 'GT', ts, item)
      local size = redis.call('ZCARD', KEYS[1])  -- trimmed per event: the result never depends on batching
      if size > last_n then redis.call('ZREMRANGEBYRANK', KEYS[1], 0, size - last_n - 1) end
    end
    if math.floor(flags / 4) % 2 == 1 then redis.call('ZREM', KEYS[1], item) end
    for b = 1, nbits do redis.call('SETBIT', KEYS[5], ARGV[i + 6 + b], 1) end
    if nbits > 0 then seen_changed = true end
    changed = true
    out[#out + 1] = 0
  end
  i = i + 7 + nbits
end
if changed then
  local ids = redis.call('ZCARD', KEYS[3])
  if ids > keep then
    local old = redis.call('ZRANGE', KEYS[3], 0, ids - keep - 1)
    redis.call('ZREMRANGEBYRANK', KEYS[3], 0, ids - keep - 1)
    for j = 1, #old, 500 do redis.call('HDEL', KEYS[4], unpack(old, j, math.min(j + 499, #old))) end
  end
  for k = 1, 4 do redis.call('EXPIRE', KEYS[k], user_ttl) end
  if seen_changed and seen_ttl > 0 then redis.call('EXPIRE', KEYS[5], seen_ttl) end
end
return out
"""

# KEYS: bucket zset, marks hash. ARGV: ttl, then per entry: partition, offset, sub, item, weight; a
# partition's entries in position order. Counts an entry only past the partition's mark; returns the count.
TREND_SCRIPT = """
local marks, counted = {}, 0
for i = 2, #ARGV, 5 do
  local p, o, s = ARGV[i], tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2])
  local m = marks[p]
  if m == nil then
    local raw = redis.call('HGET', KEYS[2], p)
    m = {-1, -1, nil}
    if raw then
      local a, b = string.match(raw, '^(%d+)-(%d+)$')
      m = {tonumber(a), tonumber(b), nil}
    end
  end
  if o > m[1] or (o == m[1] and s > m[2]) then
    redis.call('ZINCRBY', KEYS[1], ARGV[i + 4], ARGV[i + 3])
    m = {o, s, ARGV[i + 1] .. '-' .. ARGV[i + 2]}
    counted = counted + 1
  end
  marks[p] = m
end
for p, m in pairs(marks) do
  if m[3] then redis.call('HSET', KEYS[2], p, m[3]) end
end
if counted > 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
  redis.call('EXPIRE', KEYS[2], ARGV[1])
end
return counted
"""

# KEYS: items hash, ts hash, log zset, seq. ARGV: per item: id, ts, packed value. An item is replaced only by a
# newer ts (or the same ts with other content); each change gets the next seq in the log. Returns the changes.
LIVE_SCRIPT = """
local changed = 0
for i = 1, #ARGV, 3 do
  local id, ts = ARGV[i], tonumber(ARGV[i + 1])
  local current = tonumber(redis.call('HGET', KEYS[2], id) or '-1')
  if ts > current or (ts == current and redis.call('HGET', KEYS[1], id) ~= ARGV[i + 2]) then
    redis.call('HSET', KEYS[1], id, ARGV[i + 2])
    redis.call('HSET', KEYS[2], id, ARGV[i + 1])
    redis.call('ZADD', KEYS[3], redis.call('INCR', KEYS[4]), id)
    changed = changed + 1
  end
end
return changed
"""


@dataclass(slots=True)
class ApplyReport:
    """What one batch did; ``statuses`` is aligned with the user events of the batch, in order."""

    new: int = 0
    redelivered: int = 0
    duplicates: int = 0
    trend_counted: int = 0
    late: int = 0
    items_changed: int = 0
    items_upserted: int = 0
    items_removed: int = 0
    statuses: list[tuple[Delivery, Status]] = field(default_factory=list)


class RedisEventSink:
    """Writes batches of decoded events into the realtime keys of one prefix."""

    def __init__(
        self,
        client: Any,
        layout: KeyLayout,
        config: RealtimeConfig = DEFAULT_CONFIG,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self._layout = layout
        self._config = config
        self._clock = clock
        self._user = client.register_script(USER_SCRIPT)
        self._trend = client.register_script(TREND_SCRIPT)
        self._live = client.register_script(LIVE_SCRIPT)
        seen_ttl = config.seen.ttl_seconds
        self._user_head = [
            config.last_n,
            config.dedup_ids,
            config.user_ttl_seconds,
            0 if seen_ttl is None else max(1, round(seen_ttl)),
        ]

    @property
    def config(self) -> RealtimeConfig:
        return self._config

    async def apply(self, deliveries: Sequence[Delivery]) -> ApplyReport:
        """Apply a batch; raises ``RedisStoreError`` when Redis fails (nothing is committed then)."""
        report = ApplyReport()
        await self._apply_users(deliveries, report)
        now_ms = int(self._clock() * 1000)
        by_bucket, report.late = trend_entries(report.statuses, self._config, now_ms)
        items = [d.event for d in deliveries if isinstance(d.event, ItemEvent)]
        if not by_bucket and not items:
            return report
        layout, ttl = self._layout, self._config.bucket_ttl_seconds
        with redis_errors("EVALSHA (trend, live items)"):
            async with self._client.pipeline(transaction=False) as pipe:
                for bucket, entries in by_bucket.items():
                    args: list[str | int | float] = [ttl]
                    for entry in entries:
                        p = entry.position
                        args += (p.partition, p.offset, p.sub, entry.item_id, entry.weight)
                    await self._trend(
                        keys=[layout.trend_bucket(bucket), layout.trend_marks(bucket)], args=args, client=pipe
                    )
                if items:
                    await self._live(
                        keys=[layout.live(part) for part in ("items", "ts", "log", "seq")],
                        args=_live_args(items),
                        client=pipe,
                    )
                answers = await pipe.execute()
        report.trend_counted = sum(int(a) for a in answers[: len(by_bucket)])
        if items:
            report.items_changed = int(answers[-1])
            report.items_removed = sum(1 for e in items if e.op is ItemOp.REMOVE)
            report.items_upserted = len(items) - report.items_removed
        return report

    async def _apply_users(self, deliveries: Sequence[Delivery], report: ApplyReport) -> None:
        groups = user_batches(deliveries)
        if not groups:
            return
        layout, spec, head = self._layout, self._config.bloom, self._user_head
        with redis_errors("EVALSHA (users)"):
            async with self._client.pipeline(transaction=False) as pipe:
                for user_id, batch in groups.items():
                    keys = [layout.realtime_user(user_id, part) for part in ("last", "cnt", "ev", "evpos")]
                    keys.append(layout.seen(user_id, spec.bits, spec.hashes))
                    await self._user(keys=keys, args=[*head, *user_script_args(batch, spec)], client=pipe)
                answers = await pipe.execute()
        for batch, statuses in zip(groups.values(), answers, strict=True):
            for delivery, raw in zip(batch, statuses, strict=True):
                status = Status(int(raw))
                report.statuses.append((delivery, status))
                if status is Status.NEW:
                    report.new += 1
                elif status is Status.REDELIVERED:
                    report.redelivered += 1
                else:
                    report.duplicates += 1


def _live_args(items: Sequence[ItemEvent]) -> list[str | int | bytes]:
    """Per item event: id, ts, packed value; the last event of an item in the batch wins ties by order."""
    args: list[str | int | bytes] = []
    for event in items:
        removed = event.op is ItemOp.REMOVE
        args += (event.item_id, event.ts, encode_live_item(item_of(event), event.ts, removed))
    return args
