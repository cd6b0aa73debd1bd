"""A reproducible stream of events with duplicates and malformed records, and what applying it must give.

The expected state is computed here from first principles (a dict per user, a dict per bucket),
never by the code under test: counters per user and action over distinct event ids, each
user's lastN (the ``last_n`` newest items by time), the trending weight per bucket and item.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass, field

from dubbo_recsys.interfaces.events import Action, UserEvent, encode_event
from dubbo_recsys.realtime.effects import ACTION_EFFECTS, Flag, RealtimeConfig


@dataclass
class Workload:
    records: list[tuple[bytes, bytes]]  # (key, value) in send order
    counters: dict[str, Counter[str]] = field(default_factory=dict)  # user -> action -> count
    last_n: dict[str, list[str]] = field(default_factory=dict)  # user -> items, newest first
    trend: dict[int, dict[str, float]] = field(default_factory=dict)  # bucket -> item -> weight
    distinct: int = 0  # distinct valid user events
    malformed: int = 0

    @property
    def total_trend(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for items in self.trend.values():
            total.update(items)
        return total


def make_workload(
    *,
    seed: int,
    events: int,
    users: int,
    items: int,
    now_ms: int,
    config: RealtimeConfig,
    duplicate_rate: float = 0.05,
    malformed_rate: float = 0.01,
    spread_ms: int = 300_000,
) -> Workload:
    rng = random.Random(seed)
    actions = [Action.CLICK, Action.PLAY, Action.RATE, Action.PURCHASE, Action.EXPOSURE, Action.DISLIKE]
    weights = [40, 15, 10, 5, 25, 5]
    work = Workload(records=[])
    sent: list[UserEvent] = []
    times = rng.sample(range(now_ms - spread_ms, now_ms), events)  # distinct times: no ties in lastN
    newest: dict[str, dict[str, int]] = {}
    for n in range(events):
        if sent and rng.random() < duplicate_rate:  # the producer sends an earlier event again
            again = rng.choice(sent)
            work.records.append((again.user_id.encode(), encode_event(again)))
            continue
        if rng.random() < malformed_rate:
            user = f"u{rng.randrange(users)}"
            work.records.append((user.encode(), json.dumps({"eventId": f"bad-{n}", "userId": user}).encode()))
            work.malformed += 1
            continue
        event = UserEvent(
            f"ev-{seed}-{n}",
            f"u{rng.randrange(users)}",
            f"i{rng.randrange(items)}",
            rng.choices(actions, weights)[0],
            times[n],
            value=1.0,
        )
        sent.append(event)
        work.records.append((event.user_id.encode(), encode_event(event)))
    for event in sent:
        work.distinct += 1
        work.counters.setdefault(event.user_id, Counter())[event.action.value] += 1
        effect = ACTION_EFFECTS[event.action]
        if effect.trend_weight > 0:
            bucket = work.trend.setdefault(config.bucket_of(event.ts), {})
            bucket[event.item_id] = bucket.get(event.item_id, 0.0) + effect.trend_weight
    # lastN replays the events in send order: an add keeps the newest time of an item, a dislike removes it
    for event in sent:
        flags = ACTION_EFFECTS[event.action].flags
        mine = newest.setdefault(event.user_id, {})
        if flags & Flag.LAST_N_ADD:
            mine[event.item_id] = max(mine.get(event.item_id, 0), event.ts)
        if flags & Flag.LAST_N_REMOVE:
            mine.pop(event.item_id, None)
        if len(mine) > config.last_n:  # the script trims after each user's batch; trimming per event is the same
            for item, _ in sorted(mine.items(), key=lambda pair: pair[1])[: len(mine) - config.last_n]:
                del mine[item]
    for user, mine in newest.items():
        work.last_n[user] = [item for item, _ in sorted(mine.items(), key=lambda pair: -pair[1])]
    return work
