# The Java side of import-java's tests (sourced by tests/run_all.sh, after 20-java-sample.sh, whose build
# resolved every plugin and dependency used here, so nothing is fetched): tests/provider/javaapi/java's
# orders contract (orders-api, the jar import-java reads) and its unmodified Dubbo 3.3 consumer, compiled,
# tests not run (they need the Python provider the test starts; the tests run Maven offline).
# Exports JAVAAPI_CONTRACT_JAR. Measured: 6-8 s.
_java_api_t0=$SECONDS
mvn -B -q -Dstyle.color=never -f "$REPO_ROOT/tests/provider/javaapi/java/pom.xml" package -DskipTests
JAVAAPI_CONTRACT_JAR="$(ls -t "$REPO_ROOT"/tests/provider/javaapi/java/orders-api/target/orders-api-*.jar | head -n 1)"
export JAVAAPI_CONTRACT_JAR
echo "orders contract built in $((SECONDS - _java_api_t0)) s (JAVAAPI_CONTRACT_JAR=$JAVAAPI_CONTRACT_JAR)"
