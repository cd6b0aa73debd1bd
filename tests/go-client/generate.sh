#!/usr/bin/env bash
# Regenerate the Go client's protobuf and gRPC code from interfaces/proto/.
#
# The output (gen/) is committed so that CI builds the client with `go build`
# alone, without protoc. Needs protoc (Debian: protobuf-compiler) and the two
# plugins at the versions pinned below:
#   go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
#   go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2
# The protos carry no go_package option (the seed proto must stay verbatim), so
# the Go import paths are given here with M flags instead.
set -euo pipefail
cd "$(dirname "$0")/../.."
PATH="$(go env GOPATH)/bin:$PATH"
MODULE=dubborecsys/goclient
SEED=interfaces/proto/recommender_infer.proto
V1=interfaces/proto/recommend_v1.proto
MAP="M$SEED=$MODULE/gen/seedpb,M$V1=$MODULE/gen/recommendv1"
protoc -I . \
  --go_out=tests/go-client --go_opt=module=$MODULE --go_opt="$MAP" \
  --go-grpc_out=tests/go-client --go-grpc_opt=module=$MODULE --go-grpc_opt="$MAP" \
  "$SEED" "$V1"
echo "generated: $(find tests/go-client/gen -name '*.go' | sort | tr '\n' ' ')"
