"""Freshness: from a producer's send to the next dubbo:// ``recommend`` that reflects the event, under load.

    python bench/realtime/bench_freshness.py [--artifacts DIR] [--probes 40] [--rate 200] [--seconds 60]

What runs, all on 127.0.0.1: the Kafka broker (``KAFKA_BOOTSTRAP`` or one of our own), a private
``redis-server`` (the realtime state; features stay embedded), one ``dubbo-recsys consume`` process,
and ``dubbo-recsys serve --artifacts DIR --realtime REDIS`` with two scenes: ``home`` (the default
funnel, what the load asks for) and ``probe`` (recall only, so a probe sees what recall retrieves).
bench/rpc/java's ``LoadGenerator`` (a Dubbo 3.3 consumer) calls ``recommend`` for users 1..943 at
``--rate`` requests/s in an open loop for the whole run, while this script probes, one event at a
time, over its own dubbo:// connection:

- **seen**: user u's current first item x; send a click on x; time until ``recommend(u)`` no longer
  holds x (the seen filter);
- **lastN**: an item whose item-CF neighbour y is not in u's recall; send a play on it; time until the
  probe scene returns y recalled by item-CF (lastN changed what recall reads);
- **new item**: send an item upsert of a new id; time until the probe scene returns it for the user
  closest to it (the cold-start channel; whether u2i also retrieved it, from the live Faiss index, is
  counted beside).

Each probe polls every 20 ms, so its figure includes one request's latency and up to 20 ms of polling:
the reference measured in the same run is the probe's own request latency (what freshness can never
go below). Bounded: ``--probes`` per kind, 15 s per probe at most, the load stops after ``--seconds``.

Targets: p99 <= 1 s and p50 <= 200 ms, while the provider serves 200 req/s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(REPO_ROOT / "bench" / "rpc"))

from peers import kafka_broker, load_average  # noqa: E402 - imported after the sys.path lines above
from run_bench import LOOPBACK, QUIET, build_java  # noqa: E402 - after the sys.path lines (bench/rpc/run_bench.py)

from dubbo_recsys.interfaces.events import Action, ItemEvent, ItemOp, UserEvent, encode_event  # noqa: E402 - imported after the sys.path lines above
from dubbo_recsys.interfaces.recommend import RecommendRequest  # noqa: E402 - imported after the sys.path lines above
from dubbo_recsys.provider.client import DubboClient  # noqa: E402 - imported after the sys.path lines above
from tests.funnel.peers import RedisServer, funnel_command, recommend  # noqa: E402 - imported after the sys.path lines above
from tests.java_sample.provider_process import started  # noqa: E402 - imported after the sys.path lines above
from tests.realtime.peers import consume_command, consumer_process, topics_on  # noqa: E402 - imported after the sys.path lines above
from tests.realtime.test_serve import PROBE, closest_user  # noqa: E402 - imported after the sys.path lines above

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
POLL_SECONDS = 0.02
PROBE_LIMIT = 15.0


class Probe:
    """Sends one event and polls until an answer reflects it; records seconds per kind."""

    def __init__(self, client: DubboClient, producer: object, topics: object) -> None:
        self.client, self.producer, self.topics = client, producer, topics
        self.seconds: dict[str, list[float]] = {"seen": [], "lastN": [], "new item": []}
        self.request_ms: list[float] = []
        self.missed: dict[str, int] = dict.fromkeys(self.seconds, 0)
        self.degraded = 0  # answers not from the full pipeline (the light one reads no realtime state): not counted
        self.u2i_too = 0

    async def answer(self, user: str, scene: str = "", count: int = 10) -> dict[str, str] | None:
        """The answer's items and their channels; None for an answer from the light pipeline or the
        popular list (the deadline passed on the loaded machine): it says nothing about freshness."""
        began = time.perf_counter()
        response = await recommend(self.client, RecommendRequest(userId=user, scene=scene, count=count))
        self.request_ms.append((time.perf_counter() - began) * 1000)
        if response.pipeline != "full":
            self.degraded += 1
            return None
        return {item.itemId: item.channel for item in response.items}

    async def full_answer(self, user: str, scene: str = "", count: int = 10) -> dict[str, str]:
        for _ in range(50):
            found = await self.answer(user, scene, count)
            if found is not None:
                return found
        raise RuntimeError(f"no full-pipeline answer for {user} in 50 calls")

    def send(self, topic: str, key: str, value: bytes) -> float:
        sent = time.perf_counter()
        self.producer.produce(topic, key=key.encode(), value=value)
        self.producer.poll(0)
        return sent

    async def until(self, kind: str, sent: float, check: object) -> bool:
        while time.perf_counter() - sent < PROBE_LIMIT:
            if await check():
                self.seconds[kind].append(time.perf_counter() - sent)
                return True
            await asyncio.sleep(POLL_SECONDS)
        self.missed[kind] += 1
        return False

    async def seen(self, user: str) -> None:
        first = next(iter(await self.full_answer(user)))
        event = UserEvent(uuid.uuid4().hex, user, first, Action.CLICK, int(time.time() * 1000))
        sent = self.send(self.topics.events.users_topic, user, encode_event(event))

        async def gone() -> bool:
            found = await self.answer(user)
            return found is not None and first not in found

        await self.until("seen", sent, gone)

    async def last_n(self, user: str, item_ids: Sequence[str], itemcf: object) -> None:
        recalled = await self.full_answer(user, "probe", 1000)
        far = next(
            (
                row
                for row in range(len(item_ids))
                if itemcf[row][0] >= 0 and item_ids[itemcf[row][0]] not in recalled and item_ids[row] not in recalled
            ),
            None,
        )
        if far is None:
            return
        neighbour = item_ids[itemcf[far][0]]
        event = UserEvent(uuid.uuid4().hex, user, item_ids[far], Action.PLAY, int(time.time() * 1000))
        sent = self.send(self.topics.events.users_topic, user, encode_event(event))

        async def follows() -> bool:
            found = await self.answer(user, "probe", 1000)
            return found is not None and "itemcf" in found.get(neighbour, "")

        await self.until("lastN", sent, follows)

    async def new_item(self, fan: str, n: int) -> None:
        item = f"bench-new-{uuid.uuid4().hex[:8]}-{n}"
        event = ItemEvent(
            uuid.uuid4().hex,
            item,
            ItemOp.UPSERT,
            int(time.time() * 1000),
            {"category": "Horror", "categories": ["Horror", "Thriller"]},
        )
        sent = self.send(self.topics.events.items_topic, item, encode_event(event))
        channels: dict[str, str] = {}

        async def retrievable() -> bool:
            found = await self.answer(fan, "probe", 1000)
            channels.update(found or {})
            return "new_items" in channels.get(item, "")

        if await self.until("new item", sent, retrievable) and "u2i" in channels.get(item, ""):
            self.u2i_too += 1
        # removed again, so every probe's item competes with the build's items, not with earlier probes' items
        removal = ItemEvent(uuid.uuid4().hex, item, ItemOp.REMOVE, int(time.time() * 1000))
        self.send(self.topics.events.items_topic, item, encode_event(removal))


def start_load(url: str, classpath: str, rate: float, seconds: float) -> subprocess.Popen[str]:
    command = [
        "java",
        LOOPBACK,
        QUIET,
        "-cp",
        classpath,
        "org.dubborecsys.bench.LoadGenerator",
        "--target",
        f"python={url}@2",
        "--call",
        "recommend",
        "--users",
        "943",
        "--threads",
        "64",
        "--rounds",
        "1",
        "--requests",
        str(int(rate * seconds * 2)),
        "--seconds",
        str(seconds),
        "--warmup-seconds",
        "0",
        "--initial-warmup-seconds",
        "3",
        "--rate",
        str(rate),
    ]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def percentile(values: Sequence[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p * len(ordered)) - 1))] if ordered else float("nan")


async def run_probes(
    host: str, port: int, topics: object, bootstrap: str, artifacts: Path, probes: int, until: float
) -> Probe:
    """``probes`` rounds of the three probes, stopping early at ``until`` (monotonic: the load's end)."""
    import numpy as np
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0, "enable.idempotence": True})
    itemcf = np.load(artifacts / "neighbors/itemcf.npz")["index"]
    item_ids = (artifacts / "ids/items.txt").read_text().split()
    users = (artifacts / "ids/users.txt").read_text().split()
    fan = closest_user(artifacts, ("Horror", "Thriller"))
    for topic in (topics.events.users_topic, topics.events.items_topic):
        producer.produce(topic, key=b"warm-up", value=b"{}")  # metadata and connections before the first probe
    producer.flush(30)  # (the consumer dead-letters these two: not events)
    async with await DubboClient.connect(host, port) as client:
        probe = Probe(client, producer, topics)
        await asyncio.sleep(5)  # the load generator's own warm-up
        for n in range(probes):
            if time.monotonic() > until:
                break
            await probe.seen(users[(37 * n) % len(users)])
            await probe.last_n(users[(37 * n + 11) % len(users)], item_ids, itemcf)
            await probe.new_item(fan, n)
    producer.flush(10)
    return probe


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--artifacts", type=Path, default=os.environ.get("ARTIFACTS_ML100K"))
    parser.add_argument("--probes", type=int, default=40)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=120.0, help="the load's length (max 120)")
    args = parser.parse_args(argv)
    if args.artifacts is None or not 1 <= args.probes <= 500 or not 10 < args.seconds <= 120:
        parser.error("--artifacts DIR (or ARTIFACTS_ML100K), --probes 1..500, --seconds 10..120")
    artifacts = Path(args.artifacts)
    classpath = build_java()
    loads = [load_average()]
    with kafka_broker() as (bootstrap, _), tempfile.TemporaryDirectory(prefix="freshness-") as work:
        redis = RedisServer()
        redis.start()
        try:
            prefix = f"fresh-{uuid.uuid4().hex[:6]}"
            topics = topics_on("kafka", bootstrap, prefix, partitions=4)
            scenes = Path(work) / "scenes"
            scenes.mkdir()
            (scenes / "home.json").write_text(json.dumps({"dataId": "home", "content": {"version": "1"}}))
            (scenes / "probe.json").write_text(json.dumps(PROBE))
            serve = funnel_command(
                artifacts, "--realtime", redis.url, "--redis-prefix", prefix, "--scenes", str(scenes)
            )
            consume = consume_command(topics.url, redis.url, prefix)
            with consumer_process(consume), started(serve, Path(work) / "serve.log", ready_timeout=180) as provider:
                load = start_load(provider.url, classpath, args.rate, args.seconds)
                timer = threading.Timer(args.seconds + 120, load.kill)
                timer.start()
                try:
                    until = time.monotonic() + args.seconds - 3  # probe only while the load runs
                    probe = asyncio.run(
                        run_probes(provider.host, provider.port, topics, bootstrap, artifacts, args.probes, until)
                    )
                    loads.append(load_average())
                    out, err = load.communicate()
                finally:
                    timer.cancel()
                result = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
                if load.returncode != 0 or not result:
                    sys.exit(f"load generator failed:\n{out[-2000:]}{err[-2000:]}")
        finally:
            redis.close()
    write_results(probe, result[0], args, loads, argv if argv is not None else sys.argv[1:])
    return 0


