#!/usr/bin/env bash
# Regenerate the Python modules beside the .proto files in this folder.
#
# The generated code is committed, so neither CI nor users need protoc. We pin
# grpcio-tools to 1.75.1 on purpose: generated code refuses to load on a runtime
# older than the tools that wrote it, and 1.75.1 writes code for protobuf >= 6.31.1
# and grpcio >= 1.75.1, the floor TensorFlow 2.21 (our `data` extra) also accepts.
# A newer generator would silently raise that floor for every user; change the pin
# and the `grpc` extra in setup.cfg together.
#
# The tools live in a private venv under .cache/ so the project's own environment
# is left alone. Usage: bash interfaces/proto/generate.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
TOOLS_VERSION=1.75.1
VENV="${PROTOGEN_VENV:-$PWD/.cache/protogen-$TOOLS_VERSION}"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet "grpcio-tools==$TOOLS_VERSION"
fi
# The installed package is dubbo_recsys.interfaces (setup.py maps the folder), so protoc
# runs over a staging root where interfaces/ appears as dubbo_recsys/interfaces/: the
# generated imports then read `from dubbo_recsys.interfaces.proto import ..._pb2`, and the
# descriptors are registered as dubbo_recsys/interfaces/proto/*.proto.
STAGE="$(mktemp -d)"
trap 'rm -rf "$STAGE"' EXIT
mkdir -p "$STAGE/dubbo_recsys"
ln -s "$PWD/interfaces" "$STAGE/dubbo_recsys/interfaces"
"$VENV/bin/python" -m grpc_tools.protoc -I "$STAGE" \
  --python_out="$STAGE" --grpc_python_out="$STAGE" --pyi_out="$STAGE" \
  "$STAGE/dubbo_recsys/interfaces/proto/recommender_infer.proto" \
  "$STAGE/dubbo_recsys/interfaces/proto/recommend_v1.proto"
echo "generated: $(ls interfaces/proto/*_pb2*.py* | tr '\n' ' ')"
