# gRPC shim and its Go client (sourced by tests/run_all.sh).
#
# Installs the shim's runtime deps (the `grpc` extra without tensorflow-serving-api,
# which the TF Serving steps bring), then builds tests/go-client with `go build`
# from the committed generated code (no protoc needed) and exports GO_CLIENT_BIN
# for tests/grpc_shim/test_go_client.py. Idempotent; about 20 s with a warm Go
# module and build cache, a minute or so on a fresh machine (module download).
python -m pip install --quiet "grpcio>=1.75.1" "grpcio-health-checking>=1.75.1" "grpcio-reflection>=1.75.1" "protobuf>=6.31.1"
mkdir -p "$CI_WORK/go-client"
(cd "$REPO_ROOT/tests/go-client" && GOFLAGS="-mod=readonly -buildvcs=false" go build -o "$CI_WORK/go-client/goclient" .)
export GO_CLIENT_BIN="$CI_WORK/go-client/goclient"