def write_results(probe: Probe, load: dict, args: argparse.Namespace, loads: list[str], argv: Sequence[str]) -> None:
    rows = [
        "| what the next answer reflects | probes | p50 ms | p99 ms | max ms | not within 15 s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for kind, values in probe.seconds.items():
        ms = [v * 1000 for v in values]
        rows.append(
            f"| {kind} | {len(ms)} | {statistics.median(ms):.0f} | {percentile(ms, 0.99):.0f} "
            f"| {max(ms):.0f} | {probe.missed[kind]} |"
            if ms
            else f"| {kind} | 0 | - | - | - | {probe.missed[kind]} |"
        )
    requests = probe.request_ms
    section = "\n".join(
        [
            "## Freshness: producer send -> the next dubbo:// recommend reflecting it",
            "",
            f"`python bench/realtime/bench_freshness.py {' '.join(argv)}`".rstrip()
            + f"; load average before and after: {' -> '.join(loads)}. Targets: p99 <= 1000 ms, p50 <= 200 ms.",
            "",
            *rows,
            "",
            f"New items also retrieved by u2i (the live Faiss index) in {probe.u2i_too} of "
            f"{len(probe.seconds['new item'])} probes. Reference in the same run: the probe's own `recommend` calls "
            f"took p50 {statistics.median(requests):.1f} ms, p99 {percentile(requests, 0.99):.1f} ms ({len(requests)} "
            f"calls, {probe.degraded} answered by the light pipeline and not counted; a probe answers within one "
            f"poll of 20 ms plus one call). Background load (LoadGenerator, open loop at {args.rate:.0f} req/s, users "
            f"1..943, scene home): {load['throughput']:.0f} req/s answered, p50 {load['p50_us'] / 1000:.1f} ms, "
            f"p99 {load['p99_us'] / 1000:.1f} ms, {load['errors']} errors, {load['degraded']} degraded.",
            "",
        ]
    )
    from bench_throughput import _replace_section  # one writer of RESULTS.md sections

    _replace_section(section, "## Freshness")


if __name__ == "__main__":
    sys.exit(main())
