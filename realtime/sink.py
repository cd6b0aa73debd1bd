"""Apply a batch of events to Redis: three Lua scripts, one slot each, two round trips per batch.

``RedisEventSink.apply(deliveries)`` runs (see ``realtime.effects`` for what and why):

1. one pipeline of user scripts, one call per user (keys ``{u:<id>}``), answering a
   ``Status`` per event;
2. one pipeline of trend scripts (one call per bucket, keys ``{trend}``) for the
   events of step 1 that were not duplicates, and the live-items script (keys
   ``{live}``) for the batch's item events.

Pipelines are non-transactional and no command names keys of two slots, so the
same calls work on a Redis Cluster; the scripts go through ``features.redis.execute_writes``
(``EVALSHA``, loaded again on a master that lacks them: a fresh node or a promoted replica;
``WAIT`` for the replicas with ``?wait_replicas=N`` in the URL). Every script is idempotent on its own
(event ids, position marks, item timestamps), so a batch that fails half way is
simply applied again: the consumer retries it until Redis takes it, and only then
commits the broker offsets.

Keys written (``features.codec.KeyLayout``; TTLs in ``RealtimeConfig``)::

    rt:{u:<id>}:last    ZSET item -> ts + tick  lastN, the N newest by ts, events of one millisecond
                                                in the order they were applied (see USER_SCRIPT)
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
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from dubbo_recsys.features.codec import KeyLayout
from dubbo_recsys.features.realtime import encode_live_item
from dubbo_recsys.features.redis import WriteAck, execute_writes
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
# One user's events per script call at most: 200 x (7 + 7 bits) arguments stay under Lua's unpack limit
# (8,000), and one call never blocks Redis for long.
MAX_EVENTS_PER_CALL = 200
_STATUS = {int(s): s for s in Status}

# KEYS: last, cnt, ev, evpos, seen. ARGV: last_n, dedup_ids, user_ttl, seen_ttl (0 = none), then per event:
# id, position, action, item, ts, flags, nbits, bit positions... Returns one status per event.
# The script's cost is per Redis call (~1-5 us each), so it makes a fixed number of them per user, whatever
# the number of events: one HMGET for every dedup lookup, one ZADD for all lastN items, one write per
# counter, dedup record and seen bit set. lastN is trimmed after each event when the batch holds a dislike
# (a removal between two adds decides what the trim keeps); without one, one trim at the end keeps the
# same N items (scores only grow, so an item trimmed early is never among the N newest at the end).
# A lastN score is the event's ts (ms) plus the user's apply count modulo 2048, over 2048: events of one
# millisecond keep the order they were applied in (the log's order, as the build keeps it; a ZSET would
# order them by item id), and floor(score) stays the ts. 1/2048 is exact in a double up to ts = 2^42 ms
# (year 2109); the score is written with 17 digits, as Lua's own conversion keeps only 14.
USER_SCRIPT = """
local last_n, keep = tonumber(ARGV[1]), tonumber(ARGV[2])
local user_ttl, seen_ttl = tonumber(ARGV[3]), tonumber(ARGV[4])
local ids, starts, removes = {}, {}, false
local i = 5
while i <= #ARGV do
  ids[#ids + 1] = ARGV[i]
  starts[#starts + 1] = i
  if math.floor(tonumber(ARGV[i + 5]) / 4) % 2 == 1 then removes = true end
  i = i + 7 + tonumber(ARGV[i + 6])
end
if #ids == 0 then return {} end
local known = redis.call('HMGET', KEYS[4], unpack(ids))
local out, applied, positions, order, bits, actions, adds = {}, {}, {}, {}, {}, {}, {}
local n, base, max_ts, max_ts_text = 0, nil, -1, nil
local function trim()
  local size = redis.call('ZCARD', KEYS[1])
  if size > last_n then redis.call('ZREMRANGEBYRANK', KEYS[1], 0, size - last_n - 1) end
end
for k = 1, #ids do
  local j, id = starts[k], ids[k]
  local pos = ARGV[j + 1]
  local seen_before = applied[id] or known[k]
  if seen_before then
    if seen_before == pos then out[k] = 1 else out[k] = 2 end
  else
    local action, item, ts, flags = ARGV[j + 2], ARGV[j + 3], tonumber(ARGV[j + 4]), tonumber(ARGV[j + 5])
    if base == nil then base = tonumber(redis.call('HGET', KEYS[2], '_events') or '0') end
    n = n + 1
    applied[id] = pos
    positions[#positions + 1] = id
    positions[#positions + 1] = pos
    order[#order + 1] = base + n
    order[#order + 1] = id
    actions[action] = (actions[action] or 0) + 1
    if ts > max_ts then max_ts, max_ts_text = ts, ARGV[j + 4] end
    if flags % 2 == 1 then
      local score = string.format('%.17g', ts + ((base + n) % 2048) / 2048)
      if removes then
        redis.call('ZADD', KEYS[1], 'GT', score, item)
        trim()
      else
        adds[#adds + 1] = score
        adds[#adds + 1] = item
      end
    end
    if math.floor(flags / 4) % 2 == 1 then redis.call('ZREM', KEYS[1], item) end
    for b = 1, tonumber(ARGV[j + 6]) do
      bits[#bits + 1] = 'SET'
      bits[#bits + 1] = 'u1'
      bits[#bits + 1] = ARGV[j + 6 + b]
      bits[#bits + 1] = 1
    end
    out[k] = 0
  end
end
if n > 0 then
  if #adds > 0 then
    redis.call('ZADD', KEYS[1], 'GT', unpack(adds))
    trim()
  end
  redis.call('HSET', KEYS[4], unpack(positions))
  redis.call('ZADD', KEYS[3], unpack(order))
  redis.call('HINCRBY', KEYS[2], '_events', n)
  for action, count in pairs(actions) do redis.call('HINCRBY', KEYS[2], action, count) end
  if max_ts > tonumber(redis.call('HGET', KEYS[2], 'last_ts') or '0') then
    redis.call('HSET', KEYS[2], 'last_ts', max_ts_text)
  end
  if #bits > 0 then
    redis.call('BITFIELD', KEYS[5], unpack(bits))
    if seen_ttl > 0 then redis.call('EXPIRE', KEYS[5], seen_ttl) end
  end
  local size = redis.call('ZCARD', KEYS[3])
  if size > keep then
    local old = redis.call('ZRANGE', KEYS[3], 0, size - keep - 1)
    redis.call('ZREMRANGEBYRANK', KEYS[3], 0, size - keep - 1)
    for j = 1, #old, 500 do redis.call('HDEL', KEYS[4], unpack(old, j, math.min(j + 499, #old))) end
  end
  for k = 1, 4 do redis.call('EXPIRE', KEYS[k], user_ttl) end
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
    """What one batch did; ``statuses`` holds the batch's user events with their status, in delivery order."""

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
        *,
        ack: WriteAck | None = None,
    ) -> None:
        self._client = client
        self._layout = layout
        self._config = config
        self._clock = clock
        self._ack = ack  # RedisConfig.write_ack: each batch waits for the replicas when the URL asks
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
        commands: list[tuple[Any, ...]] = []
        for bucket, entries in by_bucket.items():
            args: list[str | int | float] = [ttl]
            for entry in entries:
                p = entry.position
                args += (p.partition, p.offset, p.sub, entry.item_id, entry.weight)
            commands.append(("EVAL", TREND_SCRIPT, 2, layout.trend_bucket(bucket), layout.trend_marks(bucket), *args))
        if items:
            live = [layout.live(part) for part in ("items", "ts", "log", "seq")]
            commands.append(("EVAL", LIVE_SCRIPT, len(live), *live, *_live_args(items)))
        answers = await execute_writes(self._client, commands, self._ack, "EVAL (trend, live items)")
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
        calls: list[list[int]] = []
        commands: list[tuple[Any, ...]] = []
        for user_id, indexes in groups.items():
            keys = [layout.realtime_user(user_id, part) for part in ("last", "cnt", "ev", "evpos")]
            keys.append(layout.seen(user_id, spec.bits, spec.hashes))
            for start in range(0, len(indexes), MAX_EVENTS_PER_CALL):  # bounded script arguments
                chunk = indexes[start : start + MAX_EVENTS_PER_CALL]
                batch = [deliveries[i] for i in chunk]
                commands.append(("EVAL", USER_SCRIPT, len(keys), *keys, *head, *user_script_args(batch, spec)))
                calls.append(chunk)
        answers = await execute_writes(self._client, commands, self._ack, "EVAL (users)")
        statuses: list[Status | None] = [None] * len(deliveries)
        for indexes, answer in zip(calls, answers, strict=True):
            for index, raw in zip(indexes, answer, strict=True):
                statuses[index] = _STATUS[raw]
        report.statuses = [(d, s) for d, s in zip(deliveries, statuses, strict=True) if s is not None]  # in order
        counts = Counter(statuses)
        report.new, report.redelivered = counts[Status.NEW], counts[Status.REDELIVERED]
        report.duplicates = counts[Status.DUPLICATE]


def _live_args(items: Sequence[ItemEvent]) -> list[str | int | bytes]:
    """Per item event: id, ts, packed value; the last event of an item in the batch wins ties by order."""
    args: list[str | int | bytes] = []
    for event in items:
        removed = event.op is ItemOp.REMOVE
        args += (event.item_id, event.ts, encode_live_item(item_of(event), event.ts, removed))
    return args
