#!/usr/bin/env bash
# Build, start and stop the test Kafka broker (Apache Kafka in KRaft mode: one process that is both
# broker and controller; no ZooKeeper, no Docker).
#
#   kafka.sh build                    resolve org.apache.kafka:kafka_2.13 from Maven Central (target/classpath.txt)
#   kafka.sh start PORT CPORT HOME    format HOME/data for a fresh cluster and start in the background on
#                                     127.0.0.1: clients on PORT, the KRaft controller on CPORT; config,
#                                     data, the log and the pid file live in HOME
#   kafka.sh wait PORT [SECONDS]      wait until the broker accepts connections
#   kafka.sh stop HOME                stop the broker started with that HOME (by its pid file)
#
# Used by tests/ci/35-kafka.sh (one broker per test run) and by bench/realtime.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

cmd="${1:-}"
case "$cmd" in
  build)
    mvn -q -B -f "$here/pom.xml" compile
    ;;
  start)
    port="$2"; cport="$3"; home="$4"
    [[ -f "$here/target/classpath.txt" ]] || { echo "kafka.sh: run 'kafka.sh build' first" >&2; exit 2; }
    mkdir -p "$home"
    # One node, replication factor 1 everywhere; no initial rebalance delay, so a test's consumer group
    # forms at once; topics are created by their users (auto creation off: a typo must not make a topic).
    cat >"$home/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$home/data
num.partitions=4
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=8
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=4
log.retention.hours=24
PROPS
    cp="$(cat "$here/target/classpath.txt")"
    jvm=(java -Xms128m -Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Dlog4j2.level=WARN -cp "$cp")
    "${jvm[@]}" kafka.tools.StorageTool format --standalone --ignore-formatted \
      -t "$("${jvm[@]}" kafka.tools.StorageTool random-uuid)" -c "$home/server.properties" >"$home/format.out" 2>&1 \
      || { cat "$home/format.out" >&2; exit 1; }
    (cd "$home" && exec "${jvm[@]}" kafka.Kafka "$home/server.properties" >"$home/server.out" 2>&1 </dev/null) &
    echo $! >"$home/kafka.pid"
    ;;
  wait)
    port="$2"; limit="${3:-120}"
    deadline=$((SECONDS + limit))
    until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
      if ((SECONDS >= deadline)); then
        echo "kafka.sh: no Kafka on 127.0.0.1:$port after ${limit}s" >&2
        exit 1
      fi
      sleep 0.2
    done
    ;;
  stop)
    home="$2"
    if [[ -f "$home/kafka.pid" ]]; then
      pid="$(cat "$home/kafka.pid")"
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 75); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
      kill -9 "$pid" 2>/dev/null || true
      rm -f "$home/kafka.pid"
    fi
    ;;
  *)
    echo "usage: kafka.sh build | start PORT CPORT HOME | wait PORT [SECONDS] | stop HOME" >&2
    exit 2
    ;;
esac
