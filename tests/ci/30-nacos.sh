# A real Nacos server for the registry and config-center tests (sourced by tests/run_all.sh).
#
# Nacos 3.x's server modules come from Maven Central (republished as io.github.pig-mesh.nacos) and run
# in-process under our small launcher, tests/nacos-server/ (no Docker, no downloaded zip). Standalone,
# embedded Derby, auth off, every port on 127.0.0.1. Data lives in a fresh directory each run.
# Exports NACOS_ADDR (host:port of the HTTP Open API; gRPC is port + 1000, as every client assumes) and
# NACOS_LAUNCHER (tests/nacos-server/nacos.sh, for tests that start and restart a server of their own)
# and REGISTRY_JAVA_CONSUMER (tests/registry/java, a Dubbo 3.3 consumer using application-level discovery).
python -m pip install --quiet -e ".[nacos]"
bash tests/nacos-server/nacos.sh build
mvn -q -B -f tests/registry/java/pom.xml compile
export REGISTRY_JAVA_CONSUMER="$REPO_ROOT/tests/registry/java"

# 8848 when it and its companions (9848, 9849, 7848) are free, else any free base port.
_nacos_port="$(python - <<'PY'
import socket

def free(port):
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True

def usable(port):
    return 1000 < port < 64000 and all(free(p) for p in (port, port + 1000, port + 1001, port - 1000))

port = 8848
while not usable(port):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
print(port)
PY
)"
_nacos_home="$CI_WORK/nacos-$_nacos_port"
rm -rf "$_nacos_home"
bash tests/nacos-server/nacos.sh start "$_nacos_port" "$_nacos_home"
on_exit "bash '$REPO_ROOT/tests/nacos-server/nacos.sh' stop '$_nacos_home'"
bash tests/nacos-server/nacos.sh wait "$_nacos_port" 180 || { tail -50 "$_nacos_home/server.out"; false; }
export NACOS_ADDR="127.0.0.1:$_nacos_port"
export NACOS_LAUNCHER="$REPO_ROOT/tests/nacos-server/nacos.sh"
echo "nacos $(curl -s "http://$NACOS_ADDR/nacos/v3/admin/core/state" | python -c 'import json,sys; print(json.load(sys.stdin)["data"]["version"])') on $NACOS_ADDR (gRPC $((_nacos_port + 1000)))"
