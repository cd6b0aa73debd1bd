"""The committed ``*_pb2.py`` modules match the ``.proto`` files beside them.

protoc (Debian's protobuf-compiler, PROTOC_BIN) compiles the .proto files to
descriptors; each must equal the descriptor embedded in the generated module, so
an edit to a .proto without rerunning interfaces/proto/generate.sh fails here.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2

from dubbo_recsys.interfaces.proto import recommend_v1_pb2, recommender_infer_pb2
from tests.support import require_env

REPO = Path(__file__).resolve().parents[2]
MODULES = {
    "interfaces/proto/recommender_infer.proto": recommender_infer_pb2,
    "interfaces/proto/recommend_v1.proto": recommend_v1_pb2,
}


def compiled(tmp_path: Path, proto: str) -> descriptor_pb2.FileDescriptorProto:
    """protoc's descriptor of ``proto`` as generate.sh compiles it: under the installed name
    ``dubbo_recsys/interfaces/...`` (a staging root where interfaces/ sits in dubbo_recsys/)."""
    out = tmp_path / "set.pb"
    stage = tmp_path / "stage"
    (stage / "dubbo_recsys").mkdir(parents=True)
    (stage / "dubbo_recsys" / "interfaces").symlink_to(REPO / "interfaces")
    subprocess.run(
        [require_env("PROTOC_BIN"), "-I", str(stage), f"--descriptor_set_out={out}", f"dubbo_recsys/{proto}"],
        cwd=REPO,
        check=True,
        capture_output=True,
        timeout=60,
    )
    (file,) = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes()).file
    for message in file.message_type:  # protoc fills json_name; generated code leaves it out
        for nested in [message, *message.nested_type]:
            for field in nested.field:
                field.ClearField("json_name")
    return file


@pytest.mark.parametrize("proto", sorted(MODULES))
def test_generated_module_matches_its_proto(tmp_path: Path, proto: str) -> None:
    embedded = descriptor_pb2.FileDescriptorProto.FromString(MODULES[proto].DESCRIPTOR.serialized_pb)
    assert compiled(tmp_path, proto) == embedded, f"rerun interfaces/proto/generate.sh for {proto}"
