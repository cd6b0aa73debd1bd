# The Java load generator of bench/rpc/java (a Dubbo 3.3 consumer; sourced by tests/run_all.sh), for the tests
# that put a provider under load from Java: tests/rollout (artifact swaps at 300 calls/s over dubbo://).
# Its Maven dependencies are java-client-sample's Dubbo 3.3 set (20-java-sample.sh fetched them), so this
# compiles offline when it can. Exports LOADGEN_CLASSPATH (the jar and its dependencies).
_loadgen_t0=$SECONDS
mvn -B -q -Dstyle.color=never -f "$REPO_ROOT/bench/rpc/java/pom.xml" -o package 2>/dev/null \
  || mvn -B -q -Dstyle.color=never -f "$REPO_ROOT/bench/rpc/java/pom.xml" package
export LOADGEN_CLASSPATH="$(ls "$REPO_ROOT"/bench/rpc/java/target/rpc-bench-*.jar):$(cat "$REPO_ROOT/bench/rpc/java/target/classpath.txt")"
echo "load generator built in $((SECONDS - _loadgen_t0)) s"
