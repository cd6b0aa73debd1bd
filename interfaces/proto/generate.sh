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
# Run from the repository root with -I . so the generated imports read
# `from interfaces.proto import ..._pb2`.
"$VENV/bin/python" -m grpc_tools.protoc -I . \
  --python_out=. --grpc_python_out=. --pyi_out=. \
  interfaces/proto/recommender_infer.proto interfaces/proto/recommend_v1.proto
echo "generated: $(ls interfaces/proto/*_pb2*.py* | tr '\n' ' ')"
