#!/usr/bin/env bash
# Build, start and stop the test Nacos server (a real Nacos 3.x, standalone, embedded Derby).
#
#   nacos.sh build                     resolve the Nacos modules from Maven Central, compile the launcher
#   nacos.sh start PORT HOME [CONSOLE] start in the background on 127.0.0.1: HTTP PORT, gRPC PORT+1000,
#                                      cluster gRPC PORT+1001, JRaft PORT-1000 (and the web console on
#                                      CONSOLE if given); data, logs and the pid file live in HOME
#   nacos.sh wait PORT [SECONDS]       wait until the HTTP Open API and the gRPC port answer
#   nacos.sh stop HOME                 stop the server started with that HOME (by its pid file)
#
# NACOS_AUTH=1 nacos.sh start ...      the same with authentication on (nacos.core.auth.enabled=true, the
#                                      default "nacos" auth system): a fresh token secret key (base64 of 32
#                                      random bytes) and server identity pair per start, written to
#                                      HOME/conf/application.properties (mode 600) rather than the command line. Nacos 3
#                                      has no default user: the caller creates the admin with
#                                      POST /nacos/v3/auth/user/admin (see tests/registry/auth.py).
#                                      It also writes Tomcat's access log (request lines with their query
#                                      strings, unbuffered) to HOME/logs/access_log.*.log.
#
# Used by tests/ci/30-nacos.sh and by the registry tests that restart a server of their own.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

cmd="${1:-}"
case "$cmd" in
  build)
    mvn -q -B -f "$here/pom.xml" compile
    ;;
  start)
    port="$2"; home="$3"; console="${4:-}"
    [[ -f "$here/target/classpath.txt" ]] || { echo "nacos.sh: run 'nacos.sh build' first" >&2; exit 2; }
    mkdir -p "$home"
    deployment=server
    extra=()
    if [[ -n "$console" ]]; then
      deployment=merged
      # The console's handlers need the AI module, which the plain test server leaves off.
      extra+=("-Dnacos.console.port=$console" "-Dnacos.extension.ai.enabled=true")
    fi
    if [[ "${NACOS_AUTH:-0}" == 1 ]]; then
      # Nacos and Spring both read application.properties from the directory named here, over the
      # classpath one; a file keeps the secrets off the command line (ps).
      mkdir -p "$home/conf"
      (umask 077 && {
        echo "nacos.core.auth.enabled=true"
        echo "nacos.core.auth.admin.enabled=true"
        echo "nacos.core.auth.console.enabled=true"
        echo "nacos.core.auth.system.type=nacos"
        echo "nacos.core.auth.plugin.nacos.token.secret.key=$(head -c 32 /dev/urandom | base64 -w0)"
        echo "nacos.core.auth.server.identity.key=test-identity-$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')"
        echo "nacos.core.auth.server.identity.value=$(head -c 24 /dev/urandom | base64 -w0)"
        # The access log as the zip distribution configures it (request line with its query string), so the
        # tests can check that no client puts a password there: HOME/logs/access_log.*.log
        echo "server.tomcat.accesslog.enabled=true"
        echo "server.tomcat.basedir=$home"
        echo "server.tomcat.accesslog.directory=$home/logs"
        echo 'server.tomcat.accesslog.pattern=%h %l %u %t "%r" %s %b %D'
        echo "server.tomcat.accesslog.buffered=false"
      } >"$home/conf/application.properties")
      extra+=("-Dspring.config.additional-location=file:$home/conf/")
    fi
    # Loopback only: server.address binds HTTP, nacos.remote.grpc.listen.ip the Nacos gRPC ports, and the
    # launcher's LoopbackServerProvider the JRaft port. SerialGC and C1-only keep a 2-core machine calm.
    (cd "$home" && exec java -Xms128m -Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
        -Dnacos.home="$home" -Dnacos.deployment.type="$deployment" \
        -Dnacos.server.main.port="$port" -Dserver.address=127.0.0.1 \
        -Dnacos.inetutils.ip-address=127.0.0.1 -Dnacos.remote.grpc.listen.ip=127.0.0.1 \
        "${extra[@]}" \
        -cp "$here/target/classes:$(cat "$here/target/classpath.txt")" \
        io.dubborecsys.testnacos.TestNacosServer >"$home/server.out" 2>&1 </dev/null) &
    echo $! >"$home/nacos.pid"
    ;;
  wait)
    port="$2"; limit="${3:-120}"
    deadline=$((SECONDS + limit))
    # 401/403 count as up: an auth-enabled server refuses the anonymous probe once its filters run.
    until [[ "$(curl -s -o /dev/null -w '%{http_code}' \
                "http://127.0.0.1:$port/nacos/v1/ns/service/list?pageNo=1&pageSize=1")" =~ ^(200|401|403)$ ]] \
        && (exec 3<>"/dev/tcp/127.0.0.1/$((port + 1000))") 2>/dev/null; do
      if ((SECONDS >= deadline)); then
        echo "nacos.sh: no Nacos on 127.0.0.1:$port after ${limit}s" >&2
        exit 1
      fi
      sleep 0.3
    done
    ;;
  stop)
    home="$2"
    if [[ -f "$home/nacos.pid" ]]; then
      pid="$(cat "$home/nacos.pid")"
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
      kill -9 "$pid" 2>/dev/null || true
      rm -f "$home/nacos.pid"
    fi
    ;;
  *)
    echo "usage: nacos.sh build | start PORT HOME [CONSOLE_PORT] | wait PORT [SECONDS] | stop HOME" >&2
    exit 2
    ;;
esac
