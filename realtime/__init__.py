"""Realtime events: keep lastN, the seen filter, counters, trending and the item catalog fresh.

``dubbo-recsys consume`` (``realtime.command``) or ``serve --consume`` runs a consumer
group member that applies user and item events (``interfaces.events``) from Kafka
or Redis Streams to the feature store's Redis; ``features.realtime`` and
``recall.live`` are the read side. ``realtime/README.md`` is the operator's guide.

::

    effects    what an event does, no I/O: statuses, trend entries, RealtimeConfig
    sink       RedisEventSink: the Lua scripts that apply a batch, one slot each
    source     EventSource protocol, Record, DeadLetter, EventsConfig (the --events URL)
    kafka      KafkaSource (confluent-kafka)           streams  RedisStreamSource (partitions + leases)
    consumer   EventConsumer (the loop), ConsumerStats, StatsPublisher
    runner     ConsumerRunner: one consumer assembled  topics   create the Kafka topics
    consume_command   the ``consume`` command line
"""
