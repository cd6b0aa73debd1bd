"""The Java producer sample (java-client-sample/producer, kafka-clients) writes events the Python side accepts:
every record passes the JSON Schema and our decoder, and ``dubbo-recsys consume`` applies them."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from dubbo_recsys.features.realtime import RealtimeReader
from dubbo_recsys.interfaces.events import decode_item_event, decode_user_event
from tests.realtime.peers import consume_command, consumer_process, read_topic, topics_on, wait_for
from tests.support import require_env

pytestmark = [pytest.mark.kafka, pytest.mark.redis, pytest.mark.java]
SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "interfaces" / "events.schema.json").read_text())


def run_java_producer(sample: Path, *args: str) -> list[str]:
    producer = sample / "producer"
    classpath = f"{producer / 'target/classes'}:{(producer / 'target/classpath.txt').read_text().strip()}"
    done = subprocess.run(
        [
            "java",
            "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
            "-cp",
            classpath,
            "org.dubborecsys.producer.EventProducer",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return [line for line in done.stdout.splitlines() if line.startswith("sent ")]


@pytest.mark.asyncio
@pytest.mark.parametrize("redis_space", ["redis"], indirect=True)  # the producer's contract: one Redis shows it
async def test_events_from_the_java_producer_are_valid_and_applied(redis_space: Any) -> None:
    sample = Path(require_env("JAVA_SAMPLE_DIR"))
    bootstrap = require_env("KAFKA_BOOTSTRAP")
    topics = topics_on("kafka", bootstrap, redis_space.prefix, partitions=2)
    sent = run_java_producer(
        sample,
        "--bootstrap",
        bootstrap,
        "--users-topic",
        topics.events.users_topic,
        "--items-topic",
        topics.events.items_topic,
        "--user",
        'user "java"',
        "--clicks",
        "242,302,377",
        "--new-item",
        "java-9001:Comedy",
        "--remove-item",
        "50",
    )
    assert len(sent) == 5
    users = read_topic(bootstrap, topics.events.users_topic, 3)
    items = read_topic(bootstrap, topics.events.items_topic, 2)
    user_schema = Draft202012Validator({"$defs": SCHEMA["$defs"], "$ref": "#/$defs/userEvent"})
    item_schema = Draft202012Validator({"$defs": SCHEMA["$defs"], "$ref": "#/$defs/itemEvent"})
    for record in users:
        assert user_schema.is_valid(json.loads(record.value())) and record.key() == b'user "java"'
        assert decode_user_event(record.value()).scene == "home"
    decoded = [decode_item_event(record.value()) for record in items]
    assert all(item_schema.is_valid(json.loads(r.value())) for r in items)
    assert {(e.item_id, e.op.value) for e in decoded} == {("java-9001", "upsert"), ("50", "remove")}
    reader = RealtimeReader(redis_space.client, redis_space.layout)
    with consumer_process(consume_command(topics.url, redis_space.url, redis_space.prefix)):

        async def applied() -> bool:
            return (await reader.counters('user "java"')).get("click") == 3 and bool(
                (await reader.live_items_since(0))[0]
            )

        await wait_for(applied, 60, "the Java events applied")
    assert (await reader.recent_items(['user "java"']))[0] == ["377", "302", "242"]
    live = {item.item.item_id: item for item in (await reader.live_items_since(0))[0]}
    assert live["java-9001"].item.category == "Comedy" and live["java-9001"].item.attrs == {"source": 'java "sample"'}
    assert live["50"].removed
