"""The compiled ``Decoder.fill`` (hessian2/_speedups.c) against the pure-Python reference.

When the extension is built, the suite runs with it; here the same hypothesis
values and hostile bytes are decoded with both implementations (same values,
same errors at the same offsets), and the whole hessian2 suite is run once more
in a subprocess with HESSIAN2_PURE_PYTHON=1, so both paths pass every test.
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


def _decode_with(fill, data: bytes):
    saved = _decoder.Decoder.__dict__["fill"]
    _decoder.Decoder.fill = fill
    try:
        return ("ok", hessian2.loads(data))
    except hessian2.DecodeError as exc:
        return ("error", exc.offset)
    finally:
        _decoder.Decoder.fill = saved


def _same_outcome(data: bytes) -> None:
    compiled = _decode_with(_decoder.COMPILED_FILL, data)
    pure = _decode_with(_decoder.PURE_FILL, data)
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
        ],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert " passed" in result.stdout
