"""The codec against hessian-lite itself.

Fast part (always): every committed Java-written vector decodes to the
expected Python value, and the Python codec writes the very same bytes.

Java part (``HESSIAN_VECTORS_CP``, set by tests/ci/10-hessian-vectors.sh): the
Java program regenerates the vectors (they must equal the committed ones), and
reads what Python wrote for every case, checking each against the Java value.
"""

from __future__ import annotations

import decimal
import subprocess
from pathlib import Path

import pytest

from tests.hessian2.vector_cases import CASES, NOT_BYTE_EXACT, VNode, decode, python_bytes
from tests.support import require_env

VECTORS = Path(__file__).parent / "vectors"


def same(a, b, seen=None) -> bool:
    """Deep equality that also checks Java types (TypedList types, Long vs int) and follows cycles."""
    seen = {} if seen is None else seen
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    if id(a) in seen:
        return seen[id(a)] is b
    seen[id(a)] = b
    if isinstance(a, float):
        return a == b or (a != a and b != b)
    if isinstance(a, decimal.Decimal):
        return str(a) == str(b)
    if isinstance(a, list):
        return (
            getattr(a, "java_type", None) == getattr(b, "java_type", None)
            and len(a) == len(b)
            and all(same(x, y, seen) for x, y in zip(a, b, strict=True))
        )
    if isinstance(a, dict):
        return (
            getattr(a, "java_type", None) == getattr(b, "java_type", None)
            and list(a) == list(b)
            and all(same(a[k], b[k], seen) for k in a)
        )
    if isinstance(a, VNode):
        return all(same(getattr(a, f), getattr(b, f), seen) for f in ("name", "next", "ids", "weights", "tags"))
    return a == b


def test_every_case_has_a_committed_vector():
    assert {p.stem for p in VECTORS.glob("*.bin")} == set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_java_bytes_decode_to_the_expected_value(name):
    value = decode(name, (VECTORS / f"{name}.bin").read_bytes())
    assert same(value, CASES[name]), f"{name}: {value!r:.300}"


@pytest.mark.parametrize("name", sorted(set(CASES) - NOT_BYTE_EXACT))
def test_python_writes_the_bytes_java_writes(name):
    assert python_bytes(name).hex() == (VECTORS / f"{name}.bin").read_bytes().hex()


def test_identities_survive_decoding():
    shared = decode("shared_ref", (VECTORS / "shared_ref.bin").read_bytes())
    assert shared[0] is shared[1]
    loop = decode("cyclic", (VECTORS / "cyclic.bin").read_bytes())
    assert loop.next is loop
    stream = decode("stream", (VECTORS / "stream.bin").read_bytes())
    assert stream[3] is stream[4]  # references persist across the values of one stream
    exc = decode("exception", (VECTORS / "exception.bin").read_bytes())
    assert exc.cause.cause is None and exc.cause.java_class == "java.lang.IllegalStateException"


def _java(args, **kwargs) -> subprocess.CompletedProcess:
    classpath = require_env("HESSIAN_VECTORS_CP")
    return subprocess.run(
        ["java", "-cp", classpath, "vectors.Main", *args],
        capture_output=True,
        text=True,
        timeout=120,
        **kwargs,
        check=False,
    )


@pytest.mark.java
def test_committed_vectors_equal_what_java_writes_now(tmp_path):
    result = _java(["write", str(tmp_path)])
    assert result.returncode == 0, result.stderr
    fresh = {p.name: p.read_bytes() for p in tmp_path.glob("*.bin")}
    committed = {p.name: p.read_bytes() for p in VECTORS.glob("*.bin")}
    assert sorted(fresh) == sorted(committed)
    stale = [name for name in fresh if fresh[name] != committed[name]]
    assert not stale, f"regenerate tests/hessian2/vectors: {stale}"


@pytest.mark.java
def test_java_reads_what_python_writes(tmp_path):
    for name in CASES:
        (tmp_path / f"{name}.bin").write_bytes(python_bytes(name))
    result = _java(["check", str(tmp_path)])
    problems = [line for line in result.stdout.splitlines() if not line.startswith("OK ")]
    assert result.returncode == 0, "\n".join(problems) + result.stderr
    assert f"all {len(CASES)} vectors match" in result.stdout
