# A real Apache Kafka broker for the realtime tests (sourced by tests/run_all.sh).
#
# Kafka in KRaft mode (one process, broker and controller; no ZooKeeper, no Docker) from Maven Central's
# org.apache.kafka:kafka_2.13, resolved by tests/kafka-server/pom.xml and started by tests/kafka-server/kafka.sh
# on 127.0.0.1, on two free ports, with its log directory in a fresh temp dir. Started once per run and shared:
# each test makes topics and a consumer group of its own. Exports KAFKA_BOOTSTRAP (host:port) and
# KAFKA_LAUNCHER (for the benchmarks). The Java producer sample (java-client-sample/producer) is built by
# tests/ci/20-java-sample.sh with the rest of java-client-sample.
_kafka_t0=$SECONDS
python -m pip install --quiet -e ".[kafka,redis]"
bash tests/kafka-server/kafka.sh build

_kafka_port="$(python -c 'from tests.support import free_port; print(free_port())')"
_kafka_cport="$(python -c 'from tests.support import free_port; print(free_port())')"
_kafka_home="$(mktemp -d "$CI_WORK/kafka.XXXXXX")"
bash tests/kafka-server/kafka.sh start "$_kafka_port" "$_kafka_cport" "$_kafka_home"
on_exit "bash '$REPO_ROOT/tests/kafka-server/kafka.sh' stop '$_kafka_home'; rm -rf '$_kafka_home'"
bash tests/kafka-server/kafka.sh wait "$_kafka_port" 120 || { tail -50 "$_kafka_home/server.out"; false; }
export KAFKA_BOOTSTRAP="127.0.0.1:$_kafka_port"
export KAFKA_LAUNCHER="$REPO_ROOT/tests/kafka-server/kafka.sh"
echo "kafka ready in $((SECONDS - _kafka_t0)) s: $(basename "$(tr ':' '\n' <tests/kafka-server/target/classpath.txt | grep '/kafka_2.13-')" .jar) (KRaft) on $KAFKA_BOOTSTRAP"
