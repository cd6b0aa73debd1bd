"""The compiled ``Decoder.fill`` (hessian2/_speedups.c) against the pure-Python reference.

When the extension is built, the suite runs with it; here the same hypothesis
values, hostile bytes, mutated bound dataclasses and Java probes are decoded with
both implementations (same values; same errors: reason, path and offset), and the
whole hessian2 suite is run once more in a subprocess with HESSIAN2_PURE_PYTHON=1,
so both paths pass every test.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hessian2
from hessian2 import _decoder
from tests.hessian2.test_properties import trees, values
from tests.hessian2.vector_cases import CASES, python_bytes

needs_speedups = pytest.mark.skipif(
    not _decoder.SPEEDUPS,
    reason="hessian2._speedups is not built "
    "(no C compiler) or HESSIAN2_PURE_PYTHON is set: the pure path is the only one",
)


def _decode_with(compiled: bool, data: bytes):
    previous = _decoder.use_compiled(compiled)
    try:
        return ("ok", hessian2.loads(data))
    except hessian2.DecodeError as exc:
        return ("error", str(exc))  # reason, path and offset
    finally:
        _decoder.use_compiled(previous)


def _same_outcome(data: bytes) -> None:
    compiled = _decode_with(True, data)
    pure = _decode_with(False, data)
    assert compiled[0] == pure[0], (compiled, pure)
    if compiled[0] == "ok":
        assert hessian2.dumps(compiled[1]) == hessian2.dumps(pure[1])
    else:
        assert compiled[1] == pure[1]


@needs_speedups
@settings(max_examples=200, deadline=None)
@given(values | trees)
def test_both_paths_decode_the_same_values(value):
    _same_outcome(hessian2.dumps(value))


@needs_speedups
@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=48).map(lambda tail: b"\x7f" + tail))
def test_both_paths_fail_the_same_way(data):
    _same_outcome(data)


@needs_speedups
@settings(max_examples=300, deadline=None)
@given(trees | st.lists(trees, min_size=1, max_size=3), st.data())
def test_both_paths_check_and_convert_fields_the_same_way(value, data):
    # bound dataclasses with one byte changed: wrong field types, conversions, truncations
    wire = bytearray(hessian2.dumps(value))
    for _ in range(data.draw(st.integers(1, 3))):
        wire[data.draw(st.integers(0, len(wire) - 1))] = data.draw(st.integers(0, 255))
    _same_outcome(bytes(wire))


@needs_speedups
def test_both_paths_on_the_java_probes():
    from tests.hessian2.probe_cases import CASES as PROBES

    for data in PROBES.values():
        _same_outcome(data)


@needs_speedups
def test_both_paths_on_the_java_vectors():
    for name in CASES:
        if name != "stream":
            _same_outcome(python_bytes(name))


@needs_speedups
def test_the_whole_suite_passes_on_the_pure_path():
    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, HESSIAN2_PURE_PYTHON="1")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/hessian2",
            "--deselect",
            "tests/hessian2/test_speedups.py",
            "--deselect",  # measures both paths in one process already
            "tests/hessian2/test_hostile.py",
        ],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert " passed" in result.stdout
