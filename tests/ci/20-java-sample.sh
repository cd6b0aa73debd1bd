# The Java consumers (sourced by tests/run_all.sh): resolve java-client-sample's Maven
# dependencies (Dubbo 3.3 and 2.7 sets, JUnit, surefire's JUnit provider) and compile it
# once, online, so tests/java_sample can run `mvn -o` against providers it starts.
# Running only the provider-free "contract" tests here is what makes Maven fetch the
# surefire provider jars too. Idempotent: a rerun recompiles only what changed. The build
# includes examples/catalog/java (a module of java-client-sample's pom: the catalog example's
# Java contract and its consumer, run by tests/examples; +1 s to this step).
# Exports JAVA_SAMPLE_DIR. Measured: 54 s with an empty ~/.m2 (97 MB fetched), 15-20 s warm.
if ! command -v mvn >/dev/null 2>&1 || ! command -v javac >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends maven openjdk-17-jdk-headless >/dev/null
fi
_java_sample_t0=$SECONDS
mvn -B -q -Dstyle.color=never -f "$REPO_ROOT/java-client-sample/pom.xml" verify -Dgroups=contract
export JAVA_SAMPLE_DIR="$REPO_ROOT/java-client-sample"
echo "java-client-sample built in $((SECONDS - _java_sample_t0)) s (JAVA_SAMPLE_DIR=$JAVA_SAMPLE_DIR)"
