"""Create the realtime topics on a Kafka cluster (``consume --create-topics N``, the tests, the benchmarks).

Operators usually create topics with their own tooling (``realtime/README.md`` gives the
``kafka-topics.sh`` lines); this is the same through the admin API, idempotent: a topic that
exists is left as it is, whatever its partition count.
"""

from __future__ import annotations

from dubbo_recsys.realtime.source import EventsConfig

__all__ = ["create_topics"]


def create_topics(events: EventsConfig, partitions: int, replication: int = 1, timeout: float = 30.0) -> list[str]:
    """Create the users, items and dead-letter topics that are missing; returns those created."""
    from confluent_kafka import KafkaError, KafkaException
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": events.address})
    wanted = [events.users_topic, events.items_topic, events.dlq_topic]
    futures = admin.create_topics(
        [NewTopic(name, num_partitions=partitions, replication_factor=replication) for name in wanted],
        request_timeout=timeout,
    )
    created = []
    for name, future in futures.items():
        try:
            future.result(timeout)
            created.append(name)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise
    return created
